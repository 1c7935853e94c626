//! The network steps every destination starts with: `dns`, `connect` and (for https) `tls`.
//! Through a proxy they probe the proxy (resolve it, connect to it) and the TLS step runs
//! inside a CONNECT tunnel, so what is tested is what the requests will do.

use super::{map_error, redact_url, tls, Net, NetError};
use crate::destination::Run;
use crate::report::Finding;
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

/// Days before expiry from which a certificate is a warning (LC207).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

impl Net {
    /// Records the `dns`, `connect` and `tls` (https only) steps for `url`. Returns `false`
    /// when a step failed (the chain is stopped).
    pub async fn probe(&self, run: &mut Run, url: &Url) -> bool {
        let first = run.checks.len();
        let ok = self.probe_steps(run, url).await;
        for c in &run.checks[first..] {
            self.log(|| format!("* {} [{}] {}", c.title, c.status.as_str(), c.detail));
        }
        ok
    }

    async fn probe_steps(&self, run: &mut Run, url: &Url) -> bool {
        // The same rule as for requests: https, or plain http to loopback only.
        if let Err(e) = self.check_url(url.as_str()) {
            let step = run.step("dns", "Resolve host");
            run.fail(step, e.evidence.clone(), e.finding());
            return false;
        }
        let host = url
            .host_str()
            .unwrap_or("")
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        let proxy = self.proxy_for(url);
        let (target_host, target_port, via) = match &proxy {
            Some(p) => (
                p.host_str()
                    .unwrap_or("")
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                p.port_or_known_default().unwrap_or(8080),
                format!(" via proxy {}", p.host_str().unwrap_or("")),
            ),
            None => (host.clone(), port, String::new()),
        };

        // dns
        let step = run.step("dns", format!("Resolve {target_host}{via}"));
        let addrs: Vec<SocketAddr> = if let Ok(ip) = target_host.parse::<IpAddr>() {
            run.pass(step, format!("{ip} is an IP address{via}"));
            vec![SocketAddr::new(ip, target_port)]
        } else {
            let resolver = self.resolver().clone();
            let lookup = async {
                resolver
                    .lookup(&target_host, target_port)
                    .await
                    .map_err(|e| match &proxy {
                        Some(p) => NetError::new(
                            "LC212",
                            format!("the proxy {} does not resolve: {}", redact_url(p), e.detail),
                        ),
                        None => NetError::new(
                            "LC202",
                            format!("{} does not resolve: {}", e.host, e.detail),
                        ),
                    })
            };
            match self
                .bounded(&format!("resolving {target_host}"), self.timeout(), lookup)
                .await
            {
                Ok(addrs) => {
                    let shown: Vec<String> =
                        addrs.iter().take(4).map(|a| a.ip().to_string()).collect();
                    let more = if addrs.len() > 4 {
                        format!(" and {} more", addrs.len() - 4)
                    } else {
                        String::new()
                    };
                    run.pass(step, format!("{}{more}{via}", shown.join(", ")));
                    addrs
                }
                Err(e) => {
                    run.fail(step, e.evidence.clone(), e.finding());
                    return false;
                }
            }
        };

        // connect
        let step = run.step(
            "connect",
            format!("Connect to {target_host}:{target_port}{via}"),
        );
        let started = std::time::Instant::now();
        let connect = async {
            let mut last: Option<NetError> = None;
            for addr in &addrs {
                match TcpStream::connect(addr).await {
                    Ok(s) => return Ok((s, *addr)),
                    Err(e) => {
                        let mut err = map_error(&e, url, None);
                        if let Some(p) = &proxy {
                            err = NetError::new(
                                "LC212",
                                format!("cannot connect to the proxy {}: {e}", redact_url(p)),
                            );
                        } else if err.code == "LC213" {
                            err =
                                NetError::new("LC203", format!("{target_host}:{target_port}: {e}"));
                        }
                        last = Some(err);
                    }
                }
            }
            Err(last.unwrap_or_else(|| {
                NetError::new("LC203", format!("{target_host}: no address to connect to"))
            }))
        };
        let (stream, addr) = match self
            .bounded(
                &format!("connecting to {target_host}:{target_port}"),
                self.timeout(),
                connect,
            )
            .await
        {
            Ok(s) => s,
            Err(e) => {
                run.fail(step, e.evidence.clone(), e.finding());
                return false;
            }
        };
        run.pass(
            step,
            format!(
                "connected to {addr} in {} ms{via}",
                started.elapsed().as_millis()
            ),
        );

        if url.scheme() != "https" {
            return true;
        }

        // tls
        let step = run.step("tls", format!("TLS handshake with {host}{via}"));
        let handshake = async {
            let mut stream = stream;
            if let Some(p) = &proxy {
                connect_tunnel(&mut stream, &host, port, p).await?;
            }
            let name = ServerName::try_from(host.clone()).map_err(|e| {
                NetError::new(
                    "LC103",
                    format!("{host} is not a valid TLS server name: {e}"),
                )
            })?;
            let connector = tokio_rustls::TlsConnector::from(self.tls_config());
            connector
                .connect(name, stream)
                .await
                .map_err(|e| map_error(&e, url, None))
        };
        let tls_stream = match self
            .bounded(
                &format!("the TLS handshake with {host}"),
                self.timeout(),
                handshake,
            )
            .await
        {
            Ok(s) => s,
            Err(e) => {
                run.fail(step, e.evidence.clone(), e.finding());
                return false;
            }
        };
        let (_, conn) = tls_stream.get_ref();
        let version = conn
            .protocol_version()
            .map(|v| format!("{v:?}").replace('_', "."))
            .unwrap_or_default();
        let leaf = conn
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(tls::leaf_expiry);
        match leaf {
            Some((days, subject)) if days < EXPIRY_WARNING_DAYS => {
                let detail = format!(
                    "{version}; the certificate of {host} ({subject}) expires in {days} days"
                );
                run.warn(step, detail.clone(), Finding::warning("LC207", detail));
            }
            Some((days, subject)) => {
                run.pass(
                    step,
                    format!("{version}; certificate {subject} valid for {days} more days{via}"),
                );
            }
            None => run.pass(step, format!("{version}; certificate verified{via}")),
        }
        true
    }
}

