//! Local emulators of the destinations on 127.0.0.1, and `sandbox`.
//!
//! Each emulator answers at the root of its own listener (`http://127.0.0.1:PORT`), as the
//! real service does at its own origin, so destinations join paths exactly as in production.
//! One listener serves one emulator in one scenario (a healthy one, or one failure that
//! stems from a response), so a scenario is chosen by the URL in the config, nothing else.
//!
//! # Adding an emulator family (for Salesforce, Marketo, ...)
//!
//! 1. Write `src/sandbox/<name>.rs` with a unit struct implementing [`Family`]:
//!    `name()` ("salesforce"), `scenarios()` (the codes it reproduces and how), and
//!    `build(wanted, sb)`, which builds the healthy emulator(s) plus one per wanted code:
//!    ```ignore
//!    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()> {
//!        for code in std::iter::once(None).chain(wanted.iter().copied().map(Some)) {
//!            let slot = sb.bind()?;                      // reserves 127.0.0.1:PORT
//!            let url = slot.url().to_string();           // http://127.0.0.1:PORT
//!            let name = sandbox::entry_name("salesforce", code); // salesforce, salesforce-lc501
//!            sb.serve(slot, &name, MyEmulator { url: url.clone(), scenario: code });
//!            sb.destination(DestinationEntry::new(name, "salesforce")
//!                .field("endpoint", format!("{url}/servlet/servlet.WebToLead?encoding=UTF-8"))
//!                .secret("api_access_token", "...")
//!                .note("what this destination shows")
//!                .expect(code));                             // the code diagnose must report
//!        }
//!        Ok(())
//!    }
//!    ```
//!    The emulator implements [`Emulator`]: `fn handle(&self, req: &Request) -> Reply`,
//!    synchronous, never panicking on any input. [`Reply::json`], [`Reply::text`],
//!    [`Reply::empty`], `.header(k, v)`, and [`Reply::Hang`] (accept, never answer).
//! 2. Register it with one line in [`families`] below.
//!
//! Emulators are built from the research (`research/protocols.md`); where it is silent,
//! say so in a comment and keep the behaviour minimal.

pub mod demo;
pub mod dynamics;
pub mod entra;
pub mod https;
pub mod leads;
pub mod marketo;
pub mod salesforce;

use crate::app::App;
use crate::cli::SandboxArgs;
use crate::exit::{Exit, UserError};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{HeaderMap, Method, StatusCode};
use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

/// Every emulator family. Add one line per family.
pub fn families() -> Vec<Box<dyn Family>> {
    vec![
        Box::new(dynamics::DynamicsFamily),
        Box::new(https::HttpsFamily),
        Box::new(salesforce::SalesforceFamily),
        Box::new(marketo::MarketoFamily),
    ]
}

/// One destination type's emulators.
pub trait Family {
    /// The destination type, as in the config (`dynamics`, `https`, `salesforce`).
    fn name(&self) -> &'static str;
    /// The failures this family reproduces.
    fn scenarios(&self) -> &'static [Scenario];
    /// Builds the healthy emulator(s) and one per code in `wanted` (a subset of
    /// `scenarios()`), binding listeners through `sb` and declaring config entries.
    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()>;
}

/// A failure an emulator reproduces.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The catalog code leadcheck must report for it.
    pub code: &'static str,
    /// What the emulator does, in a few words.
    pub what: &'static str,
}

/// Answers requests. Synchronous: emulators are small state machines.
pub trait Emulator: Send + Sync + 'static {
    fn handle(&self, req: &Request) -> Reply;
}

