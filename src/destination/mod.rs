//! One file per destination behind one trait. A destination's diagnosis is a chain of steps
//! recorded in a [`Run`]; the chain stops at the first hard failure.

use crate::report::{Check, DestinationReport, Finding, Severity, Status, TestLead};
use std::time::Instant;

/// A step in progress; finish it with one of [`Run`]'s methods.
#[must_use = "a step must be finished with pass, warn, fail or skip"]
pub struct Step {
    id: String,
    title: String,
    started: Instant,
}

/// Records the steps and findings of one destination.
#[derive(Debug, Default)]
pub struct Run {
    pub checks: Vec<Check>,
    pub findings: Vec<Finding>,
    pub test_lead: TestLead,
    /// Set by a failed step: the rest of the chain must not run.
    pub stopped: bool,
}

impl Run {
    pub fn new() -> Run {
        Run::default()
    }

    /// Starts a step (`id` is stable and machine-readable: `dns`, `tls`, `token`, ...).
    pub fn step(&self, id: &str, title: impl Into<String>) -> Step {
        Step { id: id.to_string(), title: title.into(), started: Instant::now() }
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

    /// A finding that belongs to no single step (for example from lint).
    pub fn finding(&mut self, finding: Finding) {
        self.findings.push(finding);
    }

    /// The destination's status: fail on any error finding or failed step, warn on any
    /// warning, else pass. With `strict`, warnings fail.
    pub fn status(&self, strict: bool) -> Status {
        let worst_check = self.checks.iter().map(|c| c.status).max().unwrap_or(Status::Pass);
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
