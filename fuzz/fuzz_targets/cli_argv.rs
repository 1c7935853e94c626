//! The whole command line: arbitrary argv and standard input through argument parsing and
//! dispatch of every offline command (`app::is_offline`); diagnose, sandbox and demo are
//! only parsed (and the sandbox's scenario codes checked), never started. Never panics;
//! the exit is 0, 1 or 2.
//!
//! Input: argv words separated by NUL, then `\0\0`, then standard input. The first byte
//! picks the subcommand, so that every command gets its share.
#![no_main]
use leadcheck::cli::Command;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;

/// The subcommands, from the clap definitions (computed once).
fn subcommands() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(leadcheck::cli::subcommand_names)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, data)) = data.split_first() else {
        return;
    };
    let (args, input) = match data.windows(2).position(|w| w == b"\0\0") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    // Color off: colored's switch is process-wide.
    let mut argv = vec!["leadcheck".to_string(), "--color".into(), "never".into()];
    let subs = subcommands();
    if let Some(sub) = subs.get(first as usize % (subs.len() + 1)) {
        argv.push(sub.clone());
    }
    if !args.is_empty() {
        argv.extend(
            args.split(|&b| b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned()),
        );
    }
    let code = match leadcheck::cli::parse_from(&argv) {
        Err(e) => {
            let _ = e.render().to_string();
            if e.use_stderr() {
                2
            } else {
                0
            }
        }
        Ok(cli) if !leadcheck::app::is_offline(&cli.command) => match &cli.command {
            Command::Sandbox(a) => {
                let codes: Vec<&str> = a.scenarios.iter().map(String::as_str).collect();
                if leadcheck::sandbox::check_scenarios(&codes).is_ok() {
                    0
                } else {
                    2
                }
            }
            _ => 0,
        },
        Ok(mut cli) => {
            // `triage -` reads the process's own standard input: give it the input as a file.
            if let Command::Triage(a) = &mut cli.command {
                for f in &mut a.files {
                    if f.as_os_str() == "-" {
                        *f = stdin_file(input);
                    }
                }
            }
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let mut stdin = input;
            match leadcheck::app::run_with_stdin(cli, &mut stdin, &mut out, &mut err) {
                Ok(code) => code.code(),
                Err(_) => 2,
            }
        }
    };
    assert!((0..=2).contains(&code), "exit {code} on {argv:?}");
});

fn stdin_file(input: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!("leadcheck-fuzz-stdin-{}", std::process::id()));
    std::fs::write(&path, input).unwrap();
    path
}