/// A request as an emulator sees it: the body is read whole (up to 1 MiB).
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// The path, not decoded.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }

    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as `application/x-www-form-urlencoded` pairs.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    pub fn form_param(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// An emulator's answer.
#[derive(Debug)]
pub enum Reply {
    Now(hyper::Response<Full<Bytes>>),
    /// Accept the request and never answer (a black hole, LC201).
    Hang,
}

impl Reply {
    pub fn empty(status: u16) -> Reply {
        Reply::bytes(status, None, Bytes::new())
    }

    pub fn text(status: u16, content_type: &str, body: impl Into<String>) -> Reply {
        Reply::bytes(status, Some(content_type), Bytes::from(body.into()))
    }

    /// `application/json; charset=utf-8`, the body serialized compactly as services do.
    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::text(status, "application/json; charset=utf-8", body.to_string())
    }

    fn bytes(status: u16, content_type: Option<&str>, body: Bytes) -> Reply {
        let mut resp = hyper::Response::new(Full::new(body));
        *resp.status_mut() =
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if let Some(ct) = content_type {
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                hyper::header::HeaderValue::from_str(ct).unwrap_or(
                    hyper::header::HeaderValue::from_static("application/octet-stream"),
                ),
            );
        }
        Reply::Now(resp)
    }

    /// Adds a header (ignored when the name or value is not valid HTTP).
    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Reply {
        if let Reply::Now(resp) = &mut self {
            if let (Ok(n), Ok(v)) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                hyper::header::HeaderValue::from_str(value.as_ref()),
            ) {
                resp.headers_mut().append(n, v);
            }
        }
        self
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            Reply::Now(r) => Some(r.status().as_u16()),
            Reply::Hang => None,
        }
    }
}

/// One request an emulator saw, for tests and `sandbox -v` (no bodies, no query values:
/// they may hold secrets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The config entry (destination name) the listener belongs to, or the shared
    /// emulator's name (`entra-id`).
    pub listener: String,
    pub method: String,
    pub path: String,
    /// `None` while hanging.
    pub status: Option<u16>,
}

/// A reserved listener, not serving yet.
pub struct Slot {
    listener: TcpListener,
    url: String,
    addr: SocketAddr,
}

impl Slot {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// A config value in a sandbox destination.
#[derive(Debug, Clone)]
pub enum FieldValue {
    Str(String),
    /// Written according to [`SecretStyle`].
    Secret(String),
}

/// One `[destination.NAME]` table of the sandbox's config.
#[derive(Debug, Clone)]
pub struct DestinationEntry {
    pub name: String,
    pub kind: String,
    /// The code diagnose must report, `None` for a healthy destination.
    pub expect: Option<&'static str>,
    pub note: String,
    pub fields: Vec<(String, FieldValue)>,
}

impl DestinationEntry {
    pub fn new(name: impl Into<String>, kind: &str) -> DestinationEntry {
        DestinationEntry {
            name: name.into(),
            kind: kind.to_string(),
            expect: None,
            note: String::new(),
            fields: Vec::new(),
        }
    }

    pub fn field(mut self, key: &str, value: impl Into<String>) -> DestinationEntry {
        self.fields
            .push((key.to_string(), FieldValue::Str(value.into())));
        self
    }

    pub fn secret(mut self, key: &str, value: impl Into<String>) -> DestinationEntry {
        self.fields
            .push((key.to_string(), FieldValue::Secret(value.into())));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> DestinationEntry {
        self.note = note.into();
        self
    }

    pub fn expect(mut self, code: Option<&'static str>) -> DestinationEntry {
        self.expect = code;
        self
    }

    /// The value of a field (secrets included), for tests.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| match v {
                FieldValue::Str(s) | FieldValue::Secret(s) => s.as_str(),
            })
    }
}

/// `<family>` for the healthy one, `<family>-lc402` for a scenario.
pub fn entry_name(family: &str, code: Option<&str>) -> String {
    match code {
        None => family.to_string(),
        Some(c) => format!("{family}-{}", c.to_ascii_lowercase()),
    }
}

/// Collects listeners and config entries while families build.
pub struct Builder {
    /// The next port with `--port N`; `None` picks free ones.
    next_port: Option<u16>,
    served: Vec<(Slot, Arc<dyn Emulator>, String)>,
    entries: Vec<DestinationEntry>,
    journal: Arc<Mutex<Vec<Seen>>>,
    /// What the healthy emulators that can be read start with (empty unless asked for).
    leads: Vec<leads::DemoLead>,
}

impl Builder {
    fn new(first_port: Option<u16>, leads: Vec<leads::DemoLead>) -> Builder {
        Builder {
            next_port: first_port,
            served: Vec::new(),
            entries: Vec::new(),
            journal: Arc::new(Mutex::new(Vec::new())),
            leads,
        }
    }

    /// The leads a family preloads into its healthy emulators that can be read, each in its
    /// own shape (none unless the sandbox was started with [`Sandbox::start_with_leads`]).
    pub fn demo_leads(&self) -> &[leads::DemoLead] {
        &self.leads
    }

