//! The CI recipes: the shell steps that action.yml and the Azure Pipelines template run
//! (ci/scripts/), run here against the sandbox with the variables each runner sets, and
//! the YAML files themselves (they parse, and name only inputs, steps and scripts that
//! exist). No secret may reach any output: stdout, stderr, the step summary, the step
//! outputs or the JUnit report.
#![cfg(unix)]

use leadcheck::sandbox::{FieldValue, Sandbox, SandboxHandle};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A leadcheck.toml for `names`, each secret an `{ env = "VAR" }` reference as a publisher
/// writes it for CI, and the (VAR, secret) pairs the runner would set from its secrets.
fn ci_config(sb: &SandboxHandle, names: &[&str]) -> (String, Vec<(String, String)>) {
    let mut toml = String::new();
    let mut secrets = Vec::new();
    for name in names {
        let e = sb
            .entry(name)
            .unwrap_or_else(|| panic!("no sandbox entry {name}"));
        toml.push_str(&format!("[destination.{name}]\ntype = \"{}\"\n", e.kind));
        for (k, v) in &e.fields {
            match v {
                FieldValue::Str(s) => {
                    toml.push_str(&format!("{k} = {}\n", toml::Value::String(s.clone())))
                }
                FieldValue::Secret(s) => {
                    let var = format!("CI_SECRET_{}_{}", name, k)
                        .to_ascii_uppercase()
                        .replace('-', "_");
                    toml.push_str(&format!("{k} = {{ env = \"{var}\" }}\n"));
                    secrets.push((var, s.clone()));
                }
            }
        }
        toml.push('\n');
    }
    assert!(!secrets.is_empty(), "the test needs secrets to look for");
    (toml, secrets)
}

/// A runner's job: a workspace holding the config, a temp folder, and the environment.
struct Job {
    _dir: tempfile::TempDir,
    root: PathBuf,
    workspace: PathBuf,
    temp: PathBuf,
    secrets: Vec<(String, String)>,
    _sandbox: SandboxHandle,
}

impl Job {
    fn new(scenarios: &[&str], names: &[&str]) -> Job {
        let sandbox = Sandbox::start(scenarios).unwrap();
        let (toml, secrets) = ci_config(&sandbox, names);
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let workspace = root.join("workspace");
        let temp = root.join("temp");
        std::fs::create_dir_all(workspace.join("ci")).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        std::fs::write(workspace.join("ci/leadcheck.toml"), toml).unwrap();
        Job {
            _dir: dir,
            root,
            workspace,
            temp,
            secrets,
            _sandbox: sandbox,
        }
    }

    /// The script with only what a runner sets (plus PATH, HOME), the secrets included.
    fn script(&self, script: &str) -> Command {
        let mut cmd = Command::new("bash");
        cmd.arg(repo(script))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.root)
            .env("NO_COLOR", "1")
            .env("LEADCHECK_BIN", assert_cmd::cargo::cargo_bin("leadcheck"))
            .env("LEADCHECK_CI_CONFIG", "ci/leadcheck.toml")
            .current_dir(&self.root);
        for (k, v) in &self.secrets {
            cmd.env(k, v);
        }
        cmd
    }

    fn github(&self) -> Command {
        let mut cmd = self.script("ci/scripts/run-leadcheck.sh");
        std::fs::write(self.root.join("summary.md"), "").unwrap();
        std::fs::write(self.root.join("output"), "").unwrap();
        cmd.env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_WORKSPACE", &self.workspace)
            .env("GITHUB_STEP_SUMMARY", self.root.join("summary.md"))
            .env("GITHUB_OUTPUT", self.root.join("output"))
            .env("RUNNER_TEMP", &self.temp);
        cmd
    }

    fn azure(&self) -> Command {
        let mut cmd = self.script("ci/scripts/run-leadcheck.sh");
        cmd.env("TF_BUILD", "True")
            .env("BUILD_SOURCESDIRECTORY", &self.workspace)
            .env("AGENT_TEMPDIRECTORY", &self.temp);
        cmd
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_default()
    }

    /// The step outputs written to $GITHUB_OUTPUT, as key=value lines.
    fn output(&self, key: &str) -> Option<String> {
        self.read("output")
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
    }

    /// No secret in any of `texts`, nor in any file the job wrote.
    fn assert_no_secret(&self, texts: &[&str]) {
        let mut all: Vec<(String, String)> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("text {i}"), t.to_string()))
            .collect();
        for entry in walk(&self.root) {
            if entry.starts_with(self.workspace.join("ci")) {
                continue; // the config: references, never values
            }
            all.push((
                entry.display().to_string(),
                String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).into_owned(),
            ));
        }
        for (var, secret) in &self.secrets {
            // A URL's signature is its secret part: look for it alone too.
            let mut parts = vec![secret.as_str()];
            parts.extend(
                secret
                    .split("sig=")
                    .nth(1)
                    .map(|s| s.split('&').next().unwrap()),
            );
            for part in parts {
                for (what, text) in &all {
                    assert!(!text.contains(part), "{var}'s value in {what}:\n{text}");
                }
            }
        }
        for (what, text) in &all {
            assert!(!text.contains("::add-mask::"), "{what}");
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files
}

fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A hang is a failure, not a stuck suite: the run deadline is far below this bound.
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("the script did not end within 90 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    (
        status.code(),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn github_action_step_passes_a_healthy_destination() {
    let job = Job::new(&[], &["dynamics", "https"]);
    let mut cmd = job.github();
    cmd.env("LEADCHECK_CI_DESTINATIONS", "dynamics,\nhttps");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("leadcheck: pass (2 destination(s))"), "{out}");
    assert!(!out.contains("::error"), "{out}");
    let summary = job.read("summary.md");
    assert!(summary.contains("## leadcheck: ✅ pass"), "{summary}");
    assert!(
        summary.contains("| dynamics | dynamics | ✅ pass |"),
        "{summary}"
    );
    assert!(summary.contains("| https | https |"), "{summary}");
    // The report is where the output says, under the runner's temp folder, and each
    // destination's steps are test cases.
    let junit = job.output("junit").unwrap();
    assert_eq!(Path::new(&junit), job.temp.join("leadcheck/junit.xml"));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"dynamics (dynamics)\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"send: "), "{xml}");
    assert!(
        xml.contains("<testcase name=\"cleanup: Delete"),
        "cleanup is on by default: {xml}"
    );
    assert!(!xml.contains("<failure"), "{xml}");
    assert_eq!(job.output("exit-code").as_deref(), Some("0"));
    job.assert_no_secret(&[&out, &err]);
}

#[test]
fn github_action_step_fails_with_annotations_summary_and_junit() {
    let job = Job::new(&["LC402"], &["dynamics", "dynamics-lc402"]);
    let (code, out, err) = run(job.github());
    assert_eq!(code, Some(1), "{out}\n{err}");
    let annotation = out
        .lines()
        .find(|l| l.starts_with("::error title=LC402 "))
        .unwrap_or_else(|| panic!("no LC402 annotation in:\n{out}"));
    assert!(
        annotation.contains("dynamics-lc402 (dynamics): "),
        "{annotation}"
    );
    assert!(
        annotation.contains("run `leadcheck explain LC402`"),
        "{annotation}"
    );
    assert!(out.contains("leadcheck: fail (2 destination(s))"), "{out}");
    let summary = job.read("summary.md");
    assert!(summary.contains("## leadcheck: ❌ fail"), "{summary}");
    assert!(
        summary.contains("| dynamics-lc402 | dynamics | ❌ fail | LC402 |"),
        "{summary}"
    );
    assert!(
        summary.contains("- **LC402** dynamics-lc402 [error]"),
        "{summary}"
    );
    let junit = job.output("junit").unwrap();
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<failure") && xml.contains("LC402"), "{xml}");
    assert_eq!(job.output("exit-code").as_deref(), Some("1"));
    job.assert_no_secret(&[&out, &err]);
}

