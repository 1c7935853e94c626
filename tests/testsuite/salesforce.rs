//! Salesforce destination against the Salesforce emulator: every code it reports, the
//! healthy paths with and without REST API credentials, and the form as sent.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use leadcheck::config::model::{self as model, Common, Destination, SecretField, Spec};
use leadcheck::destination::{for_config, Ctx, Run};
use leadcheck::lead::Lead;
use leadcheck::net::{Net, NetOptions, ProxySettings};
use leadcheck::report::{Severity, Status};
use leadcheck::sandbox::salesforce::{self as emu, Faults as Scenario};
use leadcheck::sandbox::{Emulator, Reply};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The documented sample's ticks.
pub const T: u64 = 636_573_304_831_318_844;

/// Serves an emulator on 127.0.0.1 (a free port) until the runtime ends.
pub async fn serve<E: Emulator>(emu: Arc<E>) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let emu = emu.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let emu = emu.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let body = body.collect().await?.to_bytes();
                        let req = leadcheck::sandbox::Request {
                            method: parts.method,
                            path: parts.uri.path().to_string(),
                            query: parts.uri.query().map(str::to_string),
                            headers: parts.headers,
                            body,
                        };
                        let resp = match emu.handle(&req) {
                            Reply::Now(r) => r,
                            Reply::Hang => {
                                let mut r = hyper::Response::new(Full::new(Bytes::new()));
                                *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
                                r
                            }
                        };
                        Ok::<_, hyper::Error>(resp)
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    addr
}

/// Runs one destination's diagnosis in-process with a `deadline` in seconds.
pub async fn diagnose(dest: &Destination, cleanup: bool, deadline: u64) -> Run {
    let opts = NetOptions {
        proxy: ProxySettings::none(),
        ..NetOptions::new(
            Duration::from_secs(5),
            tokio::time::Instant::now() + Duration::from_secs(deadline),
        )
    };
    let net = Net::new(opts).expect("net");
    let mut ctx = Ctx::new(
        net,
        Lead::new(Some(T), Some("Contoso Test")),
        dest.name.clone(),
    );
    ctx.cleanup = cleanup;
    let mut run = Run::new();
    for_config(dest)
        .expect("a destination")
        .diagnose(&ctx, &mut run)
        .await;
    run
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn dest(addr: SocketAddr, api: bool) -> Destination {
    Destination {
        name: "sf".into(),
        spec: Spec::Salesforce(model::Salesforce {
            object_identifier: Some(emu::OID.into()),
            endpoint: Some(format!(
                "http://{addr}/servlet/servlet.WebToLead?encoding=UTF-8"
            )),
            api_instance_url: api.then(|| format!("http://{addr}")),
            api_access_token: api.then(|| SecretField::plain(emu::TOKEN)),
        }),
        common: Common::default(),
        locations: BTreeMap::new(),
        location: None,
    }
}

/// Runs against a fresh emulator; the run and the emulator.
fn check(
    scenario: Scenario,
    api: bool,
    cleanup: bool,
    deadline: u64,
) -> (Run, Arc<emu::Salesforce>) {
    runtime().block_on(async {
        let sf = Arc::new(emu::Salesforce::new(scenario));
        let addr = serve(sf.clone()).await;
        (diagnose(&dest(addr, api), cleanup, deadline).await, sf)
    })
}

fn status_of(run: &Run, id: &str) -> Option<Status> {
    run.checks.iter().find(|c| c.id == id).map(|c| c.status)
}

fn codes(run: &Run) -> Vec<(&str, Severity)> {
    run.findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity))
        .collect()
}

fn scenario(code: &str) -> Scenario {
    Scenario::from_code(code).expect("a scenario")
}

#[test]
fn without_api_the_lead_is_sent_and_verify_is_a_skip() {
    let (run, sf) = check(Scenario::default(), false, true, 30);
    assert_eq!(
        status_of(&run, "send"),
        Some(Status::Pass),
        "{:#?}",
        run.checks
    );
    let verify = run
        .checks
        .iter()
        .find(|c| c.id == "verify")
        .expect("verify step");
    assert_eq!(verify.status, Status::Skip);
    assert!(
        verify.detail.contains("cannot be verified") && verify.detail.contains("e-mails"),
        "{}",
        verify.detail
    );
    assert_eq!(status_of(&run, "cleanup"), Some(Status::Skip));
    assert_eq!(status_of(&run, "describe"), None);
    assert!(run.findings.is_empty(), "{:?}", run.findings);
    assert_eq!(run.status(false), Status::Pass);
    assert!(run.test_lead.sent);
    assert_eq!(run.test_lead.verified, None);
    assert_eq!(run.test_lead.cleaned_up, None);
    assert_eq!(sf.posted().len(), 1);
}

