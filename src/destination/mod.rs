//! One file per destination behind one trait. A destination's diagnosis is a chain of steps
//! recorded in a [`Run`]; the chain stops at the first hard failure.
//!
//! Adding a destination: write `src/destination/<kind>.rs` with a struct implementing
//! [`Destination`], add `pub mod <kind>;` below and one arm in [`for_config`]. Use the
//! helpers here ([`probe`], [`send`], [`fail`], [`record_created`]) and the network layer
//! ([`crate::net::Net`], reached as `ctx.net`) so that every destination maps errors the
//! same way.

pub mod azure_table;
pub mod dynamics;
pub mod https;
pub mod marketo;
pub mod salesforce;

use crate::config;
use crate::lead::Lead;
use crate::net::{Net, NetError, Response};
use crate::report::{Check, DestinationReport, Finding, Severity, Status, TestLead};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use url::Url;

pub use crate::net::BoxFuture;

/// A destination type's diagnosis: the steps after lint (probe, auth, permission, send,
/// verify, cleanup), recorded in `run`. Implementations return early when a step fails
/// (`run.stopped`); the runner bounds the whole future by the run deadline.
pub trait Destination: Send + Sync {
    /// The `type` as PRODUCT.md spells it (`https`, `azure-table`, ...).
    fn kind(&self) -> &'static str;

    /// Runs the steps. Must honour `ctx.dry_run` (no write: the send step is a `skip`
    /// "dry run") and `ctx.cleanup` (delete only the record created).
    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()>;

    /// The step ids and titles in order, so that steps a deadline cut off can be reported
    /// as not run. Optional.
    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
}

/// A lead record created by a run: destination name and the record's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub destination: String,
    pub id: String,
}

/// Shared list of created records, so that an interrupted run can still name them.
pub type CreatedList = Arc<Mutex<Vec<Created>>>;

/// What a destination's diagnosis gets: the network, the test lead and the run's options.
#[derive(Clone)]
pub struct Ctx {
    pub net: Net,
    pub lead: Lead,
    /// The destination's name (`[destination.NAME]`).
    pub name: String,
    /// Everything but the write.
    pub dry_run: bool,
    /// Delete the created record afterwards.
    pub cleanup: bool,
    /// `-v` (request lines are logged by `net` already).
    pub verbose: bool,
    /// Where created records are registered (see [`record_created`]).
    pub created: CreatedList,
}

impl Ctx {
    /// A context with no dry run, no cleanup, not verbose.
    pub fn new(net: Net, lead: Lead, name: impl Into<String>) -> Ctx {
        Ctx {
            net,
            lead,
            name: name.into(),
            dry_run: false,
            cleanup: false,
            verbose: false,
            created: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

/// The implementation for a configured destination; `None` for a type this build cannot
/// diagnose (lint has already reported retired and empty destinations).
pub fn for_config(dest: &config::Destination) -> Option<Box<dyn Destination>> {
    match &dest.spec {
        config::Spec::Https(_) => Some(Box::new(https::HttpsEndpoint::new(dest.clone()))),
        config::Spec::AzureTable(_) => Some(Box::new(azure_table::AzureTable::new(dest.clone()))),
        config::Spec::Dynamics(_) => Some(Box::new(dynamics::Dynamics::new(dest.clone()))),
        config::Spec::Salesforce(_) => Some(Box::new(salesforce::Salesforce::new(dest.clone()))),
        config::Spec::Marketo(_) => Some(Box::new(marketo::Marketo::new(dest.clone()))),
        config::Spec::AzureBlob(_) | config::Spec::Nothing { .. } => None,
    }
}

/// The `dns`, `connect` and `tls` steps for `url` (see [`Net::probe`]). `false` when one
/// failed.
pub async fn probe(ctx: &Ctx, run: &mut Run, url: &Url) -> bool {
    ctx.net.probe(run, url).await
}

/// Sends `req` as part of `step`. On a network failure (or a redirect, 429, 407) the step
/// fails with the mapped finding and `None` is returned; otherwise the response, whatever
/// its status, for the destination to judge and finish the step.
/// Builds a request; a request that cannot be built (a malformed URL or header) fails
/// `step` with LC103.
pub fn build(
    run: &mut Run,
    step: Step,
    req: reqwest::RequestBuilder,
) -> Option<(Step, reqwest::Request)> {
    match req.build() {
        Ok(r) => Some((step, r)),
        Err(e) => {
            run.fail(
                step,
                format!("cannot build the request: {e}"),
                Finding::error("LC103", e.to_string()),
            );
            None
        }
    }
}

pub async fn send(
    ctx: &Ctx,
    run: &mut Run,
    step: Step,
    req: reqwest::Request,
) -> Option<(Step, Response)> {
    match ctx.net.send(req).await {
        Ok(resp) => Some((step, resp)),
        Err(e) => {
            fail(run, step, &e);
            None
        }
    }
}

/// Fails `step` with a network error's finding.
pub fn fail(run: &mut Run, step: Step, err: &NetError) {
    run.fail(step, err.evidence.clone(), err.finding());
}

/// Records the created record in the report and in the shared list (named on Ctrl-C).
pub fn record_created(ctx: &Ctx, run: &mut Run, id: impl Into<String>) {
    let id = id.into();
    run.test_lead.sent = true;
    run.test_lead.id = Some(id.clone());
    if let Ok(mut list) = ctx.created.lock() {
        list.push(Created {
            destination: ctx.name.clone(),
            id,
        });
    }
}

/// Marks the record as cleaned up (removes it from the Ctrl-C list).
pub fn record_cleaned(ctx: &Ctx, run: &mut Run, ok: bool) {
    run.test_lead.cleaned_up = Some(ok);
    if ok {
        if let Ok(mut list) = ctx.created.lock() {
            list.retain(|c| c.destination != ctx.name);
        }
    }
}

/// Records as `skip` with `reason` each of `steps` that comes after the last step the run
/// recorded (steps a deadline or an earlier failure kept from running). Steps before it
/// that were not recorded did not apply (no `tls` for http) and stay out.
pub fn skip_remaining(run: &mut Run, steps: &[(&str, &str)], reason: &str) {
    let last = steps
        .iter()
        .rposition(|(id, _)| run.checks.iter().any(|c| c.id == *id));
    let from = last.map_or(0, |i| i + 1);
    for (id, title) in &steps[from..] {
        let s = run.step(id, *title);
        run.skip(s, reason);
    }
}

/// A step in progress; finish it with one of [`Run`]'s methods.
#[must_use = "a step must be finished with pass, warn, fail or skip"]
pub struct Step {
    id: String,
    title: String,
    started: Instant,
}

/// What a [`StepHook`] calls with a step's title.
pub type OnStep = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

/// Told the title of each step as it starts, so that a spinner can name it.
#[derive(Clone, Default)]
pub struct StepHook(pub Option<OnStep>);

impl std::fmt::Debug for StepHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "StepHook(set)"
        } else {
            "StepHook(none)"
        })
    }
}

