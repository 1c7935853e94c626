//! The forms of a lead list that do not depend on the destination: CSV (RFC 4180, for
//! Excel) and the count per day with a bar each.

use super::cmd::Read;
use super::tally::{Days, Tally};
use super::{day, rfc3339, Listed};
use crate::cli::LeadsFormat;
use crate::term::Verbosity;
use colored::Colorize;
use serde::Serialize;
use serde_json::json;
use std::io::{self, Write};

/// The CSV columns, in order.
pub const CSV_HEADER: [&str; 12] = [
    "destination",
    "created",
    "offer",
    "action_code",
    "lead_source",
    "first_name",
    "last_name",
    "company",
    "email",
    "country",
    "test",
    "id",
];

/// Writes leads as CSV: a header, one row a lead, fields quoted where RFC 4180 needs it, CRLF
/// line ends. Rows are written as they come: a long list streams.
pub struct CsvOut<W: Write> {
    w: csv::Writer<W>,
}

impl<W: Write> CsvOut<W> {
    pub fn new(out: W) -> io::Result<CsvOut<W>> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(out);
        w.write_record(CSV_HEADER).map_err(io::Error::other)?;
        Ok(CsvOut { w })
    }

    /// One lead of destination `dest`.
    pub fn write(&mut self, dest: &str, l: &Listed) -> io::Result<()> {
        let created = l.created.map(rfc3339).unwrap_or_default();
        self.w
            .write_record([
                inert(dest).as_ref(),
                created.as_str(),
                &inert(&l.offer),
                &inert(&l.action_code),
                &inert(&l.lead_source),
                &inert(&l.first_name),
                &inert(&l.last_name),
                &inert(&l.company),
                &inert(&l.email),
                &inert(&l.country),
                if l.test { "true" } else { "false" },
                &inert(&l.id),
            ])
            .map_err(io::Error::other)
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.flush()
    }
}

impl<W: Write> CsvOut<W> {
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }
}

/// A field as Excel may show it without running it: the customer types these fields, and a
/// cell starting with `=`, `+`, `-`, `@`, tab or CR is a formula to Excel (CSV injection, as
/// OWASP describes it). Such a field gets a leading `'`, which Excel shows as text.
fn inert(field: &str) -> std::borrow::Cow<'_, str> {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}").into()
    } else {
        field.into()
    }
}

/// Leads per day from the day of `since` to the day of `now` (UTC), every day listed, those
/// without a lead as 0; leads without a time, or outside the period, are not counted.
pub fn per_day(
    times: impl IntoIterator<Item = Option<i64>>,
    since: i64,
    now: i64,
) -> Vec<(String, u64)> {
    let mut days = super::tally::Days::new(since, now);
    for t in times.into_iter().flatten() {
        days.add(t);
    }
    days.list()
}

/// One line a day: the date, the count, and a bar scaled to the busiest day (`width` cells
/// at most; a day with any lead gets at least one).
pub fn bars(days: &[(String, u64)], width: usize) -> Vec<String> {
    let max = days.iter().map(|d| d.1).max().unwrap_or(0);
    let digits = max.to_string().len();
    days.iter()
        .map(|(d, n)| {
            let cells = if max == 0 {
                0
            } else {
                ((*n as usize * width).div_ceil(max as usize)).min(width)
            };
            format!("{d}  {n:>digits$}  {}", "█".repeat(cells))
                .trim_end()
                .to_string()
        })
        .collect()
}

/// The sum of one destination's read, as every format reports it.
#[derive(Debug, Clone)]
pub struct Summary {
    pub destination: String,
    pub kind: &'static str,
    pub read: Read,
    /// What was read, in words ("table MarketplaceLeads of account contoso").
    pub what: Option<String>,
    /// Why it was skipped or failed (no secret in it).
    pub reason: Option<String>,
    /// The period's start (`--since`, or the `--count` default).
    pub since: Option<i64>,
    pub leads: u64,
    pub tests: u64,
    /// Leads printed (the newest `--limit`, or all when streamed).
    pub shown: u64,
    pub last: Option<i64>,
    pub last_customer: Option<i64>,
    /// With a period and no customer lead in it: the last ones before it.
    pub last_ever: Option<i64>,
    pub last_customer_ever: Option<i64>,
    pub days: Option<Vec<(String, u64)>>,
    pub now: i64,
}

