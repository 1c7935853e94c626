//! The HTTPS endpoint destination against loopback fakes answering as Power Automate / Logic
//! Apps do (bodies from protocols.md §6: Azure/logicapps #169, LogicAppsUX #2937).

use crate::fakes::*;
use crate::support::leadcheck;
use leadcheck::report::Status;
use std::time::Duration;

const AUTH_FAILED: &str = r#"{"error":{"code":"AuthorizationFailed","message":"The authentication credentials are not valid."}}"#;
const MISSING_SIG: &str = r#"{"error":{"code":"AuthorizationFailed","message":"Required parameters for shared access URL are permissions ('sp'), version ('sv'), and signature ('sig')."}}"#;
const SCHEMA: &str = r#"{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}"#;

fn flow_path() -> &'static str {
    "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=CANARYSIG123"
}

#[test]
fn accepted_202_passes_and_sends_the_lead_json() {
    let fake = Fake::always(Reply::new(202));
    let r = one(https_dest("flow", &fake.url(flow_path())), &options(&[]));
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(
        steps(&r),
        [
            "lint:pass",
            "url:pass",
            "dns:pass",
            "connect:pass",
            "send:pass",
            "verify:skip"
        ]
    );
    assert!(r.test_lead.sent);
    assert_eq!(r.test_lead.verified, None);
    let req = fake.last().unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.header("content-type"), Some("application/json"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body["UserDetails"]["FirstName"],
        "MSFT_TEST_638000000000000000"
    );
    assert_eq!(
        body["UserDetails"]["Email"],
        "MSFT_TEST_638000000000000000@test.com"
    );
    assert_eq!(body["LeadSource"], "AzureMarketplace");
    assert_eq!(body["ActionCode"], "INS");
    // The signature went on the wire (it must) but never into the report.
    assert!(req.target.contains("sig=CANARYSIG123"));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("CANARYSIG123"), "{json}");
    assert!(json.contains("sig=<redacted>"), "{json}");
}

fn failing(reply: Reply) -> (Vec<String>, String) {
    let fake = Fake::always(reply);
    let r = one(https_dest("flow", &fake.url(flow_path())), &options(&[]));
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    let send = r
        .checks
        .iter()
        .find(|c| c.id == "send")
        .expect("a send step");
    assert_eq!(send.status, Status::Fail);
    assert!(
        !r.checks.iter().any(|c| c.id == "verify"),
        "the chain stops at the failed send"
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("CANARYSIG123"), "{json}");
    (codes(&r), r.findings[0].evidence.clone())
}

#[test]
fn authorization_failed_is_lc317() {
    let (codes, ev) = failing(Reply::json(401, AUTH_FAILED));
    assert_eq!(codes, ["LC317"]);
    assert!(ev.contains("AuthorizationFailed"), "{ev}");
    let (codes, _) = failing(Reply::json(403, MISSING_SIG));
    assert_eq!(codes, ["LC317"]);
}

#[test]
fn schema_mismatch_is_lc505() {
    let (codes, ev) = failing(Reply::json(400, SCHEMA));
    assert_eq!(codes, ["LC505"]);
    assert!(ev.contains("TriggerInputSchemaMismatch"), "{ev}");
    let (codes, _) = failing(Reply::json(
        400,
        r#"{"error":{"code":"InvalidRequestContent","message":"x"}}"#,
    ));
    assert_eq!(codes, ["LC505"]);
}

#[test]
fn not_found_other_4xx_and_5xx() {
    assert_eq!(
        failing(Reply::json(
            404,
            r#"{"error":{"code":"WorkflowNotFound","message":"gone"}}"#
        ))
        .0,
        ["LC516"]
    );
    assert_eq!(failing(Reply::new(400).body("bad")).0, ["LC503"]);
    assert_eq!(failing(Reply::new(422)).0, ["LC503"]);
    assert_eq!(failing(Reply::new(401)).0, ["LC503"]);
    let (codes, ev) = failing(Reply::new(500).body("<html>oops</html>"));
    assert_eq!(codes, ["LC504"]);
    assert!(ev.contains("500"), "{ev}");
    assert_eq!(failing(Reply::new(503)).0, ["LC504"]);
}

