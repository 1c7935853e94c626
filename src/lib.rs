//! leadcheck: diagnose Microsoft commercial-marketplace lead destinations and explain the
//! errors they produce. The binary (`src/main.rs`) only parses arguments and maps the
//! outcome to an exit code; everything else lives here so it can be tested in-process.

pub mod app;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod destination;
pub mod diagnose;
pub mod exit;
pub mod lang;
pub mod lead;
pub mod leads;
pub mod net;
pub mod progress;
pub mod report;
pub mod sandbox;
pub mod secret;
pub mod term;
pub mod triage;

/// The version printed in every JSON document.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short git commit the binary was built from, "unknown" outside a checkout (build.rs).
pub const COMMIT: &str = env!("LEADCHECK_COMMIT");
/// What `--version` prints after the name: `0.1.0 (commit abc1234)`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("LEADCHECK_COMMIT"),
    ")"
);
/// Bumped only on a breaking change of a JSON document's shape.
pub const SCHEMA_VERSION: u32 = 1;
