//! Command-line definitions (clap derive) and nothing else. Every global flag has a
//! `LEADCHECK_*` environment variable; precedence is flag > env > file > default.

use crate::lang::Lang;
use crate::term::ColorChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "leadcheck",
    version = crate::LONG_VERSION,
    about = "Diagnose Microsoft commercial-marketplace lead destinations and explain their errors",
    long_about = "leadcheck does what the marketplace does with a lead destination (Dynamics 365, \
Salesforce, Marketo, Azure Table, an HTTPS endpoint), step by step, sends a real MSFT_TEST lead, \
and names the documented error and its fix when a step fails. It also matches pasted error text \
and whole ticket exports against the catalog of documented errors, and reads back the leads a \
destination received.",
    after_help = "Exit codes: 0 passed / matched; 1 a destination failed / nothing matched; \
2 leadcheck could not do its job; 130 interrupted.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands' names, from the definitions above (for tests and fuzzing of the whole
/// command line).
pub fn subcommand_names() -> Vec<String> {
    use clap::CommandFactory;
    Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect()
}

#[derive(Debug, Args)]
pub struct Global {
    /// Language of pages and messages [default: from LC_ALL, LC_MESSAGES or LANG, else en]
    #[arg(long, global = true, env = "LEADCHECK_LANG", value_name = "LANG")]
    pub lang: Option<Lang>,
    /// When to color the output (auto honours NO_COLOR, CLICOLOR_FORCE and the terminal)
    #[arg(long, global = true, env = "LEADCHECK_COLOR", value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show each request and response (secrets redacted)
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Probe each destination, send an MSFT_TEST lead, verify it, and explain failures
    Diagnose(DiagnoseArgs),
    /// Check the configuration offline (no network)
    Lint(LintArgs),
    /// Show a code's page, or match pasted error text (`-` reads standard input)
    Explain(ExplainArgs),
    /// Classify every record of a ticket export (CSV, JSON Lines or text)
    Triage(TriageArgs),
    /// List the catalog's codes and titles
    Catalog(CatalogArgs),
    /// List the marketplace leads a destination holds (read-only), count them, or watch for new ones
    Leads(LeadsArgs),
    /// Print the MSFT_TEST lead as a destination receives it
    TestLead(TestLeadArgs),
    /// Write a commented leadcheck.toml to start from
    Init(InitArgs),
    /// Run local emulators of the destinations on 127.0.0.1
    Sandbox(SandboxArgs),
    /// Start the sandbox and diagnose healthy and broken destinations: no account needed
    Demo(DemoArgs),
    /// Print shell completions
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff)
    Man,
}

impl Command {
    /// The subcommand's name, as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Diagnose(_) => "diagnose",
            Command::Lint(_) => "lint",
            Command::Explain(_) => "explain",
            Command::Triage(_) => "triage",
            Command::Catalog(_) => "catalog",
            Command::Leads(_) => "leads",
            Command::TestLead(_) => "test-lead",
            Command::Init(_) => "init",
            Command::Sandbox(_) => "sandbox",
            Command::Demo(_) => "demo",
            Command::Completions { .. } => "completions",
            Command::Man => "man",
        }
    }
}

/// Parses a command line as the binary does: clap, plus a hint when text pasted after
/// `explain` or `triage` was taken for an option.
pub fn parse_from<I, T>(argv: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv: Vec<std::ffi::OsString> = argv.into_iter().map(Into::into).collect();
    Cli::try_parse_from(&argv).map_err(|e| pasted_text_hint(e, &argv))
}

/// A forwarded e-mail (`---------- Forwarded message`) or a ticket starting with `-` is
/// parsed as an option; clap's own tip does not say that standard input is the way.
fn pasted_text_hint(mut e: clap::Error, argv: &[std::ffi::OsString]) -> clap::Error {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return e;
    }
    let Some(ContextValue::String(bad)) = e.get(ContextKind::InvalidArg) else {
        return e;
    };
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let Some(sub) = args.iter().position(|a| a == "explain" || a == "triage") else {
        return e;
    };
    // The whole argument the rejected option came from (clap names only its start).
    let token = args[sub + 1..]
        .iter()
        .find(|a| a.starts_with(bad.as_str()))
        .unwrap_or(bad);
    let pasted =
        token.starts_with("---") || token.chars().any(|c| c.is_whitespace() || !c.is_ascii());
    if !pasted {
        return e;
    }
    let hint = if args[sub] == "explain" {
        "pass the text after --, or pipe it to leadcheck explain -"
    } else {
        "pipe the text to leadcheck triage -, or pass a file whose name starts with - after --"
    };
    e.insert(
        ContextKind::Suggested,
        ContextValue::StyledStrs(vec![hint.into()]),
    );
    e
}

/// Output formats of diagnose and lint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Human,
    Json,
    Junit,
    Github,
}

/// Output formats of explain, triage and catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextFormat {
    Human,
    Json,
}

