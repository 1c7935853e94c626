//! The parsers of error answers: Entra ID, Dataverse, Marketo, Azure Storage (JSON and
//! XML) and Logic Apps. Input: 2 bytes of status, 1 byte header selector, then the body.
//! Never a panic; evidence is bounded and free of control characters (escaped).
#![no_main]
use bytes::Bytes;
use leadcheck::destination::{azure_table, dynamics, https, marketo};
use leadcheck::net::Response;
use libfuzzer_sys::fuzz_target;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;
use std::time::Duration;

fn check(evidence: &str) {
    assert!(evidence.chars().count() < 4096, "unbounded evidence");
    assert!(
        !evidence.chars().any(|c| c.is_control() && c != '\n'),
        "control character in {evidence:?}"
    );
}

fuzz_target!(|data: &[u8]| {
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
        // Azure Storage names its error in a header too; take it from the body's first line.
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
    check(&dynamics::aad_finding(&resp).evidence);
    check(&dynamics::dv_finding(&resp).evidence);
    if let marketo::Answer::Failed(_, ev) = marketo::judge(&resp, "/rest/v1/leads.json") {
        check(&ev);
    }
    if let Some(v) = resp.json() {
        let (_, ev) = marketo::record_failure(&v);
        let _ = ev;
        if let Some(first) = v["result"].get(0) {
            let _ = marketo::record_failure(first);
        }
    }
    if let Some(f) = azure_table::auth_finding(&resp, "insert") {
        check(&f.evidence);
    }
    check(&azure_table::evidence(&resp, "insert"));
    check(&https::judge(&resp).evidence);
});
