//! `leads --watch`: poll each destination, print each new lead once, and run `--exec` for it.
//!
//! Each poll asks for the leads the service wrote since the previous successful poll began,
//! less [`OVERLAP`] (the service's clock and ours may differ, and a lead written while a poll
//! ran must not fall between two). A lead is new when the previous poll did not return it:
//! the windows overlap, so the leads of the last poll are all there is to remember.

use super::cmd::{now_secs, scrub, Logs, Options, Read};
use super::render::Out;
use super::source::{self, ReadError, Reader};
use super::Listed;
use crate::app::App;
use crate::config::{self, Config};
use crate::term::Verbosity;
use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

/// Seconds before the previous poll's start that the next poll asks for again.
pub const OVERLAP: i64 = 300;
/// The longest wait between failing polls.
const MAX_BACKOFF: Duration = Duration::from_secs(900);

pub struct Watch {
    pub interval: Duration,
    pub exec: Option<String>,
}

/// What is remembered of one destination between polls.
#[derive(Default)]
struct State {
    /// The leads the last successful poll returned, by id and time: a Marketo lead that
    /// fills out the form twice is listed twice (one row a form fill, same id).
    seen: HashSet<(String, Option<i64>)>,
    /// When the last successful poll started; `None` before the first one.
    last_ok: Option<i64>,
    failures: u32,
    skipped: bool,
    /// The reader of the last successful poll, rewound for the next one so that its
    /// sign-in is used again; dropped after a failure, so that a retry starts afresh.
    reader: Option<Box<dyn Reader>>,
}

