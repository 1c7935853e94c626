//! `demo`: the sandbox and diagnose in one process, no account needed. It diagnoses a
//! healthy HTTPS endpoint, healthy Dynamics, Salesforce and Marketo destinations and broken ones, prints the real
//! report, and exits 0 when every destination ended as designed (healthy ones passed, each
//! broken one failed with its own code), else 1 saying which did not. In human form it then
//! lists the newest of the demo leads the healthy destinations hold, as `leads` does.

use super::{Sandbox, SecretStyle};
use crate::app::App;
use crate::cli::{DemoArgs, ReportFormat};
use crate::config::{self, Config};
use crate::destination::CreatedList;
use crate::diagnose::{diagnose_all, Options};
use crate::exit::{Exit, UserError};
use crate::net::{LogFn, ProxySettings};
use crate::report::{RunReport, Status};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The scenarios the tour starts, and the destinations it diagnoses.
pub const SCENARIOS: &[&str] = &["LC305", "LC402", "LC501", "LC505"];
pub const TOUR: &[&str] = &[
    "https",
    "dynamics",
    "dynamics-lead-writer",
    "dynamics-office-365",
    "salesforce",
    "marketo",
    "https-lc505",
    "dynamics-lc305",
    "dynamics-lc402",
    "salesforce-lc501",
];

/// The destinations whose leads the tour lists after the report (human form only), and how
/// many of the newest of each.
pub const LEADS: &[&str] = &["dynamics", "salesforce", "marketo"];
pub const LEADS_SHOWN: usize = 3;

