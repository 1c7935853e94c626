//! The normalizer of pasted text: never panics, maps back into the original text, and
//! leaves no control characters.
#![no_main]
use leadcheck::catalog::normalize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let key = normalize::normalize(&text);
    assert!(
        !key.chars().any(|c| c.is_control() && c != '\n'),
        "control character in {key:?}"
    );
    let _ = normalize::fold(&text);
    let n = normalize::normalize_mapped(&text);
    // Every range maps into the original.
    let len = data.len() + 8;
    for start in [0usize, 1, 3, len / 2] {
        for end in [start, start + 1, start + 7, len] {
            let r = n.original_range(start..end);
            assert!(
                r.start <= r.end && r.end <= text.len(),
                "{r:?} of {}",
                text.len()
            );
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
    }
});
