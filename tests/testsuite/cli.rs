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

/// LEADCHECK_FORMAT is shared by every command: a flag overrides it (`--json` too), a value
/// the command takes is used, and one it does not take is an error that names the variable,
/// before anything runs.
#[test]
fn the_format_variable_yields_to_flags_and_names_itself_when_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(
        &cfg,
        "[destination.hook]\ntype = \"https\"\nhttps_endpoint_url = \"https://example.com/leads\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let run = |env: &str, args: &[&str]| {
        let out = leadcheck()
            .args(args)
            .env("LEADCHECK_FORMAT", env)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let json = |s: &str| {
        s.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
            && !s.is_empty()
    };
    // Wrong for the command: exit 2, the variable and the command named, nothing printed.
    for args in [
        vec!["leads", "-c", cfg],
        vec!["explain", "LC601"],
        vec!["catalog"],
        vec!["lint", "-c", cfg],
    ] {
        let env = if args[0] == "lint" { "csv" } else { "junit" };
        let (code, out, err) = run(env, &args);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            err.contains(&format!(
                "LEADCHECK_FORMAT={env} is not a format of `leadcheck {}`",
                args[0]
            )),
            "{args:?}: {err}"
        );
    }
    // A flag wins over the variable, --json as much as --format.
    let (code, out, err) = run("junit", &["leads", "-c", cfg, "--json"]);
    assert_eq!(code, Some(1), "{err}"); // the only destination is a skip
    assert!(json(&out), "{out}");
    let (code, out, _) = run("junit", &["explain", "LC601", "--format", "human"]);
    assert_eq!(code, Some(0));
    assert!(out.starts_with("LC601"), "{out}");
    // A value the command takes is used, in any case.
    let (code, out, _) = run("JSON", &["explain", "LC601"]);
    assert_eq!(code, Some(0));
    assert!(json(&out), "{out}");
    let (code, out, _) = run("junit", &["lint", "-c", cfg]);
    assert!(code.is_some_and(|c| c < 2), "{out}");
    assert!(out.contains("<testsuite"), "{out}");
}
