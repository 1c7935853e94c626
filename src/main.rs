//! The leadcheck binary: parse arguments, run, map the outcome to an exit code.

use leadcheck::exit::{Exit, UserError};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match leadcheck::cli::parse_from(std::env::args_os()) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0; usage errors are exit 2.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Buffered: machine formats are written whole; streams (triage) flush as they go.
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let mut err = std::io::stderr();
    let result = leadcheck::app::run(cli, &mut out, &mut err).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
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

/// A closed pipe (`leadcheck explain --all | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn report(e: &anyhow::Error) {
    let mut err = std::io::stderr().lock();
    if let Some(user) = e.downcast_ref::<UserError>() {
        let _ = writeln!(err, "error: {}", user.message);
        if let Some(hint) = &user.hint {
            let _ = writeln!(err, "  help: {hint}");
        }
    } else {
        let _ = writeln!(err, "error: {e:#}");
    }
}
