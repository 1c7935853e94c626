//! The command line itself: help, version, usage errors, completions, man page.

use crate::support::leadcheck;

#[test]
fn help_and_version_exit_zero() {
    leadcheck()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicates::str::contains("diagnose"));
    leadcheck()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicates::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_error_is_exit_two() {
    leadcheck().arg("--no-such-flag").assert().code(2);
    leadcheck()
        .args(["diagnose", "--format", "yaml"])
        .assert()
        .code(2);
}

#[test]
fn completions_and_man_page() {
    leadcheck()
        .args(["completions", "bash"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("leadcheck"));
    leadcheck()
        .arg("man")
        .assert()
        .code(0)
        .stdout(predicates::str::contains(".TH leadcheck"));
}
