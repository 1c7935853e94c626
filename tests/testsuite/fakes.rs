//! Loopback servers for the network and destination tests: a small hyper server (plain or
//! TLS with rcgen certificates) whose answers a test scripts, on its own runtime thread so
//! that both in-process tests and tests of the binary can use it.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The answer to a request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(status)
            .header("content-type", "application/json; charset=utf-8")
            .body(body)
    }

    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn body(mut self, b: impl Into<Vec<u8>>) -> Reply {
        self.body = b.into();
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }
}

pub type Handler = Arc<dyn Fn(&Req) -> Reply + Send + Sync>;

/// A running fake; it stops when dropped (its runtime thread ends with the process).
pub struct Fake {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Req>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Fake {
    /// Plain http on 127.0.0.1.
    pub fn http(handler: impl Fn(&Req) -> Reply + Send + Sync + 'static) -> Fake {
        Fake::start(None, Arc::new(handler))
    }

    /// https on 127.0.0.1 with this certificate chain and key.
    pub fn https(
        tls: &ServerCert,
        handler: impl Fn(&Req) -> Reply + Send + Sync + 'static,
    ) -> Fake {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                tls.chain.clone(),
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(tls.key.clone())),
            )
            .unwrap();
        Fake::start(
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))),
            Arc::new(handler),
        )
    }

    /// Answers every request with `reply`.
    pub fn always(reply: Reply) -> Fake {
        Fake::http(move |_| reply.clone())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn https_url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    pub fn last(&self) -> Option<Req> {
        self.requests.lock().unwrap().last().cloned()
    }

    fn start(tls: Option<tokio_rustls::TlsAcceptor>, handler: Handler) -> Fake {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let reqs = requests.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                loop {
                    let (stream, _) = tokio::select! {
                        _ = &mut stop_rx => return,
                        r = listener.accept() => match r { Ok(s) => s, Err(_) => continue },
                    };
                    let handler = handler.clone();
                    let reqs = reqs.clone();
                    let tls = tls.clone();
                    tokio::spawn(async move {
                        let service =
                            service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                                let handler = handler.clone();
                                let reqs = reqs.clone();
                                async move {
                                    let (parts, body) = req.into_parts();
                                    let body = body
                                        .collect()
                                        .await
                                        .map(|b| b.to_bytes().to_vec())
                                        .unwrap_or_default();
                                    let r = Req {
                                        method: parts.method.to_string(),
                                        target: parts
                                            .uri
                                            .path_and_query()
                                            .map(|p| p.to_string())
                                            .unwrap_or_default(),
                                        headers: parts
                                            .headers
                                            .iter()
                                            .map(|(k, v)| {
                                                (
                                                    k.to_string(),
                                                    String::from_utf8_lossy(v.as_bytes())
                                                        .into_owned(),
                                                )
                                            })
                                            .collect(),
                                        body,
                                    };
                                    reqs.lock().unwrap().push(r.clone());
                                    let reply = handler(&r);
                                    if !reply.delay.is_zero() {
                                        tokio::time::sleep(reply.delay).await;
                                    }
                                    let mut resp =
                                        hyper::Response::new(Full::new(Bytes::from(reply.body)));
                                    *resp.status_mut() =
                                        hyper::StatusCode::from_u16(reply.status).unwrap();
                                    for (k, v) in reply.headers {
                                        resp.headers_mut().append(
                                            hyper::header::HeaderName::from_bytes(k.as_bytes())
                                                .unwrap(),
                                            hyper::header::HeaderValue::from_str(&v).unwrap(),
                                        );
                                    }
                                    Ok::<_, std::convert::Infallible>(resp)
                                }
                            });
                        let http = hyper::server::conn::http1::Builder::new();
                        match tls {
                            Some(acceptor) => {
                                if let Ok(s) = acceptor.accept(stream).await {
                                    let _ = http.serve_connection(TokioIo::new(s), service).await;
                                }
                            }
                            None => {
                                let _ = http.serve_connection(TokioIo::new(stream), service).await;
                            }
                        }
                    });
                }
            });
        });
        Fake {
            addr,
            requests,
            stop: Some(stop_tx),
        }
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// A certificate authority made for one test.
pub struct Ca {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
}

/// A server's chain and PKCS#8 key.
#[derive(Clone)]
pub struct ServerCert {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Vec<u8>,
}

