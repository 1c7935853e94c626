//! `--format human`, laid out to be read in one screen. A destination that needs nothing is
//! one row of the closing table; one with a warning or a failure gets a block above it with
//! the steps that led there (the failing or warning step, the skipped ones with their
//! reason) and each finding as `error[LC402]: <title>` with its evidence, numbered remedy
//! and the `leadcheck explain` hint. `-v` shows every step of every destination and each
//! finding's docs. The closing table has a row per destination (status, time, the test
//! lead or the code and title of each problem), then the counts and the next command.
//! Text that came from outside (evidence, details, names) is sanitized before it is shown;
//! evidence and remedies wrap at the terminal's width with a hanging indent.

use super::{page, Check, DestinationReport, Finding, RunReport, Severity, Status};
use crate::lang::Lang;
use crate::term::{sanitize, text_width, wrap};
use colored::{ColoredString, Colorize};
use std::io::{self, Write};

/// How to lay the report out.
#[derive(Debug, Clone)]
pub struct Style {
    /// `-v`: every step of every destination, and each finding's docs.
    pub verbose: bool,
    /// Columns to wrap at.
    pub width: usize,
    /// What the last line suggests.
    pub next: Next,
}

/// The next command the closing line suggests.
#[derive(Debug, Clone)]
pub enum Next {
    /// After a problem, run `cmd` again on the destinations that had one; when all passed,
    /// suggest `then` (lint suggests diagnose).
    Rerun {
        cmd: &'static str,
        then: Option<&'static str>,
    },
    /// Always this (the demo's problems are on purpose: its next step is the user's own
    /// config).
    Always(String),
}

impl Default for Style {
    fn default() -> Style {
        Style {
            verbose: false,
            width: 100,
            next: Next::Rerun {
                cmd: "leadcheck diagnose",
                then: None,
            },
        }
    }
}

impl Style {
    /// For this process's stdout: `-v`, and the terminal's width (100 on a pipe).
    pub fn for_stdout(term: &crate::term::Term, next: Next) -> Style {
        Style {
            verbose: term.verbosity == crate::term::Verbosity::Verbose,
            width: crate::term::out_width(),
            next,
        }
    }
}

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

/// With the default style: 100 columns, not verbose.
pub fn render(report: &RunReport, lang: Lang, color: bool, out: &mut dyn Write) -> io::Result<()> {
    render_with(report, lang, color, &Style::default(), out)
}

pub fn render_with(
    report: &RunReport,
    lang: Lang,
    color: bool,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    colored::control::set_override(color);
    let mut buf = Vec::new();
    let result = write(report, lang, style, &mut buf);
    colored::control::unset_override();
    result?;
    if !color {
        // The override is process-wide: another thread (a test, an embedding program) may
        // have changed it meanwhile. Without color, no escape may reach the output.
        buf = strip_sgr(&buf);
    }
    out.write_all(&buf)
}

/// The text without SGR sequences (`ESC [ ... m`), which is all `colored` writes. Text
/// from servers is escaped before it is rendered, so no other escape is in `buf`.
fn strip_sgr(buf: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buf.len());
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == 0x1b && buf.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < buf.len() && (buf[j].is_ascii_digit() || buf[j] == b';') {
                j += 1;
            }
            if buf.get(j) == Some(&b'm') {
                i = j + 1;
                continue;
            }
        }
        out.push(buf[i]);
        i += 1;
    }
    out
}

/// Writes wrapped lines, painting the first line's leading `mark` (the wrap works on plain
/// text so that widths are right).
fn emit(
    out: &mut dyn Write,
    lines: Vec<String>,
    mark_at: Option<(usize, &str, ColoredString)>,
) -> io::Result<()> {
    for (i, line) in lines.into_iter().enumerate() {
        match &mark_at {
            Some((at, plain, painted))
                if i == 0 && line.get(*at..).is_some_and(|t| t.starts_with(plain)) =>
            {
                let (head, tail) = line.split_at(*at);
                let tail = tail[plain.len()..].trim_end();
                writeln!(out, "{head}{painted}{tail}")?;
            }
            _ => writeln!(out, "{}", line.trim_end())?,
        }
    }
    Ok(())
}

fn clean(s: &str) -> String {
    sanitize(s, false)
}

fn write(report: &RunReport, lang: Lang, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let mut blocks = 0;
    for d in &report.destinations {
        if !(style.verbose || needs_block(d)) {
            continue;
        }
        if blocks > 0 {
            writeln!(out)?;
        }
        blocks += 1;
        block(d, lang, style, out)?;
    }
    if blocks > 0 {
        writeln!(out)?;
    }
    table(report, lang, style, out)?;
    closing(report, style, out)
}

