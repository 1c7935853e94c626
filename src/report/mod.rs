//! What a diagnose or lint run found, and its renderers: human, JSON, JUnit and GitHub.
//! Findings carry only a code and the evidence; titles, remedies and doc links come from
//! the catalog at render time, in the `--lang` language.

use serde::Serialize;

/// The outcome of one step, or of a destination, or of the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Skip,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Skip => "skip",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Where in a config file a finding points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A problem found, named by its catalog code. `evidence` is what leadcheck saw (a server's
/// own error, a config value), already redacted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub code: String,
    pub severity: Severity,
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
}

impl Finding {
    pub fn error(code: &str, evidence: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity: Severity::Error,
            evidence: evidence.into(),
            location: None,
        }
    }

    pub fn warning(code: &str, evidence: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity: Severity::Warning,
            evidence: evidence.into(),
            location: None,
        }
    }

    pub fn info(code: &str, evidence: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity: Severity::Info,
            evidence: evidence.into(),
            location: None,
        }
    }

    pub fn at(mut self, location: Option<Location>) -> Finding {
        self.location = location;
        self
    }
}

/// One step of a destination's run (lint, dns, connect, tls, auth, permission, send, verify,
/// cleanup, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub duration_ms: u64,
    pub detail: String,
}

/// What became of the MSFT_TEST lead. `verified` and `cleaned_up` are `None` where not
/// attempted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestLead {
    pub id: Option<String>,
    pub sent: bool,
    pub verified: Option<bool>,
    pub cleaned_up: Option<bool>,
}

/// One destination's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestinationReport {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub status: Status,
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub test_lead: TestLead,
}

/// A whole diagnose or lint run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub status: Status,
    pub destinations: Vec<DestinationReport>,
}

impl RunReport {
    /// The run's status: the worst of its destinations (skip counts as pass).
    pub fn new(destinations: Vec<DestinationReport>) -> RunReport {
        let status = destinations
            .iter()
            .map(|d| d.status)
            .max()
            .map(|s| if s == Status::Skip { Status::Pass } else { s })
            .unwrap_or(Status::Pass);
        RunReport {
            status,
            destinations,
        }
    }
}

pub mod github;
pub mod human;
pub mod json;
pub mod junit;

use crate::catalog::Catalog;
use crate::cli::ReportFormat;
use crate::lang::Lang;

/// Renders a run in a format. `color` applies to `human` only: machine formats never carry
/// escape codes.
pub fn render(
    report: &RunReport,
    format: ReportFormat,
    lang: Lang,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    render_styled(report, format, lang, color, &human::Style::default(), out)
}

/// [`render`], with the human layout's width, verbosity and closing hint.
pub fn render_styled(
    report: &RunReport,
    format: ReportFormat,
    lang: Lang,
    color: bool,
    style: &human::Style,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        ReportFormat::Human => human::render_with(report, lang, color, style, out),
        ReportFormat::Json => json::render(report, lang, out),
        ReportFormat::Junit => junit::render(report, lang, out),
        ReportFormat::Github => {
            let summary = std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|s| !s.is_empty())
                .map(std::path::PathBuf::from);
            github::render(report, lang, out, summary.as_deref())
        }
    }
}

/// A finding's page in `lang`: title, remedy steps and doc links. A code the catalog does not
/// know (a build defect) renders as itself rather than failing the run.
pub struct Page {
    pub title: String,
    pub remedy: Vec<String>,
    pub docs: Vec<String>,
}

pub fn page(code: &str, lang: Lang) -> Page {
    match Catalog::get().entry(code) {
        Some(e) => Page {
            title: e.title(lang).to_string(),
            remedy: e.remedy(lang).to_vec(),
            docs: e.docs.clone(),
        },
        None => Page {
            title: code.to_string(),
            remedy: Vec::new(),
            docs: Vec::new(),
        },
    }
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}