    /// Reserves a listener on 127.0.0.1: the next port of `--port N, N+1, ...`, else a free
    /// one.
    pub fn bind(&mut self) -> std::io::Result<Slot> {
        let port = self.next_port.unwrap_or(0);
        let listener = TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot listen on 127.0.0.1:{port}: {e}"))
        })?;
        if let Some(p) = self.next_port {
            self.next_port = Some(
                p.checked_add(1)
                    .ok_or_else(|| std::io::Error::other("ran out of ports above --port"))?,
            );
        }
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        Ok(Slot {
            listener,
            url: format!("http://{addr}"),
            addr,
        })
    }

    /// Serves `emulator` on `slot`; its requests are journaled under `listener` (a
    /// destination name, or a shared emulator's name).
    pub fn serve(&mut self, slot: Slot, listener: &str, emulator: impl Emulator) {
        self.served
            .push((slot, Arc::new(emulator), listener.to_string()));
    }

    /// Declares a destination of the config the sandbox prints.
    pub fn destination(&mut self, entry: DestinationEntry) {
        self.entries.push(entry);
    }
}

/// How secrets are written in the printed config.
#[derive(Debug, Clone)]
pub enum SecretStyle {
    /// As plain strings (lint warns LC105; they are throwaway sandbox secrets).
    Plain,
    /// Each in its own file (mode 600) under `dir`, referenced as
    /// `{ file = "<reference>/<destination>.<field>" }` (`reference` is `dir` as the config
    /// file sees it: relative to the config's folder, or absolute).
    Files {
        dir: std::path::PathBuf,
        reference: std::path::PathBuf,
    },
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Starts every family's healthy emulators plus the scenarios named by `codes` (catalog
    /// codes in any case, `402`, or `all`), on free ports. The emulators run on their own
    /// thread until the handle is shut down or dropped.
    pub fn start(codes: &[&str]) -> Result<SandboxHandle, UserError> {
        Sandbox::start_on(codes, None)
    }

    /// As [`Sandbox::start`], the listeners on `first_port`, `first_port + 1`, ...
    pub fn start_on(codes: &[&str], first_port: Option<u16>) -> Result<SandboxHandle, UserError> {
        Sandbox::start_inner(codes, first_port, Vec::new())
    }

    /// As [`Sandbox::start_on`], the healthy emulators that can be read (the `dynamics`
    /// instance, which `dynamics-office-365` shares, the Lead Writer's, `salesforce` and
    /// `marketo`) holding [`leads::demo_leads`] as of `now` (Unix seconds). The `sandbox`
    /// and `demo` commands start this way; [`Sandbox::start`] starts empty, for tests that
    /// count what diagnose leaves.
    pub fn start_with_leads(
        codes: &[&str],
        first_port: Option<u16>,
        now: i64,
    ) -> Result<SandboxHandle, UserError> {
        Sandbox::start_inner(codes, first_port, leads::demo_leads(now))
    }

    fn start_inner(
        codes: &[&str],
        first_port: Option<u16>,
        demo_leads: Vec<leads::DemoLead>,
    ) -> Result<SandboxHandle, UserError> {
        let families = families();
        let wanted = resolve_codes(&families, codes)?;
        let mut sb = Builder::new(first_port.filter(|p| *p != 0), demo_leads);
        for family in &families {
            let mine: Vec<&'static str> = family
                .scenarios()
                .iter()
                .map(|s| s.code)
                .filter(|c| wanted.contains(c))
                .collect();
            family.build(&mine, &mut sb).map_err(|e| {
                UserError::new(format!("the sandbox could not start: {e}"))
                    .hint("pick another --port, or leave it out to use free ports")
            })?;
        }
        SandboxHandle::spawn(sb)
    }