#[test]
fn github_action_step_strict_turns_a_warning_into_a_failure() {
    // A secret kept in the config as plain text is warning LC105.
    let job = Job::new(&[], &["dynamics"]);
    let config = std::fs::read_to_string(job.workspace.join("ci/leadcheck.toml")).unwrap();
    let mut plain = config.clone();
    for (var, value) in &job.secrets {
        plain = plain.replace(
            &format!("{{ env = \"{var}\" }}"),
            &toml::Value::String(value.clone()).to_string(),
        );
    }
    assert_ne!(plain, config);
    std::fs::write(job.workspace.join("plain.toml"), plain).unwrap();
    let mut cmd = job.github();
    // leadcheck's own variable, set for another step, does not override the input.
    cmd.env("LEADCHECK_CI_CONFIG", "plain.toml")
        .env("LEADCHECK_CI_CLEANUP", "no")
        .env("LEADCHECK_STRICT", "true");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(0), "warnings pass without strict: {out}\n{err}");
    assert!(
        out.lines().any(|l| l.starts_with("::warning title=LC105 ")),
        "{out}"
    );
    assert!(
        job.read("summary.md").contains("⚠️ warn"),
        "{}",
        job.read("summary.md")
    );
    let mut cmd = job.github();
    cmd.env("LEADCHECK_CI_CONFIG", "plain.toml")
        .env("LEADCHECK_CI_STRICT", "TRUE");
    let (code, out2, err2) = run(cmd);
    assert_eq!(code, Some(1), "{out2}\n{err2}");
    assert_eq!(job.output("exit-code").as_deref(), Some("1"));
    let mut cmd = job.github();
    cmd.env("LEADCHECK_CI_STRICT", "maybe");
    let (code, out3, err3) = run(cmd);
    assert_eq!(code, Some(2), "{out3}\n{err3}");
    assert!(
        err3.contains("strict must be true or false, not 'maybe'"),
        "{err3}"
    );
    std::fs::remove_file(job.workspace.join("plain.toml")).unwrap();
    job.assert_no_secret(&[&out, &err, &out2, &err2, &out3, &err3]);
}

#[test]
fn azure_pipelines_step_writes_junit_sets_variables_and_fails_on_exit_1() {
    let job = Job::new(&["LC402"], &["https", "dynamics-lc402"]);
    let (code, out, err) = run(job.azure());
    assert_eq!(code, Some(1), "{out}\n{err}");
    // The human report in the log, no GitHub workflow commands.
    assert!(out.contains("LC402"), "{out}");
    assert!(out.contains("run `leadcheck explain LC402`"), "{out}");
    assert!(!out.contains("::error"), "{out}");
    let junit = job.temp.join("leadcheck/junit.xml");
    assert!(
        out.contains(&format!(
            "##vso[task.setvariable variable=junit;isOutput=true]{}",
            junit.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("##vso[task.setvariable variable=exitCode;isOutput=true]1"),
        "{out}"
    );
    assert!(out.contains("##vso[task.logissue type=error]"), "{out}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"https (https)\""), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"dynamics-lc402 (dynamics)\""),
        "{xml}"
    );
    assert!(xml.contains("<failure") && xml.contains("LC402"), "{xml}");
    job.assert_no_secret(&[&out, &err]);
}

#[test]
fn a_config_that_cannot_be_read_is_exit_2_and_no_stale_report() {
    let job = Job::new(&[], &["https"]);
    // A report left by an earlier run must not be published as this one's.
    let junit = job.temp.join("leadcheck/junit.xml");
    std::fs::create_dir_all(junit.parent().unwrap()).unwrap();
    std::fs::write(&junit, "<testsuites/>").unwrap();
    let mut cmd = job.github();
    cmd.env("LEADCHECK_CI_CONFIG", "missing.toml");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("missing.toml"), "{err}");
    assert!(
        out.contains("::error title=leadcheck::leadcheck could not run (exit 2)"),
        "{out}"
    );
    assert!(!junit.exists());
    assert_eq!(job.output("junit").as_deref(), Some(""));
    assert_eq!(job.output("exit-code").as_deref(), Some("2"));
    // An unknown destination name is a usage error too.
    let mut cmd = job.azure();
    cmd.env("LEADCHECK_CI_DESTINATIONS", "nope");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(
        out.contains("##vso[task.logissue type=error]leadcheck could not run"),
        "{out}"
    );
    job.assert_no_secret(&[&out, &err]);
}