/// Opens a CONNECT tunnel to `host:port` through the proxy on `stream`.
async fn connect_tunnel(
    stream: &mut TcpStream,
    host: &str,
    port: u16,
    proxy: &Url,
) -> Result<(), NetError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    // Credentials in the proxy URL go in Proxy-Authorization, as reqwest sends them.
    let auth = if proxy.username().is_empty() {
        String::new()
    } else {
        use base64::Engine;
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let pair = format!(
            "{}:{}",
            decode(proxy.username()),
            decode(proxy.password().unwrap_or(""))
        );
        format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let req = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth}\r\n");
    let fail =
        |what: String| NetError::new("LC212", format!("the proxy {} {what}", redact_url(proxy)));
    stream
        .write_all(req.as_bytes())
        .await
        .map_err(|e| fail(format!("broke the connection: {e}")))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream
            .read(&mut buf)
            .await
            .map_err(|e| fail(format!("broke the connection: {e}")))?;
        if n == 0 {
            return Err(fail("closed the connection during CONNECT".into()));
        }
        head.extend_from_slice(&buf[..n]);
        if head.len() > 16 * 1024 {
            return Err(fail("sent an oversized CONNECT answer".into()));
        }
    }
    let first = String::from_utf8_lossy(&head);
    let status_line = first.lines().next().unwrap_or("").to_string();
    let code = status_line.split_whitespace().nth(1).unwrap_or("");
    if code == "200" {
        Ok(())
    } else {
        Err(fail(format!(
            "refused the tunnel to {authority}: {}",
            crate::term::sanitize(&status_line, false)
        )))
    }
}
