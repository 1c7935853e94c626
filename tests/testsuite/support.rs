//! Test harness: run the binary with a clean environment (no color, no proxies, no
//! LEADCHECK_* variables, English), so results do not depend on the developer's shell.
#![allow(dead_code)]

use assert_cmd::Command;

/// The leadcheck binary with a scrubbed environment.
pub fn leadcheck() -> Command {
    let mut cmd = Command::cargo_bin("leadcheck").expect("binary built");
    for (k, _) in std::env::vars() {
        if k.starts_with("LEADCHECK_")
            || k.ends_with("_PROXY")
            || k.ends_with("_proxy")
            || [
                "LANG",
                "LC_ALL",
                "LC_MESSAGES",
                "CLICOLOR_FORCE",
                "CLICOLOR",
                "GITHUB_STEP_SUMMARY",
            ]
            .contains(&k.as_str())
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1").env("TERM", "dumb");
    cmd
}

/// The path of a file under `fixtures/`.
pub fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(rel)
}