    /// Every scenario of every family: (family, scenario).
    pub fn scenarios() -> Vec<(&'static str, Scenario)> {
        families()
            .iter()
            .flat_map(|f| {
                f.scenarios()
                    .iter()
                    .map(|s| (f.name(), *s))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

/// Every code a `--scenario` can name, sorted (`all` aside).
pub fn scenario_codes() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Sandbox::scenarios().iter().map(|(_, s)| s.code).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The offline part of `sandbox --scenario ...`: the codes resolve (exit 2 with the list
/// when one does not), without starting anything. For tests and fuzzers.
pub fn check_scenarios(codes: &[&str]) -> Result<(), UserError> {
    resolve_codes(&families(), codes).map(drop)
}

/// Normalizes `LC402`, `lc402`, `402`; `all` is every code. Unknown -> exit 2 with the list.
fn resolve_codes(
    families: &[Box<dyn Family>],
    codes: &[&str],
) -> Result<Vec<&'static str>, UserError> {
    let known: Vec<&'static str> = {
        let mut v: Vec<&'static str> = families
            .iter()
            .flat_map(|f| f.scenarios().iter().map(|s| s.code))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut wanted = Vec::new();
    for raw in codes
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        if raw.eq_ignore_ascii_case("all") {
            wanted.extend(known.iter().copied());
            continue;
        }
        let digits = raw
            .strip_prefix("LC")
            .or_else(|| raw.strip_prefix("lc"))
            .or_else(|| raw.strip_prefix("Lc"))
            .unwrap_or(raw);
        let code = format!("LC{digits}");
        match known.iter().find(|k| **k == code) {
            Some(k) => wanted.push(*k),
            None => {
                return Err(UserError::new(format!(
                    "the sandbox has no scenario {}; it reproduces: {}",
                    crate::term::sanitize(raw, false),
                    known.join(" ")
                ))
                .hint("`leadcheck sandbox --scenario all` starts every one"))
            }
        }
    }
    wanted.sort_unstable();
    wanted.dedup();
    Ok(wanted)
}

/// A running sandbox. Dropping it stops the emulators.
pub struct SandboxHandle {
    entries: Vec<DestinationEntry>,
    leads: Vec<leads::DemoLead>,
    addrs: Vec<SocketAddr>,
    journal: Arc<Mutex<Vec<Seen>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SandboxHandle {
    fn spawn(sb: Builder) -> Result<SandboxHandle, UserError> {
        let Builder {
            served,
            entries,
            journal,
            leads,
            ..
        } = sb;
        let addrs = served.iter().map(|(s, _, _)| s.addr).collect();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("leadcheck-sandbox")
            .enable_all()
            .build()
            .map_err(|e| UserError::new(format!("the sandbox could not start its runtime: {e}")))?;
        // Convert the listeners inside the runtime (tokio needs its reactor for that).
        let mut listeners = Vec::new();
        for (slot, emu, label) in served {
            let l = {
                let _guard = rt.enter();
                tokio::net::TcpListener::from_std(slot.listener)
                    .map_err(|e| UserError::new(format!("the sandbox could not listen: {e}")))?
            };
            listeners.push((l, emu, label));
        }
        let j = journal.clone();
        let thread = std::thread::Builder::new()
            .name("leadcheck-sandbox".into())
            .spawn(move || {
                rt.block_on(async move {
                    for (l, emu, label) in listeners {
                        tokio::spawn(accept_loop(l, emu, label, j.clone()));
                    }
                    let _ = stop_rx.await;
                });
                // Hanging requests (LC201) are dropped here.
                rt.shutdown_background();
            })
            .map_err(|e| UserError::new(format!("the sandbox could not start its thread: {e}")))?;
        Ok(SandboxHandle {
            entries,
            leads,
            addrs,
            journal,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The config entries, healthy ones first within each family.
    pub fn entries(&self) -> &[DestinationEntry] {
        &self.entries
    }

    pub fn entry(&self, name: &str) -> Option<&DestinationEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The demo leads the healthy emulators that can be read started with, newest first
    /// (empty unless started with [`Sandbox::start_with_leads`]).
    pub fn demo_leads(&self) -> &[leads::DemoLead] {
        &self.leads
    }

    /// Every listening address, in the order bound.
    pub fn addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// The first listener (the one `--port` names).
    pub fn addr(&self) -> SocketAddr {
        self.addrs[0]
    }

    /// What the emulators saw so far.
    pub fn journal(&self) -> Vec<Seen> {
        self.journal.lock().map(|j| j.clone()).unwrap_or_default()
    }

    /// A ready leadcheck.toml, secrets as plain strings.
    pub fn config_toml(&self) -> String {
        self.render_toml(&SecretStyle::Plain, None)
            .unwrap_or_default()
    }

    /// A ready leadcheck.toml; with [`SecretStyle::Files`], writes the secret files.
    /// `only` keeps the named destinations.
    pub fn render_toml(
        &self,
        style: &SecretStyle,
        only: Option<&[&str]>,
    ) -> std::io::Result<String> {
        let mut out = String::new();
        out.push_str(
            "# Written by `leadcheck sandbox`: emulators on 127.0.0.1, valid while it runs.\n",
        );
        out.push_str(match style {
            SecretStyle::Plain => "# The secrets are throwaway values the emulators made up; written here in plain\n# text, so lint and diagnose warn LC105 about them.\n",
            SecretStyle::Files { .. } => "# The secrets are throwaway values the emulators made up, each in its own file.\n",
        });
        for e in &self.entries {
            if only.is_some_and(|names| !names.contains(&e.name.as_str())) {
                continue;
            }
            out.push('\n');
            if !e.note.is_empty() {
                out.push_str(&format!("# {}\n", e.note));
            }
            match e.expect {
                Some(code) => out.push_str(&format!(
                    "# diagnose reports {code} (run `leadcheck explain {code}`)\n"
                )),
                None if matches!(style, SecretStyle::Plain) && e.fields.iter().any(|(_, v)| matches!(v, FieldValue::Secret(_))) => {
                    out.push_str("# healthy: diagnose passes (with the LC105 warning about plain-text secrets)\n")
                }
                None => out.push_str("# healthy: diagnose passes\n"),
            }
            out.push_str(&format!("[destination.{}]\n", toml_key(&e.name)));
            out.push_str(&format!("type = {}\n", toml_str(&e.kind)));
            for (k, v) in &e.fields {
                let rendered = match (v, style) {
                    (FieldValue::Str(s), _) | (FieldValue::Secret(s), SecretStyle::Plain) => {
                        toml_str(s)
                    }
                    (FieldValue::Secret(s), SecretStyle::Files { dir, reference }) => {
                        std::fs::create_dir_all(dir)?;
                        let file = format!("{}.{}", e.name, k);
                        write_private(&dir.join(&file), s)?;
                        let shown = reference.join(&file).to_string_lossy().replace('\\', "/");
                        format!("{{ file = {} }}", toml_str(&shown))
                    }
                };
                out.push_str(&format!("{k} = {rendered}\n"));
            }
        }
        Ok(out)
    }

    /// Stops the emulators and waits for their thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn write_private(path: &std::path::Path, value: &str) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(value.as_bytes())
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn toml_key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        s.to_string()
    } else {
        toml_str(s)
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    emu: Arc<dyn Emulator>,
    label: String,
    journal: Arc<Mutex<Vec<Seen>>>,
) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            // Out of descriptors and the like: back off instead of spinning.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let emu = emu.clone();
        let label = label.clone();
        let journal = journal.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let emu = emu.clone();
                    let label = label.clone();
                    let journal = journal.clone();
                    async move {
                        Ok::<_, std::convert::Infallible>(
                            answer(req, emu.as_ref(), &label, &journal).await,
                        )
                    }
                });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                .await;
        });
    }
}

const MAX_BODY: usize = 1 << 20;

async fn answer(
    req: hyper::Request<hyper::body::Incoming>,
    emu: &dyn Emulator,
    label: &str,
    journal: &Mutex<Vec<Seen>>,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return match Reply::text(413, "text/plain", "request body too large or unreadable") {
                Reply::Now(r) => r,
                Reply::Hang => unreachable!(),
            }
        }
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts.headers,
        body,
    };
    let reply = emu.handle(&request);
    if let Ok(mut j) = journal.lock() {
        j.push(Seen {
            listener: label.to_string(),
            method: request.method.to_string(),
            path: request.path.clone(),
            status: reply.status(),
        });
    }
    match reply {
        Reply::Now(r) => r,
        Reply::Hang => std::future::pending().await,
    }
}