/// The destination types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum DestinationType {
    Dynamics,
    Salesforce,
    Marketo,
    AzureTable,
    Https,
}

impl DestinationType {
    pub fn as_str(self) -> &'static str {
        match self {
            DestinationType::Dynamics => "dynamics",
            DestinationType::Salesforce => "salesforce",
            DestinationType::Marketo => "marketo",
            DestinationType::AzureTable => "azure-table",
            DestinationType::Https => "https",
        }
    }
}

/// A destination given by flags instead of a file (`--type TYPE` and one flag per field).
/// Secret flags take `env:VAR`, `file:PATH` or `-` (standard input); a literal works with a
/// warning, since it shows in `ps`.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Destination without a config file")]
pub struct DestinationFlags {
    /// Destination type; with it, the fields come from the flags below, not from a file
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<DestinationType>,
    #[arg(long, value_name = "URL")]
    pub instance_url: Option<String>,
    /// azure-ad or office-365
    #[arg(long, value_name = "MODE")]
    pub authentication: Option<String>,
    #[arg(long, value_name = "GUID|DOMAIN")]
    pub directory_id: Option<String>,
    #[arg(long, value_name = "GUID")]
    pub application_id: Option<String>,
    /// Secret: env:VAR, file:PATH or -
    #[arg(long, value_name = "SECRET")]
    pub application_key: Option<String>,
    #[arg(long, value_name = "USER")]
    pub username: Option<String>,
    /// Secret: env:VAR, file:PATH or -
    #[arg(long, value_name = "SECRET")]
    pub password: Option<String>,
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    #[arg(long, value_name = "URL")]
    pub authority_host: Option<String>,
    #[arg(long, value_name = "OID")]
    pub object_identifier: Option<String>,
    #[arg(long, value_name = "URL")]
    pub endpoint: Option<String>,
    #[arg(long, value_name = "URL")]
    pub api_instance_url: Option<String>,
    /// Secret: env:VAR, file:PATH or -
    #[arg(long, value_name = "SECRET")]
    pub api_access_token: Option<String>,
    #[arg(long, value_name = "ID")]
    pub munchkin_id: Option<String>,
    #[arg(long, value_name = "ID")]
    pub form_id: Option<String>,
    /// Secret: env:VAR, file:PATH or -
    #[arg(long, value_name = "SECRET")]
    pub client_secret: Option<String>,
    #[arg(long, value_name = "ID")]
    pub server_id: Option<String>,
    /// Secret: env:VAR, file:PATH or -
    #[arg(long, value_name = "SECRET")]
    pub storage_account_connection_string: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    #[arg(long, value_name = "URL")]
    pub https_endpoint_url: Option<String>,
    #[arg(long, value_name = "EMAIL")]
    pub contact_email: Vec<String>,
    #[arg(long, value_name = "PUBLISHER.OFFER")]
    pub offer: Option<String>,
    #[arg(long, value_name = "TITLE")]
    pub offer_title: Option<String>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Config file [default: ./leadcheck.toml]
    #[arg(long, short = 'c', env = "LEADCHECK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check only these destinations
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Alias of --format json
    #[arg(long)]
    pub json: bool,
    /// Treat every warning as a failure
    #[arg(long, env = "LEADCHECK_STRICT")]
    pub strict: bool,
    #[command(flatten)]
    pub dest: DestinationFlags,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    #[command(flatten)]
    pub lint: LintArgs,
    /// Seconds for one request, connect to last byte
    #[arg(
        long,
        env = "LEADCHECK_TIMEOUT",
        default_value_t = 15.0,
        value_name = "SECS"
    )]
    pub timeout: f64,
    /// Seconds for the whole run
    #[arg(
        long,
        env = "LEADCHECK_DEADLINE",
        default_value_t = 120.0,
        value_name = "SECS"
    )]
    pub deadline: f64,
    /// Everything but the lead write
    #[arg(long)]
    pub dry_run: bool,
    /// Delete the test lead leadcheck created (recommended in CI)
    #[arg(long, env = "LEADCHECK_CLEANUP")]
    pub cleanup: bool,
    /// An extra trust root (PEM), for TLS-inspecting proxies
    #[arg(long, env = "LEADCHECK_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    /// A fixed tick count for the MSFT_TEST lead
    #[arg(long, value_name = "N", hide = true)]
    pub ticks: Option<u64>,
    /// Also write the JUnit report to FILE, whatever --format prints (one run, so one test
    /// lead, gives CI both its annotations and its test results)
    #[arg(long, env = "LEADCHECK_JUNIT", value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Output formats of leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LeadsFormat {
    Human,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct LeadsArgs {
    /// Config file [default: ./leadcheck.toml]
    #[arg(long, short = 'c', env = "LEADCHECK_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Read only these destinations
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only leads since then: a number of days (7d) or a date (2026-11-01, UTC)
    #[arg(long, value_name = "7d|YYYY-MM-DD")]
    pub since: Option<String>,
    /// Show the N newest leads of each destination; 0 shows all of them, in the
    /// destination's own order, streamed in constant memory
    #[arg(long, short = 'n', default_value_t = 50, value_name = "N")]
    pub limit: u64,
    /// Count the leads per day instead of listing them (the period: --since, else 30 days)
    #[arg(long, conflicts_with = "watch")]
    pub count: bool,
    /// Keep polling and print each new lead once, as it arrives (Ctrl-C ends it)
    #[arg(long)]
    pub watch: bool,
    /// Seconds between polls with --watch (1 to 86400)
    #[arg(long, default_value_t = 60, value_name = "SECS", requires = "watch",
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub interval: u64,
    /// With --watch, run CMD (through the shell) for each new lead, the lead as JSON on its
    /// standard input
    #[arg(long, value_name = "CMD", requires = "watch")]
    pub exec: Option<String>,
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<LeadsFormat>,
    /// Alias of --format json
    #[arg(long)]
    pub json: bool,
    /// Seconds for one request, connect to last byte
    #[arg(
        long,
        env = "LEADCHECK_TIMEOUT",
        default_value_t = 15.0,
        value_name = "SECS"
    )]
    pub timeout: f64,
    /// Seconds for the whole run (with --watch: for each poll)
    #[arg(
        long,
        env = "LEADCHECK_DEADLINE",
        default_value_t = 300.0,
        value_name = "SECS"
    )]
    pub deadline: f64,
    /// An extra trust root (PEM), for TLS-inspecting proxies
    #[arg(long, env = "LEADCHECK_CA_CERT", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
    #[command(flatten)]
    pub dest: DestinationFlags,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A code (LC402, lc402, 402), error text, or `-` for standard input
    #[arg(value_name = "CODE|TEXT|-", required_unless_present = "all")]
    pub input: Vec<String>,
    /// Print every page
    #[arg(long, conflicts_with = "input")]
    pub all: bool,
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<TextFormat>,
    /// Alias of --format json
    #[arg(long)]
    pub json: bool,
}

