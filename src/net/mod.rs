//! Network: name resolution, connect, TLS, and the HTTP client every destination uses.
//!
//! [`Net`] is cheap to clone (an `Arc`). Every request it sends is bounded twice: by the
//! per-request timeout (connect to last byte, LC209) and by the run deadline (LC210). It
//! follows no redirects (LC211), reads at most [`BODY_CAP`] of a body, honours 429 +
//! Retry-After within the deadline (else LC509), refuses plain http to anything but
//! loopback (LC104), and maps failures to codes ([`NetError`]). With `-v` it logs one line
//! per request and response, URLs redacted, never a body.

pub mod probe;
pub mod proxy;
pub mod redact;
pub mod resolve;
pub mod tls;

pub use proxy::{is_loopback_host, ProxySettings};
pub use redact::{redact_url, redact_url_str};
pub use resolve::{BoxFuture, NameNotResolved, Resolve, StaticResolver, SystemResolver};

use crate::report::Finding;
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// At most this much of a response body is read; the rest is left unread.
pub const BODY_CAP: usize = 1024 * 1024;
/// The most read of one page of a list (`leads`): a page holds up to a thousand or two
/// records of a few hundred bytes each, more than any single answer.
pub const LIST_CAP: usize = 8 * 1024 * 1024;
/// How many times a 429 is retried (when Retry-After fits in the deadline).
pub const MAX_429_RETRIES: u32 = 3;

/// A network failure, already mapped to its catalog code, with redacted evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetError {
    pub code: &'static str,
    pub evidence: String,
}

impl NetError {
    pub fn new(code: &'static str, evidence: impl Into<String>) -> NetError {
        NetError {
            code,
            evidence: evidence.into(),
        }
    }

    /// The error as a finding of severity error.
    pub fn finding(&self) -> Finding {
        Finding::error(self.code, self.evidence.clone())
    }
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.evidence)
    }
}

impl std::error::Error for NetError {}

/// Where `-v` lines go (diagnose forwards them to stderr).
pub type LogFn = Arc<dyn Fn(String) + Send + Sync>;

/// How to build a [`Net`].
#[derive(Clone)]
pub struct NetOptions {
    /// One request, connect to last byte (`--timeout`).
    pub timeout: Duration,
    /// The end of the whole run (`--deadline`).
    pub deadline: Instant,
    /// Extra trust roots (`--ca-cert`).
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub resolver: Arc<dyn Resolve>,
    pub proxy: ProxySettings,
    /// `-v`: one line per request and response.
    pub log: Option<LogFn>,
}

impl NetOptions {
    /// System resolver, no extra roots, proxies from the environment, no logging.
    pub fn new(timeout: Duration, deadline: Instant) -> NetOptions {
        NetOptions {
            timeout,
            deadline,
            extra_roots: Vec::new(),
            resolver: Arc::new(SystemResolver),
            proxy: ProxySettings::from_env(|k| std::env::var(k).ok()),
            log: None,
        }
    }
}

/// The shared network layer of one run.
#[derive(Clone)]
pub struct Net {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    opts: NetOptions,
}

/// A response with its body read (up to [`BODY_CAP`]).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The body was longer than [`BODY_CAP`] and was cut.
    pub truncated: bool,
    pub elapsed: Duration,
}

impl Response {
    /// The body as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A short excerpt of the body for evidence: control characters escaped, at most
    /// `max` characters. Callers must not use it for bodies that may carry secrets.
    pub fn excerpt(&self, max: usize) -> String {
        let text = self.text();
        let text = text.trim();
        let mut out: String = text.chars().take(max).collect();
        if text.chars().count() > max {
            out.push('…');
        }
        crate::term::sanitize(&crate::secret::redact(&out), false)
    }
}

/// A header value marked sensitive (hyper and reqwest will not print it).
pub fn sensitive(value: &str) -> HeaderValue {
    let mut v = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    v.set_sensitive(true);
    v
}