#[test]
fn the_form_is_the_documented_test_lead_field_by_field() {
    let (_, sf) = check(Scenario::default(), false, false, 30);
    let posted = sf.posted();
    assert_eq!(posted.len(), 1);
    let p = &posted[0];
    // As the marketplace posts it: urlencoded, `encoding=UTF-8` in the URL and in the form
    // (the documented sample lists it twice).
    assert_eq!(p.content_type, "application/x-www-form-urlencoded");
    assert_eq!(p.query, "encoding=UTF-8");
    let form: BTreeMap<&str, &str> = p
        .form
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(form.len(), p.form.len(), "a field sent twice: {:?}", p.form);
    let m = "MSFT_TEST_636573304831318844";
    let expected: BTreeMap<&str, String> = [
        ("oid", emu::OID.to_string()),
        ("first_name", m.into()),
        ("last_name", m.into()),
        ("email", format!("{m}@test.com")),
        ("company", m.into()),
        ("title", m.into()),
        ("phone", "1234567890".into()),
        ("country", "US".into()),
        ("description", m.into()),
        ("lead_source", format!("{m}-{m}|Contoso Test")),
        ("encoding", "UTF-8".into()),
    ]
    .into_iter()
    .collect();
    assert_eq!(form.len(), expected.len(), "{form:?}");
    for (k, v) in &expected {
        assert_eq!(form.get(k), Some(&v.as_str()), "field {k}");
    }
}

#[test]
fn with_api_the_lead_is_found_and_only_it_is_deleted() {
    let (run, _) = check(Scenario::default(), true, true, 30);
    for step in ["describe", "limit", "send", "verify", "cleanup"] {
        assert_eq!(
            status_of(&run, step),
            Some(Status::Pass),
            "{step}: {:#?}",
            run.checks
        );
    }
    let verify = run
        .checks
        .iter()
        .find(|c| c.id == "verify")
        .expect("verify");
    // Web-to-lead is asynchronous: the emulator misses the first query.
    assert!(verify.detail.contains("query 2"), "{}", verify.detail);
    let id = run.test_lead.id.clone().expect("an id");
    assert!(id.starts_with("00Q"), "{id}");
    assert_eq!(run.test_lead.verified, Some(true));
    assert_eq!(run.test_lead.cleaned_up, Some(true));
    assert!(run.findings.is_empty(), "{:?}", run.findings);
}

#[test]
fn lc501_required_picklist_is_predicted_before_sending() {
    let (run, sf) = check(scenario("LC501"), true, false, 30);
    assert_eq!(codes(&run), vec![("LC501", Severity::Error)]);
    assert!(run.findings[0].evidence.contains(emu::REQUIRED_PICKLIST));
    assert_eq!(status_of(&run, "describe"), Some(Status::Fail));
    assert!(sf.posted().is_empty(), "nothing may be sent");
    assert!(!run.test_lead.sent);
    assert_eq!(run.status(false), Status::Fail);
}

#[test]
fn lc502_is_processed_exception() {
    let (run, _) = check(scenario("LC502"), false, false, 30);
    assert_eq!(codes(&run), vec![("LC502", Severity::Error)]);
    assert!(run.findings[0]
        .evidence
        .contains("Exception:common.exception.SalesforceGenericException"));
    assert_eq!(status_of(&run, "send"), Some(Status::Fail));
    assert!(!run.test_lead.sent);
}

#[test]
fn lc502_also_for_a_wrong_oid() {
    runtime().block_on(async {
        let sf = Arc::new(emu::Salesforce::new(Scenario::default()));
        let addr = serve(sf.clone()).await;
        let mut d = dest(addr, false);
        if let Spec::Salesforce(s) = &mut d.spec {
            s.object_identifier = Some("00D000000000001".into());
        }
        let run = diagnose(&d, false, 30).await;
        assert_eq!(codes(&run), vec![("LC502", Severity::Error)]);
    });
}