/// Polls until Ctrl-C (`Ok(None)`), or until every destination is skipped.
pub async fn run(
    config: &Config,
    opts: &Options,
    watch: &Watch,
    app: &mut App<'_>,
    logs: &mut Logs,
) -> anyhow::Result<Option<Vec<Read>>> {
    let quiet = app.term.verbosity == Verbosity::Quiet;
    let mut out = Out::new(opts.format, false, app.out)?;
    let err = &mut *app.err;
    let mut states: Vec<State> = config
        .destinations
        .iter()
        .map(|_| State::default())
        .collect();
    if !quiet {
        let names: Vec<&str> = config
            .destinations
            .iter()
            .map(|d| d.name.as_str())
            .collect();
        writeln!(
            err,
            "watching {} every {} s for new leads; Ctrl-C stops",
            crate::term::sanitize(&names.join(", "), false),
            watch.interval.as_secs()
        )?;
    }
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    loop {
        let work = async {
            for (dest, state) in config.destinations.iter().zip(states.iter_mut()) {
                if !state.skipped {
                    poll(dest, state, opts, watch, &mut out, &mut *err, logs).await?;
                }
            }
            anyhow::Ok(())
        };
        tokio::select! {
            biased;
            _ = &mut interrupt => return Ok(None),
            r = work => r?,
        }
        if states.iter().all(|s| s.skipped) {
            return Ok(Some(vec![Read::Skipped; states.len()]));
        }
        let failures = states.iter().map(|s| s.failures).max().unwrap_or(0);
        let wait = backoff(watch.interval, failures);
        if failures > 0 && !quiet {
            writeln!(err, "next try in {} s", wait.as_secs())?;
        }
        tokio::select! {
            biased;
            _ = &mut interrupt => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The wait after `failures` polls in a row failed: the interval, doubled for each failure
/// after the first, at most [`MAX_BACKOFF`] (or the interval, when that is longer).
pub fn backoff(interval: Duration, failures: u32) -> Duration {
    if failures <= 1 {
        return interval;
    }
    let doubled = interval.saturating_mul(1u32 << (failures - 1).min(16));
    doubled.min(MAX_BACKOFF.max(interval))
}

/// One poll of one destination.
async fn poll(
    dest: &config::Destination,
    state: &mut State,
    opts: &Options,
    watch: &Watch,
    out: &mut Out<'_>,
    err: &mut (dyn Write + Send),
    logs: &mut Logs,
) -> anyhow::Result<()> {
    let started = now_secs();
    // The first poll: the period asked for (all of it is new), else a baseline of what is
    // already there (none of it is new).
    let (since, first) = match state.last_ok {
        Some(t) => (t - OVERLAP, false),
        None => (opts.since.unwrap_or(started - OVERLAP), true),
    };
    let mut returned = Vec::new();
    let reader = match state.reader.take() {
        Some(mut r) => {
            r.rewind(Some(since));
            Ok(r)
        }
        None => source::open(dest, Some(since)),
    };
    let res = match (opts.net(), reader) {
        (Ok(net), Ok(mut reader)) => {
            // Everything the service returns is remembered, also what is not announced.
            let res = super::cmd::read_with(
                &mut *reader,
                dest,
                Some(since),
                false,
                &net,
                logs,
                err,
                |lead| {
                    returned.push(lead);
                    Ok(())
                },
            )
            .await?;
            if res.error.is_none() {
                state.reader = Some(reader);
            }
            res
        }
        (Err(e), _) => super::cmd::Outcome {
            what: None,
            error: Some(ReadError::Failed(e)),
        },
        (_, Err(e)) => super::cmd::Outcome {
            what: None,
            error: Some(e),
        },
    };
    match res.error {
        None | Some(ReadError::NoTable) => {}
        Some(ReadError::Refused(why)) => {
            state.skipped = true;
            writeln!(
                err,
                "{}: skipped: {}",
                crate::term::sanitize(&dest.name, false),
                scrub(dest, &why)
            )?;
            return Ok(());
        }
        Some(ReadError::Failed(why)) => {
            state.failures += 1;
            writeln!(
                err,
                "{}: poll failed: {}",
                crate::term::sanitize(&dest.name, false),
                scrub(dest, &why)
            )?;
            return Ok(());
        }
    }
    if state.failures > 0 {
        writeln!(
            err,
            "{}: polling again after {} failed poll{}",
            crate::term::sanitize(&dest.name, false),
            state.failures,
            if state.failures == 1 { "" } else { "s" }
        )?;
        state.failures = 0;
    }
    // The first poll announces the period asked for (by the leads' own time), if any.
    let announce = |l: &Listed| match (first, opts.since) {
        (false, _) => true,
        (true, Some(s)) => l.created.is_none_or(|t| t >= s),
        (true, None) => false,
    };
    // Oldest first: the order they arrived in.
    returned.sort_by_key(|l| (l.created, l.id.clone()));
    for lead in &returned {
        if announce(lead) && !state.seen.contains(&(lead.id.clone(), lead.created)) {
            out.lead(&dest.name, dest.kind(), lead)?;
            out.flush()?;
            if let Some(cmd) = &watch.exec {
                exec(cmd, dest, lead, watch.interval, err).await?;
            }
        }
    }
    state.seen = returned.into_iter().map(|l| (l.id, l.created)).collect();
    state.last_ok = Some(started);
    Ok(())
}

/// Runs `cmd` through the shell with the lead as JSON on its standard input. Its output
/// goes to leadcheck's standard error, so that leadcheck's own stays one format. A failure
/// is reported and the watch goes on.
async fn exec(
    cmd: &str,
    dest: &config::Destination,
    lead: &Listed,
    interval: Duration,
    err: &mut (dyn Write + Send),
) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    // Long enough for a notification to be sent, short enough that a hung command cannot
    // stop the watch.
    let limit = interval.max(Duration::from_secs(60));
    let mut json = serde_json::to_vec(&serde_json::json!({
        "destination": dest.name,
        "lead": lead,
    }))?;
    json.push(b'\n');
    let mut c = shell(cmd);
    c.stdin(std::process::Stdio::piped())
        .stdout(stderr_stdio())
        .env("LEADCHECK_DESTINATION", &dest.name)
        .env("LEADCHECK_LEAD_ID", &lead.id)
        .kill_on_drop(true);
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => {
            return writeln!(err, "--exec: cannot run the command: {e}");
        }
    };
    let stdin = child.stdin.take();
    let done = async {
        if let Some(mut stdin) = stdin {
            // A command that does not read its input is not an error; the write is under
            // the time limit too (a lead larger than the pipe would block it).
            let _ = stdin.write_all(&json).await;
        }
        child.wait().await
    };
    let ended = tokio::time::timeout(limit, done).await;
    match ended {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => writeln!(
            err,
            "--exec for lead {}: the command ended with {status}",
            crate::term::sanitize(&lead.id, false)
        ),
        Ok(Err(e)) => writeln!(err, "--exec: {e}"),
        Err(_) => {
            let _ = child.kill().await;
            writeln!(
                err,
                "--exec for lead {}: the command did not end within {} s and was stopped",
                crate::term::sanitize(&lead.id, false),
                limit.as_secs()
            )
        }
    }
}

#[cfg(unix)]
fn shell(cmd: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("sh");
    c.arg("-c").arg(cmd);
    c
}

#[cfg(windows)]
fn shell(cmd: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new("cmd");
    c.arg("/C").arg(cmd);
    c
}

#[cfg(unix)]
fn stderr_stdio() -> std::process::Stdio {
    use std::os::fd::AsFd;
    match std::io::stderr().as_fd().try_clone_to_owned() {
        Ok(fd) => fd.into(),
        Err(_) => std::process::Stdio::null(),
    }
}

#[cfg(windows)]
fn stderr_stdio() -> std::process::Stdio {
    use std::os::windows::io::AsHandle;
    match std::io::stderr().as_handle().try_clone_to_owned() {
        Ok(h) => h.into(),
        Err(_) => std::process::Stdio::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_bounded() {
        let s = Duration::from_secs;
        assert_eq!(backoff(s(60), 0), s(60));
        assert_eq!(backoff(s(60), 1), s(60));
        assert_eq!(backoff(s(60), 2), s(120));
        assert_eq!(backoff(s(60), 4), s(480));
        assert_eq!(backoff(s(60), 40), s(900));
        assert_eq!(backoff(s(3600), 5), s(3600));
        assert_eq!(backoff(s(1), 3), s(4));
    }
}
