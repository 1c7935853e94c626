//! `explain` and `catalog`: pages, codes in every shape, unknown codes, text matching in
//! human and JSON form, standard input, redaction of echoed secrets, and a closed pipe.

use crate::support::leadcheck;
use leadcheck::catalog::matcher::Match;
use leadcheck::catalog::Catalog;
use leadcheck::lang::{Lang, TextLang};
use leadcheck::triage::render;
use predicates::prelude::*;
use predicates::str::contains;
use serde_json::Value;

fn json_of(out: &[u8]) -> Value {
    serde_json::from_slice(out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(out)))
}

#[test]
fn a_code_in_every_shape() {
    for shape in ["LC402", "lc402", "402", " LC402 "] {
        leadcheck()
            .args(["explain", shape])
            .assert()
            .code(0)
            .stdout(contains("LC402"))
            .stdout(contains("0x80042f09"))
            .stdout(contains("1. "));
    }
}

#[test]
fn every_page_in_every_language() {
    for lang in ["en", "pl", "pt-BR", "zh-TW", "ko-KR"] {
        let out = leadcheck()
            .args(["explain", "--all", "--json", "--lang", lang])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let doc = json_of(&out.stdout);
        let entries = doc["entries"].as_array().unwrap();
        assert_eq!(entries.len(), Catalog::get().entries().len());
        for e in entries {
            assert!(!e["title"].as_str().unwrap().is_empty(), "{lang} {e}");
            assert!(!e["cause"].as_str().unwrap().is_empty(), "{lang} {e}");
            assert!(!e["remedy"].as_array().unwrap().is_empty(), "{lang} {e}");
        }
    }
}

#[test]
fn unknown_codes_are_exit_two() {
    leadcheck()
        .args(["explain", "LC999"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(contains("LC999 is not a leadcheck code"));
    leadcheck()
        .args(["explain", "999"])
        .assert()
        .code(2)
        .stderr(contains("LC999 is not a leadcheck code"));
    leadcheck()
        .args(["explain", "LC4022"])
        .assert()
        .code(2)
        .stderr(contains("did you mean LC402"));
}

#[test]
fn code_page_json_shape() {
    let out = leadcheck()
        .args(["explain", "LC402", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out.stdout);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["leadcheck"], env!("CARGO_PKG_VERSION"));
    let e = &doc["entry"];
    let keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "code",
            "title",
            "status",
            "destinations",
            "cause",
            "remedy",
            "docs"
        ]
    );
    assert_eq!(e["code"], "LC402");
    assert_eq!(e["status"], "active");
}

#[test]
fn pasted_text_human() {
    leadcheck()
        .args([
            "explain",
            "Could",
            "not",
            "save",
            "the",
            "lead.",
            "LastCRMError:",
            "SecLib::RetrievePrivilegeForUser",
            "failed",
        ])
        .assert()
        .code(0)
        .stdout(contains("LC402"))
        .stdout(contains("confidence"))
        .stdout(contains("SecLib::RetrievePrivilegeForUser"))
        .stdout(contains("run `leadcheck explain LC402`"));
}

#[test]
fn pasted_text_json_and_stdin() {
    let out = leadcheck()
        .args(["explain", "-", "--format", "json"])
        .write_stdin("Błąd: LastCRMError: SecLib:: RetrievePrivilegeForUser nie powiodła się — żadne role nie są przypisane do użytkownika.\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = json_of(&out.stdout);
    assert_eq!(doc["schema_version"], 1);
    let m = &doc["matches"][0];
    let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "code",
            "title",
            "confidence",
            "language",
            "matched",
            "remedy",
            "docs"
        ]
    );
    assert_eq!(m["code"], "LC402");
    assert_eq!(m["language"], "pl");
    assert!(m["confidence"].as_f64().unwrap() >= 0.5);
}

