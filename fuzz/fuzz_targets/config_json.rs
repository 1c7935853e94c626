//! Partner Center JSON reader (the ingestion API's `resourceType` shape and the
//! `leadDestination` shape): any text parses or errors, never a panic; lint runs on results.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = leadcheck::config::partner_center::parse(text, "fuzz.json") {
        for d in &config.destinations {
            let _ = leadcheck::config::lint::lint_destination(d);
        }
    }
});
