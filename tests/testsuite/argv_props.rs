//! Issue 10: the whole command line under hostile input, in-process. Random argv (CJK,
//! Hangul, emoji, combining marks, right-to-left and bidi controls, lone `-` and `--`, huge
//! strings, real flags and values) and random standard input go through argument parsing
//! and dispatch of every offline command (`app::is_offline`: explain, triage, catalog,
//! lint, test-lead, `init -o -`, completions, man). diagnose, sandbox and demo are only
//! parsed, plus the sandbox's offline check of its scenario codes. Every invocation must
//! end without a panic and with an exit in {0, 1, 2}.

use leadcheck::cli::{self, Command};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Invocations that got past clap to the command itself.
static DISPATCHED: AtomicUsize = AtomicUsize::new(0);

/// Placeholders in a generated argv for a file holding the generated standard input.
const INPUT_FILES: &[&str] = &[
    "@input.csv",
    "@input.jsonl",
    "@input.txt",
    "@input.toml",
    "@input.json",
];

/// Flags and values the commands know, so that random argv reaches past the parser.
const WORDS: &[&str] = &[
    "--json",
    "--format",
    "human",
    "json",
    "junit",
    "github",
    "--all",
    "--lang",
    "pl",
    "pt-BR",
    "zh-TW",
    "ko-KR",
    "en",
    "--input",
    "auto",
    "csv",
    "jsonl",
    "text",
    "--paragraphs",
    "--id-column",
    "id",
    "--family",
    "LC3",
    "3",
    "lc4xx",
    "--type",
    "https",
    "salesforce",
    "marketo",
    "azure-table",
    "dynamics",
    "--ticks",
    "636573304831318844",
    "--offer-title",
    "-o",
    "-",
    "--",
    "--force",
    "--config",
    "-c",
    "--https-endpoint-url",
    "--instance-url",
    "--application-key",
    "--password",
    "--storage-account-connection-string",
    "--object-identifier",
    "--munchkin-id",
    "--form-id",
    "--contact-email",
    "env:NO_SUCH_VAR",
    "file:/nonexistent",
    "--strict",
    "--scenario",
    "all",
    "402",
    "LC402",
    "lc999",
    "--port",
    "--timeout",
    "--deadline",
    "--dry-run",
    "--cleanup",
    "-q",
    "-v",
    "bash",
    "zsh",
    "fish",
    "powershell",
    "elvish",
    "--help",
    "--version",
    "-h",
    "LC4021",
    "---------- Forwarded message",
    "AADSTS7000215: Invalid client secret provided.",
    "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user",
];

/// One hostile argument.
fn arg() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(String::from),
        1 => prop::sample::select(INPUT_FILES).prop_map(String::from),
        1 => prop::sample::select(cli::subcommand_names()),
        1 => "[가-힣 ,.]{1,12}",
        1 => "[一-龥，。：]{1,12}",
        1 => "[\\u{1F300}-\\u{1FAFF}\\u{2600}-\\u{27BF}\\u{200d}\\u{fe0f}]{1,6}",
        1 => "[a-zA-Z][\\u{300}-\\u{36f}]{1,5}[a-z]{0,4}",
        1 => "[\\u{590}-\\u{6ff} ]{1,12}",
        1 => "[\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{200b}-\\u{200f}\\u{feff}LCx0-9]{1,8}",
        1 => "[„“”‘’—–…«»]{1,3}[ -~]{0,10}",
        1 => "-{1,3}[^\\u{0}]{0,10}",
        1 => "[Ll][Cc]?[0-9]{0,5}|[0-9]{1,5}",
        1 => "\\PC{0,2}".prop_map(|s| s.repeat(40_000)),
        2 => any::<String>().prop_filter("no NUL in argv", |s| !s.contains('\0')),
        1 => Just(String::new()),
        1 => "[ \\t\\u{3000}]{1,3}",
    ]
}

/// Hostile text that does not start with `-`, so that it reaches the command as a value.
fn text() -> impl Strategy<Value = String> {
    arg().prop_map(|s| match s.strip_prefix('-') {
        Some(_) => format!("x{s}"),
        None => s,
    })
}

fn one_of(words: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(words).prop_map(String::from)
}

