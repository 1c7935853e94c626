//! Fault injection: loopback servers that misbehave on purpose (trickling, huge and
//! compressed bodies, resets, broken or unexpected payloads, redirects, bad certificates,
//! names that do not resolve). Each test asserts the code leadcheck reports and a wide time
//! bound (a hang guard, not a speed claim); the huge-body tests also bound memory.
//!
//! Memory is bounded two ways that cannot flake: the misbehaving server counts how much it
//! managed to write before the client hung up (far less than it offered), and the child's
//! peak RSS (`VmHWM`) is polled while it runs — the highest value seen is a lower bound of
//! the true peak, so "seen < limit" can only fail if the true peak is over the limit too.

use crate::fakes::*;
use leadcheck::config;
use leadcheck::net::{Net, NetOptions, ProxySettings, StaticResolver};
use leadcheck::report::{DestinationReport, Status};
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The wide bound every run here must end within.
const BOUND: Duration = Duration::from_secs(15);

// ---------------------------------------------------------------------------------------
// A raw TCP server: one async handler per connection, connections and bytes counted.

pub struct Raw {
    pub addr: std::net::SocketAddr,
    /// Connections accepted.
    pub accepted: Arc<AtomicUsize>,
    /// Everything clients sent, all connections together.
    pub received: Arc<Mutex<Vec<u8>>>,
    /// Bytes the handler reports it wrote (see [`Conn::write`]).
    pub written: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

/// One accepted connection as a handler sees it.
pub struct Conn {
    pub stream: TcpStream,
    received: Arc<Mutex<Vec<u8>>>,
    written: Arc<AtomicUsize>,
}

impl Conn {
    /// Reads one request: the head, then `Content-Length` bytes of body. Returns the head.
    pub async fn read_request(&mut self) -> String {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") && buf.len() < 64 * 1024 {
            match self.stream.read(&mut byte).await {
                Ok(1) => buf.push(byte[0]),
                _ => break,
            }
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len.min(1 << 20)];
        let _ =
            tokio::time::timeout(Duration::from_secs(5), self.stream.read_exact(&mut body)).await;
        let mut r = self.received.lock().unwrap();
        r.extend_from_slice(&buf);
        r.extend_from_slice(&body);
        head
    }

    /// Writes `data`; false when the client is gone (or stopped reading for 10 s).
    pub async fn write(&mut self, data: &[u8]) -> bool {
        match tokio::time::timeout(Duration::from_secs(10), self.stream.write_all(data)).await {
            Ok(Ok(())) => {
                self.written.fetch_add(data.len(), Ordering::SeqCst);
                true
            }
            _ => false,
        }
    }
}

