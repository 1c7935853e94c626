//! Azure Storage connection strings, both parsers (lint's and the table destination's).
//! Neither panics, and an error never repeats the AccountKey.
#![no_main]
use leadcheck::secret::Secret;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let key = text.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        let v = v.trim();
        (k.trim().eq_ignore_ascii_case("accountkey") && v.len() >= 12 && !v.contains('='))
            .then_some(v)
    });
    let a = leadcheck::config::connection_string::parse(text);
    let b = leadcheck::destination::azure_table::account_from(&Secret::new(text));
    if let Some(key) = key {
        // The key may legitimately appear elsewhere in the input (as a name); only check
        // when it does not.
        if text.matches(key).count() == 1 {
            if let Err(e) = &a {
                assert!(
                    !e.contains(key),
                    "connection_string::parse echoed the key: {e}"
                );
            }
            if let Err(e) = &b {
                assert!(!e.contains(key), "account_from echoed the key: {e}");
            }
        }
    }
});
