//! The triage pipeline: records are read in batches of a few MiB (one thread), classified
//! on every core (each batch by one worker), and handed back in input order.
//!
//! A worker computes each record's compact key into one buffer (see
//! [`crate::catalog::prefilter`]), scans the whole buffer once for the prefilter's literals,
//! and runs the full matcher only on the records that hold one. Buffers are reused from
//! batch to batch; memory is bounded by the batches in flight.

use super::reader::{self, Records, MAX_RECORD};
use crate::catalog::grams::GramFilter;
use crate::catalog::matcher::Matcher;
use crate::catalog::prefilter::Folder;
use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// A batch is cut after this many bytes of text.
const BATCH_BYTES: usize = 1 << 20;
/// ... or this many records (for exports of many tiny records).
const BATCH_RECORDS: usize = 64 * 1024;
/// The prefilter's windows are chosen for the input when its first batch holds this much
/// text (choosing takes a few milliseconds).
const TUNE_BYTES: usize = 256 * 1024;

/// What the output needs of a record besides its codes.
#[derive(Debug, Default, Clone)]
pub struct Meta {
    pub id: Option<String>,
    pub truncated: bool,
    pub lossy: bool,
}

/// Text buffers of batches already classified, for the reader to fill again: a fresh
/// MiB per batch would cost a page fault per 4 KiB.
type Pool = Arc<Mutex<Vec<Vec<u8>>>>;

/// Records read together: their texts in one string.
#[derive(Default)]
pub struct Batch {
    text: String,
    spans: Vec<(usize, usize)>,
    pub meta: Vec<Meta>,
    /// Reader warnings raised while reading this batch, shown when it is written.
    pub warnings: Vec<String>,
    /// Where the text buffer goes back to when the batch is dropped.
    home: Option<Pool>,
    /// Whole lines not split yet: the worker splits and checks them (see [`Batch::split`]),
    /// so that the reader, alone on its thread, only reads.
    raw: Option<Vec<u8>>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        if let Some(pool) = self.home.take() {
            // Its length is kept: the reader overwrites it (see `LineChunks::next_batch`).
            let buf = std::mem::take(&mut self.text).into_bytes();
            if let Ok(mut p) = pool.lock() {
                // Bounded by the batches in flight; a few spare are plenty.
                if p.len() < 8 {
                    p.push(buf);
                }
            }
        }
    }
}

impl Batch {
    fn push(&mut self, text: &str, meta: Meta) {
        let start = self.text.len();
        self.text.push_str(text);
        self.spans.push((start, self.text.len()));
        self.meta.push(meta);
    }

    pub fn len(&self) -> usize {
        self.meta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
    }

    /// Splits the raw lines a [`LineChunks`] read into records (on a worker).
    fn split(&mut self) {
        if let Some(raw) = self.raw.take() {
            let mut b = lines_batch(raw);
            b.home = self.home.take();
            b.warnings = std::mem::take(&mut self.warnings);
            *self = b;
        }
    }

    fn record(&self, i: usize) -> &str {
        let (a, b) = self.spans[i];
        &self.text[a..b]
    }

    fn records(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.record(i))
    }
}

/// A classified batch: its records' metadata and, for those that matched, their codes.
pub struct Done {
    pub meta: Vec<Meta>,
    pub warnings: Vec<String>,
    /// (index in the batch, codes best first), in record order.
    pub codes: Vec<(usize, Vec<String>)>,
    /// Records the prefilter passed to the full matcher (for `-v`).
    pub candidates: usize,
}

/// Where batches come from.
pub trait Source: Send {
    fn next_batch(&mut self) -> io::Result<Option<Batch>>;
}

/// Any record reader (CSV, JSON Lines, paragraphs), batched.
pub struct FromRecords(pub Box<dyn Records + Send>);

impl Source for FromRecords {
    fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        let mut b = Batch::default();
        let mut warnings = Vec::new();
        while b.text.len() < BATCH_BYTES && b.len() < BATCH_RECORDS {
            match self.0.next_record(&mut |w| warnings.push(w))? {
                Some(r) => b.push(
                    &r.text,
                    Meta {
                        id: r.id,
                        truncated: r.truncated,
                        lossy: r.lossy,
                    },
                ),
                None => break,
            }
        }
        b.warnings = warnings;
        Ok((!b.is_empty() || !b.warnings.is_empty()).then_some(b))
    }
}