impl Raw {
    pub fn start<F, Fut>(handler: F) -> Raw
    where
        F: Fn(Conn) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::new(AtomicUsize::new(0));
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (acc, rec, wr) = (accepted.clone(), received.clone(), written.clone());
        let handler = Arc::new(handler);
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
                    acc.fetch_add(1, Ordering::SeqCst);
                    let conn = Conn {
                        stream,
                        received: rec.clone(),
                        written: wr.clone(),
                    };
                    // Every handler is bounded so that the server thread never outlives
                    // the test by much.
                    tokio::spawn(tokio::time::timeout(Duration::from_secs(60), handler(conn)));
                }
            });
        });
        Raw {
            addr,
            accepted,
            received,
            written,
            stop: Some(stop_tx),
        }
    }

    /// A listener that only counts: it accepts, records what arrives, and never answers.
    pub fn sink() -> Raw {
        Raw::start(|mut c: Conn| async move {
            let _ = c.read_request().await;
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received_text(&self) -> String {
        String::from_utf8_lossy(&self.received.lock().unwrap()).into_owned()
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

// ---------------------------------------------------------------------------------------
// The binary, run with its peak memory watched.

/// The binary as a std `Command` (assert_cmd's cannot be polled while it runs), with the
/// same scrubbed environment as `support::leadcheck()`.
pub fn bin() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadcheck"));
    for (k, _) in std::env::vars() {
        if k.starts_with("LEADCHECK_")
            || k.to_ascii_lowercase().ends_with("_proxy")
            || [
                "LANG",
                "LC_ALL",
                "LC_MESSAGES",
                "CLICOLOR_FORCE",
                "CLICOLOR",
                "GITHUB_STEP_SUMMARY",
            ]
            .contains(&k.as_str())
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1").env("TERM", "dumb");
    cmd
}

pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The highest `VmHWM` seen while it ran, in KiB (0 if never seen).
    pub peak_kib: u64,
}

impl Ran {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {self:?}"))
    }

    /// Every finding code of every destination.
    pub fn codes(&self) -> Vec<String> {
        let j = self.json();
        let mut out = Vec::new();
        for d in j["destinations"].as_array().into_iter().flatten() {
            for f in d["findings"].as_array().into_iter().flatten() {
                out.push(f["code"].as_str().unwrap_or("").to_string());
            }
        }
        out
    }
}

impl std::fmt::Debug for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?} after {:?} (peak {} KiB)\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.elapsed, self.peak_kib, self.stdout, self.stderr
        )
    }
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs `cmd` to the end (killed after 60 s), polling its peak RSS.
pub fn run_watched(mut cmd: Command) -> Ran {
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leadcheck");
    let pid = child.id();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let mut peak = 0;
    let status = loop {
        if let Some(k) = vm_hwm_kib(pid) {
            peak = peak.max(k);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Ran {
        code: status.code(),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
        elapsed: started.elapsed(),
        peak_kib: peak,
    }
}

/// `diagnose --type https` of `url` with `--format json --timeout 2`.
pub fn diagnose_https(url: &str, extra: &[&str]) -> Ran {
    let mut cmd = bin();
    cmd.args([
        "diagnose",
        "--type",
        "https",
        "--https-endpoint-url",
        "env:LC_FAULT_URL",
        "--format",
        "json",
        "--timeout",
        "2",
        "--deadline",
        "30",
    ])
    .args(extra)
    .env("LC_FAULT_URL", url);
    run_watched(cmd)
}

/// The memory limit for a run fed 100 MB: well above leadcheck's own footprint, well below
/// what holding the body would take.
const PEAK_LIMIT_KIB: u64 = 80 * 1024;

// ---------------------------------------------------------------------------------------
// Slow servers.

#[test]
fn a_body_trickling_one_byte_a_second_ends_with_lc209() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        if !c
            .write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n")
            .await
        {
            return;
        }
        for _ in 0..100 {
            if !c.write(b"x").await {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let ran = diagnose_https(&server.url("/hook?sig=TRICKLESIG"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert_eq!(ran.codes(), ["LC209"], "{ran:?}");
    assert!(!ran.stdout.contains("TRICKLESIG") && !ran.stderr.contains("TRICKLESIG"));
}

#[test]
fn headers_trickling_one_byte_a_second_end_with_lc209() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        for b in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n" {
            if !c.write(&[*b]).await {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC209"], "{ran:?}");
}

#[test]
fn a_server_that_accepts_and_never_answers_ends_with_lc209() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        tokio::time::sleep(Duration::from_secs(55)).await;
    });
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC209"], "{ran:?}");
}

// ---------------------------------------------------------------------------------------
// Huge and compressed bodies.

/// Answers every request with `status`, `headers` and a body of `total` bytes of 'x'
/// (announced by Content-Length), written in 64 KiB chunks until the client hangs up.
fn huge(status: u16, total: usize) -> Raw {
    Raw::start(move |mut c: Conn| async move {
        c.read_request().await;
        let head = format!(
            "HTTP/1.1 {status} Whatever\r\nContent-Type: text/plain\r\nContent-Length: {total}\r\n\r\n"
        );
        if !c.write(head.as_bytes()).await {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < total {
            if !c.write(&chunk).await {
                return;
            }
            sent += chunk.len();
        }
    })
}

const HUNDRED_MB: usize = 100 * 1024 * 1024;

#[test]
fn a_100_mb_answer_is_read_to_1_mib_and_memory_stays_bounded() {
    for status in [200u16, 400] {
        let server = huge(status, HUNDRED_MB);
        let ran = diagnose_https(&server.url("/hook"), &[]);
        assert!(ran.elapsed < BOUND, "{ran:?}");
        if status == 200 {
            assert_eq!(ran.code, Some(0), "a 200 is accepted: {ran:?}");
        } else {
            assert_eq!(ran.codes(), ["LC503"], "{ran:?}");
            // The evidence is an excerpt, not the body.
            let ev = ran.json()["destinations"][0]["findings"][0]["evidence"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(ev.chars().count() < 400, "{ev}");
        }
        assert!(ran.peak_kib > 0, "the child's memory was seen");
        eprintln!(
            "100 MB body, HTTP {status}: peak RSS seen {} KiB",
            ran.peak_kib
        );
        assert!(
            ran.peak_kib < PEAK_LIMIT_KIB,
            "peak RSS {} KiB for a 100 MB body",
            ran.peak_kib
        );
        // The client hung up long before the server could push 100 MB through.
        std::thread::sleep(Duration::from_millis(200));
        let written = server.written.load(Ordering::SeqCst);
        assert!(
            written < HUNDRED_MB / 4,
            "the server wrote {written} bytes: the client read far more than 1 MiB"
        );
    }
}

fn net(timeout: u64) -> Net {
    let mut o = NetOptions::new(
        Duration::from_secs(timeout),
        tokio::time::Instant::now() + Duration::from_secs(30),
    );
    o.resolver = Arc::new(StaticResolver::new());
    o.proxy = ProxySettings::none();
    Net::new(o).unwrap()
}

fn get(url: &str) -> Result<leadcheck::net::Response, leadcheck::net::NetError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let net = net(2);
        let req = net
            .request(reqwest::Method::GET, url::Url::parse(url).unwrap())
            .build()
            .unwrap();
        net.send(req).await
    })
}

#[test]
fn in_process_a_100_mb_body_keeps_1_mib() {
    let server = huge(200, HUNDRED_MB);
    let started = Instant::now();
    let resp = get(&server.url("/big")).unwrap();
    assert!(started.elapsed() < BOUND);
    assert!(resp.truncated);
    assert_eq!(resp.body.len(), leadcheck::net::BODY_CAP);
}

/// A gzip stream that inflates to `mib` MiB of zeros (about 1000:1).
fn gzip_bomb(mib: usize) -> Vec<u8> {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let zeros = vec![0u8; 1024 * 1024];
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    for _ in 0..mib {
        enc.write_all(&zeros).unwrap();
    }
    enc.finish().unwrap()
}

fn bomb_server(status: u16, bomb: Arc<Vec<u8>>) -> Raw {
    Raw::start(move |mut c: Conn| {
        let bomb = bomb.clone();
        async move {
            c.read_request().await;
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
                bomb.len()
            );
            if c.write(head.as_bytes()).await {
                c.write(&bomb).await;
            }
        }
    })
}

