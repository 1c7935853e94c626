//! Issue 10: the binary's own argument path with the text people really paste (CJK,
//! Hangul, emoji, right-to-left, combining marks), pasted text clap takes for an option,
//! blank codes, and how an internal error (a panic) is reported.

use crate::support::leadcheck;
use predicates::prelude::*;
use predicates::str::contains;
use std::time::Duration;

/// Texts whose second byte falls inside a character, and other scripts a ticket holds.
const PASTED: &[&str] = &[
    "안녕하세요, 지난달 송장을 보내주세요.",
    "我们的线索没有到达 Dynamics，错误：没有为用户分配角色",
    "L我",
    "„Lead” nie dotarł do CRM",
    "— forwarded from support",
    "😀 leads stopped arriving",
    "🇵🇱",
    "e\u{301}\u{302}\u{303} combining marks",
    "\u{202e}LC402\u{202c} bidi override",
    "العميل المحتمل لم يصل",
    "שגיאה: no roles are assigned to user",
    "\u{200b}\u{feff}",
    "L",
    "l",
];

fn no_panic(stderr: &[u8]) {
    let stderr = String::from_utf8_lossy(stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
}

#[test]
fn unicode_arguments_to_explain_never_panic() {
    for text in PASTED {
        for args in [vec!["explain", text], vec!["explain", "--json", text, text]] {
            let out = leadcheck().args(&args).output().unwrap();
            no_panic(&out.stderr);
            let code = out.status.code();
            assert!(matches!(code, Some(0 | 1)), "{args:?}: exit {code:?}");
        }
    }
}

#[test]
fn the_reported_ticket_is_answered() {
    leadcheck()
        .args(["explain", "안녕하세요, 지난달 송장을 보내주세요."])
        .assert()
        .code(1)
        .stdout(contains("no confident match"));
    // And the same in Hangul, when it names the error: matched through the argument path.
    leadcheck()
        .args([
            "explain",
            "SecLib::RetrievePrivilegeForUser failed - 사용자에게 할당된 역할이 없습니다",
        ])
        .assert()
        .code(0)
        .stdout(contains("LC402"));
}

#[test]
fn unicode_arguments_to_every_offline_command_never_panic() {
    for text in PASTED {
        let cases: Vec<Vec<&str>> = vec![
            vec!["catalog", "--family", text],
            vec!["triage", text],
            vec!["lint", "--config", text],
            vec!["lint", "--type", "https", "--https-endpoint-url", text],
            vec!["test-lead", "--type", "salesforce", "--offer-title", text],
            vec!["explain", "--lang", text, "LC402"],
            vec!["completions", text],
            vec![text],
        ];
        for args in cases {
            let out = leadcheck().args(&args).output().unwrap();
            no_panic(&out.stderr);
            let code = out.status.code();
            assert!(matches!(code, Some(0..=2)), "{args:?}: exit {code:?}");
        }
    }
}

#[test]
fn unicode_through_standard_input_never_panics() {
    for text in PASTED {
        for cmd in ["explain", "triage"] {
            let out = leadcheck()
                .args([cmd, "-"])
                .write_stdin(format!("{text}\n"))
                .output()
                .unwrap();
            no_panic(&out.stderr);
            assert!(matches!(out.status.code(), Some(0 | 1)), "{cmd} {text}");
        }
    }
}

#[test]
fn a_forwarded_mail_as_an_argument_says_how_to_pass_it() {
    for text in [
        "---------- Forwarded message ---------",
        "-안녕하세요",
        "--- Original Message ---",
    ] {
        leadcheck()
            .args(["explain", text])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains(
                "pass the text after --, or pipe it to leadcheck explain -",
            ));
        // What the hint says works.
        let out = leadcheck().args(["explain", "--", text]).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{text}");
        let out = leadcheck()
            .args(["explain", "-"])
            .write_stdin(text)
            .output()
            .unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{text}");
    }
    leadcheck()
        .args(["triage", "---------- Forwarded message"])
        .assert()
        .code(2)
        .stderr(contains("pipe the text to leadcheck triage -"));
    // An ordinary unknown flag keeps clap's own message, without the hint.
    leadcheck()
        .args(["explain", "--no-such-flag"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("pipe it to").not());
}

#[test]
fn blank_codes_are_usage_errors_with_the_valid_values() {
    for blank in [" ", "", "\t", "402,,305", "402, "] {
        leadcheck()
            .args(["sandbox", "--scenario", blank])
            .timeout(Duration::from_secs(30))
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("cannot be blank"))
            .stderr(contains("LC402"));
    }
    for blank in [" ", "", "\u{3000}"] {
        leadcheck()
            .args(["catalog", "--family", blank])
            .assert()
            .code(2)
            .stdout("")
            .stderr(contains("LC1 LC2 LC3 LC4 LC5 LC6"));
    }
    // Surrounding blanks are fine.
    leadcheck()
        .args(["catalog", "--family", " LC4 "])
        .assert()
        .code(0)
        .stdout(contains("LC402"));
}

#[test]
fn a_panic_is_one_line_exit_two_and_no_half_output() {
    let out = leadcheck()
        .env("LEADCHECK_TEST_PANIC", "1")
        .env_remove("RUST_BACKTRACE")
        .args(["explain", "LC402"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "",
        "half output flushed"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked at"), "{stderr}");
    assert!(stderr.contains("internal error"), "{stderr}");
    assert!(stderr.contains(env!("CARGO_PKG_VERSION")), "{stderr}");
    assert!(stderr.contains("`explain`"), "{stderr}");
    assert!(stderr.contains("report"), "{stderr}");

    // With RUST_BACKTRACE the default report is still there, then the same line.
    let out = leadcheck()
        .env("LEADCHECK_TEST_PANIC", "1")
        .env("RUST_BACKTRACE", "1")
        .args(["catalog"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("panicked at"), "{stderr}");
    assert!(stderr.contains("internal error in leadcheck"), "{stderr}");
    assert!(stderr.contains("`catalog`"), "{stderr}");
}