#[test]
fn redirect_is_lc211_and_nothing_is_sent_there() {
    let elsewhere = Fake::always(Reply::new(202));
    let target = elsewhere.url("/other?sig=OTHERSECRET&x=1");
    let (codes, ev) = failing(Reply::new(302).header("location", &target));
    assert_eq!(codes, ["LC211"]);
    assert!(
        ev.contains(&format!(
            "http://{}/other?sig=<redacted>&x=1",
            elsewhere.addr
        )),
        "{ev}"
    );
    assert!(!ev.contains("OTHERSECRET"), "{ev}");
    assert_eq!(elsewhere.count(), 0, "a redirect must not be followed");
}

#[test]
fn dry_run_sends_nothing() {
    let fake = Fake::always(Reply::new(202));
    let mut o = options(&[]);
    o.dry_run = true;
    let r = one(https_dest("flow", &fake.url("/hook")), &o);
    assert_eq!(r.status, Status::Pass);
    let send = r.checks.iter().find(|c| c.id == "send").unwrap();
    assert_eq!(send.status, Status::Skip);
    assert!(send.detail.contains("dry run"));
    assert!(!r.test_lead.sent);
    assert_eq!(fake.count(), 0);
}

#[test]
fn cleanup_is_a_skip_with_reason() {
    let fake = Fake::always(Reply::new(200));
    let mut o = options(&[]);
    o.cleanup = true;
    let r = one(https_dest("flow", &fake.url("/hook")), &o);
    assert_eq!(r.status, Status::Pass);
    let c = r.checks.iter().find(|c| c.id == "cleanup").unwrap();
    assert_eq!(c.status, Status::Skip);
    assert_eq!(r.test_lead.cleaned_up, None);
}

#[test]
fn throttled_then_accepted() {
    let n = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let n2 = n.clone();
    let fake = Fake::http(move |_| {
        if n2.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            Reply::new(429).header("retry-after", "1")
        } else {
            Reply::new(202)
        }
    });
    let r = one(https_dest("flow", &fake.url("/hook")), &options(&[]));
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(fake.count(), 2);
}

#[test]
fn throttled_beyond_the_deadline_is_lc509() {
    let fake = Fake::always(Reply::new(429).header("retry-after", "3600"));
    let (codes, ev) = failing_with(&fake);
    assert_eq!(codes, ["LC509"]);
    assert!(ev.contains("Retry-After: 3600"), "{ev}");
    assert_eq!(fake.count(), 1);
}

fn failing_with(fake: &Fake) -> (Vec<String>, String) {
    let r = one(https_dest("flow", &fake.url("/hook")), &options(&[]));
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    (codes(&r), r.findings[0].evidence.clone())
}

#[test]
fn destinations_run_concurrently_and_independently() {
    let ok = Fake::always(Reply::new(202));
    let bad = Fake::always(Reply::json(401, AUTH_FAILED));
    let report = diagnose(
        vec![
            https_dest("good", &ok.url("/a")),
            https_dest("bad", &bad.url("/b")),
        ],
        &options(&[]),
    );
    assert_eq!(report.status, Status::Fail);
    assert_eq!(report.destinations[0].name, "good");
    assert_eq!(report.destinations[0].status, Status::Pass);
    assert_eq!(report.destinations[1].status, Status::Fail);
}

// ---- The binary: config file, exit codes, formats, -v, Ctrl-C ----

/// Writes a leadcheck.toml with one https destination per (name, url); the URL is given
/// through an environment variable, as a secret should be.
fn config_file(dir: &tempfile::TempDir, dests: &[(&str, &str)]) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, var) in dests {
        text.push_str(&format!("[destination.{name}]\ntype = \"https\"\nhttps_endpoint_url = {{ env = \"{var}\" }}\n\n"));
    }
    let path = dir.path().join("leadcheck.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn json_out(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn cli_exit_0_on_pass_and_1_on_failure() {
    let ok = Fake::always(Reply::new(202));
    let bad = Fake::always(Reply::json(401, AUTH_FAILED));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("good", "GOOD_URL"), ("bad", "BAD_URL")]);
    let good_url = ok.url(flow_path());
    let bad_url = bad.url(flow_path());
    let out = leadcheck()
        .args([
            "diagnose",
            "--json",
            "--ticks",
            "638000000000000000",
            "--config",
        ])
        .arg(&cfg)
        .arg("good")
        .env("GOOD_URL", &good_url)
        .env("BAD_URL", &bad_url)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_out(&out);
    assert_eq!(v["status"], "pass");
    assert_eq!(v["destinations"].as_array().unwrap().len(), 1);

    let out = leadcheck()
        .args(["diagnose", "--format", "json", "--config"])
        .arg(&cfg)
        .env("GOOD_URL", &good_url)
        .env("BAD_URL", &bad_url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    assert_eq!(v["status"], "fail");
    let bad = v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "bad")
        .unwrap();
    assert_eq!(bad["findings"][0]["code"], "LC317");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains("CANARYSIG123"), "{all}");
}