/// A destination that passed with nothing to say is one row of the table; anything else
/// (a warning, a failure, a note) gets its block.
fn needs_block(d: &DestinationReport) -> bool {
    matches!(d.status, Status::Warn | Status::Fail) || !d.findings.is_empty()
}

/// Network steps say the same thing for each service on one host (the sandbox and a
/// same-host sign-in repeat `Resolve 127.0.0.1`): a passing one is shown once per host.
fn repeats_a_network_step(shown: &[&Check], c: &Check) -> bool {
    // Ids are `dns` or prefixed by the service: `authority-dns`.
    let kind = |c: &Check| -> String { c.id.rsplit('-').next().unwrap_or("").to_string() };
    if !matches!(kind(c).as_str(), "dns" | "connect" | "tls") || c.status != Status::Pass {
        return false;
    }
    let host = |c: &Check| -> String {
        let target = c.title.split_whitespace().last().unwrap_or("").to_string();
        match target.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|ch| ch.is_ascii_digit()) => h.to_string(),
            _ => target,
        }
    };
    shown
        .iter()
        .any(|s| kind(s) == kind(c) && s.status == Status::Pass && host(s) == host(c))
}

fn block(d: &DestinationReport, lang: Lang, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let w = style.width;
    let passed = d.checks.iter().filter(|c| c.status == Status::Pass).count();
    let mut header = format!("{} ({}): {}", clean(&d.name), d.kind, d.status.as_str());
    if !style.verbose && passed > 0 && passed < d.checks.len() {
        header.push_str(&format!(
            " ({passed} step{} passed)",
            if passed == 1 { "" } else { "s" }
        ));
    }
    writeln!(out, "{} {}", paint(mark(d.status), d.status), header.bold())?;

    let mut shown: Vec<&Check> = Vec::new();
    for c in &d.checks {
        if repeats_a_network_step(&shown, c) || (!style.verbose && c.status == Status::Pass) {
            continue;
        }
        shown.push(c);
        // The failing step's detail is usually its finding's evidence, shown just below.
        let quoted = !style.verbose
            && !c.detail.trim().is_empty()
            && d.findings
                .iter()
                .any(|f| f.evidence.contains(c.detail.trim()));
        let mut text = format!("{} ({} ms)", clean(&c.title), c.duration_ms);
        if !c.detail.is_empty() && !quoted {
            text.push_str(": ");
            text.push_str(&clean(&c.detail));
        }
        let first = format!("  {} ", mark(c.status));
        let lines = wrap(&text, w, &first, "      ");
        emit(
            out,
            lines,
            Some((2, mark(c.status), paint(mark(c.status), c.status))),
        )?;
    }
    if d.test_lead.sent || d.test_lead.id.is_some() {
        let tri = |v: Option<bool>| match v {
            Some(true) => "yes",
            Some(false) => "no",
            None => "not attempted",
        };
        let text = format!(
            "test lead{}: sent {}, verified {}, cleaned up {}",
            d.test_lead
                .id
                .as_deref()
                .map(|id| format!(" {}", clean(id)))
                .unwrap_or_default(),
            if d.test_lead.sent { "yes" } else { "no" },
            tri(d.test_lead.verified),
            tri(d.test_lead.cleaned_up)
        );
        emit(out, wrap(&text, w, "  ", "      "), None)?;
    }
    for f in &d.findings {
        if style.verbose {
            writeln!(out)?;
        }
        finding(f, lang, style, out)?;
    }
    Ok(())
}

fn finding(f: &Finding, lang: Lang, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let w = style.width;
    let p = page(&f.code, lang);
    let label = format!("{}[{}]", f.severity.as_str(), f.code);
    let title = format!("{label}: {}", clean(&p.title));
    let lines = wrap(&title, w, "  ", "    ");
    emit(
        out,
        lines,
        Some((2, &label, paint_severity(&label, f.severity))),
    )?;
    if let Some(l) = &f.location {
        emit(
            out,
            wrap(&clean(&l.to_string()), w, "    --> ", "        "),
            None,
        )?;
    }
    if !f.evidence.is_empty() {
        for para in sanitize(&f.evidence, true).lines() {
            emit(out, wrap(para, w, "    ", "      "), None)?;
        }
    }
    for (n, step) in p.remedy.iter().enumerate() {
        let num = format!("    {}. ", n + 1);
        let rest = " ".repeat(num.len());
        emit(out, wrap(step, w, &num, &rest), None)?;
    }
    let explain = format!("run `leadcheck explain {}`", f.code);
    if style.verbose || p.docs.is_empty() {
        for doc in &p.docs {
            emit(out, wrap(doc, w, "    docs: ", "          "), None)?;
        }
        writeln!(out, "    {explain}")?;
    } else {
        // Links take a line each; the page has them, one command away.
        let n = p.docs.len();
        let what = format!(
            "the cause and {n} doc link{}",
            if n == 1 { "" } else { "s" }
        );
        writeln!(out, "    {what}: {explain}")?;
    }
    Ok(())
}