pub fn run(args: DemoArgs, app: &mut App) -> anyhow::Result<Exit> {
    // Read before the sandbox starts: a bad LEADCHECK_FORMAT is a usage error, nothing run.
    let format = crate::app::output_format("demo", args.format, false)?;
    let sandbox = Sandbox::start_with_leads(SCENARIOS, None, crate::leads::cmd::now_secs())?;
    // Secrets go to private files (read at load, then removed), as a careful config keeps
    // them, so the tour shows no plain-text warning.
    let dir = std::env::temp_dir().join(format!(
        "leadcheck-demo-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    ));
    let loaded = private_dir(&dir)
        .and_then(|()| {
            sandbox.render_toml(
                &SecretStyle::Files {
                    dir: dir.clone(),
                    reference: dir.clone(),
                },
                Some(TOUR),
            )
        })
        .map_err(|e| {
            UserError::new(format!(
                "the demo could not write its secrets under {}: {e}",
                dir.display()
            ))
        })
        .and_then(|text| {
            config::toml_file::parse(&text, "sandbox.toml", None).map_err(|e| {
                UserError::new(format!(
                    "internal error: the sandbox config does not parse: {}",
                    e.message
                ))
            })
        });
    let _ = std::fs::remove_dir_all(&dir);
    let config = loaded?;

    app.note(&format!(
        "leadcheck demo: emulators of Entra ID, Dataverse, Salesforce, Marketo and a Power Automate flow on 127.0.0.1; diagnosing {} destinations, {} of them broken on purpose",
        TOUR.len(),
        TOUR.iter().filter(|n| sandbox.entry(n).is_some_and(|e| e.expect.is_some())).count()
    ))?;

    let lines: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let log: Option<LogFn> = (app.term.verbosity == crate::term::Verbosity::Verbose).then(|| {
        let lines = lines.clone();
        Arc::new(move |l: String| {
            if let Ok(mut v) = lines.lock() {
                v.push(l);
            }
        }) as LogFn
    });
    let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    let spinners = (app.term.progress && format == ReportFormat::Human)
        .then(|| crate::progress::Spinners::start(&names));
    let opts = Options {
        progress: spinners.as_ref().map(|s| s.progress()),
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(60),
        cleanup: true,
        // Only 127.0.0.1 is involved: no proxy applies.
        proxy: ProxySettings::none(),
        log,
        lint: config::lint::lint_destination,
        ..Options::new()
    };
    let created: CreatedList = Arc::new(Mutex::new(Vec::new()));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let on_done = |name: &str| {
        if let Some(s) = &spinners {
            s.done(name);
        }
    };
    let outcome = rt.block_on(async {
        tokio::select! {
            r = diagnose_all(&config, &opts, created.clone(), &on_done) => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    rt.shutdown_background();
    if let Some(s) = spinners {
        s.clear();
    }
    for l in lines.lock().map(|v| v.clone()).unwrap_or_default() {
        writeln!(app.err, "{}", crate::term::sanitize(&l, false))?;
    }
    let Some(report) = outcome else {
        writeln!(app.err, "interrupted")?;
        return Ok(Exit::Interrupted);
    };
    let report = report.map_err(UserError::new)?;
    // The broken destinations fail on purpose: the next step is the user's own config.
    let style = crate::report::human::Style::for_stdout(
        &app.term,
        crate::report::human::Next::Always(
            "`leadcheck init` writes a leadcheck.toml for your own destinations; then `leadcheck diagnose`".into(),
        ),
    );
    crate::report::render_styled(&report, format, app.lang, app.term.color, &style, app.out)?;
    if format == ReportFormat::Human
        && show_leads(&config, sandbox.demo_leads().len(), app)?.is_none()
    {
        let _ = app.out.flush();
        writeln!(app.err, "interrupted")?;
        return Ok(Exit::Interrupted);
    }
    app.out.flush()?;
    sandbox.shutdown();

    let surprises = surprises(&report, expectation);
    if surprises.is_empty() {
        app.note("leadcheck demo: every destination ended as designed (the healthy ones passed; each broken one failed with its own code)")?;
        Ok(Exit::Ok)
    } else {
        writeln!(app.err, "leadcheck demo: the tour did not run as designed:")?;
        for s in &surprises {
            writeln!(app.err, "  {s}")?;
        }
        Ok(Exit::Findings)
    }
}

/// Lists the newest [`LEADS_SHOWN`] leads of each of [`LEADS`] as `leadcheck leads` does
/// (its rendering, through the library), between a title and the hint to go on with
/// `sandbox` and `leads`. `None` when interrupted. A read that fails shows as it does in
/// `leads` and does not change the exit code.
fn show_leads(config: &Config, preloaded: usize, app: &mut App) -> anyhow::Result<Option<()>> {
    use crate::leads::cmd::{list_all, now_secs, Logs, Options as LeadsOptions};
    use colored::Colorize;
    let only = Config {
        path: None,
        destinations: config
            .destinations
            .iter()
            .filter(|d| LEADS.contains(&d.name.as_str()))
            .cloned()
            .collect(),
    };
    colored::control::set_override(app.term.color);
    let width = crate::term::out_width();
    let title = format!(
        "Leads: the sandbox's destinations hold {preloaded} made-up leads of the last {} days; the {LEADS_SHOWN} newest of {}:",
        super::leads::DAYS,
        LEADS.join(", ")
    );
    writeln!(app.out)?;
    for line in crate::term::wrap(&title, width, "", "  ") {
        writeln!(app.out, "{}", line.bold())?;
    }
    writeln!(app.out)?;
    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let log: Option<LogFn> = (app.term.verbosity == crate::term::Verbosity::Verbose).then(|| {
        Arc::new(move |line: String| {
            let _ = log_tx.send(line);
        }) as LogFn
    });
    let opts = LeadsOptions {
        format: crate::cli::LeadsFormat::Human,
        since: None,
        now: now_secs(),
        limit: LEADS_SHOWN,
        count: false,
        timeout: Duration::from_secs(5),
        deadline: Duration::from_secs(30),
        extra_roots: Vec::new(),
        log,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut logs = Logs(log_rx);
    let listed = rt.block_on(async {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => Ok(None),
            r = list_all(&only, &opts, app, &mut logs) => r.map(Some),
        }
    });
    rt.shutdown_background();
    let listed = match listed {
        Ok(l) => l,
        // The output itself failed (a closed pipe): as everywhere.
        Err(e) if e.downcast_ref::<std::io::Error>().is_some() => return Err(e),
        Err(e) => {
            writeln!(
                app.err,
                "leadcheck demo: the leads could not be listed: {e}"
            )?;
            Some(Vec::new())
        }
    };
    if listed.is_some() {
        let next = "next: `leadcheck sandbox --write-config sandbox.toml` keeps emulators with these leads running; then `leadcheck leads -c sandbox.toml` lists them all";
        for line in crate::term::wrap(next, width, "", "  ") {
            writeln!(app.out, "{line}")?;
        }
    }
    colored::control::unset_override();
    Ok(listed.map(drop))
}

/// What a tour destination must end with: `Some(None)` pass, `Some(Some(code))` fail with
/// that code, `None` not in the tour.
fn expectation(name: &str) -> Option<Option<&'static str>> {
    TOUR.contains(&name).then(|| {
        SCENARIOS
            .iter()
            .copied()
            .find(|c| name.ends_with(&c.to_ascii_lowercase()))
    })
}

/// The destinations that did not end as designed, each with what happened.
pub fn surprises(
    report: &RunReport,
    expect: impl Fn(&str) -> Option<Option<&'static str>>,
) -> Vec<String> {
    let mut out = Vec::new();
    for d in &report.destinations {
        let codes: Vec<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        match expect(&d.name) {
            None => out.push(format!("{}: not part of the tour", d.name)),
            Some(None) if d.status != Status::Pass => out.push(format!(
                "{}: expected to pass, ended {} ({})",
                d.name,
                d.status.as_str(),
                codes.join(", ")
            )),
            Some(Some(code)) if d.status != Status::Fail || !codes.contains(&code) => {
                out.push(format!(
                    "{}: expected to fail with {code}, ended {} ({})",
                    d.name,
                    d.status.as_str(),
                    if codes.is_empty() {
                        "no finding".to_string()
                    } else {
                        codes.join(", ")
                    }
                ))
            }
            _ => {}
        }
    }
    out
}

fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DestinationReport, Finding, TestLead};

    fn dest(name: &str, status: Status, codes: &[&str]) -> DestinationReport {
        DestinationReport {
            name: name.into(),
            kind: "dynamics".into(),
            status,
            checks: vec![],
            findings: codes.iter().map(|c| Finding::error(c, "x")).collect(),
            test_lead: TestLead::default(),
        }
    }

    #[test]
    fn the_tour_is_judged_by_status_and_code() {
        let ok = RunReport::new(vec![
            dest("dynamics", Status::Pass, &[]),
            dest("dynamics-lc402", Status::Fail, &["LC402"]),
        ]);
        assert!(surprises(&ok, expectation).is_empty());
        let wrong_code = RunReport::new(vec![dest("dynamics-lc402", Status::Fail, &["LC403"])]);
        assert_eq!(
            surprises(&wrong_code, expectation),
            vec!["dynamics-lc402: expected to fail with LC402, ended fail (LC403)"]
        );
        let healthy_failed = RunReport::new(vec![dest("https", Status::Fail, &["LC504"])]);
        assert_eq!(surprises(&healthy_failed, expectation).len(), 1);
        let stranger = RunReport::new(vec![dest("marketo-lc513", Status::Pass, &[])]);
        assert_eq!(surprises(&stranger, expectation).len(), 1);
    }
}