/// How triage reads its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InputKind {
    Auto,
    Csv,
    Jsonl,
    Text,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// Ticket exports (CSV, JSON Lines, text), or `-` for standard input
    #[arg(value_name = "FILE|-", required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = InputKind::Auto)]
    pub input: InputKind,
    /// Text input: records are separated by blank lines instead of one per line
    #[arg(long)]
    pub paragraphs: bool,
    /// The column or field that holds a record's id
    #[arg(long, value_name = "NAME")]
    pub id_column: Option<String>,
    /// Threads that classify records (default: one per core, at most 8)
    #[arg(short = 'j', long, env = "LEADCHECK_THREADS", value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<TextFormat>,
    /// Alias of --format json
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Only this family (LC1, LC3 or LC3xx, ...)
    #[arg(long, value_name = "FAMILY", value_parser = family_arg)]
    pub family: Option<String>,
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<TextFormat>,
    /// Alias of --format json
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct TestLeadArgs {
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: DestinationType,
    /// A fixed .NET tick count instead of now
    #[arg(long, value_name = "N")]
    pub ticks: Option<u64>,
    #[arg(long, value_name = "TITLE")]
    pub offer_title: Option<String>,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Start with a destination of this type [default: https]
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<DestinationType>,
    /// Where to write [default: ./leadcheck.toml]; `-` prints it
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Reproduce these failures (catalog codes); healthy emulators otherwise
    #[arg(long = "scenario", value_name = "CODE", num_args = 1.., value_delimiter = ',', value_parser = scenario_arg)]
    pub scenarios: Vec<String>,
    /// Write the ready leadcheck.toml here instead of printing it
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Listen on this port (0 picks a free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output format [default: human, or LEADCHECK_FORMAT when set]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
}

/// `--family`: trimmed; a blank or unknown family is a usage error (exit 2) that lists the
/// valid ones, instead of a blank quietly listing everything.
fn family_arg(s: &str) -> Result<String, String> {
    let t = s.trim();
    if crate::triage::catalog_cmd::parse_family(t).is_some() {
        return Ok(t.to_string());
    }
    let what = if t.is_empty() {
        "a family cannot be blank"
    } else {
        "not a code family"
    };
    Err(format!(
        "{what}; valid families: LC1 LC2 LC3 LC4 LC5 LC6 (also lc3, LC3xx or 3)"
    ))
}

/// `--scenario`: trimmed; a blank code (`" "`, `402,,305`) is a usage error (exit 2) that
/// lists the valid codes, instead of a blank quietly starting the healthy sandbox. Unknown
/// codes are refused by the sandbox itself, with the same list.
fn scenario_arg(s: &str) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err(format!(
            "a scenario code cannot be blank; valid codes: all {}",
            crate::sandbox::scenario_codes().join(" ")
        ));
    }
    Ok(t.to_string())
}