#[test]
fn lc508_taken_but_never_found() {
    // A short deadline keeps the read-back loop short; it stops before the deadline.
    let (run, _) = check(scenario("LC508"), true, true, 5);
    assert_eq!(codes(&run), vec![("LC508", Severity::Error)]);
    assert_eq!(status_of(&run, "send"), Some(Status::Pass));
    assert_eq!(status_of(&run, "verify"), Some(Status::Fail));
    assert_eq!(status_of(&run, "cleanup"), None);
    assert_eq!(run.test_lead.verified, Some(false));
}

#[test]
fn lc319_token_refused() {
    let (run, sf) = check(scenario("LC319"), true, false, 30);
    assert_eq!(codes(&run), vec![("LC319", Severity::Error)]);
    assert!(
        run.findings[0].evidence.contains("INVALID_SESSION_ID"),
        "{}",
        run.findings[0].evidence
    );
    assert!(sf.posted().is_empty());
}

#[test]
fn lc514_daily_limit_is_a_warning_and_the_queued_lead_is_not_lc508() {
    let (run, _) = check(scenario("LC514"), true, false, 5);
    assert_eq!(codes(&run), vec![("LC514", Severity::Warning)]);
    assert_eq!(status_of(&run, "limit"), Some(Status::Warn));
    assert_eq!(status_of(&run, "verify"), Some(Status::Skip));
    assert_eq!(run.status(false), Status::Warn);
}

#[test]
fn a_lead_that_existed_before_is_not_deleted() {
    // Two runs with the same ticks: the second must find and delete only its own lead.
    runtime().block_on(async {
        let sf = Arc::new(emu::Salesforce::new(Scenario::default()));
        let addr = serve(sf.clone()).await;
        let first = diagnose(&dest(addr, true), false, 30).await;
        let second = diagnose(&dest(addr, true), true, 30).await;
        let (a, b) = (
            first.test_lead.id.expect("first id"),
            second.test_lead.id.expect("second id"),
        );
        assert_ne!(a, b);
        assert_eq!(second.test_lead.cleaned_up, Some(true));
        let again = diagnose(&dest(addr, true), false, 30).await;
        // The first lead is still there: the third run sees it as existing, finds its own.
        assert_ne!(again.test_lead.id.as_deref(), Some(a.as_str()));
    });
}

// ---- Through the sandbox framework, the config reader, lint and the renderers ----------

/// Starts the sandbox with `codes`, reads its config as a user would, and diagnoses the
/// named destinations through the runner (lint first), as `diagnose` does.
pub fn sandbox_run(
    codes: &[&str],
    names: &[&str],
    cleanup: bool,
    verbose: bool,
) -> (leadcheck::report::RunReport, Vec<String>) {
    let sb = leadcheck::sandbox::Sandbox::start(codes).expect("sandbox");
    let text = sb
        .render_toml(&leadcheck::sandbox::SecretStyle::Plain, Some(names))
        .expect("toml");
    let cfg = leadcheck::config::toml_file::parse(&text, "sandbox.toml", None)
        .unwrap_or_else(|e| panic!("{}: {text}", e.message));
    assert_eq!(cfg.destinations.len(), names.len(), "{text}");
    let logs = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = logs.clone();
    let opts = leadcheck::diagnose::Options {
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(8),
        cleanup,
        ticks: Some(T),
        proxy: ProxySettings::none(),
        lint: leadcheck::config::lint::lint_destination,
        log: verbose.then(|| {
            let f: leadcheck::net::LogFn = Arc::new(move |l: String| sink.lock().unwrap().push(l));
            f
        }),
        ..leadcheck::diagnose::Options::new()
    };
    let report = runtime()
        .block_on(leadcheck::diagnose::diagnose_all(
            &cfg,
            &opts,
            Default::default(),
            &|_| {},
        ))
        .expect("report");
    let logs = logs.lock().unwrap().clone();
    (report, logs)
}

/// Every output format of a report, one string each.
pub fn rendered(report: &leadcheck::report::RunReport) -> Vec<(&'static str, String)> {
    use leadcheck::lang::Lang;
    let mut out = Vec::new();
    let mut b = Vec::new();
    leadcheck::report::human::render(report, Lang::En, false, &mut b).unwrap();
    out.push(("human", String::from_utf8(b).unwrap()));
    let mut b = Vec::new();
    leadcheck::report::json::render(report, Lang::En, &mut b).unwrap();
    out.push(("json", String::from_utf8(b).unwrap()));
    let mut b = Vec::new();
    leadcheck::report::junit::render(report, Lang::En, &mut b).unwrap();
    out.push(("junit", String::from_utf8(b).unwrap()));
    let mut b = Vec::new();
    leadcheck::report::github::render(report, Lang::En, &mut b, None).unwrap();
    out.push(("github", String::from_utf8(b).unwrap()));
    out
}

