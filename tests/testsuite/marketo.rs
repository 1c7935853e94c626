//! Marketo destination against the Marketo emulator: every code it reports, the healthy
//! path with cleanup, the fields as submitted, and the client secret kept out of URLs.

use crate::salesforce::{diagnose, rendered, runtime, sandbox_run, serve};
use leadcheck::config::model::{self as model, Common, Destination, SecretField, Spec};
use leadcheck::destination::Run;
use leadcheck::report::{Severity, Status};
use leadcheck::sandbox::marketo::{self as emu, Faults as Scenario};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

fn dest(addr: SocketAddr) -> Destination {
    Destination {
        name: "mk".into(),
        spec: Spec::Marketo(model::Marketo {
            munchkin_id: Some(emu::MUNCHKIN_ID.into()),
            form_id: Some(emu::FORM_ID.to_string()),
            client_id: Some(emu::CLIENT_ID.into()),
            client_secret: Some(SecretField::plain(emu::CLIENT_SECRET)),
            server_id: None,
            endpoint: Some(format!("http://{addr}")),
        }),
        common: Common::default(),
        locations: BTreeMap::new(),
        location: None,
    }
}

fn check(scenario: Scenario, cleanup: bool, deadline: u64) -> (Run, Arc<emu::Marketo>) {
    runtime().block_on(async {
        let mk = Arc::new(emu::Marketo::new(scenario));
        let addr = serve(mk.clone()).await;
        (diagnose(&dest(addr), cleanup, deadline).await, mk)
    })
}

fn status_of(run: &Run, id: &str) -> Option<Status> {
    run.checks.iter().find(|c| c.id == id).map(|c| c.status)
}

fn only(run: &Run, code: &str, step: &str) {
    let codes: Vec<(&str, Severity)> = run
        .findings
        .iter()
        .map(|f| (f.code.as_str(), f.severity))
        .collect();
    assert_eq!(codes, vec![(code, Severity::Error)], "{:#?}", run.checks);
    assert_eq!(
        status_of(run, step),
        Some(Status::Fail),
        "{step}: {:#?}",
        run.checks
    );
    assert_eq!(run.status(false), Status::Fail);
}

fn scenario(code: &str) -> Scenario {
    Scenario::from_code(code).expect("a scenario")
}

#[test]
fn healthy_lead_is_verified_and_cleaned_up() {
    let (run, mk) = check(Scenario::default(), true, 30);
    for step in ["config", "token", "form", "send", "verify", "cleanup"] {
        assert_eq!(
            status_of(&run, step),
            Some(Status::Pass),
            "{step}: {:#?}",
            run.checks
        );
    }
    assert!(run.findings.is_empty());
    assert_eq!(run.test_lead.verified, Some(true));
    assert_eq!(run.test_lead.cleaned_up, Some(true));
    assert!(run.test_lead.sent);
    // The token call carried its parameters in the body, not the URL.
    for q in mk.token_queries() {
        assert!(!q.contains(emu::CLIENT_SECRET), "secret in a URL: {q}");
    }
}

#[test]
fn without_cleanup_the_lead_stays() {
    let (run, _) = check(Scenario::default(), false, 30);
    assert_eq!(status_of(&run, "cleanup"), None);
    assert_eq!(run.test_lead.cleaned_up, None);
    assert_eq!(run.test_lead.verified, Some(true));
}

#[test]
fn the_fields_submitted_are_the_test_lead() {
    let (_, mk) = check(Scenario::default(), false, 30);
    let m = "MSFT_TEST_636573304831318844";
    let expected = json!({
        "firstName": m,
        "lastName": m,
        "email": format!("{m}@test.com"),
        "company": m,
        "phone": "1234567890",
        "country": "US",
        "title": m,
        "leadSource": format!("{m}-{m}|Contoso Test"),
    });
    let got = mk.submitted();
    assert_eq!(got.len(), 1);
    assert_eq!(Value::Object(got[0].clone()), expected);
}

#[test]
fn lc318_bad_client_credentials() {
    let (run, _) = check(scenario("LC318"), false, 30);
    only(&run, "LC318", "token");
    assert!(
        run.findings[0].evidence.contains("invalid_client"),
        "{}",
        run.findings[0].evidence
    );
    assert!(!run.findings[0].evidence.contains(emu::CLIENT_SECRET));
}

