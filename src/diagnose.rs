//! `diagnose`: load the config, run every destination concurrently under the run
//! deadline, render the report.
//!
//! Each destination runs lint first (an error finding stops it before any network), then
//! its own chain of steps ([`crate::destination::Destination`]). The whole run is bounded
//! by `--deadline`: destinations cut short get LC210 and their remaining steps reported as
//! not run. Ctrl-C stops within a second with exit 130 and no half report, naming any lead
//! already created.

use crate::app::App;
use crate::cli::{DiagnoseArgs, ReportFormat};
use crate::config::{self, Config};
use crate::destination::{self, Created, CreatedList, Ctx, Run};
use crate::exit::{Exit, UserError};
use crate::lead::Lead;
use crate::net::{LogFn, Net, NetOptions, ProxySettings, Resolve, SystemResolver};
use crate::report::{Finding, RunReport, Severity, Status};
use crate::term::Verbosity;
use rustls::pki_types::CertificateDer;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Told (destination name, step title) as each step starts: the spinners.
pub type ProgressFn = Arc<dyn Fn(&str, &str) + Send + Sync>;

/// Offline checks of one destination, as `lint` runs them.
pub type LintFn = fn(&config::Destination) -> Vec<Finding>;

/// Everything a diagnose run needs besides the config.
#[derive(Clone)]
pub struct Options {
    /// One request, connect to last byte.
    pub timeout: Duration,
    /// The whole run.
    pub deadline: Duration,
    pub dry_run: bool,
    pub cleanup: bool,
    pub strict: bool,
    /// Fixed ticks for the MSFT_TEST lead (default: now).
    pub ticks: Option<u64>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub resolver: Arc<dyn Resolve>,
    pub proxy: ProxySettings,
    /// `-v` lines (requests, responses), already redacted.
    pub log: Option<LogFn>,
    /// Offline checks run before the network steps.
    pub lint: LintFn,
    pub progress: Option<ProgressFn>,
}

impl Options {
    /// Defaults of the command line: 15 s per request, 120 s per run, system resolver,
    /// proxies from the environment, no lint.
    pub fn new() -> Options {
        Options {
            timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(120),
            dry_run: false,
            cleanup: false,
            strict: false,
            ticks: None,
            extra_roots: Vec::new(),
            resolver: Arc::new(SystemResolver),
            proxy: ProxySettings::from_env(|k| std::env::var(k).ok()),
            log: None,
            lint: |_| Vec::new(),
            progress: None,
        }
    }
}

impl Default for Options {
    fn default() -> Options {
        Options::new()
    }
}

/// Diagnoses every destination of `config` concurrently and returns the report. Created
/// records are registered in `created` as they are made. `on_done` is called with the
/// name of each destination as it finishes (for a spinner).
pub async fn diagnose_all(
    config: &Config,
    opts: &Options,
    created: CreatedList,
    on_done: &(dyn Fn(&str) + Send + Sync),
) -> Result<RunReport, String> {
    let deadline = Instant::now() + opts.deadline;
    let net = Net::new(NetOptions {
        timeout: opts.timeout,
        deadline,
        extra_roots: opts.extra_roots.clone(),
        resolver: opts.resolver.clone(),
        proxy: opts.proxy.clone(),
        log: opts.log.clone(),
    })?;
    let runs = config.destinations.iter().map(|dest| {
        let net = net.clone();
        let created = created.clone();
        async move {
            let lead = Lead::new(opts.ticks, dest.common.offer_title.as_deref());
            let mut ctx = Ctx::new(net, lead, dest.name.clone());
            ctx.dry_run = opts.dry_run;
            ctx.cleanup = opts.cleanup;
            ctx.verbose = opts.log.is_some();
            ctx.created = created;
            let run = diagnose_one(dest, &ctx, opts, deadline).await;
            on_done(&dest.name);
            let mut report = run.into_report(&dest.name, dest.kind(), opts.strict);
            scrub_secrets(&mut report, dest);
            report
        }
    });
    let reports = futures_util::future::join_all(runs).await;
    Ok(RunReport::new(reports))
}

/// Defence in depth: a server may echo what it was sent (a token, a signature) in an error
/// that a destination quotes as evidence. Every configured secret value (and the signature
/// and key parts of secret URLs and connection strings) is cut out of the report's text.
fn scrub_secrets(report: &mut crate::report::DestinationReport, dest: &config::Destination) {
    let secrets = secret_values(dest);
    if secrets.is_empty() {
        return;
    }
    let scrub = |text: &mut String| {
        for s in &secrets {
            if text.contains(s.as_str()) {
                *text = text.replace(s.as_str(), crate::secret::REDACTED);
            }
        }
    };
    for f in &mut report.findings {
        scrub(&mut f.evidence);
    }
    for c in &mut report.checks {
        scrub(&mut c.detail);
        scrub(&mut c.title);
    }
    if let Some(id) = &mut report.test_lead.id {
        scrub(id);
    }
}

