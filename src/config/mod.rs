//! Reading destination configs: `leadcheck.toml`, Partner Center's JSON, or flags; resolving
//! secrets; linting.
//!
//! A config that cannot be read or parsed (syntax, unknown field, wrong type of value, no
//! `type`) is a [`UserError`] (exit 2) that says file:line:col, what is wrong and what is
//! expected. A config that parses but holds wrong values is for lint to report.

pub mod connection_string;
pub mod fields;
pub mod flags;
pub mod init;
pub mod lint;
pub mod model;
pub mod partner_center;
pub mod secrets;
pub mod toml_file;

pub use model::*;

use crate::cli::LintArgs;
use crate::exit::UserError;
use std::path::{Path, PathBuf};

/// The default config file, in the working directory.
pub const DEFAULT_FILE: &str = "leadcheck.toml";

/// The config a `lint` or `diagnose` command line names: `--type` and its flags, else
/// `--config` / `LEADCHECK_CONFIG`, else `./leadcheck.toml`; then only the destinations named
/// on the command line, if any.
pub fn load(args: &LintArgs) -> Result<Config, UserError> {
    load_with_stdin(args, &mut secrets::read_stdin)
}

/// As [`load`], a secret flag given as `-` read with `read_stdin`.
pub fn load_with_stdin(
    args: &LintArgs,
    read_stdin: &mut dyn FnMut() -> std::io::Result<String>,
) -> Result<Config, UserError> {
    let config = if args.dest.kind.is_some() {
        let d = flags::destination(&args.dest, read_stdin)?;
        Config {
            path: None,
            destinations: vec![d],
        }
    } else {
        let explicit = args.config.is_some();
        let path = args
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_FILE));
        load_file(&path, explicit)?
    };
    select(config, &args.names)
}

/// Reads and parses one config file (`.json`: Partner Center's JSON; else TOML).
pub fn load_file(path: &Path, explicit: bool) -> Result<Config, UserError> {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
            return Err(UserError::new(format!("no {DEFAULT_FILE} in the current directory")).hint(
                "write one with `leadcheck init`, pass --config FILE, or describe one destination with --type TYPE and its flags",
            ))
        }
        Err(e) => {
            let why = if e.kind() == std::io::ErrorKind::NotFound { "no such file".to_string() } else { e.to_string() };
            return Err(UserError::new(format!("cannot read the config file {shown}: {why}"))
                .hint("check the path given with --config or LEADCHECK_CONFIG"));
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let (line, col) = fields::line_col(
                &String::from_utf8_lossy(e.as_bytes()),
                e.utf8_error().valid_up_to(),
            );
            return Err(UserError::new(format!(
                "{shown}:{line}:{col}: the config file is not UTF-8 text"
            ))
            .hint("save it as UTF-8"));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let is_json = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("json"));
    let base = path.parent().map(|p| {
        if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        }
    });
    let parsed = if is_json {
        partner_center::parse(text, &shown)
    } else {
        toml_file::parse(text, &shown, base)
    };
    let mut config = parsed.map_err(|e| {
        let at = e.location.map(|l| format!("{l}: ")).unwrap_or_default();
        let err = UserError::new(format!("{at}{}", e.message));
        match e.expected {
            Some(x) => err.hint(x),
            None => err,
        }
    })?;
    config.path = Some(path.to_path_buf());
    Ok(config)
}

/// Keeps the named destinations, in the order named; an unknown name is an error that lists
/// the known ones.
pub fn select(mut config: Config, names: &[String]) -> Result<Config, UserError> {
    if names.is_empty() {
        return Ok(config);
    }
    let known: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    let mut picked = Vec::new();
    for n in names {
        match config.destinations.iter().position(|d| &d.name == n) {
            Some(i) => picked.push(config.destinations[i].clone()),
            None => {
                let hint = fields::did_you_mean(n, known.iter().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`? "))
                    .unwrap_or_default();
                return Err(UserError::new(format!("no destination named `{n}`"))
                    .hint(format!("{hint}the config has: {}", known.join(", "))));
            }
        }
    }
    config.destinations = picked;
    Ok(config)
}
