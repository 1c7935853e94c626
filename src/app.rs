//! Runs a parsed command line. Each command lives in its own module; this file only wires
//! them to the shared context and returns the exit code.

use crate::cli::{Cli, Command};
use crate::exit::{Exit, UserError};
use crate::lang::Lang;
use crate::term::{Term, Verbosity};
use clap::CommandFactory;
use std::io::{Read, Write};

/// What every command gets: the page language, the terminal decisions, and the streams.
/// Tests build one around in-memory buffers.
pub struct App<'a> {
    pub lang: Lang,
    pub term: Term,
    /// Standard input (`explain -`, a secret flag given as `-`). `triage -` still reads the
    /// process's own standard input.
    pub stdin: &'a mut (dyn Read + Send),
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
}

impl App<'_> {
    /// A note on stderr, unless `-q`.
    pub fn note(&mut self, msg: &str) -> std::io::Result<()> {
        if self.term.verbosity > Verbosity::Quiet {
            writeln!(self.err, "{msg}")?;
        }
        Ok(())
    }
}

/// Set to `1`, [`run`] panics after writing part of its output: for tests only, of how the
/// binary reports an internal error (tests/testsuite/hostile.rs). Never set it otherwise.
pub const TEST_PANIC_ENV: &str = "LEADCHECK_TEST_PANIC";

/// Builds the context from the process and runs the command line.
pub fn run(
    cli: Cli,
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> anyhow::Result<Exit> {
    run_with_stdin(cli, &mut std::io::stdin(), out, err)
}

/// As [`run`], with standard input given (tests and fuzzers pass a buffer).
pub fn run_with_stdin(
    cli: Cli,
    stdin: &mut (dyn Read + Send),
    out: &mut (dyn Write + Send),
    err: &mut (dyn Write + Send),
) -> anyhow::Result<Exit> {
    let verbosity = if cli.global.quiet {
        Verbosity::Quiet
    } else if cli.global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let term = Term::from_process(cli.global.color, verbosity);
    let lang = cli
        .global
        .lang
        .unwrap_or_else(|| Lang::from_env(|k| std::env::var(k).ok()));
    let mut app = App {
        lang,
        term,
        stdin,
        out,
        err,
    };
    if std::env::var_os(TEST_PANIC_ENV).is_some_and(|v| v == "1") {
        // Half a report, so that the test can see it is never flushed.
        write!(app.out, "half a report")?;
        panic!("{TEST_PANIC_ENV}=1: a panic on purpose, for tests");
    }
    dispatch(cli.command, &mut app)
}

pub fn dispatch(command: Command, app: &mut App) -> anyhow::Result<Exit> {
    match command {
        Command::Explain(args) => crate::triage::explain::run(args, app),
        Command::Triage(args) => crate::triage::run(args, app),
        Command::Catalog(args) => crate::triage::catalog_cmd::run(args, app),
        Command::Diagnose(args) => crate::diagnose::run_diagnose(args, app),
        Command::Lint(args) => crate::config::lint::run(args, app),
        Command::Leads(args) => crate::leads::cmd::run(args, app),
        Command::TestLead(args) => crate::lead::run(args, app),
        Command::Init(args) => crate::config::init::run(args, app),
        Command::Sandbox(args) => crate::sandbox::run(args, app),
        Command::Demo(args) => crate::sandbox::demo::run(args, app),
        Command::Completions { shell } => {
            // clap_complete panics on a write error (`| head`): generate into memory, then
            // write, so a closed pipe is an ordinary BrokenPipe error.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "leadcheck", &mut script);
            app.out.write_all(&script)?;
            Ok(Exit::Ok)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(app.out)?;
            Ok(Exit::Ok)
        }
    }
}

/// Whether a command runs offline and leaves the machine as it was: no network, no servers,
/// no file written. Property tests and fuzzers dispatch only these; the others they parse.
pub fn is_offline(command: &Command) -> bool {
    match command {
        Command::Explain(_)
        | Command::Triage(_)
        | Command::Catalog(_)
        | Command::Lint(_)
        | Command::TestLead(_)
        | Command::Completions { .. }
        | Command::Man => true,
        Command::Init(args) => args.output.as_deref() == Some(std::path::Path::new("-")),
        Command::Diagnose(_) | Command::Leads(_) | Command::Sandbox(_) | Command::Demo(_) => false,
    }
}

/// For commands not built yet: a clear exit 2 rather than a panic.
pub fn not_yet(what: &str) -> anyhow::Result<Exit> {
    Err(UserError::new(format!("`{what}` is not available in this build yet")).into())
}

/// The variable every command reads its output format from.
pub const FORMAT_ENV: &str = "LEADCHECK_FORMAT";

/// A command's output format: `--json`, else `--format`, else `LEADCHECK_FORMAT`, else
/// human. The variable is shared by every command (a CI job may set it to junit for
/// diagnose), so it is read here rather than by clap: a flag overrides it, as the
/// precedence says, and a value this command does not take is an error naming the
/// variable, not an "invalid value" for a flag the user never typed.
pub fn output_format<F: OutputFormat>(
    command: &str,
    flag: Option<F>,
    json: bool,
) -> Result<F, UserError> {
    if json {
        return Ok(F::JSON);
    }
    if let Some(f) = flag {
        return Ok(f);
    }
    let Some(raw) = std::env::var_os(FORMAT_ENV).filter(|v| !v.is_empty()) else {
        return Ok(F::HUMAN);
    };
    let value = raw.to_string_lossy();
    F::from_str(value.trim(), true).map_err(|_| {
        let names: Vec<String> = F::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect();
        UserError::new(format!(
            "{FORMAT_ENV}={} is not a format of `leadcheck {command}` ({})",
            crate::term::sanitize(&value, false),
            names.join(", ")
        ))
        .hint(format!(
            "pass --format {} (a flag wins over the variable), or unset {FORMAT_ENV} for this command",
            names.first().map(String::as_str).unwrap_or("human")
        ))
    })
}

/// A command's set of output formats: each has human and JSON.
pub trait OutputFormat: clap::ValueEnum + Clone {
    const HUMAN: Self;
    const JSON: Self;
}

impl OutputFormat for crate::cli::ReportFormat {
    const HUMAN: Self = Self::Human;
    const JSON: Self = Self::Json;
}

impl OutputFormat for crate::cli::TextFormat {
    const HUMAN: Self = Self::Human;
    const JSON: Self = Self::Json;
}

impl OutputFormat for crate::cli::LeadsFormat {
    const HUMAN: Self = Self::Human;
    const JSON: Self = Self::Json;
}
