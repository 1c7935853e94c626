// Embeds every catalog/*.toml file in the binary: the catalog is data in the repository,
// but leadcheck must work from a single executable. Also writes an index of the codes, their
// status, destinations and titles, so that `leadcheck catalog` and `explain CODE` start
// without parsing every page (the test suite checks the index against the parsed pages).
use std::{env, fs, path::Path};

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build script reused
    // from a shared target folder must read this checkout's catalog.
    let manifest = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("catalog");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .expect("catalog/ folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = String::from("pub static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        // Relative to the crate being compiled, not an absolute path: worktrees that share a
        // target directory share this OUT_DIR, and must each embed their own files.
        out.push_str(&format!(
            "    ({:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/catalog/{}\"))),\n",
            name, name
        ));
    }
    out.push_str("];\n");
    out.push_str(&index(&files));
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("catalog_files.rs"),
        out,
    )
    .unwrap();
    git_commit();
}

/// `LEADCHECK_COMMIT`: the short commit the binary is built from, for `--version`, or
/// "unknown" (a crate tarball, no git on the machine, not a checkout): never a build failure.
fn git_commit() {
    // Read when the script runs, not baked in when it is compiled: a build script binary
    // can be reused for another checkout of the same crate.
    let manifest = std::path::PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let manifest = manifest.as_path();
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(manifest)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"])
        .filter(|s| s.bytes().all(|b| b.is_ascii_alphanumeric()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=LEADCHECK_COMMIT={commit}");
    // Rebuild when HEAD moves: a checkout changes HEAD, a commit the branch's ref (loose, or
    // in packed-refs). Only these files, so that other branches' commits rebuild nothing.
    // git names them: in a worktree `.git` is a file pointing elsewhere.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
    for what in watched {
        if let Some(p) = git(&["rev-parse", "--git-path", &what]) {
            let p = manifest.join(p);
            if p.exists() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        }
    }
}

/// `INDEX`: (code, status, destinations, titles by language tag), from each page's TOML.
fn index(files: &[std::path::PathBuf]) -> String {
    let mut out =
        String::from("pub static INDEX: &[(&str, &str, &[&str], &[(&str, &str)])] = &[\n");
    for f in files {
        let text = fs::read_to_string(f).expect("catalog file");
        // A page that does not parse is reported by the test suite with its reason; here it
        // is only left out of the index.
        let Ok(doc) = text.parse::<toml::Table>() else {
            continue;
        };
        let s = |k: &str| {
            doc.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        let dests: Vec<String> = doc
            .get("destinations")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let titles: Vec<(String, String)> = doc
            .get("title")
            .and_then(|v| v.as_table())
            .map(|t| {
                t.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "    ({:?}, {:?}, &{:?}, &[{}]),\n",
            s("code"),
            s("status"),
            dests,
            titles
                .iter()
                .map(|(k, v)| format!("({k:?}, {v:?})"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push_str("];\n");
    out
}
