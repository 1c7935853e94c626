//! `triage FILE... | -`: classify every record of a ticket export; also home of `explain`
//! and `catalog`, which share its rendering.
//!
//! Records stream through [`pipeline`]: read in batches of a few MiB, classified on every
//! core, written in input order. Memory stays flat whatever the input size; a record is
//! matched on its first MiB.

pub mod catalog_cmd;
pub mod explain;
pub mod pipeline;
pub mod reader;
pub mod render;

use crate::app::App;
use crate::catalog::matcher::Matcher;
use crate::catalog::Catalog;
use crate::cli::{InputKind, TextFormat, TriageArgs};
use crate::exit::{Exit, UserError};
use colored::Colorize;
use pipeline::{Done, FromRecords, LineChunks, Source};
use reader::OpenError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::path::Path;

/// An input, opened and checked before anything is written.
struct Input {
    /// As shown in output and messages (`-` for standard input).
    name: String,
    records: Box<dyn Source>,
}

/// Totals and the first example of each code, for the summary.
#[derive(Default)]
struct Tally {
    records: u64,
    matched: u64,
    truncated: u64,
    lossy: u64,
    /// Records the prefilter sent to the full matcher.
    candidates: u64,
    by_code: BTreeMap<String, (u64, String)>,
}

pub fn run(args: TriageArgs, app: &mut App) -> anyhow::Result<Exit> {
    let format = crate::app::output_format("triage", args.format, args.json)?;
    colored::control::set_override(app.term.color && format == TextFormat::Human);
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(UserError::new("standard input (`-`) can be read only once").into());
    }

    // Open every input first: a missing file is exit 2 before any output.
    let mut inputs = Vec::new();
    for path in &args.files {
        inputs.push(open(path, &args, app)?);
    }
    let several = inputs.len() > 1;
    let matcher = Matcher::get();
    let mut tally = Tally::default();

    let workers = match args.threads {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
    };
    let json = format == TextFormat::Json;
    let mut line = Vec::with_capacity(256);
    for input in inputs {
        let Input { name, mut records } = input;
        let shown = crate::term::sanitize(&name, false);
        let quiet = app.term.verbosity <= crate::term::Verbosity::Quiet;
        let file_json = several.then(|| serde_json::to_string(&name).unwrap_or_default());
        let mut number_base = 0u64;
        let (out, err) = (&mut *app.out, &mut *app.err);
        let mut sink = |done: Done| -> io::Result<()> {
            if !quiet {
                for w in &done.warnings {
                    writeln!(err, "warning: {shown}: {w}")?;
                }
            }
            let mut hits = done.codes.iter().peekable();
            // The batch's lines, written at once.
            line.clear();
            for (i, meta) in done.meta.iter().enumerate() {
                let number = number_base + i as u64 + 1;
                let codes: &[String] = match hits.peek() {
                    Some((at, c)) if *at == i => {
                        hits.next();
                        c
                    }
                    _ => &[],
                };
                tally.records += 1;
                tally.truncated += meta.truncated as u64;
                tally.lossy += meta.lossy as u64;
                if !codes.is_empty() {
                    tally.matched += 1;
                    for c in codes {
                        let example = || {
                            example(number, meta.id.as_deref(), several.then_some(name.as_str()))
                        };
                        tally
                            .by_code
                            .entry(c.clone())
                            .and_modify(|e| e.0 += 1)
                            .or_insert_with(|| (1, example()));
                    }
                }
                if json {
                    record_json(&mut line, number, meta, file_json.as_deref(), codes);
                }
            }
            out.write_all(&line)?;
            number_base += done.meta.len() as u64;
            tally.candidates += done.candidates as u64;
            Ok(())
        };
        pipeline::run(&mut *records, matcher, workers, &mut sink).map_err(|e| {
            if e.kind() == io::ErrorKind::BrokenPipe {
                anyhow::Error::from(e)
            } else {
                UserError::new(format!("cannot read {name}: {}", io_reason(&e))).into()
            }
        })?;
        if tally.lossy > 0 {
            app.note(&format!(
                "warning: {}: {} records held invalid UTF-8; decoded with replacement characters",
                crate::term::sanitize(&name, false),
                tally.lossy
            ))?;
            tally.lossy = 0;
        }
    }

    match format {
        TextFormat::Json => {
            let by_code: Map<String, Value> = tally
                .by_code
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.0)))
                .collect();
            let summary =
                json!({"records": tally.records, "matched": tally.matched, "by_code": by_code});
            render::write_json(app.out, &render::envelope("summary", summary))?;
        }
        TextFormat::Human => human_summary(&tally, app)?,
    }
    if app.term.verbosity == crate::term::Verbosity::Verbose {
        writeln!(
            app.err,
            "prefilter: {} of {} records went to the full matcher",
            tally.candidates, tally.records
        )?;
    }
    if tally.truncated > 0 {
        app.note(&format!(
            "note: {} records longer than 1 MiB were matched on their first MiB",
            tally.truncated
        ))?;
    }
    Ok(if tally.matched > 0 {
        Exit::Ok
    } else {
        Exit::Findings
    })
}

