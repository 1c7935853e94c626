//! Injectable name resolution. Every lookup leadcheck makes (its own probes and reqwest's
//! connections) goes through one [`Resolve`], so a test can make a name fail to resolve, or
//! point a public-looking name at a loopback server, without depending on the machine.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A name that did not resolve. Found in an error's source chain, it maps to LC202.
#[derive(Debug, Clone)]
pub struct NameNotResolved {
    pub host: String,
    pub detail: String,
}

impl fmt::Display for NameNotResolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} does not resolve: {}", self.host, self.detail)
    }
}

impl std::error::Error for NameNotResolved {}

/// Resolves a host name to socket addresses (`port` is copied into each).
pub trait Resolve: Send + Sync + 'static {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<Vec<SocketAddr>, NameNotResolved>>;
}

/// The operating system's resolver (`tokio::net::lookup_host`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<Vec<SocketAddr>, NameNotResolved>> {
        Box::pin(async move {
            if let Ok(ip) = host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            match tokio::net::lookup_host((host, port)).await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if addrs.is_empty() {
                        Err(NameNotResolved {
                            host: host.to_string(),
                            detail: "no addresses".into(),
                        })
                    } else {
                        Ok(addrs)
                    }
                }
                Err(e) => Err(NameNotResolved {
                    host: host.to_string(),
                    detail: e.to_string(),
                }),
            }
        })
    }
}

/// A fixed table of names, for tests and the sandbox. A name not in the table fails to
/// resolve, unless a fallback resolver is set. IP literals always resolve to themselves.
#[derive(Clone, Default)]
pub struct StaticResolver {
    map: HashMap<String, Vec<IpAddr>>,
    fallback: Option<Arc<dyn Resolve>>,
}

impl StaticResolver {
    pub fn new() -> StaticResolver {
        StaticResolver::default()
    }

    /// Adds `host` (case-insensitive) resolving to `addrs`.
    pub fn with(mut self, host: &str, addrs: impl IntoIterator<Item = IpAddr>) -> StaticResolver {
        self.map
            .insert(host.to_ascii_lowercase(), addrs.into_iter().collect());
        self
    }

    /// Names not in the table go to `fallback` instead of failing.
    pub fn fallback(mut self, fallback: Arc<dyn Resolve>) -> StaticResolver {
        self.fallback = Some(fallback);
        self
    }
}

impl Resolve for StaticResolver {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> BoxFuture<'a, Result<Vec<SocketAddr>, NameNotResolved>> {
        Box::pin(async move {
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<IpAddr>() {
                return Ok(vec![SocketAddr::new(ip, port)]);
            }
            match self.map.get(&bare.to_ascii_lowercase()) {
                Some(ips) if !ips.is_empty() => {
                    Ok(ips.iter().map(|ip| SocketAddr::new(*ip, port)).collect())
                }
                _ => match &self.fallback {
                    Some(f) => f.lookup(host, port).await,
                    None => Err(NameNotResolved {
                        host: host.to_string(),
                        detail: "not in the static table (NXDOMAIN)".into(),
                    }),
                },
            }
        })
    }
}

/// Adapts a [`Resolve`] to reqwest's resolver interface.
pub(crate) struct ReqwestResolver(pub Arc<dyn Resolve>);

impl reqwest::dns::Resolve for ReqwestResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let inner = self.0.clone();
        let host = name.as_str().to_string();
        Box::pin(async move {
            match inner.lookup(&host, 0).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(e) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn static_table() {
        let r = StaticResolver::new().with("Example.TEST", ["127.0.0.1".parse().unwrap()]);
        let a = r.lookup("example.test", 443).await.unwrap();
        assert_eq!(a, vec!["127.0.0.1:443".parse().unwrap()]);
        assert!(r.lookup("nothing.invalid", 443).await.is_err());
        assert_eq!(r.lookup("::1", 80).await.unwrap()[0].port(), 80);
    }
}