impl Net {
    pub fn new(opts: NetOptions) -> Result<Net, String> {
        let tls = Arc::new(tls::client_config(&opts.extra_roots, &[b"http/1.1"])?);
        let proxy = opts.proxy.clone();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(resolve::ReqwestResolver(opts.resolver.clone())))
            .proxy(reqwest::Proxy::custom(move |u| proxy.proxy_for(u)))
            .connect_timeout(opts.timeout)
            .user_agent(concat!("leadcheck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Net {
            inner: Arc::new(Inner { client, tls, opts }),
        })
    }

    /// The reqwest client, to build requests (`net.client().post(url)...build()`). Send
    /// them with [`Net::send`], never with the client directly.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    /// A request builder for `method` and `url`.
    pub fn request(&self, method: Method, url: Url) -> reqwest::RequestBuilder {
        self.inner.client.request(method, url)
    }

    /// The TLS config (webpki roots + `--ca-cert`).
    pub fn tls_config(&self) -> Arc<rustls::ClientConfig> {
        self.inner.tls.clone()
    }

    pub fn resolver(&self) -> &Arc<dyn Resolve> {
        &self.inner.opts.resolver
    }

    pub fn timeout(&self) -> Duration {
        self.inner.opts.timeout
    }

    pub fn deadline(&self) -> Instant {
        self.inner.opts.deadline
    }

    /// The proxy `url` goes through, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<Url> {
        self.inner.opts.proxy.proxy_for(url)
    }

    /// Writes a `-v` line (no-op without `-v`).
    pub fn log(&self, line: impl FnOnce() -> String) {
        if let Some(log) = &self.inner.opts.log {
            log(line());
        }
    }

    pub fn verbose(&self) -> bool {
        self.inner.opts.log.is_some()
    }

    /// Parses and vets a destination URL: `https`, or `http` to a loopback host only
    /// (LC104); anything else is LC103.
    pub fn check_url(&self, raw: &str) -> Result<Url, NetError> {
        check_url(raw)
    }

    /// Runs `fut` bounded by `timeout` (LC209) and the run deadline (LC210), whichever
    /// comes first. `what` names the operation in the evidence.
    pub async fn bounded<T>(
        &self,
        what: &str,
        timeout: Duration,
        fut: impl std::future::Future<Output = Result<T, NetError>>,
    ) -> Result<T, NetError> {
        let by_timeout = Instant::now() + timeout;
        let deadline = self.deadline();
        let (end, code) = if deadline <= by_timeout {
            (deadline, "LC210")
        } else {
            (by_timeout, "LC209")
        };
        match tokio::time::timeout_at(end, fut).await {
            Ok(r) => r,
            Err(_) if code == "LC210" => Err(NetError::new(
                "LC210",
                format!("the run deadline was reached during {what}"),
            )),
            Err(_) => Err(NetError::new(
                "LC209",
                format!("no complete answer within {} s: {what}", secs(timeout)),
            )),
        }
    }

    /// Sends a request: checks the URL scheme, bounds it by the timeout and the deadline,
    /// reads the body (capped), retries 429 within the deadline, turns 3xx into LC211 and
    /// a proxy's 407 into LC212. Any other status is returned for the destination to judge.
    pub async fn send(&self, req: reqwest::Request) -> Result<Response, NetError> {
        self.send_capped(req, BODY_CAP).await
    }

    /// As [`Net::send`], reading at most `cap` bytes of the body: for a list read in pages,
    /// whose pages are larger than any single answer.
    pub async fn send_capped(
        &self,
        req: reqwest::Request,
        cap: usize,
    ) -> Result<Response, NetError> {
        let url = req.url().clone();
        check_url(url.as_str())?;
        let shown = redact_url(&url);
        let method = req.method().clone();
        let mut attempt = 0;
        let mut pending = Some(req);
        loop {
            let req = pending.take().expect("a request to send");
            let retry = req.try_clone();
            self.log(|| format!("> {method} {shown}"));
            let started = std::time::Instant::now();
            let what = format!("{method} {shown}");
            let result = self
                .bounded(&what, self.timeout(), self.execute(req, &url, cap))
                .await;
            let elapsed = started.elapsed();
            let resp = match result {
                Ok(r) => r,
                Err(e) => {
                    self.log(|| format!("< {method} {shown}: {e} ({} ms)", elapsed.as_millis()));
                    return Err(e);
                }
            };
            let resp = Response { elapsed, ..resp };
            self.log(|| {
                format!(
                    "< {} {} ({} ms, {} bytes{})",
                    resp.status.as_u16(),
                    resp.status.canonical_reason().unwrap_or(""),
                    elapsed.as_millis(),
                    resp.body.len(),
                    if resp.truncated { ", truncated" } else { "" }
                )
            });
            let status = resp.status;
            if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
                let location = resp
                    .header("location")
                    .map(|l| redact_url_str(l, Some(&url)))
                    .unwrap_or_else(|| "no Location header".to_string());
                return Err(NetError::new(
                    "LC211",
                    format!("HTTP {} from {shown} redirects to {location}; leadcheck did not follow it and sent nothing there", status.as_u16()),
                ));
            }
            if status == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
                let proxy = self
                    .proxy_for(&url)
                    .map(|p| redact_url(&p))
                    .unwrap_or_else(|| "the proxy".into());
                return Err(NetError::new(
                    "LC212",
                    format!("HTTP 407 Proxy Authentication Required from {proxy}"),
                ));
            }
            if status == StatusCode::TOO_MANY_REQUESTS {
                let wait = retry_after(&resp).unwrap_or(Duration::from_secs(1));
                let fits = Instant::now() + wait + Duration::from_millis(100) < self.deadline();
                if attempt < MAX_429_RETRIES && fits {
                    if let Some(again) = retry {
                        attempt += 1;
                        self.log(|| format!("  429: retrying in {} s (Retry-After)", secs(wait)));
                        tokio::time::sleep(wait).await;
                        pending = Some(again);
                        continue;
                    }
                }
                let after = resp
                    .header("retry-after")
                    .map(|v| format!("Retry-After: {v}"))
                    .unwrap_or_else(|| "no Retry-After".into());
                return Err(NetError::new(
                    "LC509",
                    format!("HTTP 429 Too Many Requests from {shown} ({after}; {attempt} retries; the wait does not fit in the run deadline or retries are used up)"),
                ));
            }
            return Ok(resp);
        }
    }

    async fn execute(
        &self,
        req: reqwest::Request,
        url: &Url,
        cap: usize,
    ) -> Result<Response, NetError> {
        let via_proxy = self.proxy_for(url);
        let mut resp = self
            .inner
            .client
            .execute(req)
            .await
            .map_err(|e| map_reqwest(&e, url, via_proxy.as_ref()))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let mut body = Vec::new();
        let mut truncated = false;
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let room = cap - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => return Err(map_reqwest(&e, url, via_proxy.as_ref())),
            }
        }
        Ok(Response {
            status,
            headers,
            body: Bytes::from(body),
            truncated,
            elapsed: Duration::ZERO,
        })
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(resp: &Response) -> Option<Duration> {
    let v = resp.header("retry-after")?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{}", s as u64)
    } else {
        format!("{s:.1}")
    }
}