#[test]
fn a_destination_name_is_never_read_as_a_flag() {
    let job = Job::new(&[], &["https"]);
    let mut cmd = job.github();
    cmd.env("LEADCHECK_CI_DESTINATIONS", "--dry-run");
    let (code, out, err) = run(cmd);
    assert_eq!(code, Some(2), "{out}\n{err}");
    assert!(err.contains("--dry-run"), "{err}");
}

/// The install step reuses a binary a cache restored, and builds otherwise (here a stub
/// cargo records what it was asked).
#[test]
fn install_step_reuses_the_cached_binary_and_builds_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::copy(
        assert_cmd::cargo::cargo_bin("leadcheck"),
        root.join("bin/leadcheck"),
    )
    .unwrap();
    let stubs = dir.path().join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let log = dir.path().join("cargo.log");
    std::fs::write(
        stubs.join("cargo"),
        format!("#!/bin/sh\necho \"$@\" >> '{}'\n", log.display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(stubs.join("cargo"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let install = |version: &str| {
        let gh_path = dir.path().join("github_path");
        let mut cmd = Command::new("bash");
        cmd.arg(repo("ci/scripts/install-leadcheck.sh"))
            .arg("install")
            .env_clear()
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("LEADCHECK_VERSION", version)
            .env("LEADCHECK_ROOT", &root)
            .env(
                "LEADCHECK_REPOSITORY",
                "https://example.invalid/leadcheck.git",
            )
            .env("GITHUB_PATH", &gh_path);
        let (code, out, err) = run(cmd);
        (
            code,
            out,
            err,
            std::fs::read_to_string(&gh_path).unwrap_or_default(),
        )
    };
    let (code, out, err, gh_path) = install(&format!("v{}", env!("CARGO_PKG_VERSION")));
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("reusing"), "{err}");
    assert!(
        out.starts_with(&format!("leadcheck {}", env!("CARGO_PKG_VERSION"))),
        "{out}"
    );
    assert_eq!(gh_path.trim(), root.join("bin").display().to_string());
    assert!(!log.exists(), "cargo ran for a cached binary");
    // Another release: the cached binary is not it, so cargo builds that tag.
    let (code, out, err, _) = install("9.9.9");
    assert_eq!(code, Some(0), "{out}\n{err}");
    let asked = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        asked.trim(),
        format!(
            "install --locked --force --root {} --git https://example.invalid/leadcheck.git --tag v9.9.9 leadcheck",
            root.display()
        )
    );
    // A version is spliced into a path and a tag: anything odd is refused.
    let (code, _, err, _) = install("../1.0");
    assert_eq!(code, Some(2));
    assert!(err.contains("version must be"), "{err}");
}

#[test]
fn install_cache_key_follows_the_version_and_the_sources() {
    let key = |version: &str| {
        let out = Command::new("bash")
            .arg(repo("ci/scripts/install-leadcheck.sh"))
            .arg("key")
            .env("LEADCHECK_VERSION", version)
            .env("LEADCHECK_SOURCE", repo(""))
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    let source = key("source");
    assert!(
        source.starts_with("leadcheck-") && source.contains("-source-"),
        "{source}"
    );
    assert_eq!(source, key("source"), "the key is stable");
    let release = key("v0.1.0");
    assert!(
        release.starts_with("leadcheck-") && release.ends_with("-0.1.0"),
        "{release}"
    );
    assert_eq!(release, key("0.1.0"));
}

// ---- the YAML files ----

fn yaml(rel: &str) -> serde_norway::Value {
    let text = std::fs::read_to_string(repo(rel)).unwrap();
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{rel} does not parse: {e}"))
}

/// Every `<prefix>NAME` in `text` (`inputs.`, `steps.`, `parameters.`).
fn references(text: &str, prefix: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices(prefix) {
        // Only inside expressions: `${{ inputs.x }}`.
        let before = &text[..i];
        if before
            .rfind("${{")
            .is_none_or(|open| before[open..].contains("}}"))
        {
            continue;
        }
        let name: String = text[i + prefix.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        found.insert(name);
    }
    found
}

/// Every script (`ci/scripts/NAME.sh`) named in `text`; the folder alone, as comments name
/// it, is not a script.
fn scripts(text: &str) -> BTreeSet<String> {
    text.match_indices("ci/scripts/")
        .map(|(i, _)| {
            text[i..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/._-".contains(*c))
                .collect::<String>()
        })
        .filter(|s| s.trim_end_matches('.').len() > "ci/scripts/".len())
        .collect()
}

fn assert_scripts_exist(rel: &str, text: &str) -> BTreeSet<String> {
    let found = scripts(text);
    assert!(!found.is_empty(), "{rel} runs no script");
    for s in &found {
        let p = repo(s);
        let mode = std::fs::metadata(&p)
            .unwrap_or_else(|_| panic!("{rel} names {s}, which does not exist"))
            .permissions();
        use std::os::unix::fs::PermissionsExt;
        assert!(mode.mode() & 0o111 != 0, "{s} is not executable");
    }
    found
}

/// The `LEADCHECK_CI_*` variables a step sets are ones the script reads.
fn assert_env_known(what: &str, env: &serde_norway::Value) {
    let script = std::fs::read_to_string(repo("ci/scripts/run-leadcheck.sh")).unwrap();
    for (k, _) in env.as_mapping().unwrap() {
        let k = k.as_str().unwrap();
        if k.starts_with("LEADCHECK_CI_") {
            assert!(
                script.contains(&format!("${{{k}")),
                "{what} sets {k}, which the script does not read"
            );
        }
    }
}

#[test]
fn github_action_yaml_names_only_inputs_steps_and_scripts_that_exist() {
    let doc = yaml("action.yml");
    let text = std::fs::read_to_string(repo("action.yml")).unwrap();
    assert_eq!(doc["runs"]["using"].as_str(), Some("composite"));
    let inputs = doc["inputs"].as_mapping().unwrap();
    let declared: BTreeSet<String> = inputs
        .keys()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    for want in ["config", "destinations", "cleanup", "strict", "version"] {
        assert!(declared.contains(want), "input {want}");
    }
    assert_eq!(doc["inputs"]["cleanup"]["default"].as_str(), Some("true"));
    for used in references(&text, "inputs.") {
        assert!(declared.contains(&used), "inputs.{used} is not declared");
    }
    let steps = doc["runs"]["steps"].as_sequence().unwrap();
    let ids: BTreeSet<String> = steps
        .iter()
        .filter_map(|s| s["id"].as_str().map(str::to_string))
        .collect();
    for used in references(&text, "steps.") {
        assert!(ids.contains(&used), "steps.{used} is no step's id");
    }
    // Every run step names its shell (a composite action requires it) and runs a script.
    for s in steps {
        if let Some(run) = s["run"].as_str() {
            assert_eq!(s["shell"].as_str(), Some("bash"), "{run}");
            assert!(run.contains("ci/scripts/"), "{run}");
        } else {
            let uses = s["uses"].as_str().unwrap();
            assert!(uses.contains('@'), "{uses} is not pinned");
        }
        if let Some(env) = s.get("env") {
            assert_env_known("action.yml", env);
        }
    }
    let found = assert_scripts_exist("action.yml", &text);
    assert!(found.contains("ci/scripts/run-leadcheck.sh"), "{found:?}");
    assert!(
        found.contains("ci/scripts/install-leadcheck.sh"),
        "{found:?}"
    );
    let junit = doc["outputs"]["junit"]["value"].as_str().unwrap();
    assert!(junit.contains("steps.diagnose.outputs.junit"), "{junit}");
    // Secrets come from the workflow's env, never through an input or a mask.
    assert!(
        !text.contains("secrets."),
        "the action itself reads no secret"
    );
    assert!(!text.contains("add-mask"));
}

#[test]
fn azure_pipelines_template_publishes_junit_and_names_what_exists() {
    let rel = "ci/azure-pipelines/leadcheck.yml";
    let doc = yaml(rel);
    let text = std::fs::read_to_string(repo(rel)).unwrap();
    let declared: BTreeSet<String> = doc["parameters"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    for want in [
        "config",
        "destinations",
        "cleanup",
        "strict",
        "version",
        "env",
    ] {
        assert!(declared.contains(want), "parameter {want}");
    }
    for used in references(&text, "parameters.") {
        assert!(
            declared.contains(&used),
            "parameters.{used} is not declared"
        );
    }
    assert_scripts_exist(rel, &text);
    let steps = doc["steps"].as_sequence().unwrap();
    let run = steps
        .iter()
        .find(|s| {
            s["bash"]
                .as_str()
                .is_some_and(|b| b.contains("run-leadcheck.sh"))
        })
        .expect("a step runs run-leadcheck.sh");
    assert_env_known(rel, &run["env"]);
    let junit = run["env"]["LEADCHECK_CI_JUNIT"].as_str().unwrap();
    let publish = steps
        .iter()
        .find(|s| s["task"].as_str() == Some("PublishTestResults@2"))
        .expect("PublishTestResults@2");
    assert_eq!(
        publish["inputs"]["testResultsFormat"].as_str(),
        Some("JUnit")
    );
    assert_eq!(publish["inputs"]["testResultsFiles"].as_str(), Some(junit));
    assert_eq!(publish["condition"].as_str(), Some("succeededOrFailed()"));
    assert!(!text.contains("add-mask"));
}

/// The README's example workflow and pipeline parse and use the recipes as they are.
#[test]
fn readme_examples_parse_and_use_the_recipes() {
    let readme = std::fs::read_to_string(repo("README.md")).unwrap();
    let blocks: Vec<&str> = readme
        .split("```yaml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    let action = yaml("action.yml");
    let inputs = action["inputs"].as_mapping().unwrap();
    let mut saw_action = false;
    let mut saw_template = false;
    for b in &blocks {
        let doc: serde_norway::Value =
            serde_norway::from_str(b).unwrap_or_else(|e| panic!("README yaml: {e}\n{b}"));
        let text = serde_norway::to_string(&doc).unwrap();
        if text.contains("uses: ") && text.contains("leadcheck@") {
            saw_action = true;
            for job in doc["jobs"].as_mapping().unwrap().values() {
                for s in job["steps"].as_sequence().unwrap() {
                    if s["uses"].as_str().is_some_and(|u| u.contains("leadcheck@")) {
                        for k in s["with"].as_mapping().into_iter().flat_map(|m| m.keys()) {
                            assert!(inputs.contains_key(k), "README passes unknown input {k:?}");
                        }
                    }
                }
            }
        }
        if text.contains("ci/azure-pipelines/leadcheck.yml@") {
            saw_template = true;
        }
        assert!(!text.contains("add-mask"));
    }
    assert!(
        saw_action && saw_template,
        "README lacks an example workflow or pipeline"
    );
}

/// `diagnose --junit FILE` writes the report beside whatever --format prints, and says so
/// clearly (exit 2) when it cannot.
#[test]
fn diagnose_junit_flag_writes_beside_the_format_or_fails_clearly() {
    let job = Job::new(&[], &["https"]);
    let config = job.workspace.join("ci/leadcheck.toml");
    let with_secrets = |cmd: &mut assert_cmd::Command| {
        for (k, v) in &job.secrets {
            cmd.env(k, v);
        }
    };
    let junit = job.temp.join("deep/er/junit.xml");
    let mut cmd = crate::support::leadcheck();
    with_secrets(&mut cmd);
    let out = cmd
        .args(["diagnose", "--format", "json", "--config"])
        .arg(&config)
        .arg("--junit")
        .arg(&junit)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "pass", "{j}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("<testsuite name=\"https (https)\""), "{xml}");
    // No temporary file is left beside the report.
    let left: Vec<_> = std::fs::read_dir(junit.parent().unwrap())
        .unwrap()
        .collect();
    assert_eq!(left.len(), 1);
    // A path under a file cannot be written.
    let mut cmd = crate::support::leadcheck();
    with_secrets(&mut cmd);
    let out = cmd
        .args(["diagnose", "--config"])
        .arg(&config)
        .arg("--junit")
        .arg(junit.join("junit.xml"))
        .timeout(Duration::from_secs(60))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the JUnit report"), "{err}");
    assert!(err.contains("--junit"), "{err}");
}
