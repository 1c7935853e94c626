//! `lint`: each rule triggered by a fixture; exit 0 clean, 1 with findings; secrets never
//! shown.

use crate::support::{fixture, leadcheck};
use std::collections::BTreeMap;

fn lint_json(file: &str, envs: &[(&str, &str)]) -> (i32, serde_json::Value, String) {
    let mut cmd = leadcheck();
    cmd.current_dir(fixture("config"))
        .args(["lint", "--json", "--config", file]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (out.status.code().unwrap(), v, text)
}

/// destination name -> sorted codes.
fn codes(v: &serde_json::Value) -> BTreeMap<String, Vec<String>> {
    v["destinations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let mut c: Vec<String> = d["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap().to_string())
                .collect();
            c.sort();
            (d["name"].as_str().unwrap().to_string(), c)
        })
        .collect()
}

#[test]
fn every_rule_fires_on_its_fixture() {
    let (code, v, text) = lint_json("findings.toml", &[]);
    assert_eq!(code, 1);
    let got = codes(&v);
    let want: BTreeMap<String, Vec<String>> = [
        (
            "dyn",
            vec!["LC104", "LC105", "LC107", "LC108", "LC112", "LC304"],
        ),
        ("dyn-o365", vec!["LC102", "LC103", "LC106"]),
        ("sf", vec!["LC113"]),
        ("mkto", vec!["LC106", "LC114", "LC115", "LC116"]),
        ("table", vec!["LC105", "LC109", "LC110"]),
        ("emulator", vec!["LC105", "LC119"]),
        ("flow", vec!["LC105", "LC111"]),
        ("private", vec!["LC118"]),
        ("blob", vec!["LC101"]),
        ("nothing", vec!["LC117"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(got, want);
    assert!(!text.contains("CANARY"), "a secret leaked: {text}");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["leadcheck"], env!("CARGO_PKG_VERSION"));
    // Findings point at the field.
    let dyn_ = &v["destinations"][0];
    let lc107 = dyn_["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "LC107")
        .unwrap();
    assert_eq!(
        lc107["location"],
        serde_json::json!({"file": "findings.toml", "line": 7, "column": 18})
    );
    assert_eq!(lc107["severity"], "error");
    assert!(lc107["title"].as_str().unwrap().contains("GUID"));
    assert_eq!(dyn_["checks"][0]["id"], "lint");
    assert_eq!(dyn_["checks"][0]["status"], "fail");
}

#[test]
fn clean_config_exits_zero() {
    let flow = "https://prod-1.westus.logic.azure.com/workflows/a/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers&sv=1.0&sig=CANARYSIG";
    let (code, v, text) = lint_json(
        "valid.toml",
        &[
            ("LC_FIXTURE_SECRET", "CANARY-env"),
            ("LC_FIXTURE_FLOW_URL", flow),
        ],
    );
    assert_eq!(code, 0, "{text}");
    assert_eq!(v["status"], "pass");
    assert!(codes(&v).values().all(|c| c.is_empty()), "{text}");
    assert!(!text.contains("CANARY"));
}

#[test]
fn warnings_pass_unless_strict() {
    let (code, v, _) = lint_json("pc-cpp.json", &[]);
    assert_eq!((code, v["status"].as_str()), (0, Some("warn")));
    leadcheck()
        .current_dir(fixture("config"))
        .args(["lint", "--strict", "-c", "pc-cpp.json"])
        .assert()
        .code(1);
}

#[test]
fn every_format_hides_secrets() {
    for format in ["human", "json", "junit", "github"] {
        let out = leadcheck()
            .current_dir(fixture("config"))
            .args(["lint", "--format", format, "-c", "findings.toml", "-v"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("CANARY"), "{format}: {all}");
        assert!(!all.contains('\x1b'), "{format}: escape codes");
        assert!(all.contains("LC111"), "{format}: {all}");
    }
}

#[test]
fn github_writes_the_step_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "before\n").unwrap();
    let out = leadcheck()
        .current_dir(fixture("config"))
        .env("GITHUB_STEP_SUMMARY", &summary)
        .args(["lint", "--format", "github", "-c", "findings.toml"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("::error title=LC113 "), "{stdout}");
    assert!(
        stdout.contains(",file=findings.toml,line=19,col=21::"),
        "{stdout}"
    );
    assert!(!stdout.contains("add-mask"));
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.starts_with("before\n## leadcheck: "), "{md}");
    assert!(md.contains("| sf | salesforce | ❌ fail | LC113 |"), "{md}");
    assert!(!md.contains("CANARY"));
}