/// Sets the validity to [now + from_days, now + to_days] (without naming rcgen's `time` type).
fn set_validity(params: &mut CertificateParams, from_days: i64, to_days: i64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let at = |days: i64| {
        rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs((now + days * 86_400) as u64)
    };
    params.not_before = at(from_days);
    params.not_after = at(to_days);
}

impl Ca {
    pub fn new() -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "leadcheck test CA");
        set_validity(&mut params, -10, 365);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Ca { cert, key }
    }

    /// The CA as PEM, for `--ca-cert`.
    pub fn pem(&self) -> String {
        self.cert.pem()
    }

    /// A leaf for `names`, valid from `from_days` to `to_days` relative to now.
    pub fn leaf(&self, names: &[&str], from_days: i64, to_days: i64) -> ServerCert {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        set_validity(&mut params, from_days, to_days);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        ServerCert {
            chain: vec![cert.der().clone()],
            key: key.serialize_der(),
        }
    }
}

/// A self-signed leaf (trusted by nobody).
pub fn self_signed(names: &[&str]) -> ServerCert {
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    set_validity(&mut params, -1, 90);
    let key = KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    ServerCert {
        chain: vec![cert.der().clone()],
        key: key.serialize_der(),
    }
}

// ---- In-process diagnose helpers ----

use leadcheck::config::{self, Common, Destination, SecretField, Spec};
use leadcheck::diagnose::{diagnose_all, Options};
use leadcheck::net::{ProxySettings, StaticResolver};
use leadcheck::report::{DestinationReport, RunReport, Status};

/// An `https` destination named `name` posting to `url`.
pub fn https_dest(name: &str, url: &str) -> Destination {
    Destination {
        name: name.to_string(),
        spec: Spec::Https(config::Https {
            https_endpoint_url: Some(SecretField::plain(url)),
        }),
        common: Common::default(),
        locations: Default::default(),
        location: None,
    }
}

/// An `azure-table` destination.
pub fn table_dest(name: &str, connection_string: &str, table: Option<&str>) -> Destination {
    Destination {
        name: name.to_string(),
        spec: Spec::AzureTable(config::AzureTable {
            storage_account_connection_string: Some(SecretField::plain(connection_string)),
            table: table.map(str::to_string),
        }),
        common: Common::default(),
        locations: Default::default(),
        location: None,
    }
}

/// Options for tests: short timeouts, fixed ticks, a resolver that knows only `names`
/// (each to 127.0.0.1), no proxy.
pub fn options(names: &[&str]) -> Options {
    let mut r = StaticResolver::new();
    for n in names {
        r = r.with(n, ["127.0.0.1".parse().unwrap()]);
    }
    let mut o = Options::new();
    o.timeout = Duration::from_secs(5);
    o.deadline = Duration::from_secs(20);
    o.ticks = Some(638_000_000_000_000_000);
    o.resolver = Arc::new(r);
    o.proxy = ProxySettings::none();
    o
}

/// Runs diagnose in-process on its own runtime.
pub fn diagnose(dests: Vec<Destination>, opts: &Options) -> RunReport {
    let config = config::Config {
        path: None,
        destinations: dests,
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(diagnose_all(
        &config,
        opts,
        Arc::new(Mutex::new(Vec::new())),
        &|_| {},
    ))
    .unwrap()
}

/// The first destination's report.
pub fn one(dest: Destination, opts: &Options) -> DestinationReport {
    diagnose(vec![dest], opts).destinations.remove(0)
}

/// `id:status` of every check, e.g. `["lint:pass", "url:pass", "dns:pass", ...]`.
pub fn steps(r: &DestinationReport) -> Vec<String> {
    r.checks
        .iter()
        .map(|c| format!("{}:{}", c.id, c.status.as_str()))
        .collect()
}

pub fn codes(r: &DestinationReport) -> Vec<String> {
    r.findings.iter().map(|f| f.code.clone()).collect()
}

pub fn status(r: &DestinationReport) -> Status {
    r.status
}

/// A forward proxy that accepts `CONNECT host:port` and tunnels to 127.0.0.1:port whatever
/// the host (so tests need no DNS). Records each CONNECT target.
pub fn connect_proxy() -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            while let Ok((mut client, _)) = listener.accept().await {
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head).to_string();
                    let target = text.split_whitespace().nth(1).unwrap_or("").to_string();
                    seen.lock().unwrap().push(target.clone());
                    let port: u16 = target
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(0);
                    let Ok(mut upstream) =
                        tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                    else {
                        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                        return;
                    };
                    let _ = client
                        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                        .await;
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                });
            }
        });
    });
    (addr, seen)
}