#[test]
fn lc318_expired_token_on_a_call() {
    let (run, _) = check(
        Scenario {
            expire_tokens: true,
            ..Scenario::default()
        },
        false,
        30,
    );
    only(&run, "LC318", "form");
    assert!(run.findings[0].evidence.contains("602"));
}

#[test]
fn lc408_access_denied_on_the_form() {
    let (run, _) = check(scenario("LC408"), false, 30);
    only(&run, "LC408", "form");
}

#[test]
fn lc509_rate_limit_on_submit() {
    let (run, _) = check(scenario("LC509"), false, 30);
    only(&run, "LC509", "send");
    assert!(run.findings[0].evidence.contains("606"));
}

#[test]
fn lc510_daily_quota_on_submit() {
    let (run, _) = check(scenario("LC510"), false, 30);
    only(&run, "LC510", "send");
}

#[test]
fn lc511_form_not_found() {
    let (run, mk) = check(scenario("LC511"), false, 30);
    only(&run, "LC511", "form");
    assert!(mk.submitted().is_empty());
}

#[test]
fn lc512_no_lead_source_field() {
    let (run, mk) = check(scenario("LC512"), false, 30);
    only(&run, "LC512", "form");
    assert!(run.findings[0].evidence.contains("FirstName"));
    assert!(mk.submitted().is_empty());
}

#[test]
fn lc513_field_rejected() {
    let (run, _) = check(scenario("LC513"), false, 30);
    only(&run, "LC513", "send");
    assert!(
        run.findings[0]
            .evidence
            .contains("1006 Field 'leadSource' not found"),
        "{}",
        run.findings[0].evidence
    );
    assert!(!run.test_lead.sent);
}

#[test]
fn lc508_created_but_not_found() {
    let (run, _) = check(scenario("LC508"), true, 5);
    only(&run, "LC508", "verify");
    assert_eq!(run.test_lead.verified, Some(false));
    assert_eq!(status_of(&run, "cleanup"), None);
}

#[test]
fn no_read_permission_is_a_skip() {
    let (run, _) = check(
        Scenario {
            deny_read: true,
            ..Scenario::default()
        },
        true,
        30,
    );
    assert_eq!(status_of(&run, "send"), Some(Status::Pass));
    assert_eq!(status_of(&run, "verify"), Some(Status::Skip));
    assert!(run.findings.is_empty());
    assert_eq!(run.status(false), Status::Pass);
}

#[test]
fn every_sandbox_scenario_reports_its_code() {
    let codes = emu::Faults::CODES;
    let names: Vec<String> = codes
        .iter()
        .map(|c| format!("marketo-{}", c.to_ascii_lowercase()))
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
        assert_eq!(d.status, Status::Fail, "{name}");
    }
}

#[test]
fn sandbox_healthy_instance_passes_and_no_output_holds_the_secret() {
    let (report, logs) = sandbox_run(&["LC318"], &["marketo", "marketo-lc318"], true, true);
    let d = report
        .destinations
        .iter()
        .find(|d| d.name == "marketo")
        .unwrap();
    assert_ne!(d.status, Status::Fail, "{:#?} {:#?}", d.checks, d.findings);
    assert_eq!(
        (d.test_lead.verified, d.test_lead.cleaned_up),
        (Some(true), Some(true))
    );
    assert!(
        logs.iter().any(|l| l.contains("/identity/oauth/token")),
        "{logs:?}"
    );
    let mut outputs = rendered(&report);
    outputs.push(("-v", logs.join("\n")));
    // The access token the emulator issues: `<uuid>:ab`.
    let token = regex::Regex::new(r"[0-9a-f-]{36}:ab").unwrap();
    for (format, text) in outputs {
        assert!(
            !text.contains(emu::CLIENT_SECRET),
            "{format} output holds client_secret:\n{text}"
        );
        // Nor the access token the emulator issued.
        assert!(!token.is_match(&text), "{format} holds a token:\n{text}");
    }
}

// ---- The command line --------------------------------------------------------------------

use crate::salesforce::{cli_diagnose, cli_expect, cli_sandbox};

