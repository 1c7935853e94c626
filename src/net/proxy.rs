//! HTTPS_PROXY / HTTP_PROXY / NO_PROXY, decided once so that leadcheck's own probes and
//! reqwest agree on which requests go through a proxy. Loopback hosts never do (the sandbox
//! and tests must work behind a corporate proxy), as in Go's and curl's common setups.

use std::net::IpAddr;
use url::Url;

/// Which proxy, if any, a URL goes through.
#[derive(Debug, Clone, Default)]
pub struct ProxySettings {
    pub https: Option<Url>,
    pub http: Option<Url>,
    /// NO_PROXY entries, lower-case, leading dots removed; `*` means everything.
    pub no_proxy: Vec<String>,
}

impl ProxySettings {
    /// No proxy at all.
    pub fn none() -> ProxySettings {
        ProxySettings::default()
    }

    /// From the environment: `HTTPS_PROXY`/`https_proxy`, `HTTP_PROXY`/`http_proxy`,
    /// `NO_PROXY`/`no_proxy`. A value without a scheme means `http://`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> ProxySettings {
        let get = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
        };
        let parse = |v: String| {
            let v = v.trim().to_string();
            let v = if v.contains("://") {
                v
            } else {
                format!("http://{v}")
            };
            Url::parse(&v).ok()
        };
        let no_proxy = get(&["NO_PROXY", "no_proxy"])
            .map(|v| {
                v.split(',')
                    .map(|s| {
                        s.trim()
                            .trim_start_matches("*.")
                            .trim_start_matches('.')
                            .to_ascii_lowercase()
                    })
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        ProxySettings {
            https: get(&["HTTPS_PROXY", "https_proxy"]).and_then(parse),
            http: get(&["HTTP_PROXY", "http_proxy"]).and_then(parse),
            no_proxy,
        }
    }

    /// The proxy for `url`, or `None` for a direct connection.
    pub fn proxy_for(&self, url: &Url) -> Option<Url> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            "http" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        if is_loopback_host(&host) {
            return None;
        }
        for entry in &self.no_proxy {
            if entry == "*" {
                return None;
            }
            let entry = entry.split(':').next().unwrap_or(entry);
            if host == entry || host.ends_with(&format!(".{entry}")) {
                return None;
            }
        }
        Some(proxy.clone())
    }
}

/// 127.0.0.0/8, ::1 and `localhost` (and names under `.localhost`).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<IpAddr>() {
        return ip.is_loopback();
    }
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_proxy_and_loopback() {
        let env = |k: &str| match k {
            "HTTPS_PROXY" => Some("proxy.corp:3128".to_string()),
            "NO_PROXY" => Some(".internal.example, exact.example".to_string()),
            _ => None,
        };
        let p = ProxySettings::from_env(env);
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(
            p.proxy_for(&u("https://x.example/")).unwrap().as_str(),
            "http://proxy.corp:3128/"
        );
        assert!(p.proxy_for(&u("https://a.internal.example/")).is_none());
        assert!(p.proxy_for(&u("https://exact.example/")).is_none());
        assert!(p.proxy_for(&u("https://127.0.0.1:8443/")).is_none());
        assert!(p.proxy_for(&u("http://x.example/")).is_none());
        assert!(
            is_loopback_host("[::1]")
                && is_loopback_host("LOCALHOST")
                && !is_loopback_host("10.0.0.1")
        );
    }
}
