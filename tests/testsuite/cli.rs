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

/// `--version` names the commit the binary was built from, or says it does not know it;
/// scripts read the first two tokens.
#[test]
fn version_names_the_commit() {
    let out = leadcheck()
        .arg("--version")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let line = String::from_utf8(out.stdout).unwrap();
    let tokens: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(
        tokens[..2],
        ["leadcheck", env!("CARGO_PKG_VERSION")],
        "{line}"
    );
    let commit = tokens[3].trim_end_matches(')');
    assert_eq!(tokens[2], "(commit", "{line}");
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
        "{line}"
    );
    assert_eq!(commit, leadcheck::COMMIT);
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