#[test]
fn cli_verbose_logs_requests_without_secrets() {
    let ok = Fake::always(Reply::new(202));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("flow", "FLOW_URL")]);
    for format in ["human", "json", "junit", "github"] {
        let out = leadcheck()
            .args(["-v", "diagnose", "--format", format, "--config"])
            .arg(&cfg)
            .env("FLOW_URL", ok.url(flow_path()))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stderr.contains("> POST http://127.0.0.1:"), "{stderr}");
        assert!(stderr.contains("sig=<redacted>"), "{stderr}");
        assert!(
            !stderr.contains("CANARYSIG123") && !stdout.contains("CANARYSIG123"),
            "{format}: {stdout}{stderr}"
        );
    }
}

#[test]
fn cli_unreadable_ca_cert_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("flow", "FLOW_URL")]);
    let not_pem = dir.path().join("ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for ca in [dir.path().join("missing.pem"), not_pem] {
        let out = leadcheck()
            .args(["diagnose", "--config"])
            .arg(&cfg)
            .arg("--ca-cert")
            .arg(&ca)
            .env("FLOW_URL", "https://example.invalid/x")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("ca.pem")
                || String::from_utf8_lossy(&out.stderr).contains("missing.pem")
        );
    }
}

#[test]
fn cli_bad_timeout_and_missing_config_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = leadcheck()
        .args(["diagnose", "--timeout", "0"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = leadcheck()
        .args(["diagnose"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

#[test]
fn cli_timeout_ends_the_run_within_bounds() {
    let slow = Fake::always(Reply::new(202).delay(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("slow", "SLOW_URL")]);
    let started = std::time::Instant::now();
    let out = leadcheck()
        .args(["diagnose", "--json", "--timeout", "2", "--config"])
        .arg(&cfg)
        .env("SLOW_URL", slow.url("/hook"))
        .output()
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "a 2 s timeout ends the run within 15 s"
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        json_out(&out)["destinations"][0]["findings"][0]["code"],
        "LC209"
    );
}

#[test]
fn cli_ctrl_c_exits_130_without_a_report() {
    let slow = Fake::always(Reply::new(202).delay(Duration::from_secs(60)));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("slow", "SLOW_URL")]);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("leadcheck"));
    for k in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "LEADCHECK_CONFIG",
    ] {
        cmd.env_remove(k);
    }
    let child = cmd
        .args(["diagnose", "--json", "--config"])
        .arg(&cfg)
        .env("SLOW_URL", slow.url("/hook"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the request is in flight, then interrupt this child (by its own pid).
    let started = std::time::Instant::now();
    while slow.count() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the request never arrived"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_eq!(out.status.code(), Some(130));
    assert!(
        out.stdout.is_empty(),
        "no half report: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn cli_plain_http_to_a_public_host_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_file(&dir, &[("plain", "PLAIN_URL")]);
    let out = leadcheck()
        .args(["diagnose", "--json", "--config"])
        .arg(&cfg)
        .env(
            "PLAIN_URL",
            "http://leads.example.com/hook?sig=CANARYSIG123",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json_out(&out);
    let codes: Vec<&str> = v["destinations"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"LC104"), "{codes:?}");
    let checks: Vec<&str> = v["destinations"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        !checks.contains(&"dns") && !checks.contains(&"connect"),
        "no network: {checks:?}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("CANARYSIG123"));
}

#[test]
fn error_bodies_echoing_secrets_are_redacted() {
    let (codes, ev) =
        failing(Reply::new(500).body(
            "<p>failed for https://x.example/y?sp=1&sig=LEAKME1 foo=bar</p> sig=LEAKME2 id=7",
        ));
    assert_eq!(codes, ["LC504"]);
    assert!(!ev.contains("LEAKME"), "{ev}");
    let (_, ev) = failing(Reply::json(
        400,
        r#"{"error":{"code":"BadRequest","message":"client_secret=LEAKME3 is wrong"}}"#,
    ));
    assert!(!ev.contains("LEAKME"), "{ev}");
}