/// Text with one record per line, read in chunks of whole lines: no copy per record.
pub struct LineChunks {
    r: Box<dyn BufRead + Send>,
    carry: Vec<u8>,
    eof: bool,
    pool: Pool,
}

impl LineChunks {
    pub fn new(r: Box<dyn BufRead + Send>) -> LineChunks {
        LineChunks {
            r,
            carry: Vec::new(),
            eof: false,
            pool: Pool::default(),
        }
    }

    /// A line longer than a whole chunk: its first MiB, the rest read and dropped.
    fn long_line(&mut self, mut buf: Vec<u8>) -> io::Result<Batch> {
        buf.truncate(MAX_RECORD);
        // The line reader drops what goes past a MiB: it drains the rest of this line.
        let mut rest = Vec::new();
        reader::read_line(&mut *self.r, &mut rest)?;
        let (text, lossy) = reader::to_text(buf, true);
        let mut b = Batch::default();
        b.push(
            &text,
            Meta {
                id: None,
                truncated: true,
                lossy,
            },
        );
        Ok(b)
    }
}

impl Source for LineChunks {
    fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        let mut buf = self
            .pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_default();
        // A buffer from the pool keeps its length (its bytes are scratch): only what it
        // lacks is zeroed, not the whole MiB for every batch.
        let mut filled = self.carry.len();
        if buf.len() < BATCH_BYTES.max(filled) {
            buf.resize(BATCH_BYTES.max(filled), 0);
        }
        buf[..filled].copy_from_slice(&self.carry);
        self.carry.clear();
        // Read straight into the batch: a read this large skips the reader's own buffer
        // once that is empty (one copy from the kernel, not two). Not `take().read_to_end()`:
        // it starts with small reads and grows them (measured ~3% slower on 256 MiB).
        while filled < BATCH_BYTES && !self.eof {
            match self.r.read(&mut buf[filled..BATCH_BYTES]) {
                Ok(0) => self.eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        if buf.is_empty() {
            return Ok(None);
        }
        let cut = if self.eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                None => return self.long_line(buf).map(Some),
            }
        };
        self.carry.extend_from_slice(&buf[cut..]);
        buf.truncate(cut);
        let mut b = Batch::default();
        b.raw = Some(buf);
        b.home = Some(Arc::clone(&self.pool));
        Ok(Some(b))
    }
}

/// Splits whole lines into a batch: `\n` or `\r\n` ends a line, a last line without one
/// counts, each line is cut at [`MAX_RECORD`].
fn lines_batch(buf: Vec<u8>) -> Batch {
    let mut lines: Vec<(usize, usize, bool)> = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
        let mut stop = end;
        if stop > start && buf[stop - 1] == b'\r' {
            stop -= 1;
        }
        let truncated = stop - start > MAX_RECORD;
        lines.push((start, stop.min(start + MAX_RECORD), truncated));
        start = end + 1;
    }
    // The common case: one check for the whole chunk (SIMD: several times faster than the
    // standard library's on non-ASCII text), and no copy.
    let checked = if simdutf8::basic::from_utf8(&buf).is_ok() {
        // SAFETY: `simdutf8` has just validated these exact bytes as UTF-8.
        Ok(unsafe { String::from_utf8_unchecked(buf) })
    } else {
        String::from_utf8(buf)
    };
    match checked {
        Ok(text) => {
            let mut b = Batch::default();
            b.text = text;
            for (s, mut e, truncated) in lines {
                while !b.text.is_char_boundary(e) {
                    e -= 1; // a line cut at 1 MiB inside a character
                }
                b.spans.push((s, e));
                b.meta.push(Meta {
                    id: None,
                    truncated,
                    lossy: false,
                });
            }
            b
        }
        Err(e) => {
            let buf = e.into_bytes();
            let mut b = Batch::default();
            for (s, e, truncated) in lines {
                let (text, lossy) = reader::to_text(buf[s..e].to_vec(), truncated);
                b.push(
                    &text,
                    Meta {
                        id: None,
                        truncated,
                        lossy,
                    },
                );
            }
            b
        }
    }
}