impl Summary {
    pub fn new(dest: &crate::config::Destination, since: Option<i64>, now: i64) -> Summary {
        Summary {
            destination: dest.name.clone(),
            kind: dest.kind(),
            read: Read::Done,
            what: None,
            reason: None,
            since,
            leads: 0,
            tests: 0,
            shown: 0,
            last: None,
            last_customer: None,
            last_ever: None,
            last_customer_ever: None,
            days: None,
            now,
        }
    }

    pub fn take(&mut self, t: &Tally) {
        self.leads = t.leads;
        self.tests = t.tests;
        self.last = t.last;
        self.last_customer = t.last_customer;
        self.days = t.days.as_ref().map(Days::list);
    }

    /// LC601 when the read worked and no customer lead is in the period.
    pub fn lc601(&self) -> Option<String> {
        if self.read != Read::Done || self.last_customer.is_some() {
            return None;
        }
        let period = match self.since {
            Some(s) => format!("since {} ({})", day(s), ago(self.now - s)),
            None => "yet".to_string(),
        };
        let mut text = if self.tests > 0 {
            format!(
                "no customer lead {period}, only {} test lead{}: the connection works; look at the listing and at Partner Center's Referrals workspace",
                self.tests,
                plural(self.tests)
            )
        } else {
            format!("no lead {period}")
        };
        if self.since.is_some() {
            match self.last_customer_ever {
                Some(t) => text.push_str(&format!(
                    "; the last customer lead: {} ({} ago)",
                    human_time(t),
                    ago(self.now - t)
                )),
                None => text.push_str("; no customer lead before it either"),
            }
        }
        Some(text)
    }
}

/// `3 days`, `5 hours`, `12 minutes`.
pub fn ago(secs: i64) -> String {
    let secs = secs.max(0);
    let (n, unit) = if secs >= 2 * 86_400 {
        (secs / 86_400, "day")
    } else if secs >= 2 * 3600 {
        (secs / 3600, "hour")
    } else {
        (secs / 60, "minute")
    };
    format!("{n} {unit}{}", plural(n as u64))
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `2026-12-07 06:01 UTC`.
pub fn human_time(t: i64) -> String {
    let s = rfc3339(t);
    format!("{} {} UTC", &s[..10], &s[11..16])
}

/// `1,050`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[derive(Serialize)]
struct LeadLine<'a> {
    destination: &'a str,
    #[serde(flatten)]
    lead: &'a Listed,
}

/// Columns of the human list: (title, width, share). Columns with a share divide what the
/// fixed ones leave of the line between them.
const COLUMNS: [(&str, usize, usize); 7] = [
    ("CREATED (UTC)", 16, 0),
    ("OFFER", 0, 3),
    ("ACTION", 6, 0),
    ("NAME", 0, 3),
    ("COMPANY", 0, 3),
    ("E-MAIL", 0, 4),
    ("COUNTRY", 7, 0),
];

/// The width of each column for a line of `width` columns (at least 8 for a shared one).
pub fn column_widths(width: usize) -> [usize; 7] {
    // Indent, gaps, and the test mark.
    let fixed: usize = 2 + 2 * COLUMNS.len() + 4 + COLUMNS.iter().map(|c| c.1).sum::<usize>();
    let shares: usize = COLUMNS.iter().map(|c| c.2).sum();
    let room = width.saturating_sub(fixed);
    COLUMNS.map(|(_, w, share)| {
        if share == 0 {
            w
        } else {
            (room * share / shares).clamp(8, 40)
        }
    })
}

/// `text` made safe for a terminal and cut to `width` columns (with `…`), padded.
fn cell(text: &str, width: usize) -> String {
    let clean = crate::term::sanitize(text, false);
    let mut out = String::new();
    let mut w = 0;
    for c in clean.chars() {
        let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if w + cw > width {
            // Room for the ellipsis: drop what it would overlap.
            while w + 1 > width {
                let Some(last) = out.pop() else { break };
                w -= unicode_width::UnicodeWidthChar::width(last).unwrap_or(0);
            }
            out.push('…');
            w += 1;
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push_str(&" ".repeat(width.saturating_sub(w)));
    out
}

/// A customer's name as it is written: family name first, without a space, for Chinese,
/// Japanese and Korean names (王伟, 김민준); given name first otherwise.
pub fn display_name(first: &str, last: &str) -> String {
    let east_asian = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| {
                matches!(c,
                    '\u{1100}'..='\u{11FF}'     // Hangul Jamo
                    | '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
                    | '\u{3400}'..='\u{4DBF}'   // CJK Extension A
                    | '\u{4E00}'..='\u{9FFF}'   // CJK Unified Ideographs
                    | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
                    | '\u{F900}'..='\u{FAFF}') // CJK compatibility ideographs
            })
    };
    if east_asian(first) && east_asian(last) {
        format!("{last}{first}")
    } else {
        format!("{first} {last}").trim().to_string()
    }
}

