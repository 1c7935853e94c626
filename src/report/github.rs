//! `--format github`: workflow-command annotations (`::error`, `::warning`, `::notice`) that
//! GitHub shows on the run and, with a location, on the config file's line; a markdown
//! summary appended to `$GITHUB_STEP_SUMMARY` when set. Escaping is actions/toolkit's
//! (`escapeData`, `escapeProperty`). No `::add-mask::`: masking a value means printing it.

use super::{page, RunReport, Severity, Status};
use crate::lang::Lang;
use std::io::Write as _;
use std::path::Path;

/// actions/toolkit `escapeData`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// actions/toolkit `escapeProperty`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(
    report: &RunReport,
    lang: Lang,
    out: &mut dyn std::io::Write,
    summary: Option<&Path>,
) -> std::io::Result<()> {
    for d in &report.destinations {
        for f in &d.findings {
            let p = page(&f.code, lang);
            let cmd = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "notice",
            };
            let mut props = vec![format!(
                "title={}",
                escape_property(&format!("{} {}", f.code, p.title))
            )];
            if let Some(l) = &f.location {
                props.push(format!("file={}", escape_property(&l.file)));
                props.push(format!("line={}", l.line));
                props.push(format!("col={}", l.column));
            }
            let msg = format!(
                "{} ({}): {} — run `leadcheck explain {}`",
                d.name, d.kind, f.evidence, f.code
            );
            writeln!(
                out,
                "::{cmd} {}::{}",
                props.join(","),
                escape_data(&crate::term::sanitize(&msg, true))
            )?;
        }
        let failed: Vec<_> = d
            .checks
            .iter()
            .filter(|c| c.status == Status::Fail)
            .collect();
        if failed.is_empty() || d.findings.iter().any(|f| f.severity == Severity::Error) {
            continue;
        }
        // A failed step without an error finding still needs to be seen.
        for c in failed {
            let msg = format!("{} ({}): {}: {}", d.name, d.kind, c.title, c.detail);
            writeln!(
                out,
                "::error title={}::{}",
                escape_property(&c.id),
                escape_data(&crate::term::sanitize(&msg, true))
            )?;
        }
    }
    writeln!(
        out,
        "leadcheck: {} ({} destination(s))",
        report.status.as_str(),
        report.destinations.len()
    )?;
    if let Some(path) = summary {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        f.write_all(markdown(report, lang).as_bytes())?;
    }
    Ok(())
}

fn md_cell(s: &str) -> String {
    crate::term::sanitize(s, false)
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The step summary: a table of destinations, then each finding.
pub fn markdown(report: &RunReport, lang: Lang) -> String {
    let icon = |s: Status| match s {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Skip => "⏭️",
    };
    let mut md = format!(
        "## leadcheck: {} {}\n\n",
        icon(report.status),
        report.status.as_str()
    );
    md.push_str("| destination | type | status | findings |\n|---|---|---|---|\n");
    for d in &report.destinations {
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        md.push_str(&format!(
            "| {} | {} | {} {} | {} |\n",
            md_cell(&d.name),
            d.kind,
            icon(d.status),
            d.status.as_str(),
            codes.join(", ")
        ));
    }
    for d in &report.destinations {
        for f in &d.findings {
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" (`{}`)", md_cell(&l.to_string())))
                .unwrap_or_default();
            md.push_str(&format!(
                "\n- **{}** {} [{}] {}{at}: {}",
                f.code,
                md_cell(&d.name),
                f.severity.as_str(),
                md_cell(&page(&f.code, lang).title),
                md_cell(&f.evidence)
            ));
        }
    }
    md.push_str("\n\n");
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_toolkit() {
        assert_eq!(escape_data("a%b\r\nc:d,e"), "a%25b%0D%0Ac:d,e");
        assert_eq!(escape_property("a%b\r\nc:d,e"), "a%25b%0D%0Ac%3Ad%2Ce");
    }
}
