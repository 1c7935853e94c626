//! `leadcheck leads`: load the config, read each named destination's leads page by page,
//! and print them (or their counts per day) with a summary that answers LC601.

use super::render::{self, Out};
use super::source::{self, ReadError};
use super::tally::{Days, Tally};
use super::{parse_since, Listed};
use crate::app::App;
use crate::cli::{LeadsArgs, LeadsFormat, LintArgs, ReportFormat};
use crate::config::{self, Config};
use crate::exit::{Exit, UserError};
use crate::net::{LogFn, Net, NetOptions, ProxySettings, SystemResolver};
use crate::term::Verbosity;
use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;

/// The period `--count` shows when `--since` is not given.
pub const COUNT_DAYS: i64 = 30;

/// What a command run needs besides the config.
pub struct Options {
    pub format: LeadsFormat,
    /// Start of the period (Unix seconds).
    pub since: Option<i64>,
    pub now: i64,
    /// Newest leads kept per destination; 0 streams all.
    pub limit: usize,
    pub count: bool,
    pub timeout: Duration,
    pub deadline: Duration,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub log: Option<LogFn>,
}

impl Options {
    /// The network layer of one run (or, with `--watch`, of one poll).
    pub fn net(&self) -> Result<Net, String> {
        Net::new(NetOptions {
            timeout: self.timeout,
            deadline: tokio::time::Instant::now() + self.deadline,
            extra_roots: self.extra_roots.clone(),
            resolver: Arc::new(SystemResolver),
            proxy: ProxySettings::from_env(|k| std::env::var(k).ok()),
            log: self.log.clone(),
        })
    }
}

/// How one destination's read ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Done,
    Skipped,
    Failed,
}

pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub fn run(args: LeadsArgs, app: &mut App) -> anyhow::Result<Exit> {
    let format = crate::app::output_format("leads", args.format, args.json)?;
    let now = now_secs();
    let since = args
        .since
        .as_deref()
        .map(|s| parse_since(s, now))
        .transpose()
        .map_err(|e| UserError::new(e).hint("--since takes 7d (days before now) or 2026-11-01"))?;
    let limit = usize::try_from(args.limit).unwrap_or(usize::MAX);
    let timeout = crate::diagnose::secs_arg("timeout", args.timeout)?;
    let deadline = crate::diagnose::secs_arg("deadline", args.deadline)?;
    let extra_roots = match &args.ca_cert {
        Some(path) => crate::net::tls::load_ca_pem(path).map_err(|e| {
            UserError::new(e).hint("--ca-cert takes a PEM file with one or more CERTIFICATE blocks")
        })?,
        None => Vec::new(),
    };
    let lint = LintArgs {
        config: args.config.clone(),
        names: args.names.clone(),
        format: Some(ReportFormat::Human),
        json: false,
        strict: false,
        dest: args.dest.clone(),
    };
    let stdin = &mut *app.stdin;
    let config = config::load_with_stdin(&lint, &mut || {
        let mut s = String::new();
        std::io::Read::read_to_string(stdin, &mut s)?;
        Ok(s)
    })?;
    colored::control::set_override(app.term.color && format == LeadsFormat::Human);

    let (log_tx, log_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let log: Option<LogFn> = (app.term.verbosity == Verbosity::Verbose).then(|| {
        Arc::new(move |line: String| {
            let _ = log_tx.send(line);
        }) as LogFn
    });
    let opts = Options {
        format,
        since,
        now,
        limit,
        count: args.count,
        timeout,
        deadline,
        extra_roots,
        log,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut logs = Logs(log_rx);
    let result = if args.watch {
        let watch = super::watch::Watch {
            interval: Duration::from_secs(args.interval),
            exec: args.exec.clone(),
        };
        rt.block_on(super::watch::run(&config, &opts, &watch, app, &mut logs))
    } else {
        rt.block_on(async {
            let work = list_all(&config, &opts, app, &mut logs);
            tokio::select! {
                biased;
                _ = tokio::signal::ctrl_c() => Ok(None),
                r = work => r.map(Some),
            }
        })
    };
    rt.shutdown_background();
    match result? {
        None => {
            let _ = app.out.flush();
            let _ = writeln!(app.err, "interrupted");
            Ok(Exit::Interrupted)
        }
        Some(reads) => Ok(exit_for(&reads)),
    }
}

/// 0 when every destination could be read or was skipped; 1 when one could not be read, or
/// when every one was skipped (nothing was read at all).
pub fn exit_for(reads: &[Read]) -> Exit {
    if reads.contains(&Read::Failed) || reads.iter().all(|r| *r == Read::Skipped) {
        Exit::Findings
    } else {
        Exit::Ok
    }
}

use std::io::Write;

/// The `-v` lines, written to stderr between pages (already redacted by the network layer).
pub struct Logs(pub UnboundedReceiver<String>);

impl Logs {
    pub fn drain(&mut self, err: &mut dyn Write) {
        while let Ok(line) = self.0.try_recv() {
            let _ = writeln!(err, "{}", crate::term::sanitize(&line, false));
        }
    }
}

/// Lists (or counts) every destination's leads in config order, into `app.out` (also what
/// `demo` shows of the sandbox's leads). One [`Read`] a destination.
pub async fn list_all(
    config: &Config,
    opts: &Options,
    app: &mut App<'_>,
    logs: &mut Logs,
) -> anyhow::Result<Vec<Read>> {
    let net = opts.net().map_err(UserError::new)?;
    let mut out = Out::new(opts.format, opts.count, app.out)?;
    let mut reads = Vec::new();
    for dest in &config.destinations {
        let summary = list_one(dest, opts, &net, &mut out, logs, app.err).await?;
        logs.drain(app.err);
        reads.push(summary.read);
        out.summary(&summary, app.err, app.term.verbosity)?;
    }
    out.finish()?;
    Ok(reads)
}

/// Reads one destination: streams or keeps its leads, then sums them up.
async fn list_one(
    dest: &config::Destination,
    opts: &Options,
    net: &Net,
    out: &mut Out<'_>,
    logs: &mut Logs,
    err: &mut dyn Write,
) -> anyhow::Result<render::Summary> {
    let period = opts
        .since
        .or(opts.count.then_some(opts.now - COUNT_DAYS * 86_400));
    let days = opts.count.then(|| Days::new(period.unwrap_or(0), opts.now));
    let keep = if opts.count { 0 } else { opts.limit };
    let stream = !opts.count && opts.limit == 0;
    let mut tally = Tally::new(keep, days);
    let mut summary = render::Summary::new(dest, period, opts.now);
    let outcome = read_into(dest, period, true, net, logs, err, |lead| {
        if stream {
            out.lead(&dest.name, dest.kind(), &lead)?;
        }
        tally.add(lead);
        Ok(())
    })
    .await?;
    summary.what = outcome.what;
    match outcome.error {
        None => {}
        Some(ReadError::NoTable) => {
            summary.what = summary.what.map(|w| {
                format!("{w}, which does not exist yet (the marketplace creates it with its first lead)")
            });
        }
        Some(ReadError::Refused(why)) => {
            summary.read = Read::Skipped;
            summary.reason = Some(scrub(dest, &why));
            return Ok(summary);
        }
        Some(ReadError::Failed(why)) => {
            summary.read = Read::Failed;
            summary.reason = Some(scrub(dest, &why));
            return Ok(summary);
        }
    }
    summary.take(&tally);
    if stream {
        summary.shown = tally.leads;
    } else {
        for lead in tally.newest_first() {
            out.lead(&dest.name, dest.kind(), &lead)?;
            summary.shown += 1;
        }
    }
    // No customer lead in the period: when was the last one before it? (LC601)
    if let (Some(p), None) = (period, tally.last_customer) {
        let mut before = Tally::new(0, None);
        let res = read_into(dest, None, false, net, logs, err, |lead| {
            before.add(lead);
            Ok(())
        })
        .await?;
        if res.error.is_none() {
            summary.last_customer_ever = before.last_customer.filter(|t| *t < p);
            summary.last_ever = before.last.filter(|t| *t < p).or(summary.last);
        }
    }
    Ok(summary)
}

/// Reads every page of `dest`'s leads the service wrote since `since`, giving each to
/// `each`; with `by_created`, leads created before `since` are left out too (the service
/// filters on its own write time, the period is the lead's). The outer error is one of
/// `each` (the output).
pub(crate) async fn read_into(
    dest: &config::Destination,
    since: Option<i64>,
    by_created: bool,
    net: &Net,
    logs: &mut Logs,
    err: &mut dyn Write,
    each: impl FnMut(Listed) -> std::io::Result<()>,
) -> std::io::Result<Outcome> {
    match source::open(dest, since) {
        Ok(mut reader) => {
            read_with(&mut *reader, dest, since, by_created, net, logs, err, each).await
        }
        Err(e) => Ok(Outcome {
            what: None,
            error: Some(e),
        }),
    }
}

/// [`read_into`] with a reader already open (and rewound to `since`).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn read_with(
    reader: &mut dyn source::Reader,
    dest: &config::Destination,
    since: Option<i64>,
    by_created: bool,
    net: &Net,
    logs: &mut Logs,
    err: &mut dyn Write,
    mut each: impl FnMut(Listed) -> std::io::Result<()>,
) -> std::io::Result<Outcome> {
    let what = Some(reader.what());
    if net.verbose() {
        let _ = writeln!(
            err,
            "{}: {}",
            crate::term::sanitize(&dest.name, false),
            crate::term::sanitize(&scrub(dest, &reader.query()), false)
        );
    }
    loop {
        let page = reader.next_page(net).await;
        logs.drain(err);
        match page {
            Ok(Some(leads)) => {
                for lead in leads {
                    if by_created && since.is_some_and(|s| lead.created.is_some_and(|t| t < s)) {
                        continue;
                    }
                    each(lead)?;
                }
            }
            Ok(None) => return Ok(Outcome { what, error: None }),
            Err(e) => {
                return Ok(Outcome {
                    what,
                    error: Some(e),
                })
            }
        }
    }
}

/// How a read ended: what was read, in words, and why it stopped early, if it did.
pub(crate) struct Outcome {
    pub what: Option<String>,
    pub error: Option<ReadError>,
}

/// A reason shown to the user without the destination's secrets, whatever a server echoed.
pub fn scrub(dest: &config::Destination, text: &str) -> String {
    crate::diagnose::scrub_text(dest, text)
}