/// A worker's reusable buffers.
#[derive(Default)]
pub struct Scratch {
    folder: Folder,
    compact: Vec<u8>,
    starts: Vec<usize>,
    candidate: Vec<bool>,
}

/// The codes of every record of a batch that matches something.
pub fn classify(
    matcher: &Matcher,
    grams: Option<&GramFilter>,
    batch: &Batch,
    s: &mut Scratch,
) -> (Vec<(usize, Vec<String>)>, usize) {
    let n = batch.len();
    s.starts.clear();
    s.candidate.clear();
    s.candidate.resize(n, false);
    let Some(grams) = grams else {
        s.candidate.fill(true);
        return (full(matcher, batch, &s.candidate), n);
    };
    // The buffer keeps its length from batch to batch (what is past `end` is scratch):
    // no clearing per record.
    let mut end = 0;
    for i in 0..n {
        s.starts.push(end);
        let (e, plain) = s.folder.compact_at(batch.record(i), &mut s.compact, end);
        if !plain {
            s.candidate[i] = true;
        }
        // Literals hold no line feed: no match spans two records.
        s.compact[e] = b'\n';
        end = e + 1;
    }
    s.starts.push(end);
    let compact = &s.compact[..end];
    // One scan of the whole batch. Each literal found is confirmed in its record at once
    // (not by a second scan of the record); once a record passes, the scan resumes at the
    // next one. The scan meets windows in position order, and a literal starts in the
    // record that holds its window: records come in order.
    let starts = &s.starts;
    let candidate = &mut s.candidate;
    let mut pos = 0;
    let mut r = 0;
    while pos < compact.len() {
        let mut next = None;
        grams.each_from(compact, pos, |li, start| {
            while starts[r + 1] <= start {
                r += 1;
            }
            debug_assert!(starts[r] <= start, "records in order");
            if candidate[r] || matcher.confirm_literal(li, &compact[starts[r]..starts[r + 1]]) {
                candidate[r] = true;
                next = Some(starts[r + 1]);
                return false;
            }
            true
        });
        match next {
            Some(n) => pos = n,
            None => break,
        }
    }
    let candidates = s.candidate.iter().filter(|c| **c).count();
    (full(matcher, batch, &s.candidate), candidates)
}

fn full(matcher: &Matcher, batch: &Batch, candidate: &[bool]) -> Vec<(usize, Vec<String>)> {
    candidate
        .iter()
        .enumerate()
        .filter(|(_, c)| **c)
        .filter_map(|(i, _)| {
            let codes = matcher.codes_unfiltered(batch.record(i));
            (!codes.is_empty()).then_some((i, codes))
        })
        .collect()
}

/// Reads `source` on one thread, classifies on `workers` threads, and calls `sink` with each
/// batch in input order. Stops at the first error of the source or the sink.
pub fn run(
    source: &mut dyn Source,
    matcher: &Matcher,
    workers: usize,
    sink: &mut dyn FnMut(Done) -> io::Result<()>,
) -> io::Result<()> {
    let workers = workers.max(1);
    matcher.prepare_bulk();
    // The first batch is read here: its records choose the prefilter's windows. A smaller
    // input is over too soon for that to pay.
    let mut first = source.next_batch()?;
    let tuned = first.as_mut().and_then(|b| {
        b.split();
        (b.text.len() >= TUNE_BYTES).then(|| matcher.prefilter_for(b.records()))?
    });
    let grams = tuned.as_ref().or(matcher.prefilter());
    std::thread::scope(|scope| {
        let (work_tx, work_rx) = sync_channel::<(u64, Batch)>(workers);
        let work_rx = Arc::new(Mutex::new(work_rx));
        let (done_tx, done_rx) = sync_channel::<(u64, Done)>(workers * 2);
        let reader = scope.spawn(move || read_all(first, source, work_tx));
        for _ in 0..workers {
            let rx = Arc::clone(&work_rx);
            let tx = done_tx.clone();
            scope.spawn(move || work(matcher, grams, &rx, tx));
        }
        // Only the workers may hold the work queue's receiver: once they stop (the sink
        // failed), the reader's next send fails and it ends instead of waiting forever.
        drop(work_rx);
        drop(done_tx);
        let written = write_in_order(done_rx, sink);
        // On a sink error, the channels close and the other threads end on their own.
        let read = reader.join().unwrap_or_else(|_| {
            Err(io::Error::other(
                "internal error: the triage reader stopped",
            ))
        });
        written.and(read)
    })
}

