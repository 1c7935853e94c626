//! Replays every input under fixtures/fuzz-regressions/<target>/ through what that fuzz
//! target calls (fuzz/fuzz_targets/<target>.rs), with the same checks: inputs that once
//! crashed a parser must keep passing.

use bytes::Bytes;
use leadcheck::destination::{azure_table, dynamics, https, marketo};
use leadcheck::net::Response;
use leadcheck::secret::Secret;
use leadcheck::triage::reader::{open_text, Csv, JsonLines, Records};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use std::path::Path;
use std::time::Duration;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/fuzz-regressions")
        .join(target);
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for e in entries.flatten() {
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

fn bounded(evidence: &str) {
    assert!(evidence.chars().count() < 4096, "unbounded evidence");
    assert!(
        !evidence.chars().any(|c| c.is_control() && c != '\n'),
        "control character in {evidence:?}"
    );
}

pub fn config_toml(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = leadcheck::config::toml_file::parse(text, "fuzz.toml", None) {
            for d in &c.destinations {
                let _ = leadcheck::config::lint::lint_destination(d);
            }
        }
    }
}

pub fn config_json(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(c) = leadcheck::config::partner_center::parse(text, "fuzz.json") {
            for d in &c.destinations {
                let _ = leadcheck::config::lint::lint_destination(d);
            }
        }
    }
}

pub fn connection_string(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = leadcheck::config::connection_string::parse(text);
        let _ = azure_table::account_from(&Secret::new(text));
    }
}

pub fn normalize(data: &[u8]) {
    use leadcheck::catalog::normalize as n;
    let text = String::from_utf8_lossy(data);
    let key = n::normalize(&text);
    assert!(!key.chars().any(|c| c.is_control() && c != '\n'));
    let _ = n::fold(&text);
    let m = n::normalize_mapped(&text);
    let len = data.len() + 8;
    for start in [0usize, 1, 3, len / 2] {
        for end in [start, start + 1, start + 7, len] {
            let r = m.original_range(start..end);
            assert!(r.start <= r.end && r.end <= text.len());
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
}

pub fn matcher(data: &[u8]) {
    use leadcheck::catalog::matcher::{self, Matcher};
    let text = String::from_utf8_lossy(data);
    if !matcher::match_text(&text).is_empty() {
        assert!(Matcher::get().might_match(&text));
    }
}

pub fn triage_csv(data: &[u8]) {
    let Ok(r) = open_text(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut warn = |_w: String| {};
    let Ok(mut csv) = Csv::new(r, None, &mut warn) else {
        return;
    };
    for _ in 0..100_000 {
        match csv.next_record(&mut warn) {
            Ok(Some(rec)) => assert!(rec.text.len() <= 1024 * 1024 + 1024),
            _ => break,
        }
    }
}

pub fn triage_jsonl(data: &[u8]) {
    let Ok(r) = open_text(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut warn = |_w: String| {};
    let mut lines = JsonLines::new(r, Some("id".into()));
    for _ in 0..100_000 {
        match lines.next_record(&mut warn) {
            Ok(Some(rec)) => assert!(rec.text.len() <= 1024 * 1024 + 1024),
            _ => break,
        }
    }
}

pub fn error_bodies(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let status = 100 + (u16::from_le_bytes([data[0], data[1]]) % 500);
    let Ok(status) = StatusCode::from_u16(status) else {
        return;
    };
    let body = &data[3..];
    let mut headers = HeaderMap::new();
    if data[2] & 1 == 1 {
        let first = body.split(|&b| b == b'\n').next().unwrap_or(&[]);
        if let Ok(v) = HeaderValue::from_bytes(&first[..first.len().min(64)]) {
            headers.insert("x-ms-error-code", v);
        }
    }
    if data[2] & 2 == 2 {
        headers.insert(
            "date",
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
    }
    let resp = Response {
        status,
        headers,
        body: Bytes::copy_from_slice(body),
        truncated: false,
        elapsed: Duration::ZERO,
    };
    bounded(&dynamics::aad_finding(&resp).evidence);
    bounded(&dynamics::dv_finding(&resp).evidence);
    if let marketo::Answer::Failed(_, ev) = marketo::judge(&resp, "/rest/v1/leads.json") {
        bounded(&ev);
    }
    if let Some(v) = resp.json() {
        let _ = marketo::record_failure(&v);
        if let Some(first) = v["result"].get(0) {
            let _ = marketo::record_failure(first);
        }
    }
    if let Some(f) = azure_table::auth_finding(&resp, "insert") {
        bounded(&f.evidence);
    }
    bounded(&azure_table::evidence(&resp, "insert"));
    bounded(&https::judge(&resp).evidence);
}

#[test]
fn every_saved_fuzz_input_still_passes() {
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 8] = [
        ("config_toml", config_toml),
        ("config_json", config_json),
        ("connection_string", connection_string),
        ("normalize", normalize),
        ("matcher", matcher),
        ("triage_csv", triage_csv),
        ("triage_jsonl", triage_jsonl),
        ("error_bodies", error_bodies),
    ];
    for (target, run) in targets {
        for (name, data) in inputs(target) {
            eprintln!("{target}/{name}");
            run(&data);
        }
    }
}

#[test]
fn the_harnesses_accept_ordinary_inputs() {
    // The replay functions themselves work (so that an empty regression folder is not a
    // silent pass of broken harnesses).
    config_toml(
        b"[destination.a]\ntype = \"https\"\nhttps_endpoint_url = \"https://x.example/h?sig=s\"\n",
    );
    config_json(
        br#"{"leadDestination":"AzureTable","tableLeadConfiguration":{"connectionString":"x"}}"#,
    );
    connection_string(b"AccountName=a;AccountKey=AAAA;EndpointSuffix=core.windows.net");
    normalize("SecLib:: RetrievePrivilegeForUser \u{1b}[31m".as_bytes());
    matcher(b"SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user");
    triage_csv(b"id,text\n1,\"no roles are assigned to user\"\n");
    triage_jsonl(b"{\"id\":\"1\",\"text\":\"no roles\"}\n");
    error_bodies(b"\x90\x01\x01{\"error\":\"invalid_client\",\"error_codes\":[7000215]}");
}
