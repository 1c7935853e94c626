//! leadcheck.toml reader: any text parses to a config or a located error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // No base folder: `{ file = "..." }` secrets resolve against the working directory,
    // where nothing sensitive is (and secret files are read up to 64 KiB).
    if let Ok(config) = leadcheck::config::toml_file::parse(text, "fuzz.toml", None) {
        for d in &config.destinations {
            let _ = leadcheck::config::lint::lint_destination(d);
        }
    }
});