fn example(number: u64, id: Option<&str>, file: Option<&str>) -> String {
    let mut s = format!("record {number}");
    if let Some(id) = id {
        s.push_str(&format!(" ({})", crate::term::sanitize(id, false)));
    }
    if let Some(f) = file {
        s.push_str(&format!(" in {}", crate::term::sanitize(f, false)));
    }
    s
}

/// One line of JSON output, as `serde_json` would write it (keys in this order), without
/// building a value per record: `{"record":N,"id":..,"file":..,"codes":[..],"truncated":true}`.
fn record_json(
    out: &mut Vec<u8>,
    number: u64,
    meta: &pipeline::Meta,
    file: Option<&str>,
    codes: &[String],
) {
    out.extend_from_slice(b"{\"record\":");
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
    if let Some(id) = &meta.id {
        out.extend_from_slice(b",\"id\":");
        let _ = serde_json::to_writer(&mut *out, id);
    }
    if let Some(f) = file {
        out.extend_from_slice(b",\"file\":");
        out.extend_from_slice(f.as_bytes());
    }
    out.extend_from_slice(b",\"codes\":[");
    for (i, c) in codes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Codes are `LCnnn`: nothing to escape.
        out.push(b'"');
        out.extend_from_slice(c.as_bytes());
        out.push(b'"');
    }
    out.push(b']');
    if meta.truncated {
        out.extend_from_slice(b",\"truncated\":true");
    }
    out.extend_from_slice(b"}\n");
}

fn human_summary(t: &Tally, app: &mut App) -> io::Result<()> {
    let catalog = Catalog::get();
    let mut rows: Vec<(&String, &(u64, String))> = t.by_code.iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
    if !rows.is_empty() {
        let width = rows
            .iter()
            .map(|r| r.1 .0.to_string().len())
            .max()
            .unwrap_or(1)
            .max(7);
        writeln!(
            app.out,
            "code   {:>width$}  {:<52}  example",
            "records", "title"
        )?;
        for (code, (n, ex)) in rows {
            let title = catalog.entry(code).map(|e| e.title(app.lang)).unwrap_or("");
            let title = shorten(title, 52);
            let pad = 52usize.saturating_sub(title.chars().count());
            writeln!(
                app.out,
                "{}  {n:>width$}  {title}{}  {ex}",
                code.bold().yellow(),
                " ".repeat(pad)
            )?;
        }
        writeln!(app.out)?;
    }
    writeln!(app.out, "{} of {} records matched", t.matched, t.records)?;
    Ok(())
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

fn open(path: &Path, args: &TriageArgs, app: &mut App) -> anyhow::Result<Input> {
    let stdin = path.as_os_str() == "-";
    let name = if stdin {
        "-".to_string()
    } else {
        path.display().to_string()
    };
    let shown = crate::term::sanitize(&name, false);
    let raw: Box<dyn io::Read + Send> = if stdin {
        Box::new(io::stdin())
    } else {
        if path.is_dir() {
            return Err(
                UserError::new(format!("{shown} is a directory, not a ticket export"))
                    .hint("give the export's file (CSV, JSON Lines or text)")
                    .into(),
            );
        }
        match File::open(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                return Err(
                    UserError::new(format!("cannot read {shown}: {}", io_reason(&e)))
                        .hint("check the path; `-` reads standard input")
                        .into(),
                )
            }
        }
    };
    let mut text = match reader::open_text(raw) {
        Ok(t) => t,
        Err(OpenError::Binary) => {
            return Err(UserError::new(format!(
                "{shown} looks like a binary file, not a ticket export"
            ))
            .hint("export the tickets as CSV, JSON Lines or plain text (UTF-8 or UTF-16)")
            .into())
        }
        Err(OpenError::Io(e)) => {
            return Err(UserError::new(format!("cannot read {shown}: {}", io_reason(&e))).into())
        }
    };
    let kind = reader::detect_kind(args.input, (!stdin).then_some(name.as_str()), &mut *text)
        .map_err(|e| UserError::new(format!("cannot read {shown}: {}", io_reason(&e))))?;
    let id = args.id_column.clone();
    let records: Box<dyn Source> = match kind {
        InputKind::Csv => {
            let mut warnings = Vec::new();
            let csv = reader::Csv::new(text, id.as_deref(), &mut |w| warnings.push(w))
                .map_err(|e| UserError::new(format!("cannot read {shown}: {}", io_reason(&e))))?;
            for w in warnings {
                app.note(&format!("warning: {shown}: {w}"))?;
            }
            Box::new(FromRecords(Box::new(csv)))
        }
        InputKind::Jsonl => Box::new(FromRecords(Box::new(reader::JsonLines::new(text, id)))),
        InputKind::Text | InputKind::Auto if args.paragraphs => {
            Box::new(FromRecords(Box::new(reader::Paragraphs::new(text))))
        }
        InputKind::Text | InputKind::Auto => Box::new(LineChunks::new(text)),
    };
    Ok(Input { name, records })
}

/// The OS reason without the `(os error N)` suffix.
fn io_reason(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
