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
    out.push_str(&format!(
        "/// What the matcher compiled ahead of time was built from (see src/catalog/compiled.rs).\npub const SOURCE_HASH: u64 = {:#x};\n",
        source_hash(Path::new(&manifest), &files)
    ));
    fs::write(
        Path::new(&env::var("OUT_DIR").unwrap()).join("catalog_files.rs"),
        out,
    )
    .unwrap();
    git_commit();
}

/// A hash (FNV-1a, 64 bits) of everything the compiled matcher (`catalog/matcher.bin`)
/// depends on: the catalog, the code that builds and serializes the matcher, and the locked
/// versions of the dependencies that shape it. When it differs from the hash
/// stored in the file, leadcheck builds the matcher at run time instead, and a test says
/// how to write the file again.
fn source_hash(root: &Path, catalog: &[std::path::PathBuf]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    let code = [
        "src/catalog/matcher.rs",
        "src/catalog/normalize.rs",
        "src/catalog/patterns.rs",
        "src/catalog/prefilter.rs",
        "src/catalog/grams.rs",
        "src/catalog/mod.rs",
        "src/lang.rs",
    ];
    let mut paths: Vec<std::path::PathBuf> = catalog.to_vec();
    paths.extend(code.iter().map(|c| root.join(c)));
    for p in &paths {
        println!("cargo:rerun-if-changed={}", p.display());
        feed(p.file_name().unwrap().to_string_lossy().as_bytes());
        // Line endings as checked out must not matter.
        let text = fs::read(p).unwrap_or_default();
        feed(
            &text
                .into_iter()
                .filter(|&b| b != b'\r')
                .collect::<Vec<u8>>(),
        );
    }
    // Of the locked dependencies, those that decide what the file holds: normalization's
    // tables and regexes, the encoding, the order of hashed maps. Not the others: adding an
    // unrelated crate must not make the file stale.
    let lock = root.join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let lock = fs::read_to_string(lock).unwrap_or_default();
    let relevant = [
        "unicode-normalization",
        "regex",
        "regex-automata",
        "regex-syntax",
        "bincode",
        "serde",
        "rustc-hash",
    ];
    for block in lock.split("[[package]]") {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("name = "))
            .map(|n| n.trim_matches('"'));
        if name.is_some_and(|n| relevant.contains(&n)) {
            feed(block.replace('\r', "").as_bytes());
        }
    }
    h
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
        String::from("/// (code, status, destinations, titles by language tag).\npub type Entry = (&'static str, &'static str, &'static [&'static str], &'static [(&'static str, &'static str)]);\npub static INDEX: &[Entry] = &[\n");
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