/// See [`Net::check_url`].
pub fn check_url(raw: &str) -> Result<Url, NetError> {
    let url = Url::parse(raw.trim()).map_err(|e| {
        NetError::new(
            "LC103",
            format!(
                "{} is not a valid URL: {e}",
                redact_url_str(raw.trim(), None)
            ),
        )
    })?;
    let host = url.host_str().unwrap_or("");
    match url.scheme() {
        "https" if !host.is_empty() => Ok(url),
        "http" if is_loopback_host(host) => Ok(url),
        "http" => Err(NetError::new(
            "LC104",
            format!(
                "{} uses plain http to a host that is not loopback; use https",
                redact_url(&url)
            ),
        )),
        _ => Err(NetError::new(
            "LC103",
            format!("{} is not an https URL", redact_url(&url)),
        )),
    }
}

/// Walks an error's source chain, including the errors wrapped inside `io::Error`s.
fn chain<'e>(
    err: &'e (dyn std::error::Error + 'static),
) -> Vec<&'e (dyn std::error::Error + 'static)> {
    let mut out = Vec::new();
    let mut stack = vec![err];
    while let Some(e) = stack.pop() {
        if out.len() > 32 {
            break;
        }
        out.push(e);
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                stack.push(inner);
                continue;
            }
        }
        if let Some(s) = e.source() {
            stack.push(s);
        }
    }
    out
}

