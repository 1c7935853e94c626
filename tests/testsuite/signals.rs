//! Signals and pipes: Ctrl-C (SIGINT) during a diagnose ends quickly with 130 and no
//! half-written document; a closed pipe (`| head -1`) ends quietly with 0.

use crate::faults::{bin, Conn, Raw};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server that takes the request and never answers (within the test).
fn silent() -> Raw {
    Raw::start(|mut c: Conn| async move {
        c.read_request().await;
        tokio::time::sleep(Duration::from_secs(55)).await;
    })
}

fn spawn(mut cmd: Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leadcheck")
}

/// Waits for `child`, killing it after `limit`; (exit code, stdout, stderr, time taken).
fn finish(mut child: Child, limit: Duration) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let out = child.stdout.take();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(mut out) = out {
            let _ = out.read_to_string(&mut s);
        }
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = started.elapsed();
    (
        status.code(),
        out_t.join().unwrap(),
        err_t.join().unwrap(),
        took,
    )
}

fn interrupt(pid: u32) {
    let ok = Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill")
        .success();
    assert!(ok, "kill -INT {pid}");
}

fn interrupted_diagnose(format: &str) -> (Option<i32>, String, String, Duration) {
    let server = silent();
    let mut cmd = bin();
    cmd.args([
        "diagnose",
        "--type",
        "https",
        "--https-endpoint-url",
        "env:LC_SIG_URL",
        "--timeout",
        "40",
        "--deadline",
        "50",
        "--format",
        format,
    ])
    .env("LC_SIG_URL", server.url("/hook?sig=SIGINTSIG"));
    let child = spawn(cmd);
    let pid = child.id();
    // Wait until the request is in flight, so the signal lands mid-diagnose.
    let started = Instant::now();
    while server.received_text().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the request never arrived"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    interrupt(pid);
    finish(child, Duration::from_secs(20))
}

#[test]
fn ctrl_c_during_diagnose_exits_130_quickly_with_no_half_document() {
    for format in ["json", "human", "junit", "github"] {
        let (code, stdout, stderr, took) = interrupted_diagnose(format);
        assert_eq!(code, Some(130), "{format}: {stdout}\n{stderr}");
        // "within a second or two"; the bound is wide against a loaded machine.
        assert!(took < Duration::from_secs(5), "{format}: took {took:?}");
        assert!(
            stdout.trim().is_empty()
                || (format == "json" && serde_json::from_str::<serde_json::Value>(&stdout).is_ok()),
            "{format}: a half-written document: {stdout}"
        );
        assert!(stderr.contains("interrupted"), "{format}: {stderr}");
        assert!(!stderr.contains("SIGINTSIG") && !stdout.contains("SIGINTSIG"));
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Runs `cmd`, reads one line of its stdout and closes the pipe, as `| head -1` does.
fn head_1(cmd: Command) -> (Option<i32>, String, String) {
    let mut child = spawn(cmd);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    drop(out);
    let (code, _, stderr, _) = finish(child, Duration::from_secs(30));
    (code, line, stderr)
}

#[test]
fn explain_all_into_a_closed_pipe_ends_quietly() {
    for format in ["human", "json"] {
        let mut cmd = bin();
        cmd.args(["explain", "--all", "--format", format]);
        let (code, line, stderr) = head_1(cmd);
        assert!(!line.is_empty());
        assert_eq!(code, Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}

#[test]
fn catalog_into_a_closed_pipe_ends_quietly() {
    for format in ["human", "json"] {
        let mut cmd = bin();
        cmd.args(["catalog", "--format", format]);
        let (code, line, stderr) = head_1(cmd);
        assert!(!line.is_empty());
        assert_eq!(code, Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}

#[test]
fn triage_of_a_big_input_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tickets.txt");
    // 24 MiB: many more batches than the pipeline's queues hold, so the reader is still
    // reading when the pipe closes (it once waited forever on a full queue; regression).
    let mut text = String::new();
    for i in 0..300_000 {
        if i % 50 == 0 {
            text.push_str(&format!(
                "T-{i}: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user\n"
            ));
        } else {
            text.push_str(&format!(
                "T-{i}: the printer on floor 2 jams again, {:0>40}\n",
                i
            ));
        }
    }
    std::fs::write(&path, text).unwrap();
    for (format, threads) in [("human", "2"), ("json", "2"), ("json", "1")] {
        let mut cmd = bin();
        cmd.args(["triage", "--threads", threads, "--format", format])
            .arg(&path);
        let (code, line, stderr) = head_1(cmd);
        assert!(!line.is_empty());
        assert_eq!(code, Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
}

#[test]
fn completions_and_man_into_a_closed_pipe_end_quietly() {
    // Regression: clap_complete panicked ("failed to write completion file: Broken pipe")
    // when the reader went away first; several rounds, as it depends on timing.
    let mut runs: Vec<Vec<&str>> = vec![vec!["man"]];
    for _ in 0..3 {
        for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
            runs.push(vec!["completions", shell]);
        }
    }
    for args in &runs {
        let mut cmd = bin();
        cmd.args(args);
        let (code, _, stderr) = head_1(cmd);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
