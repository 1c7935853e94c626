//! `--format junit`: a test suite per destination, a test case per check. A failed check
//! carries the destination's error findings (code, title, evidence); warnings and infos go
//! to the case's system-out.

use super::{page, RunReport, Severity, Status};
use crate::lang::Lang;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn render(report: &RunReport, lang: Lang, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut r = Report::new("leadcheck");
    for d in &report.destinations {
        let mut suite = TestSuite::new(format!("{} ({})", d.name, d.kind));
        let line = |f: &super::Finding| {
            let at = f
                .location
                .as_ref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            format!(
                "{}[{}]: {}: {}{at}",
                f.severity.as_str(),
                f.code,
                page(&f.code, lang).title,
                f.evidence
            )
        };
        let errors: Vec<&super::Finding> = d
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        let others: Vec<String> = d
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Error)
            .map(line)
            .collect();
        let mut errors_told = false;
        for c in &d.checks {
            let status = match c.status {
                Status::Pass | Status::Warn => TestCaseStatus::success(),
                Status::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(c.detail.clone());
                    s
                }
                Status::Fail => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    match errors.first() {
                        Some(f) => {
                            s.set_message(format!("{}: {}", f.code, page(&f.code, lang).title));
                            s.set_type(f.code.clone());
                        }
                        None => {
                            s.set_message(c.detail.clone());
                        }
                    }
                    let mut desc = vec![c.detail.clone()];
                    if !errors_told {
                        desc.extend(errors.iter().map(|f| line(f)));
                        errors_told = true;
                    }
                    s.set_description(desc.join("\n"));
                    s
                }
            };
            let mut case = TestCase::new(format!("{}: {}", c.id, c.title), status);
            case.set_classname(format!("leadcheck.{}", d.name));
            case.set_time(Duration::from_millis(c.duration_ms));
            if matches!(c.status, Status::Pass | Status::Warn) && !c.detail.is_empty() {
                case.set_system_out(c.detail.clone());
            }
            suite.add_test_case(case);
        }
        // Errors that no failed check carried still fail the suite.
        if !errors_told && !errors.is_empty() {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(format!(
                "{}: {}",
                errors[0].code,
                page(&errors[0].code, lang).title
            ));
            s.set_type(errors[0].code.clone());
            s.set_description(
                errors
                    .iter()
                    .map(|f| line(f))
                    .collect::<Vec<_>>()
                    .join("\n"),
            );
            let mut case = TestCase::new("findings", s);
            case.set_classname(format!("leadcheck.{}", d.name));
            suite.add_test_case(case);
        }
        if !others.is_empty() {
            suite.set_system_out(others.join("\n"));
        }
        r.add_test_suite(suite);
    }
    let xml = r.to_string().map_err(std::io::Error::other)?;
    out.write_all(xml.as_bytes())?;
    if !xml.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}