fn cli_step<'a>(d: &'a Value, id: &str) -> &'a str {
    d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .and_then(|c| c["status"].as_str())
        .unwrap_or("absent")
}

#[test]
fn cli_lc318() {
    let d = cli_expect("marketo", "LC318", &[]);
    assert_eq!(cli_step(&d, "token"), "fail");
}

#[test]
fn cli_lc408() {
    let d = cli_expect("marketo", "LC408", &[]);
    assert_eq!(cli_step(&d, "form"), "fail");
}

#[test]
fn cli_lc508() {
    let d = cli_expect("marketo", "LC508", &["--cleanup"]);
    assert_eq!(cli_step(&d, "verify"), "fail");
}

#[test]
fn cli_lc509() {
    let d = cli_expect("marketo", "LC509", &[]);
    assert_eq!(cli_step(&d, "send"), "fail");
}

#[test]
fn cli_lc510() {
    let d = cli_expect("marketo", "LC510", &[]);
    assert_eq!(cli_step(&d, "send"), "fail");
}

#[test]
fn cli_lc511() {
    let d = cli_expect("marketo", "LC511", &[]);
    assert_eq!(cli_step(&d, "form"), "fail");
}

#[test]
fn cli_lc512() {
    let d = cli_expect("marketo", "LC512", &[]);
    assert_eq!(cli_step(&d, "form"), "fail");
}

#[test]
fn cli_lc513() {
    let d = cli_expect("marketo", "LC513", &[]);
    assert_eq!(cli_step(&d, "send"), "fail");
    assert_eq!(d["test_lead"]["sent"], false);
}

#[test]
fn cli_healthy_instance_cleans_up_only_its_lead_and_keeps_the_secret() {
    let s = cli_sandbox(&["LC318"]);
    let (exit, stdout, stderr) = cli_diagnose(&s, &["--format", "json", "--cleanup", "marketo"]);
    assert_eq!(exit, 0, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(stdout.trim()).expect("json");
    let d = &doc["destinations"][0];
    assert_eq!(
        (
            d["test_lead"]["verified"].clone(),
            d["test_lead"]["cleaned_up"].clone()
        ),
        (json!(true), json!(true)),
        "{doc}"
    );
    let deletes: Vec<_> =
        s.sb.journal()
            .into_iter()
            .filter(|j| j.path.contains("delete"))
            .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");

    let token = regex::Regex::new(r"[0-9a-f-]{36}:ab").unwrap();
    for name in ["marketo", "marketo-lc318"] {
        for format in ["human", "json", "junit", "github"] {
            for verbose in [false, true] {
                let mut args = vec!["--format", format, name];
                if verbose {
                    args.push("-v");
                }
                let (_, stdout, stderr) = cli_diagnose(&s, &args);
                for text in [&stdout, &stderr] {
                    assert!(
                        !text.contains(emu::CLIENT_SECRET),
                        "{name} {format} -v={verbose} shows client_secret:\n{text}"
                    );
                    assert!(
                        !token.is_match(text),
                        "{name} {format} -v={verbose} shows an access token:\n{text}"
                    );
                }
                if verbose {
                    assert!(
                        stderr.contains("/identity/oauth/token"),
                        "-v logs the token call: {stderr}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_lead_the_submission_only_updated_is_not_deleted() {
    // Same ticks twice: the second submission updates the first run's lead, which
    // leadcheck did not create in that run, so cleanup leaves it alone.
    runtime().block_on(async {
        let mk = Arc::new(emu::Marketo::new(Scenario::default()));
        let addr = serve(mk.clone()).await;
        let first = diagnose(&dest(addr), false, 30).await;
        let second = diagnose(&dest(addr), true, 30).await;
        assert_eq!(first.test_lead.id, second.test_lead.id);
        let send = second.checks.iter().find(|c| c.id == "send").unwrap();
        assert!(send.detail.contains("updated"), "{}", send.detail);
        assert_eq!(status_of(&second, "cleanup"), Some(Status::Skip));
        assert_eq!(second.test_lead.cleaned_up, None);
        // Still there.
        let third = diagnose(&dest(addr), false, 30).await;
        assert_eq!(third.test_lead.verified, Some(true));
    });
}