/// Records the steps and findings of one destination.
#[derive(Debug, Default)]
pub struct Run {
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub test_lead: TestLead,
    /// Set by a failed step: the rest of the chain must not run.
    pub stopped: bool,
    pub on_step: StepHook,
}

impl Run {
    pub fn new() -> Run {
        Run::default()
    }

    /// Starts a step (`id` is stable and machine-readable: `dns`, `tls`, `token`, ...).
    pub fn step(&self, id: &str, title: impl Into<String>) -> Step {
        let title = title.into();
        if let Some(hook) = &self.on_step.0 {
            hook(&title);
        }
        Step {
            id: id.to_string(),
            title,
            started: Instant::now(),
        }
    }

    fn finish(&mut self, step: Step, status: Status, detail: String) {
        self.checks.push(Check {
            id: step.id,
            title: step.title,
            status,
            duration_ms: step.started.elapsed().as_millis() as u64,
            detail,
        });
    }

    pub fn pass(&mut self, step: Step, detail: impl Into<String>) {
        self.finish(step, Status::Pass, detail.into());
    }

    /// Cannot apply here (arrival cannot be verified, a read-back the credentials may not do).
    pub fn skip(&mut self, step: Step, detail: impl Into<String>) {
        self.finish(step, Status::Skip, detail.into());
    }

    /// Passed with a warning; the chain goes on.
    pub fn warn(&mut self, step: Step, detail: impl Into<String>, finding: Finding) {
        self.finish(step, Status::Warn, detail.into());
        self.findings.push(finding);
    }

    /// Failed: records the finding and stops the chain.
    pub fn fail(&mut self, step: Step, detail: impl Into<String>, finding: Finding) {
        self.finish(step, Status::Fail, detail.into());
        self.findings.push(finding);
        self.stopped = true;
    }

    /// Finishes a step whose findings were recorded separately (with [`Run::finding`]);
    /// `Fail` stops the chain.
    pub fn finish_as(&mut self, step: Step, status: Status, detail: impl Into<String>) {
        self.finish(step, status, detail.into());
        if status == Status::Fail {
            self.stopped = true;
        }
    }

    /// A finding that belongs to no single step (for example from lint).
    pub fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The destination's status: fail on any error finding or failed step, warn on any
    /// warning, else pass. With `strict`, warnings fail.
    pub fn status(&self, strict: bool) -> Status {
        let worst_check = self
            .checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(Status::Pass);
        let worst_finding = self.findings.iter().map(|f| f.severity).max();
        let mut status = match worst_finding {
            Some(Severity::Error) => Status::Fail,
            Some(Severity::Warning) => Status::Warn.max(worst_check),
            _ => worst_check,
        };
        if status == Status::Skip {
            status = Status::Pass;
        }
        if strict && status == Status::Warn {
            status = Status::Fail;
        }
        status
    }

    pub fn into_report(self, name: &str, kind: &str, strict: bool) -> DestinationReport {
        let status = self.status(strict);
        DestinationReport {
            name: name.to_string(),
            kind: kind.to_string(),
            status,
            checks: self.checks,
            findings: self.findings,
            test_lead: self.test_lead,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_follows_the_worst() {
        let mut run = Run::new();
        let s = run.step("dns", "Resolve");
        run.pass(s, "ok");
        let s = run.step("verify", "Verify");
        run.skip(s, "not possible");
        assert_eq!(run.status(false), Status::Pass);
        let s = run.step("tls", "TLS");
        run.warn(s, "expires soon", Finding::warning("LC207", "in 3 days"));
        assert_eq!(run.status(false), Status::Warn);
        assert_eq!(run.status(true), Status::Fail);
        let s = run.step("send", "Send");
        run.fail(s, "refused", Finding::error("LC503", "HTTP 400"));
        assert!(run.stopped);
        assert_eq!(run.status(false), Status::Fail);
    }
}