#[test]
fn every_sandbox_scenario_reports_its_code() {
    let codes = emu::Faults::CODES;
    let names: Vec<String> = codes
        .iter()
        .map(|c| format!("salesforce-{}", c.to_ascii_lowercase()))
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (report, _) = sandbox_run(&codes, &names, false, false);
    for (code, name) in codes.iter().zip(&names) {
        let d = report
            .destinations
            .iter()
            .find(|d| d.name == *name)
            .expect("destination");
        let got: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        assert!(
            got.contains(code),
            "{name}: expected {code}, got {got:?}: {:#?}",
            d.checks
        );
        let want = if *code == "LC514" {
            Status::Warn
        } else {
            Status::Fail
        };
        assert_eq!(d.status, want, "{name}: {:#?}", d.checks);
    }
}

#[test]
fn sandbox_healthy_orgs_pass_and_no_output_holds_the_token() {
    let names = ["salesforce", "salesforce-web-to-lead-only"];
    let (report, logs) = sandbox_run(&[], &names, true, true);
    for d in &report.destinations {
        // Lint warns about the plain-text sandbox secret and loopback; nothing fails.
        assert_ne!(
            d.status,
            Status::Fail,
            "{}: {:#?} {:#?}",
            d.name,
            d.checks,
            d.findings
        );
        assert!(d.test_lead.sent, "{}", d.name);
    }
    let full = report
        .destinations
        .iter()
        .find(|d| d.name == "salesforce")
        .unwrap();
    assert_eq!(
        (full.test_lead.verified, full.test_lead.cleaned_up),
        (Some(true), Some(true))
    );
    let web = report
        .destinations
        .iter()
        .find(|d| d.name == "salesforce-web-to-lead-only")
        .unwrap();
    assert_eq!(
        (web.test_lead.verified, web.test_lead.cleaned_up),
        (None, None)
    );
    assert!(!logs.is_empty(), "-v logged nothing");
    let mut outputs = rendered(&report);
    outputs.push(("-v", logs.join("\n")));
    for (format, text) in outputs {
        assert!(
            !text.contains(emu::TOKEN),
            "{format} output holds api_access_token:\n{text}"
        );
        assert!(
            !text.contains("AQ4AQFakeSession"),
            "{format} output holds part of the token"
        );
    }
}

// ---- The command line: `leadcheck diagnose` against an in-process sandbox --------------

/// A sandbox with `codes` and its config written to a temporary directory (secrets in
/// files, as a careful user keeps them).
pub struct CliSandbox {
    pub sb: leadcheck::sandbox::SandboxHandle,
    /// Keeps the config and secret files alive.
    pub _dir: tempfile::TempDir,
    pub config: std::path::PathBuf,
}

pub fn cli_sandbox(codes: &[&str]) -> CliSandbox {
    let sb = leadcheck::sandbox::Sandbox::start(codes).expect("sandbox");
    let dir = tempfile::tempdir().expect("tempdir");
    let style = leadcheck::sandbox::SecretStyle::Files {
        dir: dir.path().join("secrets"),
        reference: "secrets".into(),
    };
    let text = sb.render_toml(&style, None).expect("toml");
    let config = dir.path().join("leadcheck.toml");
    std::fs::write(&config, text).expect("write config");
    CliSandbox {
        sb,
        _dir: dir,
        config,
    }
}