fn read_all(
    first: Option<Batch>,
    source: &mut dyn Source,
    tx: SyncSender<(u64, Batch)>,
) -> io::Result<()> {
    let Some(first) = first else {
        return Ok(());
    };
    if tx.send((0, first)).is_err() {
        return Ok(());
    }
    let mut seq = 1;
    while let Some(b) = source.next_batch()? {
        if tx.send((seq, b)).is_err() {
            break; // the writer stopped
        }
        seq += 1;
    }
    Ok(())
}

fn work(
    matcher: &Matcher,
    grams: Option<&GramFilter>,
    rx: &Mutex<Receiver<(u64, Batch)>>,
    tx: SyncSender<(u64, Done)>,
) {
    let mut scratch = Scratch::default();
    loop {
        let next = match rx.lock() {
            Ok(r) => r.recv(),
            Err(_) => return,
        };
        let Ok((seq, batch)) = next else { return };
        let mut batch = batch;
        batch.split();
        let (codes, candidates) = classify(matcher, grams, &batch, &mut scratch);
        let done = Done {
            codes,
            candidates,
            meta: std::mem::take(&mut batch.meta),
            warnings: std::mem::take(&mut batch.warnings),
        };
        drop(batch); // its buffer goes back to the reader
        if tx.send((seq, done)).is_err() {
            return;
        }
    }
}

fn write_in_order(
    rx: Receiver<(u64, Done)>,
    sink: &mut dyn FnMut(Done) -> io::Result<()>,
) -> io::Result<()> {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Done> = BTreeMap::new();
    for (seq, done) in rx {
        waiting.insert(seq, done);
        while let Some(d) = waiting.remove(&next) {
            sink(d)?;
            next += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_of(text: &[u8]) -> Vec<(String, bool)> {
        let b = lines_batch(text.to_vec());
        (0..b.len())
            .map(|i| (b.record(i).to_string(), b.meta[i].lossy))
            .collect()
    }

    #[test]
    fn lines_are_split_like_the_line_reader() {
        assert_eq!(
            batch_of(b"a\r\nb\n\nc"),
            [
                ("a".into(), false),
                ("b".into(), false),
                ("".into(), false),
                ("c".into(), false)
            ]
        );
        assert_eq!(batch_of(b"a\n"), [("a".to_string(), false)]);
        assert_eq!(
            batch_of(b"ok\n\xff bad\n")[1],
            ("\u{fffd} bad".to_string(), true)
        );
    }

    /// Windows chosen for an input find the same records as the catalog's: on the
    /// equivalence corpus (every fixture message, and errors mixed with ordinary tickets),
    /// where the choice does change windows.
    #[test]
    fn windows_chosen_for_the_input_find_the_same_records() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/equivalence/input.txt"
        );
        let b = lines_batch(std::fs::read(path).unwrap());
        assert!(b.text.len() >= TUNE_BYTES);
        let m = Matcher::get();
        let tuned = m.prefilter_for(b.records()).unwrap();
        let fixed = m.prefilter().unwrap();
        assert_ne!(tuned.windows(), fixed.windows());
        let mut s = Scratch::default();
        let (a, passed_a) = classify(m, Some(&tuned), &b, &mut s);
        let (c, passed_c) = classify(m, Some(fixed), &b, &mut s);
        assert_eq!(passed_a, passed_c);
        assert_eq!(a, c);
        assert!(a.len() > 600, "{}", a.len());
    }

    #[test]
    fn a_long_line_is_cut_on_a_character_boundary() {
        let mut line = vec![b'a'; MAX_RECORD - 1];
        line.extend_from_slice("ż tail".as_bytes());
        line.push(b'\n');
        let b = lines_batch(line);
        assert!(b.meta[0].truncated && !b.meta[0].lossy);
        assert_eq!(b.record(0).len(), MAX_RECORD - 1);
    }
}