/// A command line that parses (mostly), with hostile values where the commands take text:
/// so that most cases reach dispatch, not only clap.
fn wellformed() -> impl Strategy<Value = Vec<String>> {
    let types = &["https", "salesforce", "marketo", "azure-table", "dynamics"][..];
    let fields = &[
        "--instance-url",
        "--authentication",
        "--directory-id",
        "--application-id",
        "--application-key",
        "--username",
        "--password",
        "--object-identifier",
        "--endpoint",
        "--api-instance-url",
        "--api-access-token",
        "--munchkin-id",
        "--form-id",
        "--client-id",
        "--client-secret",
        "--storage-account-connection-string",
        "--table",
        "--https-endpoint-url",
        "--contact-email",
        "--offer",
        "--offer-title",
    ][..];
    let texts = || prop::collection::vec(text(), 1..4);
    prop_oneof![
        (
            one_of(&["--json", "--format=human", "--lang=ko-KR", "--"]),
            texts()
        )
            .prop_map(|(f, t)| [vec!["explain".into(), f], t].concat()),
        texts().prop_map(|t| [vec!["explain".into()], t].concat()),
        one_of(&["--json", "--lang=zh-TW", "-q"]).prop_map(|f| vec![
            "explain".into(),
            f,
            "-".into()
        ]),
        (
            one_of(&["-", "@input.csv", "@input.jsonl", "@input.txt"]),
            one_of(&[
                "--input=auto",
                "--input=csv",
                "--input=jsonl",
                "--input=text",
                "--paragraphs",
                "--json"
            ]),
            text(),
        )
            .prop_map(|(f, o, id)| vec!["triage".into(), f, o, "--id-column".into(), id]),
        (text(), one_of(&["--json", "--format=human"])).prop_map(|(f, o)| vec![
            "catalog".into(),
            o,
            "--family".into(),
            f
        ]),
        (
            one_of(&["@input.toml", "@input.json"]),
            one_of(&["--json", "--format=junit", "--format=github", "--strict"]),
            prop::collection::vec(text(), 0..2)
        )
            .prop_map(|(c, o, names)| [
                vec!["lint".into(), "--config".into(), c, o],
                names
            ]
            .concat()),
        (
            one_of(types),
            prop::collection::vec(
                (one_of(fields), prop_oneof![text(), Just("-".to_string())]),
                0..4
            ),
            one_of(&["--json", "--format=github", "-v"])
        )
            .prop_map(|(t, fs, o)| {
                let mut v = vec!["lint".to_string(), "--type".into(), t, o];
                for (f, x) in fs {
                    v.extend([f, x]);
                }
                v
            }),
        (one_of(types), text(), "[0-9]{1,20}").prop_map(|(t, title, ticks)| vec![
            "test-lead".into(),
            "--type".into(),
            t,
            "--offer-title".into(),
            title,
            "--ticks".into(),
            ticks
        ]),
        one_of(types).prop_map(|t| vec![
            "init".into(),
            "--type".into(),
            t,
            "-o".into(),
            "-".into()
        ]),
        one_of(&["bash", "zsh", "fish", "powershell", "elvish"])
            .prop_map(|s| vec!["completions".into(), s]),
        Just(vec!["man".to_string()]),
        texts().prop_map(|t| [vec!["sandbox".into(), "--scenario".into()], t].concat()),
        (text(), text()).prop_map(|(a, b)| vec![
            "diagnose".into(),
            "--timeout".into(),
            a,
            "--type".into(),
            "https".into(),
            "--https-endpoint-url".into(),
            b
        ]),
    ]
    .prop_map(|rest| {
        [
            vec!["leadcheck".into(), "--color".into(), "never".into()],
            rest,
        ]
        .concat()
    })
}

/// A command line: maybe a global flag, a subcommand (or not), then arguments.
fn argv() -> impl Strategy<Value = Vec<String>> {
    (
        prop::option::of(prop::sample::select(&["-q", "-v", "--lang"][..])),
        prop::sample::select(cli::subcommand_names()),
        prop::collection::vec(arg(), 0..6),
        0..20u8,
    )
        .prop_map(|(global, sub, rest, odd)| {
            let mut v = vec!["leadcheck".to_string()];
            // Never color: colored's switch is process-wide and other tests run alongside.
            v.extend(["--color".to_string(), "never".to_string()]);
            v.extend(global.map(String::from));
            // Now and then no subcommand, or a random first word instead.
            if odd != 0 {
                v.push(sub.to_string());
            }
            v.extend(rest);
            v
        })
}

