//! `--format human`: per destination a header with its status, each check with its mark,
//! duration and detail, then each finding as `error[LC402]: <title>` with its evidence,
//! location, numbered remedy, docs and the `leadcheck explain` hint; a summary line last.
//! Text that came from outside (evidence, details, names) is sanitized before it is shown.

use super::{page, RunReport, Severity, Status};
use crate::lang::Lang;
use crate::term::sanitize;
use colored::{ColoredString, Colorize};

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "✓",
        Status::Warn => "!",
        Status::Fail => "✗",
        Status::Skip => "-",
    }
}

fn paint(text: &str, s: Status) -> ColoredString {
    match s {
        Status::Pass => text.green(),
        Status::Warn => text.yellow(),
        Status::Fail => text.red(),
        Status::Skip => text.dimmed(),
    }
}

fn paint_severity(text: &str, s: Severity) -> ColoredString {
    match s {
        Severity::Error => text.red().bold(),
        Severity::Warning => text.yellow().bold(),
        Severity::Info => text.cyan().bold(),
    }
}

pub fn render(
    report: &RunReport,
    lang: Lang,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    colored::control::set_override(color);
    let result = write(report, lang, out);
    colored::control::unset_override();
    result
}

fn write(report: &RunReport, lang: Lang, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let clean = |s: &str| sanitize(s, false);
    for (i, d) in report.destinations.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        writeln!(
            out,
            "{} {} ({}): {}",
            paint(mark(d.status), d.status),
            clean(&d.name).bold(),
            d.kind,
            paint(d.status.as_str(), d.status)
        )?;
        for c in &d.checks {
            let detail = if c.detail.is_empty() {
                String::new()
            } else {
                format!(": {}", clean(&c.detail))
            };
            writeln!(
                out,
                "  {} {} ({} ms){detail}",
                paint(mark(c.status), c.status),
                clean(&c.title),
                c.duration_ms
            )?;
        }
        if d.test_lead.sent || d.test_lead.id.is_some() {
            let tri = |v: Option<bool>| match v {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not attempted",
            };
            writeln!(
                out,
                "  test lead{}: sent {}, verified {}, cleaned up {}",
                d.test_lead
                    .id
                    .as_deref()
                    .map(|id| format!(" {}", clean(id)))
                    .unwrap_or_default(),
                if d.test_lead.sent { "yes" } else { "no" },
                tri(d.test_lead.verified),
                tri(d.test_lead.cleaned_up)
            )?;
        }
        for f in &d.findings {
            let p = page(&f.code, lang);
            writeln!(out)?;
            writeln!(
                out,
                "  {}: {}",
                paint_severity(&format!("{}[{}]", f.severity.as_str(), f.code), f.severity),
                clean(&p.title).bold()
            )?;
            if let Some(l) = &f.location {
                writeln!(out, "    --> {}", clean(&l.to_string()))?;
            }
            if !f.evidence.is_empty() {
                let ev = sanitize(&f.evidence, true);
                let mut lines = ev.lines();
                if let Some(first) = lines.next() {
                    writeln!(out, "    {first}")?;
                }
                for l in lines {
                    writeln!(out, "    {l}")?;
                }
            }
            for (n, step) in p.remedy.iter().enumerate() {
                writeln!(out, "    {}. {}", n + 1, step)?;
            }
            for doc in &p.docs {
                writeln!(out, "    docs: {doc}")?;
            }
            writeln!(out, "    run `leadcheck explain {}`", f.code)?;
        }
    }
    let count = |s: Status| report.destinations.iter().filter(|d| d.status == s).count();
    let (fail, warn) = (count(Status::Fail), count(Status::Warn));
    let pass = report.destinations.len() - fail - warn;
    if !report.destinations.is_empty() {
        writeln!(out)?;
    }
    let summary = format!(
        "{}: {} destination(s): {pass} passed, {warn} with warnings, {fail} failed",
        report.status.as_str(),
        report.destinations.len()
    );
    writeln!(out, "{}", paint(&summary, report.status).bold())
}
