//! The leadcheck binary: parse arguments, run, map the outcome to an exit code.

use leadcheck::exit::{Exit, UserError};
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

/// Where a panic tells the user to report it: the package's repository when Cargo.toml
/// names one.
const REPORT_TO: &str = if env!("CARGO_PKG_REPOSITORY").is_empty() {
    "the leadcheck issue tracker"
} else {
    env!("CARGO_PKG_REPOSITORY")
};

fn main() -> ExitCode {
    let cli = match leadcheck::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            // A usage error quotes the argument: plain text, with its control and bidi
            // characters shown as escapes (clap would pass a bidi override through).
            let text = leadcheck::term::sanitize(&e.render().to_string(), true);
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            return ExitCode::from(2);
        }
        Err(e) => {
            // Help and version go to stdout with 0.
            let _ = e.print();
            return ExitCode::from(0);
        }
    };
    install_panic_hook(cli.command.name());
    // Buffered: machine formats are written whole; streams (triage) flush as they go.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut err = std::io::stderr();
    let run = panic::catch_unwind(AssertUnwindSafe(|| {
        leadcheck::app::run(cli, &mut out, &mut err).and_then(|code| {
            out.flush()?;
            Ok(code)
        })
    }));
    let result = match run {
        Ok(result) => result,
        Err(_) => {
            // The hook has said what happened. What is still buffered is half a report:
            // drop it unwritten (dropping the BufWriter would flush it).
            let _ = out.into_parts();
            return ExitCode::from(Exit::Error.code() as u8);
        }
    };
    let code = match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => Exit::Ok,
        Err(e) => {
            report(&e);
            Exit::Error
        }
    };
    ExitCode::from(code.code() as u8)
}

/// A panic is an internal error (exit 2), reported in one line rather than as a backtrace.
/// Its message is left out unless RUST_BACKTRACE is set: it can quote the input (a pasted
/// ticket, a secret). With RUST_BACKTRACE, the default report comes first, as usual.
fn install_panic_hook(command: &'static str) {
    let default = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        let details = std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0");
        if details {
            default(info);
        }
        let more = if details {
            ""
        } else {
            " (RUST_BACKTRACE=1 shows where)"
        };
        let _ = writeln!(
            std::io::stderr().lock(),
            "error: internal error in leadcheck {} while running `{command}`: this is a bug, please report it to {REPORT_TO}{more}",
            leadcheck::LONG_VERSION,
        );
    }));
}

/// A closed pipe (`leadcheck explain --all | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn report(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    // Errors quote what the user gave (argv, config names, file text): its control and
    // bidi characters are shown as escapes, never sent to the terminal.
    let clean = |s: &str| leadcheck::term::sanitize(s, true);
    if let Some(user) = e.downcast_ref::<UserError>() {
        let _ = writeln!(err, "error: {}", clean(&user.message));
        if let Some(hint) = &user.hint {
            let _ = writeln!(err, "  help: {}", clean(hint));
        }
    } else {
        let _ = writeln!(err, "error: {}", clean(&format!("{e:#}")));
    }
}
