//! The matcher over the embedded catalog: never panics; the prefilter never rejects text
//! that matches.
#![no_main]
use leadcheck::catalog::matcher::{self, Matcher};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let matches = matcher::match_text(&text);
    let m = Matcher::get();
    if !matches.is_empty() {
        assert!(m.might_match(&text), "prefilter rejected text that matches");
    }
});
