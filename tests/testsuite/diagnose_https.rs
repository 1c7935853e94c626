//! The HTTPS endpoint destination against loopback fakes answering as Power Automate / Logic
//! Apps do (bodies from protocols.md §6: Azure/logicapps #169, LogicAppsUX #2937).

use crate::fakes::*;
use leadcheck::report::Status;

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