/// One lead as a line of the human list, columns as `widths`.
pub fn human_line(l: &Listed, widths: &[usize; 7]) -> String {
    let created = l
        .created
        .map(|t| rfc3339(t)[..16].replace('T', " "))
        .unwrap_or_else(|| "-".into());
    let name = display_name(&l.first_name, &l.last_name);
    let fields = [
        created.as_str(),
        &l.offer,
        &l.action_code,
        &name,
        &l.company,
        &l.email,
        &l.country,
    ];
    let mut line = String::from("  ");
    for (f, w) in fields.iter().zip(widths) {
        line.push_str(&cell(f, *w));
        line.push_str("  ");
    }
    if l.test {
        line.push_str("test");
    }
    line.trim_end().to_string()
}

/// Where [`Out`] writes: the stream itself, or a CSV writer around it.
enum Sink<'a> {
    Raw(&'a mut (dyn Write + Send)),
    Csv(Box<CsvOut<&'a mut (dyn Write + Send)>>),
}

/// Writes leads and summaries in one of the formats.
pub struct Out<'a> {
    format: LeadsFormat,
    sink: Sink<'a>,
    /// The destination whose section is open (human form).
    section: Option<String>,
    widths: [usize; 7],
    width: usize,
}

impl<'a> Out<'a> {
    /// With CSV, the header is written at once (also when no lead follows); with `count`,
    /// CSV rows are days.
    pub fn new(
        format: LeadsFormat,
        count: bool,
        w: &'a mut (dyn Write + Send),
    ) -> io::Result<Out<'a>> {
        let sink = if format == LeadsFormat::Csv && !count {
            Sink::Csv(Box::new(CsvOut::new(w)?))
        } else {
            if format == LeadsFormat::Csv {
                w.write_all(b"destination,day,leads\r\n")?;
            }
            Sink::Raw(w)
        };
        Ok(Out {
            format,
            sink,
            section: None,
            widths: column_widths(crate::term::out_width()),
            width: crate::term::out_width(),
        })
    }

    fn raw(&mut self) -> io::Result<&mut (dyn Write + Send)> {
        match &mut self.sink {
            Sink::Raw(w) => Ok(&mut **w),
            Sink::Csv(_) => Err(io::Error::other("a CSV list has no free-form output")),
        }
    }

    fn open_section(&mut self, dest: &str, kind: &str, columns: bool) -> io::Result<()> {
        if self.section.as_deref() == Some(dest) {
            return Ok(());
        }
        self.section = Some(dest.to_string());
        let widths = self.widths;
        let w = self.raw()?;
        // The type, unless the name already says it (`--type` names a destination by it).
        let kind = if dest == kind {
            String::new()
        } else {
            format!(" {}", kind.dimmed())
        };
        writeln!(w, "{}{kind}", crate::term::sanitize(dest, false).bold())?;
        if columns {
            let mut head = String::from("  ");
            for ((t, ..), width) in COLUMNS.iter().zip(widths) {
                head.push_str(&cell(t, width));
                head.push_str("  ");
            }
            writeln!(w, "{}", head.trim_end().dimmed())?;
        }
        Ok(())
    }

    /// One lead of destination `dest` (of type `kind`).
    pub fn lead(&mut self, dest: &str, kind: &str, l: &Listed) -> io::Result<()> {
        match self.format {
            LeadsFormat::Human => {
                self.open_section(dest, kind, true)?;
                let line = human_line(l, &self.widths);
                writeln!(self.raw()?, "{line}")
            }
            LeadsFormat::Json => {
                let w = self.raw()?;
                serde_json::to_writer(
                    &mut *w,
                    &LeadLine {
                        destination: dest,
                        lead: l,
                    },
                )?;
                w.write_all(b"\n")
            }
            LeadsFormat::Csv => match &mut self.sink {
                Sink::Csv(csv) => csv.write(dest, l),
                Sink::Raw(_) => Ok(()),
            },
        }
    }

    /// The end of a destination: its summary (human and JSON on stdout; with CSV, its
    /// counts there and its words on stderr).
    pub fn summary(
        &mut self,
        s: &Summary,
        err: &mut dyn Write,
        verbosity: Verbosity,
    ) -> io::Result<()> {
        match self.format {
            LeadsFormat::Json => {
                let w = self.raw()?;
                serde_json::to_writer(&mut *w, &summary_json(s))?;
                w.write_all(b"\n")
            }
            LeadsFormat::Human => {
                self.open_section(&s.destination, s.kind, false)?;
                let width = self.width;
                let w = self.raw()?;
                if let Some(days) = &s.days {
                    for line in bars(days, 40) {
                        writeln!(w, "  {line}")?;
                    }
                }
                for line in summary_lines(s) {
                    for l in crate::term::wrap(&line, width, "  ", "    ") {
                        writeln!(w, "{l}")?;
                    }
                }
                writeln!(w)
            }
            LeadsFormat::Csv => {
                match &mut self.sink {
                    Sink::Csv(csv) => csv.flush()?,
                    Sink::Raw(w) => {
                        let mut rows = csv::WriterBuilder::new()
                            .terminator(csv::Terminator::CRLF)
                            .has_headers(false)
                            .from_writer(&mut **w);
                        for (d, n) in s.days.iter().flatten() {
                            rows.write_record([inert(&s.destination).as_ref(), d, &n.to_string()])
                                .map_err(io::Error::other)?;
                        }
                        rows.flush()?;
                    }
                }
                if verbosity > Verbosity::Quiet || s.read != Read::Done {
                    for line in summary_lines(s) {
                        writeln!(
                            err,
                            "{}: {}",
                            crate::term::sanitize(&s.destination, false),
                            line
                        )?;
                    }
                }
                Ok(())
            }
        }
    }

    /// Hands on what was written so far (a watch prints each lead as it arrives).
    pub fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Csv(csv) => csv.flush(),
            Sink::Raw(w) => w.flush(),
        }
    }

    pub fn finish(self) -> io::Result<()> {
        match self.sink {
            Sink::Csv(csv) => csv.finish(),
            Sink::Raw(w) => w.flush(),
        }
    }
}