#[test]
fn a_gzip_bomb_is_never_inflated() {
    let bomb = Arc::new(gzip_bomb(512));
    assert!(
        bomb.len() < leadcheck::net::BODY_CAP,
        "fits under the cap as sent"
    );

    // In-process: the body is the compressed bytes as they came, not 512 MiB of zeros.
    let server = bomb_server(200, bomb.clone());
    let resp = get(&server.url("/bomb")).unwrap();
    assert!(!resp.truncated);
    assert_eq!(resp.body.len(), bomb.len());
    assert_eq!(&resp.body[..2], &[0x1f, 0x8b], "still gzip");
    // No Accept-Encoding was offered, so a well-behaved server would not have compressed.
    let asked = server.received_text().to_ascii_lowercase();
    assert!(!asked.contains("accept-encoding: gzip"), "{asked}");

    // The binary: an error answer that is a bomb ends quickly, small, with a short excerpt.
    let server = bomb_server(400, bomb);
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC503"], "{ran:?}");
    assert!(ran.peak_kib > 0 && ran.peak_kib < PEAK_LIMIT_KIB, "{ran:?}");
}

// ---------------------------------------------------------------------------------------
// Broken connections and unexpected payloads.

/// Closes with RST rather than FIN (SO_LINGER 0). A zero linger does not block on drop,
/// which is what the deprecation warns about.
#[allow(deprecated)]
fn reset(c: Conn) {
    let _ = c.stream.set_linger(Some(Duration::ZERO));
    drop(c);
}

