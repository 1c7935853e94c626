//! Property tests: the normalizer (never panics, idempotent, no control characters out) and
//! redaction (random secrets put in configs, URLs, connection strings and server error
//! bodies never survive any renderer: human, json, junit, github and its step summary).

use crate::fakes::{https_dest, options, Fake, Reply};
use leadcheck::catalog::normalize::{fold, normalize};
use leadcheck::cli::ReportFormat;
use leadcheck::config::{self, lint};
use leadcheck::lang::Lang;
use leadcheck::report::{self, RunReport};
use proptest::prelude::*;

// ---------------------------------------------------------------------------------------
// The normalizer.

/// Text shaped like tickets: ASCII, the seeds' scripts, full-width and curly punctuation,
/// zero-width and control characters, ANSI escapes and tags.
fn ticket_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[ -~]{0,20}",
        "[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}]{1,3}",
        "[ąćęłńóśźżÀ-ÿ]{1,5}",
        "[\\u{ff01}-\\u{ff5e}]{1,5}",
        "[\\u{2018}-\\u{201f}\\u{2010}-\\u{2015}\\u{200b}-\\u{200f}\\u{feff}]{1,3}",
        "[가-힣一-龥]{1,6}",
        Just("\u{1b}[31mred\u{1b}[0m".to_string()),
        Just("<b>SecLib::</b> RetrievePrivilegeForUser".to_string()),
        Just("> LastCRMError： ".to_string()),
        Just("00:02:00 72f988bf-86f1-41af-91ab-2d7cd011db47 ".to_string()),
        Just("\r\n".to_string()),
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn normalize_is_idempotent_and_clean(text in ticket_text()) {
        for f in [normalize as fn(&str) -> String, fold] {
            let once = f(&text);
            let twice = f(&once);
            prop_assert_eq!(&once, &twice, "not idempotent on {:?}", text);
            prop_assert!(
                !once.chars().any(|c| c.is_control()),
                "control character in {:?} (from {:?})", once, text
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Redaction through every renderer.

/// Every rendering of `report`: human (with and without color), json, junit, github and the
/// step summary github writes.
fn render_all(report: &RunReport) -> String {
    let mut all = String::new();
    for format in [ReportFormat::Human, ReportFormat::Json, ReportFormat::Junit] {
        for color in [false, true] {
            let mut out = Vec::new();
            report::render(report, format, Lang::En, color, &mut out).unwrap();
            all.push_str(&String::from_utf8_lossy(&out));
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let mut out = Vec::new();
    report::github::render(report, Lang::En, &mut out, Some(&summary)).unwrap();
    all.push_str(&String::from_utf8_lossy(&out));
    all.push_str(&std::fs::read_to_string(&summary).unwrap_or_default());
    all
}

/// A secret that cannot occur in a report by chance.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/_~.-]{14,30}".prop_map(|s| format!("Zx9{s}"))
}

/// A TOML basic string of `s`.
fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Configs with the secret in every secret field, shaped to draw findings that quote those
/// fields: URLs over plain http to public hosts, incomplete connection strings, secrets in
/// plain text.
fn configs(s: &str, variant: usize) -> String {
    let key = base64_of(s);
    let cs = [
        format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"),
        format!("AccountKey={key};EndpointSuffix=core.windows.net"),
        format!("DefaultEndpointsProtocol=ftp;AccountName=acct;AccountKey={s};TableEndpoint=http://example.com/acct"),
        format!("AccountName=acct;SharedAccessSignature=sv=2020&sig={s}"),
    ][variant % 4]
        .clone();
    let url = [
        format!("http://prod-01.westus.logic.azure.com/workflows/x/triggers/manual/paths/invoke?api-version=2016-06-01&sv=1.0&sig={s}"),
        format!("https://prod-01.westus.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig={s}&code={s}"),
        format!("https://user:{s}@example.com/hook?x=1"),
        format!("not a url ?sig={s}"),
    ][variant % 4]
        .clone();
    format!(
        r#"
[destination.d]
type = "dynamics"
instance_url = "https://contoso.crm.dynamics.com"
authentication = "azure-ad"
directory_id = "not-a-guid"
application_id = "0b6c2a3e-1f1e-4c9a-9d7e-3c2b1a0f9e8d"
application_key = {s_}

[destination.u]
type = "dynamics"
instance_url = "http://contoso.crm.dynamics.com"
authentication = "office-365"
username = "someone"
password = {s_}

[destination.sf]
type = "salesforce"
object_identifier = "bad"
api_instance_url = "http://example.com"
api_access_token = {s_}

[destination.mk]
type = "marketo"
munchkin_id = "x"
form_id = "form"
client_id = "c"
client_secret = {s_}

[destination.t]
type = "azure-table"
storage_account_connection_string = {cs_}
table = "1-bad"

[destination.h]
type = "https"
https_endpoint_url = {url_}

[destination.b]
type = "azure-blob"
storage_account_connection_string = {cs_}
"#,
        s_ = toml_str(s),
        cs_ = toml_str(&cs),
        url_ = toml_str(&url),
    )
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_survives_lint_in_any_format(s in secret(), variant in 0usize..4) {
        let text = configs(&s, variant);
        let cfg = config::toml_file::parse(&text, "leadcheck.toml", None)
            .unwrap_or_else(|e| panic!("{}: {text}", e.message));
        let report = lint::lint_config(&cfg, false);
        prop_assert!(!report.destinations.iter().all(|d| d.findings.is_empty()));
        let all = render_all(&report);
        let key = base64_of(&s);
        for needle in [s.as_str(), key.as_str()] {
            let lines: Vec<&str> = all.lines().filter(|l| l.contains(needle)).collect();
            prop_assert!(lines.is_empty(), "{} survives:\n{}", needle, lines.join("\n"));
        }
        prop_assert!(!all.contains("::add-mask::"));
    }
}

/// How a careless server may echo a secret in its error body.
fn echo(s: &str, shape: usize) -> Reply {
    let msgs = [
        format!("The signature sig={s} is not valid"),
        format!("client_secret={s}&grant_type=client_credentials was refused"),
        format!("Authorization: Bearer {s}"),
        format!("invalid token '{s}'"),
        s.to_string(),
        format!("https://prod.logic.azure.com/x?sv=1.0&sig={s} refused"),
    ];
    let m = &msgs[shape % msgs.len()];
    match shape % 3 {
        0 => Reply::json(
            401,
            &serde_json::json!({"error":{"code":"AuthorizationFailed","message":m}}).to_string(),
        ),
        1 => Reply::new(400)
            .header("content-type", "text/plain")
            .body(m.clone()),
        _ => Reply::json(
            500,
            &serde_json::json!({"error":{"code":m,"message":m}}).to_string(),
        ),
    }
}

proptest! {
    // Each case runs a loopback server and a diagnosis: few cases.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn no_secret_survives_an_echoing_server_in_any_format(s in secret(), shape in 0usize..6) {
        let fake = Fake::always(echo(&s, shape));
        let dest = https_dest("h", &fake.url(&format!("/hook?api-version=1&sig={s}")));
        let report = crate::fakes::diagnose(vec![dest], &options(&[]));
        prop_assert_eq!(report.status, leadcheck::report::Status::Fail);
        let all = render_all(&report);
        let lines: Vec<&str> = all.lines().filter(|l| l.contains(s.as_str())).collect();
        prop_assert!(lines.is_empty(), "{} survives:\n{}", s, lines.join("\n"));
    }
}
