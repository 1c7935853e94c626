//! Secrets audit: the `Secret` type cannot be printed by accident, authorization headers are
//! marked sensitive, `-v` shows requests and responses with secrets redacted, and a canary
//! run of every destination type, failing and passing, in every format, never shows a
//! secret on stdout, stderr or in `$GITHUB_STEP_SUMMARY`.

use leadcheck::config::secrets;
use leadcheck::secret::Secret;

struct Probe<T>(std::marker::PhantomData<T>);
trait ViaDisplay {
    fn has_display(&self) -> bool {
        true
    }
}
impl<T: std::fmt::Display> ViaDisplay for &Probe<T> {}
trait Fallback {
    fn has_display(&self) -> bool {
        false
    }
}
impl<T> Fallback for Probe<T> {}
macro_rules! has_display {
    ($t:ty) => {
        (&&Probe::<$t>(std::marker::PhantomData)).has_display()
    };
}

#[test]
fn secret_debug_is_redacted_and_it_has_no_display() {
    let s = Secret::new("CANARY-debug-1");
    assert_eq!(format!("{s:?}"), "<redacted>");
    assert_eq!(format!("{s:#?}"), "<redacted>");
    // Inside derived Debug of the config types too.
    let field = leadcheck::config::SecretField::plain("CANARY-debug-2");
    let shown = format!("{field:?} {:#?}", Some(&field));
    assert!(!shown.contains("CANARY"), "{shown}");
    // No `Display`: `format!("{}", secret)` does not build. Checked here by autoref
    // specialization (the `&Probe` impl applies only when T: Display).
    assert!(!has_display!(Secret));
    assert!(has_display!(String), "the probe itself works");
}

