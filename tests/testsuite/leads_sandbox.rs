//! The sandbox's demo leads: `leadcheck sandbox` starts its healthy, readable emulators with
//! them, so `leadcheck leads` (the real binary) lists them on a fresh machine, newest first,
//! test leads marked, non-Latin names intact; `diagnose` still finds exactly its own lead
//! among them; `demo` lists the newest in human form only, and its exit code and machine
//! formats are as before.

use crate::leads_support::{created, lines, now};
use crate::support::leadcheck;
use leadcheck::lead::TICKS_AT_UNIX_EPOCH;
use leadcheck::leads::parse_time;
use leadcheck::sandbox::leads::{demo_leads, DemoLead, DAYS};
use leadcheck::sandbox::{FieldValue, Sandbox, SandboxHandle, SecretStyle};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The destinations that can be read and hold the demo leads.
const READABLE: [&str; 3] = ["dynamics", "salesforce", "marketo"];

fn leads_json(cfg: &std::path::Path, args: &[&str]) -> (Vec<Value>, Vec<Value>) {
    let out = leadcheck()
        .arg("leads")
        .arg("-c")
        .arg(cfg)
        .args(READABLE)
        .args(["--format", "json"])
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    lines(&stdout)
}

/// Checks one destination's listing against the generator's leads. `age_slack`: how far
/// the sandbox's now may be from the one `want` was made with (0 when the same).
fn listed_as_generated(
    name: &str,
    leads: &[Value],
    sums: &[Value],
    want: &[DemoLead],
    now: i64,
    age_slack: i64,
) {
    let mine: Vec<&Value> = leads.iter().filter(|l| l["destination"] == name).collect();
    let sum = &sums
        .iter()
        .find(|s| s["summary"]["destination"] == name)
        .unwrap_or_else(|| panic!("no summary for {name}"))["summary"];
    let tests = want.iter().filter(|l| l.test).count();
    assert_eq!(sum["status"], "read", "{sum}");
    assert_eq!(sum["leads"], want.len() as u64, "{name}: {sum}");
    assert_eq!(sum["test_leads"], tests as u64, "{name}: {sum}");
    assert_eq!(mine.len(), want.len(), "{name}");
    // Newest first.
    for w in mine.windows(2) {
        assert!(
            created(w[0]) > created(w[1]),
            "{name}: {} then {}",
            w[0],
            w[1]
        );
    }
    for (got, l) in mine.iter().zip(want) {
        let age = now - created(got);
        let want_age = now - l.created;
        assert!(
            (age - want_age).abs() <= age_slack,
            "{name}: {got} vs {l:?}"
        );
        assert_eq!(got["test"], l.test, "{name}: {got}");
        if l.test {
            // The marketplace's test lead, minted when it was written.
            let ticks = TICKS_AT_UNIX_EPOCH + created(got) as u64 * 10_000_000;
            let marker = format!("MSFT_TEST_{ticks}");
            assert_eq!(got["first_name"], marker.as_str(), "{name}: {got}");
            assert_eq!(got["email"], format!("{marker}@test.com").as_str());
            assert_eq!(got["offer"], l.offer.as_str());
            continue;
        }
        for (key, value) in [
            ("first_name", &l.first_name),
            ("last_name", &l.last_name),
            ("company", &l.company),
            ("email", &l.email),
            ("country", &l.country),
            ("offer", &l.offer),
            ("action_code", &l.action),
            ("lead_source", &l.source),
        ] {
            assert_eq!(got[key], value.as_str(), "{name}.{key}: {got}");
        }
    }
    // Non-Latin names, as written.
    let text: String = mine.iter().map(|l| l.to_string()).collect();
    for s in [
        "김",
        "Wiśniewski",
        "Gonçalves",
        "王",
        "上海云帆科技有限公司",
    ] {
        assert!(text.contains(s), "{name}: {s} missing");
    }
    assert!(sum["last_customer"].is_string());
}