/// A stable GUID made from a name, so a sandbox started twice with the same `--port`
/// writes the same config.
pub fn guid(name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("leadcheck-sandbox/{name}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// A stable made-up secret in the shape of an Entra ID client secret value (40 characters,
/// `8Q~` after the third).
pub fn made_up_secret(name: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("leadcheck-sandbox-secret/{name}").as_bytes());
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(digest)
        .replace(['-', '_'], "x");
    format!("{}8Q~{}", &b[..3], &b[3..37])
}

/// `2016-01-09 02:02:12Z`, the timestamp Entra ID writes in its errors.
pub fn entra_timestamp(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `leadcheck sandbox`: start, print or write the config, run until Ctrl-C (exit 130,
/// "interrupted", as for every command).
pub fn run(args: SandboxArgs, app: &mut App) -> anyhow::Result<Exit> {
    let codes: Vec<&str> = args.scenarios.iter().map(String::as_str).collect();
    let port = (args.port != 0).then_some(args.port);
    let handle = Sandbox::start_with_leads(&codes, port, crate::leads::cmd::now_secs())?;
    match &args.write_config {
        Some(path) => {
            // Secrets go to files beside the config (`<name>.secrets/`), so that the
            // written config lints without warnings.
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "leadcheck".into());
            let reference = std::path::PathBuf::from(format!("{stem}.secrets"));
            let dir = path
                .parent()
                .map(|p| p.join(&reference))
                .unwrap_or_else(|| reference.clone());
            let text = handle
                .render_toml(
                    &SecretStyle::Files {
                        dir: dir.clone(),
                        reference,
                    },
                    None,
                )
                .map_err(|e| {
                    UserError::new(format!(
                        "cannot write the secrets under {}: {e}",
                        dir.display()
                    ))
                    .hint("choose a writable path")
                })?;
            std::fs::write(path, text).map_err(|e| {
                UserError::new(format!("cannot write {}: {e}", path.display()))
                    .hint("choose a writable path")
            })?;
            app.note(&format!(
                "leadcheck sandbox: wrote {} (secrets in {})",
                path.display(),
                dir.display()
            ))?;
        }
        None => {
            app.out.write_all(handle.config_toml().as_bytes())?;
            app.out.flush()?;
        }
    }
    let ports: Vec<u16> = handle.addrs().iter().map(|a| a.port()).collect();
    let (lo, hi) = (
        ports.iter().min().copied().unwrap_or(0),
        ports.iter().max().copied().unwrap_or(0),
    );
    app.note(&format!(
        "leadcheck sandbox: {} emulators listening on 127.0.0.1 ports {lo}-{hi}, {} destinations; running until interrupted (Ctrl-C)",
        ports.len(),
        handle.entries().len()
    ))?;
    let list = match &args.write_config {
        Some(p) => format!(
            "`leadcheck leads -c {}` lists them",
            crate::term::sanitize(&p.display().to_string(), false)
        ),
        None => "save the config above as FILE and `leadcheck leads -c FILE` lists them".into(),
    };
    app.note(&format!(
        "leadcheck sandbox: dynamics, salesforce and marketo hold {} demo leads of the last {} days; {list}",
        handle.demo_leads().len(),
        leads::DAYS
    ))?;
    let verbose = app.term.verbosity == crate::term::Verbosity::Verbose;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut shown = 0usize;
    rt.block_on(async {
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        loop {
            tokio::select! {
                _ = &mut ctrl_c => break,
                _ = tokio::time::sleep(std::time::Duration::from_millis(200)) => {
                    if verbose {
                        let seen = handle.journal();
                        for s in &seen[shown.min(seen.len())..] {
                            let status = s.status.map_or("(no answer)".to_string(), |c| c.to_string());
                            let _ = writeln!(app.err, "{} {} {} -> {}", s.listener, s.method, s.path, status);
                        }
                        shown = seen.len();
                    }
                }
            }
        }
    });
    handle.shutdown();
    app.note("leadcheck sandbox: stopped")?;
    Ok(Exit::Interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_civil() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_452_304_932);
        assert_eq!(entra_timestamp(t), "2016-01-09 02:02:12Z");
        assert_eq!(
            entra_timestamp(std::time::UNIX_EPOCH),
            "1970-01-01 00:00:00Z"
        );
    }

    #[test]
    fn made_up_values_are_stable_and_shaped() {
        assert_eq!(guid("a"), guid("a"));
        assert_ne!(guid("a"), guid("b"));
        assert!(uuid::Uuid::parse_str(&guid("a")).is_ok());
        let s = made_up_secret("x");
        assert_eq!(s.len(), 40);
        assert_eq!(&s[3..6], "8Q~");
    }

    #[test]
    fn codes_resolve_in_any_spelling() {
        let f = families();
        assert_eq!(
            resolve_codes(&f, &["lc402", "402", "LC402"]).unwrap(),
            vec!["LC402"]
        );
        let e = resolve_codes(&f, &["LC999"]).unwrap_err();
        assert!(e.message.contains("LC402"), "{}", e.message);
        assert!(resolve_codes(&f, &["all"]).unwrap().len() > 10);
    }
}