/// `1.2 s` or `340 ms`.
fn duration(ms: u64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else {
        format!("{:.1} s", ms as f64 / 1000.0)
    }
}

/// What became of the test lead, in a few words.
fn lead_words(d: &DestinationReport) -> Option<String> {
    let t = &d.test_lead;
    if !t.sent && t.id.is_none() {
        return None;
    }
    let verified = match t.verified {
        Some(true) => "verified",
        Some(false) => "not verified",
        None => "not verifiable",
    };
    let cleaned = match t.cleaned_up {
        Some(true) => "cleaned up",
        Some(false) => "not cleaned up",
        None => "left in place",
    };
    let sent = if t.sent { "sent" } else { "not sent" };
    Some(format!("test lead {sent}, {verified}, {cleaned}"))
}

/// Cuts `text` to `width` columns, with an ellipsis when cut.
fn fit(text: &str, width: usize) -> String {
    if text_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + cw + 1 > width {
            break;
        }
        out.push(c);
        used += cw;
    }
    out.push('…');
    out
}

/// One row per destination: its status, time (when something ran besides the offline
/// checks) and test lead, or the code and title of each problem (one row each).
fn table(report: &RunReport, lang: Lang, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<String> = report
        .destinations
        .iter()
        .map(|d| format!("{} ({}):", clean(&d.name), d.kind))
        .collect();
    // A very long name should not push every row off the screen.
    let name_w = names
        .iter()
        .map(|n| text_width(n))
        .max()
        .unwrap_or(0)
        .min(style.width / 2);
    let timed = report
        .destinations
        .iter()
        .any(|d| d.checks.iter().any(|c| c.id != "lint"));
    for (d, name) in report.destinations.iter().zip(&names) {
        let pad = " ".repeat(name_w.saturating_sub(text_width(name)));
        let time = if timed {
            let ms: u64 = d.checks.iter().map(|c| c.duration_ms).sum();
            format!(" {:>7}", duration(ms))
        } else {
            String::new()
        };
        let lead = 2 + text_width(name) + pad.len() + 1 + 4 + text_width(&time) + 2;
        let room = style.width.saturating_sub(lead).max(20);
        let problems: Vec<&Finding> = d
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .collect();
        let first = if problems.is_empty() {
            lead_words(d).unwrap_or_default()
        } else {
            String::new()
        };
        let row = format!(
            "{} {name}{pad} {}{time}",
            paint(mark(d.status), d.status),
            paint(&format!("{:<4}", d.status.as_str()), d.status)
        );
        if problems.is_empty() {
            let text = fit(&first, room);
            writeln!(out, "{}", format!("{row}  {text}").trim_end())?;
        }
        for (i, f) in problems.iter().enumerate() {
            let title = fit(&clean(&page(&f.code, lang).title), room.saturating_sub(6));
            let code = paint_severity(&f.code, f.severity);
            if i == 0 {
                writeln!(out, "{row}  {code} {title}")?;
            } else {
                writeln!(out, "{}{code} {title}", " ".repeat(lead))?;
            }
        }
    }
    Ok(())
}

/// The counts, then the next command to run.
fn closing(report: &RunReport, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let count = |s: Status| report.destinations.iter().filter(|d| d.status == s).count();
    let (fail, warn) = (count(Status::Fail), count(Status::Warn));
    let pass = report.destinations.len() - fail - warn;
    let summary = format!(
        "{}: {} destination(s): {pass} passed, {warn} with warnings, {fail} failed",
        report.status.as_str(),
        report.destinations.len()
    );
    writeln!(out, "{}", paint(&summary, report.status).bold())?;
    let next = match &style.next {
        Next::Always(text) => Some(text.clone()),
        Next::Rerun { cmd, .. } if fail + warn > 0 => {
            let names: Vec<String> = report
                .destinations
                .iter()
                .filter(|d| matches!(d.status, Status::Warn | Status::Fail))
                .map(|d| crate::term::shell_word(&d.name))
                .collect();
            Some(format!(
                "fix what is shown above, then run `{cmd} {}`",
                names.join(" ")
            ))
        }
        Next::Rerun { then, .. } => then.map(|t| t.to_string()),
    };
    if let Some(next) = next {
        emit(out, wrap(&next, style.width, "next: ", "  "), None)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fits_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 6), "abcdef");
        assert_eq!(fit("abcdefg", 6), "abcde…");
    }

    #[test]
    fn durations() {
        assert_eq!(duration(12), "12 ms");
        assert_eq!(duration(1234), "1.2 s");
    }
}