/// Every configured secret value of `dest`, and the signature and key parts of its secret
/// URLs and connection strings, longest first (values under 6 characters are left out:
/// they would cut ordinary words).
pub fn secret_values(dest: &config::Destination) -> Vec<String> {
    use config::Spec;
    let fields: Vec<Option<&config::SecretField>> = match &dest.spec {
        Spec::Dynamics(d) => vec![d.application_key.as_ref(), d.password.as_ref()],
        Spec::Salesforce(s) => vec![s.api_access_token.as_ref()],
        Spec::Marketo(m) => vec![m.client_secret.as_ref()],
        Spec::AzureTable(t) => vec![t.storage_account_connection_string.as_ref()],
        Spec::Https(h) => vec![h.https_endpoint_url.as_ref()],
        Spec::AzureBlob(b) => vec![b.storage_account_connection_string.as_ref()],
        Spec::Nothing { .. } => vec![],
    };
    let mut secrets: Vec<String> = Vec::new();
    for value in fields.into_iter().flatten().filter_map(|f| f.secret()) {
        let v = value.expose().trim();
        secrets.push(v.to_string());
        // `name=value` parts whose name is a secret: a URL's sig, a connection string's
        // AccountKey or SharedAccessSignature.
        for part in v.split(['?', '&', ';']) {
            if let Some((k, val)) = part.split_once('=') {
                let k = k.trim().to_ascii_lowercase();
                if crate::net::redact::SECRET_PARAMS.contains(&k.as_str())
                    || k == "sharedaccesssignature"
                {
                    secrets.push(val.to_string());
                    if let Some(decoded) = url::form_urlencoded::parse(part.as_bytes()).next() {
                        secrets.push(decoded.1.into_owned());
                    }
                }
            }
        }
    }
    // Short values would cut ordinary words; the longest go first.
    secrets.retain(|s| s.len() >= 6);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets.dedup();
    secrets
}

/// `text` with every secret of `dest` cut out.
pub fn scrub_text(dest: &config::Destination, text: &str) -> String {
    let mut text = text.to_string();
    for s in secret_values(dest) {
        if text.contains(s.as_str()) {
            text = text.replace(s.as_str(), crate::secret::REDACTED);
        }
    }
    text
}

/// Lint, then the destination's steps, bounded by the deadline.
async fn diagnose_one(
    dest: &config::Destination,
    ctx: &Ctx,
    opts: &Options,
    deadline: Instant,
) -> Run {
    let mut run = Run::new();
    if let Some(progress) = opts.progress.clone() {
        let name = dest.name.clone();
        run.on_step =
            destination::StepHook(Some(Arc::new(move |title: &str| progress(&name, title))));
    }
    let step = run.step("lint", "Check the configuration");
    let findings = (opts.lint)(dest);
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == Severity::Warning)
        .count();
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    for f in findings.iter().cloned() {
        run.finding(f);
    }
    if errors > 0 {
        let detail = format!(
            "{errors} error(s): {}; no network check was made",
            codes.join(", ")
        );
        run.finish_as(step, Status::Fail, detail);
        return run;
    } else if warnings > 0 {
        run.finish_as(
            step,
            Status::Warn,
            format!("{warnings} warning(s): {}", codes.join(", ")),
        );
    } else {
        run.pass(step, "the configuration is well-formed");
    }

    let Some(imp) = destination::for_config(dest) else {
        let step = run.step(
            "diagnose",
            format!("Diagnose a {} destination", dest.kind()),
        );
        run.skip(
            step,
            format!(
                "diagnosing a {} destination is not available in this build",
                dest.kind()
            ),
        );
        return run;
    };
    // A little grace so that a request cut by the deadline reports LC210 itself, with the
    // step it was in.
    let outer = deadline + Duration::from_millis(250);
    let finished = tokio::time::timeout_at(outer, imp.diagnose(ctx, &mut run))
        .await
        .is_ok();
    let cut = !finished || run.findings.iter().any(|f| f.code == "LC210");
    if cut {
        if !finished {
            let done: Vec<&str> = run.checks.iter().map(|c| c.id.as_str()).collect();
            run.finding(Finding::error(
                "LC210",
                format!(
                    "the run deadline ({} s) was reached while diagnosing {} (steps done: {})",
                    opts.deadline.as_secs_f64(),
                    dest.name,
                    if done.is_empty() {
                        "none".to_string()
                    } else {
                        done.join(", ")
                    }
                ),
            ));
            run.stopped = true;
        }
        let steps: Vec<(&str, &str)> = imp
            .steps()
            .iter()
            .copied()
            .filter(|(id, _)| *id != "cleanup" || opts.cleanup)
            .collect();
        destination::skip_remaining(&mut run, &steps, "not run: the run deadline was reached");
    }
    run
}