/// The summary's lines in words.
pub fn summary_lines(s: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    match s.read {
        Read::Skipped => {
            lines.push(format!(
                "{} {}",
                "skipped:".yellow(),
                s.reason.as_deref().unwrap_or_default()
            ));
            return lines;
        }
        Read::Failed => {
            lines.push(format!(
                "{} {}",
                "could not read:".red(),
                s.reason.as_deref().unwrap_or_default()
            ));
            if !s
                .reason
                .as_deref()
                .unwrap_or_default()
                .contains("leadcheck diagnose")
            {
                lines.push(format!(
                    "next: leadcheck diagnose {} (it names the step that fails)",
                    crate::term::shell_word(&s.destination)
                ));
            }
            return lines;
        }
        Read::Done => {}
    }
    let period = match s.since {
        Some(t) => format!(" since {}", day(t)),
        None => String::new(),
    };
    let what = s
        .what
        .as_deref()
        .map(|w| format!(" in {w}"))
        .unwrap_or_default();
    let tests = if s.tests > 0 {
        format!(" ({} test lead{})", thousands(s.tests), plural(s.tests))
    } else {
        String::new()
    };
    let mut first = format!(
        "{} lead{}{what}{period}{tests}",
        thousands(s.leads),
        plural(s.leads)
    );
    if s.days.is_none() && s.shown < s.leads {
        first.push_str(&format!(
            "; showing the {} newest (--limit N for more, 0 for all)",
            thousands(s.shown)
        ));
    }
    lines.push(first);
    if let Some(t) = s.last_customer {
        lines.push(format!(
            "the newest customer lead: {} ({} ago)",
            human_time(t),
            ago(s.now - t)
        ));
    }
    if let Some(text) = s.lc601() {
        lines.push(format!("{} {text}", "LC601".yellow().bold()));
        if s.tests == 0 {
            lines.push(format!(
                "next: leadcheck diagnose {} sends a test lead and names the step that fails; leadcheck explain LC601 lists the other causes",
                crate::term::shell_word(&s.destination)
            ));
        } else {
            lines.push("next: leadcheck explain LC601".to_string());
        }
    }
    lines
}

