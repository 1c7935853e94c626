//! Runs a parsed command line. Each command lives in its own module; this file only wires
//! them to the shared context and returns the exit code.

use crate::cli::{Cli, Command};
use crate::exit::{Exit, UserError};
use crate::lang::Lang;
use crate::term::{Term, Verbosity};
use clap::CommandFactory;
use std::io::Write;

/// What every command gets: the page language, the terminal decisions, and the streams.
/// Tests build one around in-memory buffers.
pub struct App<'a> {
    pub lang: Lang,
    pub term: Term,
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

/// Builds the context from the process and runs the command line.
pub fn run(
    cli: Cli,
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
        out,
        err,
    };
    dispatch(cli.command, &mut app)
}

pub fn dispatch(command: Command, app: &mut App) -> anyhow::Result<Exit> {
    match command {
        Command::Explain(args) => crate::triage::explain::run(args, app),
        Command::Triage(args) => crate::triage::run(args, app),
        Command::Catalog(args) => crate::triage::catalog_cmd::run(args, app),
        Command::Diagnose(args) => crate::diagnose::run_diagnose(args, app),
        Command::Lint(args) => crate::config::lint::run(args, app),
        Command::TestLead(args) => crate::lead::run(args, app),
        Command::Init(args) => crate::config::init::run(args, app),
        Command::Sandbox(args) => crate::sandbox::run(args, app),
        Command::Demo(args) => crate::sandbox::demo::run(args, app),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "leadcheck", app.out);
            Ok(Exit::Ok)
        }
        Command::Man => {
            clap_mangen::Man::new(Cli::command()).render(app.out)?;
            Ok(Exit::Ok)
        }
    }
}

/// For commands not built yet: a clear exit 2 rather than a panic.
pub fn not_yet(what: &str) -> anyhow::Result<Exit> {
    Err(UserError::new(format!("`{what}` is not available in this build yet")).into())
}