#[test]
fn a_reset_in_the_middle_of_the_answer_is_lc213() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        c.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\npartial body")
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        reset(c);
    });
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.code, Some(1), "{ran:?}");
    assert_eq!(ran.codes(), ["LC213"], "{ran:?}");
}

#[test]
fn a_reset_before_any_answer_is_lc213() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        reset(c);
    });
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC213"], "{ran:?}");
}

#[test]
fn garbage_instead_of_http_is_lc213() {
    let server = Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        c.write(b"\x16\x03\x01 this is not HTTP at all\r\n\r\n")
            .await;
    });
    let ran = diagnose_https(&server.url("/hook"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC213"], "{ran:?}");
}

fn report_of(toml: &str) -> DestinationReport {
    let cfg = config::toml_file::parse(toml, "faults.toml", None)
        .unwrap_or_else(|e| panic!("{}: {toml}", e.message));
    let mut o = options(&[]);
    o.timeout = Duration::from_secs(2);
    let started = Instant::now();
    let r = one(cfg.destinations.into_iter().next().unwrap(), &o);
    assert!(started.elapsed() < BOUND);
    r
}

fn marketo_toml(endpoint: &str) -> String {
    format!(
        r#"[destination.mk]
type = "marketo"
munchkin_id = "123-ABC-456"
form_id = "1001"
client_id = "3f1c6a52-9b7e-4a41-8d2f-0c5e8a7b1d23"
client_secret = "MKTSECRET-canary-1"
endpoint = "{endpoint}"
"#
    )
}

/// A Marketo whose token call works and whose every other call answers `reply`.
fn marketo_then(reply: Reply) -> Fake {
    Fake::http(move |req| {
        if req.target.starts_with("/identity/oauth/token") {
            Reply::json(
                200,
                r#"{"access_token":"tok-123","token_type":"bearer","expires_in":3599,"scope":"x"}"#,
            )
        } else {
            reply.clone()
        }
    })
}

#[test]
fn invalid_json_where_json_is_expected_is_a_clear_failure() {
    // Marketo's REST API answering 200 with broken JSON.
    let fake = marketo_then(Reply::json(200, r#"{"success":true,"result":[{"id":"#));
    let r = report_of(&marketo_toml(&fake.url("")));
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert_eq!(codes(&r), ["LC504"], "{r:#?}");
    assert!(r.findings[0].evidence.contains("not JSON"), "{r:#?}");

    // A Logic App error answer that claims JSON and is not.
    let fake = Fake::always(Reply::json(400, r#"{"error":{"code":"#));
    let r = one(https_dest("h", &fake.url("/hook")), &options(&[]));
    assert_eq!(codes(&r), ["LC503"], "{r:#?}");
    assert!(r.findings[0].evidence.contains("HTTP 400"), "{r:#?}");
}

#[test]
fn an_html_page_instead_of_an_api_answer_is_a_clear_failure() {
    // A captive portal or sign-in page answering 200 text/html where JSON is expected.
    let page = "<html><body><h1>Please sign in</h1></body></html>";
    let fake = marketo_then(
        Reply::new(200)
            .header("content-type", "text/html")
            .body(page),
    );
    let r = report_of(&marketo_toml(&fake.url("")));
    assert_eq!(codes(&r), ["LC504"], "{r:#?}");
    assert!(r.findings[0].evidence.contains("not JSON"), "{r:#?}");

    // The token call itself answered by the page: the sign-in fails, never a pass.
    let fake = Fake::always(
        Reply::new(200)
            .header("content-type", "text/html")
            .body(page),
    );
    let r = report_of(&marketo_toml(&fake.url("")));
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert_eq!(r.findings.len(), 1, "{r:#?}");
}

// ---------------------------------------------------------------------------------------
// Redirects: reported, never followed, nothing sent elsewhere.

#[test]
fn a_redirect_loop_is_lc211_after_one_request() {
    let server = Raw::start(|mut c: Conn| async move {
        let head = c.read_request().await;
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let reply = format!(
            "HTTP/1.1 302 Found\r\nLocation: {path}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        c.write(reply.as_bytes()).await;
    });
    let ran = diagnose_https(&server.url("/loop?sig=LOOPSIG"), &[]);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(ran.codes(), ["LC211"], "{ran:?}");
    // One request (the connect probe opens a connection of its own and sends nothing).
    let requests = server.received_text().matches(" HTTP/1.1\r\n").count();
    assert_eq!(requests, 1, "not followed: {}", server.received_text());
    assert!(!ran.stdout.contains("LOOPSIG"), "{ran:?}");
}

/// A server that redirects every request to `target` with `status`.
fn redirector(status: u16, target: &str) -> Fake {
    let target = target.to_string();
    Fake::http(move |_| Reply::new(status).header("location", &target))
}

/// Asserts that nothing at all reached `other` and that no canary is in the report.
fn nothing_reached(other: &Raw, r: &DestinationReport, canaries: &[&str]) {
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        other.accepted.load(Ordering::SeqCst),
        0,
        "a connection reached the other host: {}",
        other.received_text()
    );
    let json = serde_json::to_string(r).unwrap();
    for c in canaries {
        assert!(!json.contains(c), "{c} in {json}");
    }
}

#[test]
fn a_redirect_to_another_host_sends_nothing_there_https() {
    let other = Raw::sink();
    for status in [301u16, 302, 303, 307, 308] {
        let fake = redirector(status, &other.url("/steal?sig=OTHERSIG"));
        let r = one(
            https_dest("h", &fake.url("/hook?sig=HTTPSSIG-canary")),
            &options(&[]),
        );
        assert_eq!(codes(&r), ["LC211"], "{status}: {r:#?}");
        assert_eq!(fake.count(), 1);
        nothing_reached(&other, &r, &["HTTPSSIG-canary", "OTHERSIG"]);
    }
}

#[test]
fn a_redirect_of_the_marketo_token_call_sends_no_secret_elsewhere() {
    let other = Raw::sink();
    let fake = redirector(307, &other.url("/identity/oauth/token"));
    let r = report_of(&marketo_toml(&fake.url("")));
    assert_eq!(codes(&r), ["LC211"], "{r:#?}");
    // The secret went to the configured host only (it must, to sign in).
    let sent = fake.last().unwrap();
    assert!(String::from_utf8_lossy(&sent.body).contains("MKTSECRET-canary-1"));
    nothing_reached(&other, &r, &["MKTSECRET-canary-1"]);
}

#[test]
fn a_redirect_of_an_azure_table_call_sends_no_key_elsewhere() {
    let other = Raw::sink();
    let fake = redirector(302, &other.url("/devstoreaccount1/MarketplaceLeads"));
    // Azurite's well-known development key: any base64 key signs the same way.
    let key =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    let toml = format!(
        r#"[destination.t]
type = "azure-table"
storage_account_connection_string = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};TableEndpoint={}/devstoreaccount1;"
"#,
        fake.url("")
    );
    let r = report_of(&toml);
    assert_eq!(codes(&r), ["LC211"], "{r:#?}");
    let sent = fake.last().unwrap();
    assert!(
        sent.header("authorization")
            .is_some_and(|a| a.starts_with("SharedKey")),
        "{sent:?}"
    );
    nothing_reached(&other, &r, &[key, &key[..20]]);
}

#[test]
fn a_redirect_of_the_salesforce_api_sends_no_token_elsewhere() {
    let other = Raw::sink();
    let target = other.url("/services/data/v60.0/");
    let fake = Fake::http(move |req| {
        if req.target.starts_with("/servlet") {
            Reply::new(200).header("is-processed", "true")
        } else {
            Reply::new(302).header("location", &target)
        }
    });
    let toml = format!(
        r#"[destination.sf]
type = "salesforce"
object_identifier = "00D5e000000SbxQ"
endpoint = "{}/servlet/servlet.WebToLead?encoding=UTF-8"
api_instance_url = "{}"
api_access_token = "00D5e000000SbxQ!SFTOKEN-canary-1"
"#,
        fake.url(""),
        fake.url("")
    );
    let r = report_of(&toml);
    assert!(codes(&r).contains(&"LC211".to_string()), "{r:#?}");
    let bearer = fake.requests.lock().unwrap().iter().any(|q| {
        q.header("authorization")
            .is_some_and(|a| a.contains("SFTOKEN-canary-1"))
    });
    assert!(bearer, "the token went to the configured API host");
    nothing_reached(&other, &r, &["SFTOKEN-canary-1"]);
}

/// A Dynamics instance and Entra ID on one loopback server: discovery and the 401 challenge
/// answer as the real services do; then `token` answers the token call and `api` every
/// authorized Dataverse call.
fn dynamics_fake(token: Reply, api: Reply) -> Fake {
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let base = Arc::new(Mutex::new(String::new()));
    let b = base.clone();
    let fake = Fake::http(move |req| {
        let base = b.lock().unwrap().clone();
        if req.target.contains("/.well-known/openid-configuration") {
            Reply::json(
                200,
                &format!(
                    r#"{{"issuer":"https://login.microsoftonline.com/{TENANT}/v2.0","token_endpoint":"{base}/{TENANT}/oauth2/v2.0/token"}}"#
                ),
            )
        } else if req.target.contains("/oauth2/v2.0/token") {
            token.clone()
        } else if req.header("authorization").is_none() {
            Reply::new(401).header(
                "www-authenticate",
                &format!(
                    "Bearer authorization_uri=https://login.microsoftonline.com/{TENANT}/oauth2/authorize, resource_id={base}/"
                ),
            )
        } else {
            api.clone()
        }
    });
    *base.lock().unwrap() = fake.url("");
    fake
}

fn dynamics_toml(fake: &Fake) -> String {
    format!(
        r#"[destination.d]
type = "dynamics"
instance_url = "{0}"
authority_host = "{0}"
authentication = "azure-ad"
directory_id = "72f988bf-86f1-41af-91ab-2d7cd011db47"
application_id = "0b6c2a3e-1f1e-4c9a-9d7e-3c2b1a0f9e8d"
application_key = "DYNKEY-canary-1~abc"
"#,
        fake.url("")
    )
}

#[test]
fn a_redirect_of_the_entra_token_call_sends_no_secret_elsewhere() {
    let other = Raw::sink();
    let fake = dynamics_fake(
        Reply::new(307).header("location", &other.url("/t/oauth2/v2.0/token")),
        Reply::new(500),
    );
    let r = report_of(&dynamics_toml(&fake));
    assert_eq!(codes(&r), ["LC211"], "{r:#?}");
    assert_eq!(r.checks.last().unwrap().id, "token", "{r:#?}");
    nothing_reached(&other, &r, &["DYNKEY-canary-1"]);
}

#[test]
fn a_redirect_of_an_authorized_dataverse_call_sends_no_bearer_token_elsewhere() {
    let other = Raw::sink();
    let fake = dynamics_fake(
        Reply::json(
            200,
            r#"{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOi.DVTOKEN-canary-1.sig"}"#,
        ),
        Reply::new(302).header("location", &other.url("/api/data/v9.2/WhoAmI")),
    );
    let r = report_of(&dynamics_toml(&fake));
    assert_eq!(codes(&r), ["LC211"], "{r:#?}");
    let with_bearer = fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|q| {
            q.header("authorization")
                .is_some_and(|a| a.contains("DVTOKEN-canary-1"))
        })
        .count();
    assert_eq!(with_bearer, 1, "the token went to the instance once");
    nothing_reached(&other, &r, &["DVTOKEN-canary-1", "DYNKEY-canary-1"]);
}

// ---------------------------------------------------------------------------------------
// Certificates and names, through the binary (localhost resolves without the network).

fn pem_file(dir: &tempfile::TempDir, ca: &Ca) -> PathBuf {
    let p = dir.path().join("ca.pem");
    std::fs::write(&p, ca.pem()).unwrap();
    p
}

fn tls_run(cert: &ServerCert, ca: Option<&Ca>) -> Ran {
    let fake = Fake::https(cert, |_| Reply::new(202));
    let dir = tempfile::tempdir().unwrap();
    let mut extra = Vec::new();
    let pem;
    if let Some(ca) = ca {
        pem = pem_file(&dir, ca).display().to_string();
        extra = vec!["--ca-cert", pem.as_str()];
    }
    let ran = diagnose_https(&fake.https_url("localhost", "/hook?sig=TLSSIG"), &extra);
    assert!(ran.elapsed < BOUND, "{ran:?}");
    assert_eq!(
        fake.count(),
        0,
        "no request goes over an unverified connection"
    );
    assert!(!ran.stdout.contains("TLSSIG"), "{ran:?}");
    ran
}

#[test]
fn certificate_faults_through_the_binary() {
    let ca = Ca::new();
    // Control: the same setup with a good certificate passes, so the failures below are
    // the certificates' doing.
    let good = Fake::https(&ca.leaf(&["localhost"], -1, 90), |_| Reply::new(202));
    let dir = tempfile::tempdir().unwrap();
    let pem = pem_file(&dir, &ca).display().to_string();
    let ran = diagnose_https(
        &good.https_url("localhost", "/hook"),
        &["--ca-cert", pem.as_str()],
    );
    assert_eq!(ran.code, Some(0), "{ran:?}");

    let ran = tls_run(&ca.leaf(&["localhost"], -30, -1), Some(&ca));
    assert_eq!(ran.codes(), ["LC205"], "expired: {ran:?}");
    let ran = tls_run(&self_signed(&["localhost"]), None);
    assert_eq!(ran.codes(), ["LC204"], "self-signed: {ran:?}");
    let ran = tls_run(&ca.leaf(&["leads.other.test"], -1, 90), Some(&ca));
    assert_eq!(ran.codes(), ["LC206"], "another host: {ran:?}");
}

#[test]
fn a_name_that_does_not_resolve_is_lc202_with_an_injected_resolver() {
    // The resolver knows only `known.test`; nothing reaches the machine's DNS.
    let fake = Fake::always(Reply::new(202));
    let started = Instant::now();
    let r = one(
        https_dest(
            "x",
            &format!("https://unknown.test:{}/hook", fake.addr.port()),
        ),
        &options(&["known.test"]),
    );
    assert!(started.elapsed() < BOUND);
    assert_eq!(codes(&r), ["LC202"], "{r:#?}");
    assert_eq!(fake.count(), 0);
}
