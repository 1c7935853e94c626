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

/// An error quotes what the user typed; its terminal escapes and bidi controls are shown as
/// `\u{..}`, never sent to the terminal, whether clap or leadcheck reports the error.
#[test]
fn errors_never_pass_control_or_bidi_characters_through() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(
        &cfg,
        "[destination.\"영업 \u{202e}lanoiger\"]\ntype = \"https\"\nhttps_endpoint_url = \"https://example.com/leads\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let hostile = "x\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}\u{2066}\u{200f}";
    let cases: Vec<Vec<&str>> = vec![
        vec!["explain", "LC402", "--lang", hostile],
        vec!["leads", "-c", cfg, hostile],
        vec!["diagnose", "-c", cfg, hostile],
        vec!["leads", "-c", cfg, "--since", hostile],
        vec![hostile],
        vec!["triage", "--input", hostile],
    ];
    for args in cases {
        let out = leadcheck()
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        for c in ['\u{1b}', '\u{7}', '\u{202e}', '\u{2066}', '\u{200f}'] {
            assert!(!err.contains(c), "{args:?} let {c:?} through: {err:?}");
        }
        assert!(err.contains("\\u{202e}"), "{args:?}: {err}");
    }
}
