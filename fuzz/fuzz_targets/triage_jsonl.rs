//! Triage's JSON Lines reader: never panics, terminates, bounded records.
#![no_main]
use leadcheck::triage::reader::{open_text, JsonLines, Records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