pub fn secs_arg(name: &str, v: f64) -> Result<Duration, UserError> {
    if !(v.is_finite() && v > 0.0 && v < 1e7) {
        return Err(UserError::new(format!(
            "--{name} must be a positive number of seconds, not {v}"
        )));
    }
    Ok(Duration::from_secs_f64(v))
}

pub fn run_diagnose(args: DiagnoseArgs, app: &mut App) -> anyhow::Result<Exit> {
    let format = crate::app::output_format("diagnose", args.lint.format, args.lint.json)?;
    let timeout = secs_arg("timeout", args.timeout)?;
    let args_junit = args.junit.clone();
    let deadline = secs_arg("deadline", args.deadline)?;
    let extra_roots = match &args.ca_cert {
        Some(path) => crate::net::tls::load_ca_pem(path).map_err(|e| {
            UserError::new(e).hint("--ca-cert takes a PEM file with one or more CERTIFICATE blocks")
        })?,
        None => Vec::new(),
    };
    let stdin = &mut *app.stdin;
    let config = config::load_with_stdin(&args.lint, &mut || {
        let mut s = String::new();
        std::io::Read::read_to_string(stdin, &mut s)?;
        Ok(s)
    })?;

    let (log_tx, mut log_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let log: Option<LogFn> = if app.term.verbosity == Verbosity::Verbose {
        Some(Arc::new(move |line: String| {
            let _ = log_tx.send(line);
        }))
    } else {
        drop(log_tx);
        None
    };
    let names: Vec<String> = config.destinations.iter().map(|d| d.name.clone()).collect();
    let spinners = (app.term.progress && format == ReportFormat::Human)
        .then(|| crate::progress::Spinners::start(&names));
    let opts = Options {
        timeout,
        deadline,
        dry_run: args.dry_run,
        cleanup: args.cleanup,
        strict: args.lint.strict,
        ticks: args.ticks,
        extra_roots,
        resolver: Arc::new(SystemResolver),
        proxy: ProxySettings::from_env(|k| std::env::var(k).ok()),
        log,
        lint: config::lint::lint_destination,
        progress: spinners.as_ref().map(|s| s.progress()),
    };
    let on_done = |name: &str| {
        if let Some(s) = &spinners {
            s.done(name);
        }
    };
    let created: CreatedList = Arc::new(Mutex::new(Vec::new()));

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let outcome = rt.block_on(async {
        let work = diagnose_all(&config, &opts, created.clone(), &on_done);
        tokio::pin!(work);
        let interrupt = tokio::signal::ctrl_c();
        tokio::pin!(interrupt);
        loop {
            tokio::select! {
                biased;
                _ = &mut interrupt => return Outcome::Interrupted,
                Some(line) = log_rx.recv() => {
                    let _ = writeln!(app.err, "{}", crate::term::sanitize(&line, false));
                }
                report = &mut work => {
                    while let Ok(line) = log_rx.try_recv() {
                        let _ = writeln!(app.err, "{}", crate::term::sanitize(&line, false));
                    }
                    return Outcome::Done(report);
                }
            }
        }
    });
    rt.shutdown_background();
    if let Some(s) = spinners {
        s.clear();
    }
    match outcome {
        Outcome::Interrupted => {
            let list: Vec<Created> = created.lock().map(|l| l.clone()).unwrap_or_default();
            let _ = writeln!(app.err, "interrupted");
            for c in list {
                let _ = writeln!(
                    app.err,
                    "a test lead was already created in {}: {} (remove it by hand)",
                    c.destination, c.id
                );
            }
            Ok(Exit::Interrupted)
        }
        Outcome::Done(Err(e)) => Err(UserError::new(e).into()),
        Outcome::Done(Ok(report)) => {
            let color = app.term.color && format == ReportFormat::Human;
            let style = crate::report::human::Style::for_stdout(
                &app.term,
                crate::report::human::Next::Rerun {
                    cmd: "leadcheck diagnose",
                    then: None,
                },
            );
            crate::report::render_styled(&report, format, app.lang, color, &style, app.out)?;
            if let Some(path) = &args_junit {
                write_junit(&report, app.lang, path)?;
            }
            Ok(if report.status == Status::Fail {
                Exit::Findings
            } else {
                Exit::Ok
            })
        }
    }
}

/// `--junit FILE`: written whole next to its final place, then renamed, so that a CI step
/// that publishes it never reads half a report.
fn write_junit(
    report: &RunReport,
    lang: crate::lang::Lang,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let fail = |e: std::io::Error| {
        UserError::new(format!(
            "cannot write the JUnit report {}: {e}",
            path.display()
        ))
        .hint("choose a writable path for --junit")
    };
    let mut xml = Vec::new();
    crate::report::render(report, ReportFormat::Junit, lang, false, &mut xml).map_err(fail)?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir
        .unwrap_or(std::path::Path::new("."))
        .join(format!(".{name}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &xml)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail(e)
        })?;
    Ok(())
}

enum Outcome {
    Done(Result<RunReport, String>),
    Interrupted,
}
