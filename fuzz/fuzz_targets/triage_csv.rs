//! Triage's CSV reader (after the text decoder: BOMs, UTF-16): never panics, terminates,
//! keeps every record within the 1 MiB bound.
#![no_main]
use leadcheck::triage::reader::{open_text, Csv, Records};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = open_text(Box::new(std::io::Cursor::new(data.to_vec()))) else {
        return;
    };
    let mut warn = |_w: String| {};
    let Ok(mut csv) = Csv::new(r, None, &mut warn) else {
        return;
    };
    for _ in 0..100_000 {
        match csv.next_record(&mut warn) {
            Ok(Some(rec)) => assert!(rec.text.len() <= 1024 * 1024 + 1024),
            _ => break,
        }
    }
});