/// Standard input: ticket text, CSV, JSON Lines, or bytes that are not UTF-8.
fn stdin() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        "[가-힣一-龥 \\n,;\"]{0,80}".prop_map(String::into_bytes),
        "id,text\\n(1,\"[^\"]{0,40}\"\\n){0,4}".prop_map(String::into_bytes),
        "(\\{\"id\":\"[a-z0-9]{0,4}\",\"text\":\"[^\"\\\\]{0,30}\"\\}\\n){0,4}"
            .prop_map(String::into_bytes),
        Just(b"\xff\xfe<\x00h\x00i\x00\n\x00".to_vec()),
        prop::collection::vec(any::<u8>(), 0..300),
        Just(
            "SecLib::RetrievePrivilegeForUser failed - no roles\n"
                .repeat(3000)
                .into_bytes()
        ),
    ]
}

/// Runs one command line in-process as the binary would; the exit code.
fn invoke(argv: &[String], input: &[u8], dir: &std::path::Path) -> i32 {
    let argv: Vec<String> = argv
        .iter()
        .map(|a| match INPUT_FILES.iter().position(|f| f == a) {
            Some(i) => write_input(dir, &a[1..], input, i).display().to_string(),
            None => a.clone(),
        })
        .collect();
    let mut cli = match cli::parse_from(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.render().to_string();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    if !leadcheck::app::is_offline(&cli.command) {
        if let Command::Sandbox(args) = &cli.command {
            let codes: Vec<&str> = args.scenarios.iter().map(String::as_str).collect();
            return match leadcheck::sandbox::check_scenarios(&codes) {
                Ok(()) => 0,
                Err(_) => 2,
            };
        }
        return 0;
    }
    // `triage -` reads the process's own standard input: give it the input as a file.
    if let Command::Triage(args) = &mut cli.command {
        for f in &mut args.files {
            if f.as_os_str() == "-" {
                *f = write_input(dir, "stdin", input, 3);
            }
        }
    }
    DISPATCHED.fetch_add(1, Ordering::Relaxed);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin = input;
    match leadcheck::app::run_with_stdin(cli, &mut stdin, &mut out, &mut err) {
        Ok(code) => code.code(),
        Err(_) => 2,
    }
}

fn write_input(dir: &std::path::Path, name: &str, input: &[u8], i: usize) -> PathBuf {
    let path = dir.join(format!("{i}-{name}"));
    std::fs::write(&path, input).unwrap();
    path
}

#[test]
fn no_command_line_panics() {
    let cases = std::env::var("LEADCHECK_ARGV_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let invocations = AtomicUsize::new(0);
    let panics = AtomicUsize::new(0);
    let by_code = [0, 1, 2].map(|_| AtomicUsize::new(0));
    let dir = tempfile::tempdir().unwrap();
    let result = runner.run(
        &(prop_oneof![1 => argv(), 2 => wellformed()], stdin()),
        |(argv, input)| {
            invocations.fetch_add(1, Ordering::Relaxed);
            let code =
                std::panic::catch_unwind(|| invoke(&argv, &input, dir.path())).map_err(|_| {
                    panics.fetch_add(1, Ordering::Relaxed);
                    TestCaseError::fail(format!("panic on {argv:?}"))
                })?;
            prop_assert!((0..=2).contains(&code), "exit {} on {:?}", code, argv);
            by_code[code as usize].fetch_add(1, Ordering::Relaxed);
            Ok(())
        },
    );
    let counts = by_code.map(|c| c.load(Ordering::Relaxed));
    eprintln!(
        "argv property test: {} invocations ({} dispatched to a command), {} panics (shrinking included); exits 0/1/2: {}/{}/{}",
        invocations.load(Ordering::Relaxed),
        DISPATCHED.load(Ordering::Relaxed),
        panics.load(Ordering::Relaxed),
        counts[0],
        counts[1],
        counts[2]
    );
    result.unwrap();
    assert!(invocations.load(Ordering::Relaxed) >= cases as usize);
}
