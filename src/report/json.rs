//! `--format json`: PRODUCT.md's diagnose document, with each finding's title, remedy and
//! doc links resolved from the catalog in `--lang`, and `location` where a finding has one.

use super::{page, RunReport};
use crate::lang::Lang;
use serde_json::{json, Value};

/// The document as a value (tests and `demo` reuse it).
pub fn to_value(report: &RunReport, lang: Lang) -> Value {
    let destinations: Vec<Value> = report
        .destinations
        .iter()
        .map(|d| {
            let findings: Vec<Value> = d
                .findings
                .iter()
                .map(|f| {
                    let p = page(&f.code, lang);
                    let mut v = json!({
                        "code": f.code,
                        "title": p.title,
                        "severity": f.severity.as_str(),
                        "evidence": f.evidence,
                        "remedy": p.remedy,
                        "docs": p.docs,
                    });
                    if let Some(l) = &f.location {
                        v["location"] = json!({"file": l.file, "line": l.line, "column": l.column});
                    }
                    v
                })
                .collect();
            json!({
                "name": d.name,
                "type": d.kind,
                "status": d.status.as_str(),
                "checks": d.checks.iter().map(|c| json!({
                    "id": c.id,
                    "title": c.title,
                    "status": c.status.as_str(),
                    "duration_ms": c.duration_ms,
                    "detail": c.detail,
                })).collect::<Vec<_>>(),
                "findings": findings,
                "test_lead": {
                    "id": d.test_lead.id,
                    "sent": d.test_lead.sent,
                    "verified": d.test_lead.verified,
                    "cleaned_up": d.test_lead.cleaned_up,
                },
            })
        })
        .collect();
    json!({
        "status": report.status.as_str(),
        "destinations": destinations,
        "schema_version": crate::SCHEMA_VERSION,
        "leadcheck": crate::VERSION,
    })
}

pub fn render(report: &RunReport, lang: Lang, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let text =
        serde_json::to_string_pretty(&to_value(report, lang)).map_err(std::io::Error::other)?;
    writeln!(out, "{text}")
}