/// `leadcheck diagnose --config <sandbox> <args...>`: exit code, stdout, stderr.
pub fn cli_diagnose(s: &CliSandbox, args: &[&str]) -> (i32, String, String) {
    let out = crate::support::leadcheck()
        .arg("diagnose")
        .arg("--config")
        .arg(&s.config)
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .expect("run leadcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `diagnose --format json <family>-<code>` and asserts the code and exit 1 (0 for a
/// warning); returns the destination's JSON.
pub fn cli_expect(family: &str, code: &str, extra: &[&str]) -> serde_json::Value {
    let s = cli_sandbox(&[code]);
    let name = format!("{family}-{}", code.to_ascii_lowercase());
    let mut args = vec!["--format", "json", "--deadline", "6"];
    args.extend_from_slice(extra);
    args.push(&name);
    let (exit, stdout, stderr) = cli_diagnose(&s, &args);
    let doc: serde_json::Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let d = doc["destinations"][0].clone();
    assert_eq!(d["name"], name.as_str(), "{doc}");
    let codes: Vec<&str> = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(
        codes.contains(&code),
        "{name}: expected {code} in {codes:?}\n{doc}"
    );
    let warning = d["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["severity"] != "error");
    assert_eq!(exit, if warning { 0 } else { 1 }, "{stdout}\n{stderr}");
    d
}

fn step<'a>(d: &'a serde_json::Value, id: &str) -> &'a str {
    d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("absent")
}

#[test]
fn cli_lc501() {
    let d = cli_expect("salesforce", "LC501", &[]);
    assert_eq!(step(&d, "describe"), "fail");
    assert_eq!(d["test_lead"]["sent"], false);
}

#[test]
fn cli_lc502() {
    let d = cli_expect("salesforce", "LC502", &[]);
    assert_eq!(step(&d, "send"), "fail");
}

#[test]
fn cli_lc508() {
    let d = cli_expect("salesforce", "LC508", &["--cleanup"]);
    assert_eq!(step(&d, "verify"), "fail");
    assert_eq!(d["test_lead"]["verified"], false);
    assert_eq!(d["test_lead"]["cleaned_up"], serde_json::Value::Null);
}

#[test]
fn cli_lc319() {
    let d = cli_expect("salesforce", "LC319", &[]);
    assert_eq!(d["test_lead"]["sent"], false);
}

#[test]
fn cli_lc514_is_a_warning() {
    let d = cli_expect("salesforce", "LC514", &[]);
    assert_eq!(d["status"], "warn");
    assert_eq!(step(&d, "limit"), "warn");
}

#[test]
fn cli_healthy_orgs_verify_clean_up_only_their_lead_and_keep_the_token_secret() {
    let s = cli_sandbox(&[]);
    let (exit, stdout, stderr) = cli_diagnose(
        &s,
        &[
            "--format",
            "json",
            "--cleanup",
            "salesforce",
            "salesforce-web-to-lead-only",
        ],
    );
    assert_eq!(exit, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");
    let full = &doc["destinations"][0];
    assert_eq!(full["test_lead"]["verified"], true, "{doc}");
    assert_eq!(full["test_lead"]["cleaned_up"], true);
    let id = full["test_lead"]["id"].as_str().expect("an id");
    let web = &doc["destinations"][1];
    assert_eq!(step(web, "send"), "pass");
    assert_eq!(step(web, "verify"), "skip");
    assert_eq!(web["test_lead"]["verified"], serde_json::Value::Null);
    // Exactly one DELETE, of that lead.
    let deletes: Vec<_> =
        s.sb.journal()
            .into_iter()
            .filter(|j| j.method == "DELETE")
            .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert!(deletes[0].path.ends_with(id), "{deletes:?}");

    for format in ["human", "json", "junit", "github"] {
        for verbose in [false, true] {
            let mut args = vec!["--format", format, "salesforce"];
            if verbose {
                args.push("-v");
            }
            let (_, stdout, stderr) = cli_diagnose(&s, &args);
            for text in [&stdout, &stderr] {
                assert!(
                    !text.contains(emu::TOKEN),
                    "{format} -v={verbose} shows api_access_token:\n{text}"
                );
                assert!(
                    !text.contains("FakeSessionToken"),
                    "{format} -v={verbose} shows part of the token"
                );
            }
            if verbose {
                assert!(
                    stderr.contains("/services/data/"),
                    "-v logs the API calls: {stderr}"
                );
            }
        }
    }
}

#[test]
fn cli_dry_run_posts_nothing() {
    let s = cli_sandbox(&[]);
    let (exit, stdout, stderr) = cli_diagnose(
        &s,
        &[
            "--format",
            "json",
            "--dry-run",
            "salesforce",
            "salesforce-web-to-lead-only",
        ],
    );
    assert_eq!(exit, 0, "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(stdout.trim()).expect("json");
    for d in doc["destinations"].as_array().unwrap() {
        assert_eq!(step(d, "send"), "skip", "{d}");
        assert_eq!(d["test_lead"]["sent"], false);
    }
    assert!(
        s.sb.journal().iter().all(|j| j.method != "POST"),
        "{:?}",
        s.sb.journal()
    );
}
