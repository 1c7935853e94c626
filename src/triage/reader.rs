//! Reading ticket exports record by record, in bounded memory: text (a line or a paragraph
//! per record), JSON Lines (every string field) and CSV (RFC 4180, every column). Input is
//! UTF-8 (a BOM is skipped) or UTF-16 with a BOM; invalid UTF-8 is decoded lossily. A record
//! longer than [`MAX_RECORD`] keeps its first MiB and is marked truncated; the rest is read
//! and dropped, so a 100 MB line costs 1 MiB.

use crate::cli::InputKind;
use encoding_rs::{Encoding, UTF_16BE, UTF_16LE};
use std::io::{self, BufRead, BufReader, Read};

/// The longest record matched; the rest is dropped.
pub const MAX_RECORD: usize = 1 << 20;
const BUF: usize = 256 * 1024;

/// One record of an export.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The text to match (every text field, joined by newlines).
    pub text: String,
    pub id: Option<String>,
    pub truncated: bool,
    /// Invalid UTF-8 was replaced.
    pub lossy: bool,
}

/// What went wrong opening an input, for a clear message.
#[derive(Debug)]
pub enum OpenError {
    Io(io::Error),
    Binary,
}

/// Decodes UTF-16 into UTF-8 as it is read.
struct Utf16<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<R: Read> Read for Utf16<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done {
                return Ok(0);
            }
            self.raw.resize(64 * 1024, 0);
            let n = self.inner.read(&mut self.raw)?;
            let last = n == 0;
            self.out.clear();
            self.out.resize(
                self.decoder.max_utf8_buffer_length(n).unwrap_or(4 * n + 16),
                0,
            );
            let (_, _, written, _) =
                self.decoder
                    .decode_to_utf8(&self.raw[..n], &mut self.out, last);
            self.out.truncate(written);
            self.pos = 0;
            self.done = last;
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Opens a byte stream as UTF-8 text: skips a UTF-8 BOM, decodes UTF-16 (with a BOM, or
/// recognized by its zero bytes), refuses binary data.
pub fn open_text(inner: Box<dyn Read + Send>) -> Result<Box<dyn BufRead + Send>, OpenError> {
    let mut r = BufReader::with_capacity(BUF, inner);
    let head = peek(&mut r, 4096).map_err(OpenError::Io)?;
    let utf16: Option<(&'static Encoding, bool)> = if head.starts_with(&[0xff, 0xfe]) {
        Some((UTF_16LE, true))
    } else if head.starts_with(&[0xfe, 0xff]) {
        Some((UTF_16BE, true))
    } else if head.len() >= 8 && head.iter().skip(1).step_by(2).all(|&b| b == 0) {
        Some((UTF_16LE, false))
    } else if head.len() >= 8 && head.iter().step_by(2).all(|&b| b == 0) {
        Some((UTF_16BE, false))
    } else {
        None
    };
    if let Some((enc, _bom)) = utf16 {
        let decoder = enc.new_decoder_with_bom_removal();
        let dec = Utf16 {
            inner: r,
            decoder,
            raw: Vec::new(),
            out: Vec::new(),
            pos: 0,
            done: false,
        };
        return Ok(Box::new(BufReader::with_capacity(BUF, dec)));
    }
    if head.contains(&0) {
        return Err(OpenError::Binary);
    }
    if head.starts_with(&[0xef, 0xbb, 0xbf]) {
        r.consume(3);
    }
    Ok(Box::new(r))
}

/// Up to `n` bytes from the start of the stream, without consuming them.
fn peek<R: Read>(r: &mut BufReader<R>, n: usize) -> io::Result<Vec<u8>> {
    // BufReader fills at most once per call; a short first read is fine for sniffing.
    let buf = r.fill_buf()?;
    Ok(buf[..buf.len().min(n)].to_vec())
}

/// The kind of an input: by extension for files; standard input is JSON Lines when its first
/// line is a JSON object.
pub fn detect_kind(
    requested: InputKind,
    name: Option<&str>,
    r: &mut dyn BufRead,
) -> io::Result<InputKind> {
    if requested != InputKind::Auto {
        return Ok(requested);
    }
    if let Some(name) = name {
        let lower = name.to_ascii_lowercase();
        return Ok(if lower.ends_with(".csv") {
            InputKind::Csv
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            InputKind::Jsonl
        } else {
            InputKind::Text
        });
    }
    let buf = r.fill_buf()?;
    let first = buf
        .split(|&b| b == b'\n')
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        .unwrap_or(&[]);
    let first = first.trim_ascii();
    let object = first.starts_with(b"{")
        && (serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(first).is_ok()
            || first.len() >= buf.len().saturating_sub(1));
    Ok(if object {
        InputKind::Jsonl
    } else {
        InputKind::Text
    })
}

/// `fill_buf`, retried when a signal interrupts the read.
fn fill<'a>(r: &'a mut (dyn BufRead + Send + '_)) -> io::Result<&'a [u8]> {
    while let Err(e) = r.fill_buf() {
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    // Buffered now (or at the end): this call does not read again unless it must.
    r.fill_buf()
}

/// Reads one line (without its `\n` and a trailing `\r`), keeping at most [`MAX_RECORD`]
/// bytes. `None` at the end of input. Returns whether the line was cut.
pub(crate) fn read_line(
    r: &mut (dyn BufRead + Send + '_),
    line: &mut Vec<u8>,
) -> io::Result<Option<bool>> {
    line.clear();
    let mut truncated = false;
    let mut any = false;
    loop {
        let buf = fill(r)?;
        if buf.is_empty() {
            break;
        }
        any = true;
        let (chunk, used, end) = match memchr::memchr(b'\n', buf) {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = MAX_RECORD.saturating_sub(line.len());
        if chunk.len() > room {
            truncated = true;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        r.consume(used);
        if end {
            break;
        }
    }
    if !any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(truncated))
}

/// Bytes to text: UTF-8, or lossily with replacement characters. A record cut at
/// [`MAX_RECORD`] may end inside a character; that is not counted as invalid.
pub(crate) fn to_text(bytes: Vec<u8>, truncated: bool) -> (String, bool) {
    match String::from_utf8(bytes) {
        Ok(s) => (s, false),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            if truncated && e_is_tail(&bytes, valid) {
                let s = String::from_utf8_lossy(&bytes[..valid]).into_owned();
                return (s, false);
            }
            (String::from_utf8_lossy(&bytes).into_owned(), true)
        }
    }
}

/// The only invalid bytes are an incomplete character at the very end.
fn e_is_tail(bytes: &[u8], valid: usize) -> bool {
    bytes.len() - valid < 4 && std::str::from_utf8(&bytes[valid..]).is_err() && {
        let tail = &bytes[valid..];
        tail[0] >= 0xc0 && tail[1..].iter().all(|b| (0x80..0xc0).contains(b))
    }
}

/// A source of records.
pub trait Records {
    /// The next record, or `None` at the end. Warnings (a bad JSON line, a ragged CSV row)
    /// go to `warn`.
    fn next_record(&mut self, warn: &mut dyn FnMut(String)) -> io::Result<Option<Record>>;
}

/// Text, one record per line.
pub struct Lines {
    r: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
}

impl Lines {
    pub fn new(r: Box<dyn BufRead + Send>) -> Lines {
        Lines { r, buf: Vec::new() }
    }
}

impl Records for Lines {
    fn next_record(&mut self, _warn: &mut dyn FnMut(String)) -> io::Result<Option<Record>> {
        let Some(truncated) = read_line(&mut *self.r, &mut self.buf)? else {
            return Ok(None);
        };
        let (text, lossy) = to_text(std::mem::take(&mut self.buf), truncated);
        Ok(Some(Record {
            text,
            id: None,
            truncated,
            lossy,
        }))
    }
}

/// Text, records separated by blank lines.
pub struct Paragraphs {
    r: Box<dyn BufRead + Send>,
    line: Vec<u8>,
}

impl Paragraphs {
    pub fn new(r: Box<dyn BufRead + Send>) -> Paragraphs {
        Paragraphs {
            r,
            line: Vec::new(),
        }
    }
}

impl Records for Paragraphs {
    fn next_record(&mut self, _warn: &mut dyn FnMut(String)) -> io::Result<Option<Record>> {
        let mut para: Vec<u8> = Vec::new();
        let mut truncated = false;
        while let Some(cut) = read_line(&mut *self.r, &mut self.line)? {
            let blank = self.line.iter().all(|b| b.is_ascii_whitespace());
            if blank {
                if para.is_empty() {
                    continue;
                }
                break;
            }
            if !para.is_empty() {
                para.push(b'\n');
            }
            let room = MAX_RECORD.saturating_sub(para.len());
            if cut || self.line.len() > room {
                truncated = true;
            }
            para.extend_from_slice(&self.line[..self.line.len().min(room)]);
        }
        if para.is_empty() {
            return Ok(None);
        }
        let (text, lossy) = to_text(para, truncated);
        Ok(Some(Record {
            text,
            id: None,
            truncated,
            lossy,
        }))
    }
}

/// The names a record's id goes by when `--id-column` is not given.
const ID_NAMES: [&str; 4] = ["id", "ticket", "ticket_id", "case"];

fn is_id_name(name: &str, wanted: Option<&str>) -> bool {
    let name = name.trim();
    match wanted {
        Some(w) => name.eq_ignore_ascii_case(w),
        None => ID_NAMES.iter().any(|n| name.eq_ignore_ascii_case(n)),
    }
}

/// JSON Lines: every string field of each object, nested ones too.
pub struct JsonLines {
    r: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line_no: u64,
    id_field: Option<String>,
}

impl JsonLines {
    pub fn new(r: Box<dyn BufRead + Send>, id_field: Option<String>) -> JsonLines {
        JsonLines {
            r,
            buf: Vec::new(),
            line_no: 0,
            id_field,
        }
    }
}

fn collect_strings(v: &serde_json::Value, out: &mut String) {
    match v {
        serde_json::Value::String(s) if out.len() + s.len() <= MAX_RECORD => {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(s);
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

impl Records for JsonLines {
    fn next_record(&mut self, warn: &mut dyn FnMut(String)) -> io::Result<Option<Record>> {
        loop {
            let Some(truncated) = read_line(&mut *self.r, &mut self.buf)? else {
                return Ok(None);
            };
            self.line_no += 1;
            if self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            if truncated {
                // A cut line is no longer JSON: match its first MiB as text.
                let (text, lossy) = to_text(std::mem::take(&mut self.buf), true);
                return Ok(Some(Record {
                    text,
                    id: None,
                    truncated,
                    lossy,
                }));
            }
            return Ok(Some(
                match serde_json::from_slice::<serde_json::Value>(&self.buf) {
                    Ok(v) => {
                        let mut text = String::new();
                        collect_strings(&v, &mut text);
                        let id = v.as_object().and_then(|o| {
                            o.iter()
                                .find(|(k, _)| is_id_name(k, self.id_field.as_deref()))
                                .and_then(|(_, v)| match v {
                                    serde_json::Value::String(s) => Some(s.clone()),
                                    serde_json::Value::Number(n) => Some(n.to_string()),
                                    _ => None,
                                })
                        });
                        Record {
                            text,
                            id,
                            truncated: false,
                            lossy: false,
                        }
                    }
                    Err(e) => {
                        warn(format!(
                            "line {}: not valid JSON ({e}); matched as plain text",
                            self.line_no
                        ));
                        let (text, lossy) = to_text(std::mem::take(&mut self.buf), false);
                        Record {
                            text,
                            id: None,
                            truncated: false,
                            lossy,
                        }
                    }
                },
            ));
        }
    }
}

/// CSV (RFC 4180): a header row, quoted fields with doubled quotes and line breaks, `,` or
/// `;` (whichever the header uses more), ragged rows tolerated with a warning.
pub struct Csv {
    r: Box<dyn BufRead + Send>,
    delim: u8,
    header: Vec<String>,
    id_col: Option<usize>,
    line_no: u64,
    ragged: u64,
}

/// A parsed CSV row, bounded.
struct Row {
    fields: Vec<Vec<u8>>,
    size: usize,
    truncated: bool,
    first_line: u64,
}

impl Csv {
    /// Reads the header (none in an empty input).
    pub fn new(
        mut r: Box<dyn BufRead + Send>,
        id_column: Option<&str>,
        warn: &mut dyn FnMut(String),
    ) -> io::Result<Csv> {
        let delim = {
            let buf = r.fill_buf()?;
            let line = buf.split(|&b| b == b'\n').next().unwrap_or(&[]);
            let (mut commas, mut semis, mut tabs, mut quoted) = (0, 0, 0, false);
            for &b in line {
                match b {
                    b'"' => quoted = !quoted,
                    b',' if !quoted => commas += 1,
                    b';' if !quoted => semis += 1,
                    b'\t' if !quoted => tabs += 1,
                    _ => {}
                }
            }
            if tabs > commas && tabs > semis {
                b'\t'
            } else if semis > commas {
                b';'
            } else {
                b','
            }
        };
        let mut csv = Csv {
            r,
            delim,
            header: Vec::new(),
            id_col: None,
            line_no: 0,
            ragged: 0,
        };
        if let Some(row) = csv.row()? {
            csv.header = row
                .fields
                .into_iter()
                .map(|f| String::from_utf8_lossy(&f).trim().to_string())
                .collect();
        }
        csv.id_col = csv.header.iter().position(|h| is_id_name(h, id_column));
        if let (Some(want), None) = (id_column, csv.id_col) {
            if !csv.header.is_empty() {
                warn(format!(
                    "no column named `{want}` (columns: {}); records have no id",
                    csv.header.join(", ")
                ));
            }
        }
        Ok(csv)
    }

    /// One row, up to [`MAX_RECORD`] bytes of field data; the rest is parsed and dropped.
    fn row(&mut self) -> io::Result<Option<Row>> {
        let d = self.delim;
        let mut row = Row {
            fields: vec![Vec::new()],
            size: 0,
            truncated: false,
            first_line: self.line_no + 1,
        };
        let mut quoted = false;
        // In a quoted field, a quote was just seen (an escaped quote or the closing one).
        let mut quote_seen = false;
        let mut at_field_start = true;
        let mut any = false;
        loop {
            let buf = fill(&mut *self.r)?;
            if buf.is_empty() {
                break;
            }
            any = true;
            let mut used = 0;
            let mut ended = false;
            for &b in buf {
                used += 1;
                if quoted {
                    if quote_seen {
                        quote_seen = false;
                        if b == b'"' {
                            push(&mut row, b);
                            continue;
                        }
                        quoted = false;
                        // fall through: b is read as if outside quotes
                    } else if b == b'"' {
                        quote_seen = true;
                        continue;
                    } else {
                        if b == b'\n' {
                            self.line_no += 1;
                        }
                        push(&mut row, b);
                        continue;
                    }
                }
                match b {
                    b'"' if at_field_start => {
                        quoted = true;
                        at_field_start = false;
                    }
                    b'\n' => {
                        self.line_no += 1;
                        ended = true;
                        break;
                    }
                    b if b == d => {
                        trim_cr(&mut row);
                        row.fields.push(Vec::new());
                        at_field_start = true;
                    }
                    b => {
                        at_field_start = false;
                        push(&mut row, b);
                    }
                }
            }
            self.r.consume(used);
            if ended {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        trim_cr(&mut row);
        Ok(Some(row))
    }
}

fn push(row: &mut Row, b: u8) {
    if row.size < MAX_RECORD {
        if let Some(f) = row.fields.last_mut() {
            f.push(b);
        }
        row.size += 1;
    } else {
        row.truncated = true;
    }
}

fn trim_cr(row: &mut Row) {
    if let Some(f) = row.fields.last_mut() {
        if f.last() == Some(&b'\r') {
            f.pop();
        }
    }
}

impl Records for Csv {
    fn next_record(&mut self, warn: &mut dyn FnMut(String)) -> io::Result<Option<Record>> {
        loop {
            let Some(row) = self.row()? else {
                return Ok(None);
            };
            if row.fields.len() == 1 && row.fields[0].iter().all(|b| b.is_ascii_whitespace()) {
                continue; // a blank line is not a record
            }
            if !self.header.is_empty() && row.fields.len() != self.header.len() {
                self.ragged += 1;
                if self.ragged <= 5 {
                    warn(format!(
                        "line {}: {} fields where the header has {}; read as they are",
                        row.first_line,
                        row.fields.len(),
                        self.header.len()
                    ));
                } else if self.ragged == 6 {
                    warn(
                        "more rows with a different number of fields; not reported one by one"
                            .into(),
                    );
                }
            }
            let mut id = None;
            let mut text = Vec::with_capacity(row.size + row.fields.len());
            for (i, f) in row.fields.into_iter().enumerate() {
                if Some(i) == self.id_col {
                    id = Some(String::from_utf8_lossy(&f).trim().to_string())
                        .filter(|s| !s.is_empty());
                    continue;
                }
                if f.is_empty() {
                    continue;
                }
                if !text.is_empty() {
                    text.push(b'\n');
                }
                text.extend_from_slice(&f);
            }
            let (text, lossy) = to_text(text, row.truncated);
            return Ok(Some(Record {
                text,
                id,
                truncated: row.truncated,
                lossy,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(mut r: impl Records) -> Vec<Record> {
        let mut out = Vec::new();
        let mut warns = Vec::new();
        while let Some(rec) = r.next_record(&mut |w| warns.push(w)).unwrap() {
            out.push(rec);
        }
        out
    }

    fn src(bytes: &[u8]) -> Box<dyn BufRead + Send> {
        open_text(Box::new(io::Cursor::new(bytes.to_vec())))
            .ok()
            .unwrap()
    }

    #[test]
    fn csv_quotes_and_line_breaks() {
        let data = b"\xef\xbb\xbfid;body\r\nT-1;\"line one\r\nline \"\"two\"\"\"\r\nT-2;plain\r\n";
        let mut w = |_s: String| {};
        let recs = all(Csv::new(src(data), None, &mut w).unwrap());
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].id.as_deref(), Some("T-1"));
        assert_eq!(recs[0].text, "line one\r\nline \"two\"");
        assert_eq!(recs[1].text, "plain");
    }

    #[test]
    fn utf16_with_bom() {
        let mut data = vec![0xff, 0xfe];
        for u in "id,text\n1,héllo\n".encode_utf16() {
            data.extend_from_slice(&u.to_le_bytes());
        }
        let mut w = |_s: String| {};
        let recs = all(Csv::new(src(&data), None, &mut w).unwrap());
        assert_eq!(recs[0].text, "héllo");
    }

    #[test]
    fn long_lines_are_cut() {
        let mut data = vec![b'a'; MAX_RECORD + 10];
        data.extend_from_slice(b"\nshort\n");
        let recs = all(Lines::new(src(&data)));
        assert_eq!(recs.len(), 2);
        assert!(recs[0].truncated && recs[0].text.len() == MAX_RECORD);
        assert_eq!(recs[1].text, "short");
    }

    #[test]
    fn binary_is_refused() {
        assert!(matches!(
            open_text(Box::new(io::Cursor::new(
                b"PK\x03\x04\x00\x00\x01\x02zzzzzzz\x00".to_vec()
            ))),
            Err(OpenError::Binary)
        ));
    }
}