#[test]
fn no_confident_match_is_exit_one() {
    leadcheck()
        .args(["explain", "please", "reset", "my", "password"])
        .assert()
        .code(1)
        .stdout(contains("no confident match"));
    let out = leadcheck()
        .args(["explain", "--json", "the lead time for delivery"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_of(&out.stdout)["matches"], serde_json::json!([]));
}

#[test]
fn echoes_are_redacted_and_sanitized() {
    let text = "AADSTS7000215: Invalid client secret provided. client_secret=Sup3rS3cretValue \x1b[2J Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.xyz";
    for format in ["human", "json"] {
        let out = leadcheck()
            .args(["explain", "--format", format, text])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(!stdout.contains("Sup3rS3cretValue"), "{stdout}");
        assert!(!stdout.contains("eyJhbGciOiJub25lIn0"), "{stdout}");
        assert!(!stdout.contains('\x1b'), "{stdout}");
    }
}

#[test]
fn closed_pipe_ends_quietly() {
    let bin = assert_cmd::cargo::cargo_bin("leadcheck");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("set -o pipefail; \"$0\" explain --all | head -1 >/dev/null")
        .arg(&bin)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn catalog_lists_codes() {
    leadcheck()
        .args(["catalog", "--family", "LC4xx"])
        .assert()
        .code(0)
        .stdout(contains("LC402"))
        .stdout(contains("LC301").not());
    let out = leadcheck()
        .args(["catalog", "--family", "3", "--json"])
        .output()
        .unwrap();
    let doc = json_of(&out.stdout);
    let entries = doc["entries"].as_array().unwrap();
    assert!(entries
        .iter()
        .all(|e| e["code"].as_str().unwrap().starts_with("LC3")));
    let keys: Vec<&str> = entries[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["code", "title", "status", "destinations"]);
    assert_eq!(doc["schema_version"], 1);
    leadcheck()
        .args(["catalog", "--family", "LC9"])
        .assert()
        .code(2);
}

/// A page and a match rendered from a fixed entry, so the snapshots do not move when the
/// catalog's wording does.
const SAMPLE: &str = r#"
code = "LC900"
status = "active"
destinations = ["dynamics"]
upstream = ["0x80000000"]
docs = ["https://learn.microsoft.com/partner-center/marketplace/lead-management-faq"]
[title]
en = "Dynamics: a sample failure"
pl = "Dynamics: przykładowy błąd"
[cause]
en = "The sample cause, long enough to be wrapped over more than one line when it is printed for people on a terminal."
[remedy]
en = ["Open the Dynamics instance and go to Settings > Security > Users.", "Assign the Microsoft Marketplace Lead Writer role."]
"#;

fn sample() -> Catalog {
    Catalog::parse([("LC900.toml", SAMPLE)].into_iter()).unwrap()
}

#[test]
fn snapshot_page() {
    colored::control::set_override(false);
    let cat = sample();
    let e = cat.entry("LC900").unwrap();
    let mut human = Vec::new();
    render::entry_human(&mut human, e, Lang::En).unwrap();
    insta::assert_snapshot!("page_human", String::from_utf8(human).unwrap());
    let json = render::envelope("entry", render::entry_json(e, Lang::Pl));
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[version]")]}, {
        insta::assert_snapshot!("page_json", serde_json::to_string_pretty(&json).unwrap());
    });
}

#[test]
fn snapshot_text_match() {
    colored::control::set_override(false);
    let cat = sample();
    let m = Match {
        code: "LC900".into(),
        confidence: 0.97,
        language: TextLang::Pl,
        matched: "Sample\x1b[31m failure password=hunter2".into(),
    };
    let mut human = Vec::new();
    let pages = [cat.entry("LC900").cloned()];
    render::matches_human(&mut human, std::slice::from_ref(&m), &pages, Lang::En).unwrap();
    insta::assert_snapshot!("match_human", String::from_utf8(human).unwrap());
    let json = render::envelope(
        "matches",
        Value::Array(vec![render::match_json(&m, cat.entry("LC900"), Lang::En)]),
    );
    insta::with_settings!({filters => vec![(env!("CARGO_PKG_VERSION"), "[version]")]}, {
        insta::assert_snapshot!("match_json", serde_json::to_string_pretty(&json).unwrap());
    });
}

#[test]
fn several_codes_lead_with_a_one_line_list() {
    let out = leadcheck()
        .args([
            "explain",
            "AADSTS7000215: Invalid client secret provided. Later: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.",
        ])
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first = stdout.lines().next().unwrap_or("");
    assert!(first.starts_with("codes found ("), "{stdout}");
    assert!(
        first.contains("LC305") && first.contains("LC402"),
        "{stdout}"
    );
    // Then the pages, each with its remedy.
    assert!(stdout.contains("run `leadcheck explain LC305`"), "{stdout}");
    assert!(stdout.contains("run `leadcheck explain LC402`"), "{stdout}");
}