/// The JSON summary document (PRODUCT.md: `{"summary":{"destination","leads","last"},...}`).
pub fn summary_json(s: &Summary) -> serde_json::Value {
    let time = |t: Option<i64>| t.map(rfc3339);
    let status = match s.read {
        Read::Done => "read",
        Read::Skipped => "skipped",
        Read::Failed => "failed",
    };
    let mut sum = json!({
        "destination": s.destination,
        "type": s.kind,
        "status": status,
        "leads": s.leads,
        "test_leads": s.tests,
        "last": time(s.last.or(s.last_ever)),
        "last_customer": time(s.last_customer.or(s.last_customer_ever)),
        "since": time(s.since),
    });
    if let Some(r) = &s.reason {
        sum["reason"] = r.as_str().into();
    }
    if let Some(days) = &s.days {
        sum["days"] = days
            .iter()
            .map(|(d, n)| json!({"day": d, "leads": n}))
            .collect();
    }
    if let Some(text) = s.lc601() {
        sum["finding"] = json!({"code": "LC601", "evidence": text});
    }
    json!({
        "summary": sum,
        "schema_version": 1,
        "leadcheck": env!("CARGO_PKG_VERSION"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leads::{days_from_civil, parse_time};

    #[test]
    fn csv_is_rfc4180_and_reads_back() {
        let tricky = Listed {
            id: "r1".into(),
            created: parse_time("2026-11-02T10:11:12Z"),
            offer: "Contoso \"Pro\", EU".into(),
            first_name: "Zażółć\r\nGęślą".into(),
            company: "株式会社 예시 😀".into(),
            ..Listed::default()
        };
        let mut buf = Vec::new();
        let mut out = CsvOut::new(&mut buf).unwrap();
        out.write("crm", &tricky).unwrap();
        out.write("=cmd|' /C calc'!A0", &Listed::default()).unwrap();
        out.finish().unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.starts_with("destination,created,offer,action_code,"));
        assert!(text.contains("\"Contoso \"\"Pro\"\", EU\""), "{text}");
        assert!(text.ends_with("\r\n"));
        // Read back by a CSV parser: the same fields.
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][0], "crm");
        assert_eq!(&rows[0][1], "2026-11-02T10:11:12Z");
        assert_eq!(&rows[0][2], tricky.offer);
        assert_eq!(&rows[0][5], tricky.first_name);
        assert_eq!(&rows[0][7], tricky.company);
        // A formula is written as text.
        assert_eq!(&rows[1][0], "'=cmd|' /C calc'!A0");
        assert_eq!(&rows[1][1], "");
    }

    #[test]
    fn names_in_their_own_order() {
        assert_eq!(display_name("민준", "김"), "김민준");
        assert_eq!(display_name("伟", "王"), "王伟");
        assert_eq!(display_name("Ana", "Silva"), "Ana Silva");
        assert_eq!(display_name("Łukasz", ""), "Łukasz");
        assert_eq!(display_name("", "王"), "王");
        assert_eq!(
            display_name("MSFT_TEST_1", "MSFT_TEST_1"),
            "MSFT_TEST_1 MSFT_TEST_1"
        );
    }

    #[test]
    fn days_and_bars() {
        let d = |m, dd, h: i64| days_from_civil(2026, m, dd).unwrap() + h * 3600;
        let since = d(11, 30, 12);
        let now = d(12, 3, 8);
        let times = [
            Some(d(11, 30, 11)),
            Some(d(11, 30, 13)),
            None,
            Some(d(12, 2, 1)),
            Some(d(12, 2, 2)),
            Some(d(12, 2, 3)),
            Some(d(12, 5, 0)),
        ];
        let days = per_day(times, since, now);
        let counts: Vec<u64> = days.iter().map(|x| x.1).collect();
        // 11:00 on the first day is before the period; the 5th is after it.
        assert_eq!(counts, [1, 0, 3, 0]);
        assert_eq!(days[0].0, "2026-11-30");
        assert_eq!(days[3].0, "2026-12-03");
        let lines = bars(&days, 10);
        assert_eq!(lines[0], "2026-11-30  1  ████");
        assert_eq!(lines[1], "2026-12-01  0");
        assert_eq!(lines[2], "2026-12-02  3  ██████████");
        assert!(bars(&[("2026-12-01".into(), 0)], 10)[0].ends_with(" 0"));
    }
}