#[test]
fn a_secret_file_that_never_ends_is_refused_not_read_forever() {
    // Regression: `{ file = "/dev/zero" }` used to read until memory ran out.
    let f = secrets::from_file("/dev/zero", None);
    let err = f.value.unwrap_err();
    assert!(err.contains("larger than 64 KiB"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("key.txt");
    std::fs::write(&p, "s3cret\n").unwrap();
    let f = secrets::from_file(p.to_str().unwrap(), None);
    assert_eq!(f.value.unwrap().expose(), "s3cret");
}

// ---------------------------------------------------------------------------------------
// The canary run: every destination type, failing and passing, every format.

use crate::fakes::{Fake, Reply};
use leadcheck::sandbox::{FieldValue, Sandbox};

/// The secret part of a secret field's value: a URL's signature-like query values, a
/// connection string's AccountKey, else the whole value.
fn secret_parts(value: &str) -> Vec<String> {
    if let Ok(u) = url::Url::parse(value) {
        if u.query().is_some() {
            return u
                .query_pairs()
                .filter(|(k, _)| leadcheck::net::redact::SECRET_PARAMS.contains(&k.as_ref()))
                .map(|(_, v)| v.into_owned())
                .collect();
        }
    }
    if let Some(i) = value.to_ascii_lowercase().find("accountkey=") {
        let rest = &value[i + "accountkey=".len()..];
        return vec![rest.split(';').next().unwrap_or("").to_string()];
    }
    vec![value.to_string()]
}

/// Fakes that fail or pass, some echoing what they were sent (a hostile or careless server):
/// the report must still not carry the secrets. Returns (TOML, canaries, fakes to keep).
fn hostile_destinations() -> (String, Vec<String>, Vec<Fake>) {
    let https_ok = Fake::always(Reply::new(202));
    // Echoes the request target (with its sig) in a Logic Apps error body.
    let https_echo = Fake::http(|req| {
        Reply::json(
            401,
            &serde_json::json!({"error":{"code":"AuthorizationFailed",
                "message": format!("The signature of {} is not valid (sig={})", req.target,
                    req.target.split("sig=").nth(1).unwrap_or(""))}})
            .to_string(),
        )
    });
    // Echoes the Authorization header back.
    let table_refused = Fake::http(|req| {
        Reply::json(
            403,
            &serde_json::json!({"odata.error":{"code":"AuthenticationFailed","message":{"lang":"en-US",
                "value": format!("Server failed to authenticate the request. Authorization: {}", req.header("authorization").unwrap_or(""))}}})
            .to_string(),
        )
        .header("x-ms-error-code", "AuthenticationFailed")
    });
    let table_ok = Fake::http(|req| match req.method.as_str() {
        "POST" => Reply::new(204),
        _ if req.target.contains("Tables(") => Reply::new(200).body("{}"),
        _ => Reply::json(200, r#"{"RowKey":"MSFT_TEST_638000000000000000"}"#),
    });
    // A Marketo identity service that echoes the client secret in its error.
    let marketo_echo = Fake::http(|req| {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        Reply::json(
            401,
            &serde_json::json!({"error":"unauthorized","error_description": format!("Bad client credentials {body}")}).to_string(),
        )
    });
    // A Salesforce REST API that echoes the session token.
    let sf_echo = Fake::http(|req| {
        if req.target.starts_with("/servlet") {
            return Reply::new(200).header("is-processed", "true");
        }
        Reply::json(
            401,
            &serde_json::json!([{"message": format!("Session expired or invalid: {}", req.header("authorization").unwrap_or("")),
                "errorCode":"INVALID_SESSION_ID"}]).to_string(),
        )
    });
    let sig = "CANARYsigHttps0123456789abcdefAA";
    let key_bytes = "CANARY-table-key-bytes-0123456789";
    use base64::Engine;
    let key = base64::engine::general_purpose::STANDARD.encode(key_bytes);
    let mkt = "CANARY-marketo-secret-42";
    let sft = "00D5e000000SbxQ!CANARYsfToken";
    let toml = format!(
        r#"
[destination.h-ok]
type = "https"
https_endpoint_url = "{https_ok}"

[destination.h-echo]
type = "https"
https_endpoint_url = "{https_echo}"

[destination.t-refused]
type = "azure-table"
storage_account_connection_string = "DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={key};TableEndpoint={table_refused}"

[destination.t-ok]
type = "azure-table"
storage_account_connection_string = "AccountName=acct;AccountKey={key};TableEndpoint={table_ok}"

[destination.m-echo]
type = "marketo"
munchkin_id = "123-ABC-456"
form_id = "1001"
client_id = "3f1c6a52-9b7e-4a41-8d2f-0c5e8a7b1d23"
client_secret = "{mkt}"
endpoint = "{marketo_echo}"

[destination.s-echo]
type = "salesforce"
object_identifier = "00D5e000000SbxQ"
endpoint = "{sf_echo}/servlet/servlet.WebToLead?encoding=UTF-8"
api_instance_url = "{sf_echo}"
api_access_token = "{sft}"
"#,
        https_ok = https_ok.url(&format!("/hook?api-version=1&sv=1.0&sig={sig}")),
        https_echo = https_echo.url(&format!("/hook?api-version=1&sv=1.0&sig={sig}")),
        table_refused = table_refused.url("/acct"),
        table_ok = table_ok.url("/acct"),
        marketo_echo = marketo_echo.url(""),
        sf_echo = sf_echo.url(""),
    );
    let canaries = vec![
        sig.to_string(),
        key.clone(),
        key_bytes.to_string(),
        mkt.to_string(),
        sft.to_string(),
        "CANARYsfToken".to_string(),
    ];
    (
        toml,
        canaries,
        vec![
            https_ok,
            https_echo,
            table_refused,
            table_ok,
            marketo_echo,
            sf_echo,
        ],
    )
}

#[test]
fn canary_no_secret_in_any_output_of_any_destination_in_any_format() {
    // The sandbox: healthy and failing emulators of Dynamics (application key and
    // password), Power Automate (sig=), Salesforce (API token) and Marketo (client secret).
    let sb = Sandbox::start(&["all"]).unwrap();
    let mut canaries: Vec<String> = Vec::new();
    for e in sb.entries() {
        for (_, v) in &e.fields {
            if let FieldValue::Secret(s) = v {
                canaries.extend(secret_parts(s));
            }
        }
    }
    let (hostile, more, _fakes) = hostile_destinations();
    canaries.extend(more);
    canaries.retain(|c| c.len() >= 8);
    canaries.sort();
    canaries.dedup();
    assert!(canaries.len() >= 8, "{canaries:?}");
    for kind in [
        "application_key",
        "password",
        "client_secret",
        "api_access_token",
    ] {
        assert!(
            sb.entries().iter().any(|e| e.get(kind).is_some()),
            "the sandbox has a {kind}"
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(&cfg, format!("{}\n{hostile}", sb.config_toml())).unwrap();
    let summary = dir.path().join("summary.md");

    let runs: &[&[&str]] = &[
        &["--format", "human"],
        &["--format", "json"],
        &["--format", "junit"],
        &["--format", "github"],
        &["-v", "--format", "human"],
        &["-v", "--format", "github", "--cleanup"],
    ];
    for extra in runs {
        let _ = std::fs::remove_file(&summary);
        let out = crate::support::leadcheck()
            .arg("diagnose")
            .args(*extra)
            .args(["--timeout", "5", "--deadline", "60", "--config"])
            .arg(&cfg)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .timeout(std::time::Duration::from_secs(90))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let summary_text = std::fs::read_to_string(&summary).unwrap_or_default();
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {stderr}");
        assert!(stdout.contains("LC"), "{extra:?}: a report was written");
        if extra.contains(&"github") {
            assert!(
                !summary_text.is_empty(),
                "{extra:?}: a step summary was written"
            );
        }
        if extra.contains(&"-v") {
            assert!(
                stderr.contains("> POST"),
                "{extra:?}: -v shows requests: {stderr}"
            );
            assert!(
                stderr.contains("< 2"),
                "{extra:?}: -v shows responses: {stderr}"
            );
        }
        for (name, text) in [
            ("stdout", &*stdout),
            ("stderr", &*stderr),
            ("summary", &*summary_text),
        ] {
            for c in &canaries {
                let lines: Vec<&str> = text.lines().filter(|l| l.contains(c.as_str())).collect();
                assert!(
                    lines.is_empty(),
                    "{extra:?}: the secret {c} is in {name}:\n{}",
                    lines.join("\n")
                );
            }
            // PRODUCT.md: no `::add-mask::` (it would print the secret it masks).
            assert!(!text.contains("::add-mask::"), "{extra:?}: {name}");
        }
    }
}

#[test]
fn authorization_headers_are_marked_sensitive() {
    let v = leadcheck::net::sensitive("Bearer CANARY-header-token");
    assert!(v.is_sensitive());
    assert!(!format!("{v:?}").contains("CANARY"), "{v:?}");

    // Source audit: every Authorization header a destination sets goes through
    // `sensitive()` (so hyper and reqwest never print it), within the same statement.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut checked = 0;
    for sub in ["destination", "net"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let l = line.trim();
                let sets = (l.contains("AUTHORIZATION") && !l.starts_with("use "))
                    || l.contains("\"Authorization\"");
                if !sets || l.starts_with("//") {
                    continue;
                }
                let stmt = lines[i..(i + 3).min(lines.len())].join(" ");
                assert!(
                    stmt.contains("sensitive("),
                    "{}:{}: an Authorization header not marked sensitive: {l}",
                    path.display(),
                    i + 1
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "found {checked} Authorization headers");
}