/// A child process killed when dropped (a failed assertion must not leave it running).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_sandbox_command_holds_the_demo_leads_and_leads_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sandbox.toml");
    let started = now();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("leadcheck"))
        .args(["sandbox", "--write-config"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Child(child);
    let t = Instant::now();
    while !std::fs::read_to_string(&path)
        .map(|t| t.contains("[destination.marketo]"))
        .unwrap_or(false)
    {
        assert!(t.elapsed() < Duration::from_secs(15), "no config written");
        std::thread::sleep(Duration::from_millis(50));
    }
    let want = demo_leads(started);
    let (leads, sums) = leads_json(&path, &[]);
    assert_eq!(sums.len(), 3);
    for name in READABLE {
        // The sandbox took its own now a moment after `started`.
        listed_as_generated(name, &leads, &sums, &want, now(), 30);
    }
    // The newest is a customer's, a few hours old.
    let newest = created(&leads[0]);
    assert!(leads[0]["test"] == false && (2 * 3600..6 * 3600).contains(&(now() - newest)));
    // All within the period the generator promises.
    assert!(leads.iter().all(|l| now() - created(l) < DAYS * 86_400));

    // Its note says how to list them (one line).
    let _ = child.0.kill();
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    let note: Vec<&str> = err.lines().filter(|l| l.contains("demo leads")).collect();
    assert_eq!(note.len(), 1, "{err}");
    assert!(
        note[0].contains(&format!("hold {} demo leads", want.len()))
            && note[0].contains(&format!("`leadcheck leads -c {}`", path.display())),
        "{err}"
    );
}

/// A config of the sandbox's readable destinations, secrets in files.
fn config(sb: &SandboxHandle, dir: &std::path::Path) -> std::path::PathBuf {
    let style = SecretStyle::Files {
        dir: dir.join("secrets"),
        reference: "secrets".into(),
    };
    let text = sb.render_toml(&style, Some(&READABLE)).unwrap();
    let path = dir.join("leadcheck.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn diagnose_finds_its_own_lead_among_them_and_leaves_them_as_they_were() {
    let now = now();
    let sb = Sandbox::start_with_leads(&[], None, now).unwrap();
    let want = sb.demo_leads().to_vec();
    assert_eq!(want, demo_leads(now));
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    // Diagnose passes: each lookup finds exactly its own lead, and cleans only it up.
    let out = leadcheck()
        .args(["diagnose", "--format", "json", "--cleanup", "--config"])
        .arg(&cfg)
        .args(READABLE)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "pass", "{j}");
    for d in j["destinations"].as_array().unwrap() {
        assert_eq!(d["test_lead"]["verified"], true, "{d}");
        assert_eq!(d["test_lead"]["cleaned_up"], true, "{d}");
    }
    // The demo leads are still there, exactly (same now: exact times).
    let (leads, sums) = leads_json(&cfg, &[]);
    for name in READABLE {
        listed_as_generated(name, &leads, &sums, &want, now, 0);
    }
    // A period: what the generator made in it.
    let (leads, sums) = leads_json(&cfg, &["--since", "7d"]);
    for s in &sums {
        let since = parse_time(s["summary"]["since"].as_str().unwrap()).unwrap();
        let in_week = want.iter().filter(|l| l.created >= since).count();
        assert!(in_week > 3 && in_week < want.len());
        assert_eq!(s["summary"]["leads"], in_week as u64, "{s}");
    }
    assert_eq!(
        leads.len(),
        3 * sums[0]["summary"]["leads"].as_u64().unwrap() as usize
    );
    // No secret in the config's values shows in a listing.
    let out = leadcheck()
        .arg("leads")
        .arg("-c")
        .arg(&cfg)
        .args(["-v", "--limit", "3"])
        .env("COLUMNS", "120")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{all}");
    for s in sb.entries().iter().flat_map(|e| e.fields.iter()) {
        if let (_, FieldValue::Secret(v)) = s {
            assert!(!all.contains(v.as_str()), "a secret in: {all}");
        }
    }
    assert!(
        all.contains("김민준") && all.contains("Łukasz Wiś"),
        "{all}"
    );
}

#[test]
fn a_sandbox_started_for_tests_holds_no_demo_leads() {
    let sb = Sandbox::start(&["LC402"]).unwrap();
    assert!(sb.demo_leads().is_empty());
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path());
    let (leads, sums) = leads_json(&cfg, &[]);
    assert!(leads.is_empty(), "{leads:?}");
    assert!(sums.iter().all(|s| s["summary"]["leads"] == 0), "{sums:?}");
}

#[test]
fn demo_lists_the_newest_leads_in_human_form_only() {
    let out = leadcheck()
        .arg("demo")
        .env("COLUMNS", "100")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let n = demo_leads(now()).len();
    let (report, section) = stdout
        .split_once("\nLeads: ")
        .unwrap_or_else(|| panic!("no leads section:\n{stdout}"));
    // The report comes first, whole; the section after it.
    assert!(report.contains("fail: 10 destination(s)"), "{report}");
    assert!(section.starts_with(&format!(
        "the sandbox's destinations hold {n} made-up leads"
    )));
    for name in READABLE {
        // The header names the destination (its type is its name here, not repeated).
        let head = format!("\n{name}\n");
        assert!(section.contains(&head), "{name}:\n{section}");
    }
    // The 3 newest of each (the newest customer's name in each), then the summary line.
    assert_eq!(section.matches("김민준").count(), 3, "{section}");
    assert_eq!(section.matches("Łukasz Wiś").count(), 3, "{section}");
    assert_eq!(
        section.matches(&format!("{n} leads in ")).count(),
        3,
        "{section}"
    );
    assert_eq!(section.matches("the newest customer lead: ").count(), 3);
    let flat = section.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("`leadcheck sandbox --write-config sandbox.toml`")
            && flat.contains("`leadcheck leads -c sandbox.toml`"),
        "{section}"
    );
    assert!(section.lines().count() <= 35, "{section}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("every destination ended as designed"));

    // Machine formats: the report alone, as before.
    let out = leadcheck()
        .args(["demo", "--format", "json"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = j.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    for k in ["status", "destinations", "schema_version", "leadcheck"] {
        assert!(keys.contains(&k), "{keys:?}");
    }
    assert_eq!(j["destinations"].as_array().unwrap().len(), 10);
    for d in j["destinations"].as_array().unwrap() {
        let mut keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["checks", "findings", "name", "status", "test_lead", "type"]
        );
    }
    for format in ["junit", "github"] {
        let out = leadcheck()
            .args(["demo", "--format", format])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(0)
            .get_output()
            .clone();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stdout.contains("made-up leads") && !stdout.contains("leadcheck leads"),
            "{format}: {stdout}"
        );
        if format == "junit" {
            assert!(stdout.trim_end().ends_with("</testsuites>"), "{stdout}");
        } else {
            assert!(
                stdout
                    .lines()
                    .all(|l| l.starts_with("::") || l.starts_with("leadcheck: ")),
                "{stdout}"
            );
        }
    }
}
