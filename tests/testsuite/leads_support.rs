//! What the `leads` tests share: the clock, the JSON Lines a run prints, and a running
//! `leads --watch` with its streams.

use crate::salesforce::serve;
use leadcheck::leads::parse_time;
use leadcheck::sandbox::Emulator;
use serde_json::Value;
use std::io::Read;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// An emulator served on 127.0.0.1 from its own runtime, for as long as this lives.
pub struct Served {
    pub addr: SocketAddr,
    _rt: tokio::runtime::Runtime,
}

pub fn served<E: Emulator>(emu: Arc<E>) -> Served {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let addr = rt.block_on(serve(emu));
    Served { addr, _rt: rt }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// JSON Lines: (leads, summaries).
pub fn lines(stdout: &str) -> (Vec<Value>, Vec<Value>) {
    let all: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    all.into_iter().partition(|v| v.get("summary").is_none())
}

/// A listed lead's `created`, as Unix seconds.
pub fn created(v: &Value) -> i64 {
    parse_time(v["created"].as_str().unwrap()).unwrap()
}

/// A reader of a child's stream, kept as it grows.
fn collect(mut from: impl Read + Send + 'static) -> (Arc<Mutex<String>>, JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let t = text.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            t.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (text, reading)
}

/// A running `leads --watch`, its two streams read as they grow.
pub struct Watching {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: [JoinHandle<()>; 2],
}

impl Watching {
    /// Starts `cmd` (a `leadcheck leads --watch`) with piped output and no stdin.
    pub fn start(cmd: &mut Command) -> Watching {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (stdout, a) = collect(child.stdout.take().unwrap());
        let (stderr, b) = collect(child.stderr.take().unwrap());
        Watching {
            child,
            stdout,
            stderr,
            readers: [a, b],
        }
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Ctrl-C (SIGINT), then the exit code and all of both streams.
    pub fn interrupt(mut self) -> (Option<i32>, String, String) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(sent);
        let started = Instant::now();
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = self.child.kill();
                panic!("Ctrl-C did not end the watch:\n{}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The streams end with the process (an --exec child may hold them a little longer).
        let started = Instant::now();
        while !self.readers.iter().all(JoinHandle::is_finished)
            && started.elapsed() < Duration::from_secs(5)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        (status.code(), self.stdout(), self.stderr())
    }
}

pub fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ok() {
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