/// Maps an I/O or TLS error (from a probe or a request) to its code.
pub fn map_error(
    err: &(dyn std::error::Error + 'static),
    url: &Url,
    via_proxy: Option<&Url>,
) -> NetError {
    let host = url.host_str().unwrap_or("");
    let links = chain(err);
    let text = links.last().map(|e| e.to_string()).unwrap_or_default();
    for e in &links {
        if let Some(n) = e.downcast_ref::<NameNotResolved>() {
            return match via_proxy {
                Some(p) => NetError::new(
                    "LC212",
                    format!("the proxy {} does not resolve: {}", redact_url(p), n.detail),
                ),
                None => NetError::new(
                    "LC202",
                    format!("{} does not resolve: {}", n.host, n.detail),
                ),
            };
        }
        if let Some(t) = e.downcast_ref::<rustls::Error>() {
            return tls::map_rustls(t, host);
        }
    }
    if let Some(p) = via_proxy {
        return NetError::new(
            "LC212",
            format!(
                "through the proxy {}: {}",
                redact_url(p),
                redact_text(&text)
            ),
        );
    }
    for e in &links {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => {
                    return NetError::new("LC203", format!("{host}: connection refused ({io})"))
                }
                K::HostUnreachable | K::NetworkUnreachable | K::AddrNotAvailable => {
                    return NetError::new("LC203", format!("{host}: unreachable ({io})"))
                }
                K::TimedOut => return NetError::new("LC209", format!("{host}: timed out ({io})")),
                K::ConnectionReset | K::ConnectionAborted | K::UnexpectedEof | K::BrokenPipe => {
                    return NetError::new("LC213", format!("{host}: the connection broke ({io})"))
                }
                _ => {}
            }
        }
    }
    NetError::new("LC213", format!("{host}: {}", redact_text(&text)))
}

fn map_reqwest(err: &reqwest::Error, url: &Url, via_proxy: Option<&Url>) -> NetError {
    let mapped = map_error(err, url, via_proxy);
    let host = url.host_str().unwrap_or("");
    if err.is_timeout() && mapped.code == "LC213" {
        return NetError::new("LC209", format!("{host}: timed out"));
    }
    if err.is_connect() && mapped.code == "LC213" {
        return NetError::new(
            "LC203",
            format!("{host}: cannot connect ({})", redact_text(&mapped.evidence)),
        );
    }
    mapped
}

/// Error texts from libraries may echo a URL; strip its query.
fn redact_text(text: &str) -> String {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            if w.contains("://") {
                let trimmed = w.trim_matches(|c| c == '(' || c == ')' || c == ',');
                redact_url_str(trimmed, None)
            } else {
                w.to_string()
            }
        })
        .collect();
    crate::secret::redact(&words.join(" ")).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_to_loopback() {
        assert!(check_url("http://127.0.0.1:8080/x").is_ok());
        assert!(check_url("http://localhost/x").is_ok());
        assert!(check_url("http://[::1]:9/x").is_ok());
        assert_eq!(check_url("http://example.com/x").unwrap_err().code, "LC104");
        assert_eq!(check_url("ftp://example.com/x").unwrap_err().code, "LC103");
        assert_eq!(check_url("not a url").unwrap_err().code, "LC103");
        let e = check_url("http://example.com/x?sig=SECRET").unwrap_err();
        assert!(!e.evidence.contains("SECRET"));
    }

    #[test]
    fn retry_after_forms() {
        let mut headers = HeaderMap::new();
        headers.insert("retry-after", HeaderValue::from_static("3"));
        let r = Response {
            status: StatusCode::TOO_MANY_REQUESTS,
            headers,
            body: Bytes::new(),
            truncated: false,
            elapsed: Duration::ZERO,
        };
        assert_eq!(retry_after(&r), Some(Duration::from_secs(3)));
    }
}
