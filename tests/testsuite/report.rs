//! The four report formats, from a hand-built report. Catalog text (titles, remedies, docs)
//! is replaced by placeholders before snapshotting, so that translating or rewording a page
//! does not break these snapshots; what is tested is the layout and the escaping.

use leadcheck::cli::ReportFormat;
use leadcheck::lang::Lang;
use leadcheck::report::{
    github, human, page, render, Check, DestinationReport, Finding, Location, RunReport, Severity,
    Status, TestLead,
};
use leadcheck::secret::Secret;

const CANARY: &str = "CANARY9f3b";

fn check(id: &str, title: &str, status: Status, ms: u64, detail: &str) -> Check {
    Check {
        id: id.into(),
        title: title.into(),
        status,
        duration_ms: ms,
        detail: detail.into(),
    }
}

fn sample() -> RunReport {
    let flow = format!(
        "https://prod-19.westcentralus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig={CANARY}"
    );
    let crm = DestinationReport {
        name: "crm".into(),
        kind: "dynamics".into(),
        status: Status::Fail,
        checks: vec![
            check("dns", "Resolve contoso.crm4.dynamics.com", Status::Pass, 12, "2 addresses"),
            check("token", "Sign in to Entra ID", Status::Pass, 240, "token for https://contoso.crm4.dynamics.com"),
            check("send", "Create the MSFT_TEST lead", Status::Fail, 310, "HTTP 403 from Dataverse"),
            check("verify", "Read the lead back", Status::Skip, 0, "nothing was written"),
        ],
        findings: vec![Finding {
            code: "LC402".into(),
            severity: Severity::Error,
            evidence: "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user. (0x80042f09)\n\x1b[31mtrace: 1a2b\u{202e}".into(),
            location: None,
        }],
        test_lead: TestLead { id: None, sent: false, verified: None, cleaned_up: None },
    };
    let web = DestinationReport {
        name: "flow, \"main\"".into(),
        kind: "https".into(),
        status: Status::Warn,
        checks: vec![
            check(
                "lint",
                "Check the configuration",
                Status::Warn,
                0,
                "0 error(s), 1 warning(s)",
            ),
            check(
                "send",
                "POST the MSFT_TEST lead",
                Status::Pass,
                95,
                "HTTP 202",
            ),
            check(
                "verify",
                "Verify arrival",
                Status::Skip,
                0,
                "an HTTPS endpoint cannot be read back",
            ),
        ],
        findings: vec![
            Finding::warning(
                "LC105",
                format!(
                    "`https_endpoint_url` = \"{}\" is written in the config file",
                    leadcheck::net::redact_url_str(&flow, None)
                ),
            )
            .at(Some(Location {
                file: "dir,x/leadcheck.toml".into(),
                line: 12,
                column: 22,
            })),
            Finding::info(
                "LC116",
                format!("100% done: token {:?}", Secret::new(CANARY)),
            ),
        ],
        test_lead: TestLead {
            id: Some("MSFT_TEST_636573304831318844".into()),
            sent: true,
            verified: None,
            cleaned_up: None,
        },
    };
    let ok = DestinationReport {
        name: "leads".into(),
        kind: "azure-table".into(),
        status: Status::Pass,
        checks: vec![check(
            "send",
            "Insert the entity",
            Status::Pass,
            40,
            "HTTP 204",
        )],
        findings: vec![],
        test_lead: TestLead {
            id: Some("3:2F22:2F2018/MSFT_TEST_636573304831318844".into()),
            sent: true,
            verified: Some(true),
            cleaned_up: Some(true),
        },
    };
    RunReport::new(vec![crm, web, ok])
}

const CODES: &[&str] = &["LC402", "LC105", "LC116"];

fn out(format: ReportFormat, color: bool) -> String {
    let mut buf = Vec::new();
    render(&sample(), format, Lang::En, color, &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

/// Replaces each code's catalog text, escaped as the format escapes it, by a placeholder.
fn placeholders(mut text: String, escape: impl Fn(&str) -> String) -> String {
    for code in CODES {
        let p = page(code, Lang::En);
        text = text.replace(&escape(&p.title), &format!("<title {code}>"));
    }
    text
}

/// Human output: titles by placeholders, each finding's remedy and docs lines (wrapped ones
/// included) by one line, and the doc count of the explain hint by `N`, so that rewording a
/// catalog page does not change the snapshot.
fn human_stable(text: &str) -> String {
    let text = placeholders(text.to_string(), |s| s.to_string());
    let step = regex::Regex::new(r"^    (\d+\. |docs: )").unwrap();
    let docs = regex::Regex::new(r"the cause and \d+ doc links?:").unwrap();
    // A table row's title may be cut to fit: the code stands for it.
    let row = regex::Regex::new(r"^(. .*\b(?:pass|warn|fail|skip) .*?)\b(LC\d{3}) .*$").unwrap();
    let mut lines: Vec<String> = Vec::new();
    let mut in_remedy = false;
    for l in text.lines() {
        if step.is_match(l) || (in_remedy && l.starts_with("       ")) {
            in_remedy = true;
            if lines.last().map(String::as_str) != Some("    <remedy and docs>") {
                lines.push("    <remedy and docs>".into());
            }
            continue;
        }
        in_remedy = false;
        let l = docs.replace(l, "the cause and N doc links:");
        lines.push(row.replace(&l, "$1$2 <title>").into_owned());
    }
    lines.join("\n")
}

fn human(report: &RunReport, width: usize, verbose: bool) -> String {
    let style = human::Style {
        width,
        verbose,
        ..human::Style::default()
    };
    let mut buf = Vec::new();
    human::render_with(report, Lang::En, false, &style, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(!text.contains('\x1b'), "no color when not asked");
    // Nothing is wider than asked, but a URL, which is never broken.
    for l in text.lines() {
        assert!(
            l.chars().count() <= width || l.contains("://"),
            "wider than {width}: {l}"
        );
    }
    text
}

fn only(names: &[&str]) -> RunReport {
    RunReport::new(
        sample()
            .destinations
            .into_iter()
            .filter(|d| names.contains(&d.name.as_str()))
            .collect(),
    )
}

#[test]
fn human_snapshot() {
    let text = out(ReportFormat::Human, false);
    assert!(!text.contains('\x1b'), "no color when not asked");
    insta::assert_snapshot!("human", human_stable(&text));
}

#[test]
fn human_healthy_is_one_line_each() {
    let mut healthy = only(&["leads"]);
    let mut second = healthy.destinations[0].clone();
    second.name = "leads-eu".into();
    second.test_lead.cleaned_up = None;
    healthy = RunReport::new(vec![healthy.destinations.remove(0), second]);
    let text = human(&healthy, 100, false);
    assert_eq!(
        text.lines().filter(|l| l.contains("leads")).count(),
        2,
        "{text}"
    );
    insta::assert_snapshot!("human_healthy", human_stable(&text));
}

#[test]
fn human_all_failing() {
    let mut lint_failed = only(&["crm"]).destinations.remove(0);
    lint_failed.name = "crm-typo".into();
    lint_failed.checks = vec![check(
        "lint",
        "Check the configuration",
        Status::Fail,
        0,
        "1 error(s): LC107; no network check was made",
    )];
    lint_failed.findings = vec![Finding::error(
        "LC107",
        "`application_id` = \"23456052-aaaa-bbbb-8662\" is not a GUID",
    )
    .at(Some(Location {
        file: "leadcheck.toml".into(),
        line: 7,
        column: 18,
    }))];
    let mut report = only(&["crm"]);
    report.destinations.push(lint_failed);
    let report = RunReport::new(report.destinations);
    insta::assert_snapshot!(
        "human_all_failing",
        human_stable(&human(&report, 100, false))
    );
}

#[test]
fn human_narrow_and_wide() {
    insta::assert_snapshot!("human_narrow", human_stable(&human(&sample(), 80, false)));
    insta::assert_snapshot!("human_wide", human_stable(&human(&sample(), 160, false)));
}

#[test]
fn human_verbose_shows_every_step_and_the_docs() {
    let text = human(&sample(), 100, true);
    assert!(text.contains("Resolve contoso.crm4.dynamics.com"), "{text}");
    assert!(text.contains("Insert the entity"), "{text}");
    assert!(text.contains("    docs: https://"), "{text}");
    let quiet = human(&sample(), 100, false);
    assert!(
        !quiet.contains("Resolve contoso.crm4.dynamics.com"),
        "{quiet}"
    );
    assert!(!quiet.contains("docs: "), "{quiet}");
    // The failing step and the skipped one after it, with its reason.
    assert!(
        quiet.contains("✗ Create the MSFT_TEST lead (310 ms)"),
        "{quiet}"
    );
    assert!(
        quiet.contains("- Read the lead back (0 ms): nothing was written"),
        "{quiet}"
    );
}

#[test]
fn human_color_only_when_asked() {
    let text = out(ReportFormat::Human, true);
    assert!(text.contains("\x1b[31m"), "red for failures");
    // The evidence's own escape is neutralized even in color mode.
    assert!(text.contains("\\u{1b}[31mtrace"));
}

#[test]
fn json_snapshot() {
    let text = out(ReportFormat::Json, true);
    assert!(!text.contains('\x1b'));
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for d in v["destinations"].as_array_mut().unwrap() {
        for f in d["findings"].as_array_mut().unwrap() {
            let code = f["code"].as_str().unwrap().to_string();
            assert_eq!(f["title"], page(&code, Lang::En).title);
            f["title"] = format!("<title {code}>").into();
            f["remedy"] = serde_json::json!(["<remedy>"]);
            f["docs"] = serde_json::json!(["<docs>"]);
        }
    }
    assert_eq!(v["leadcheck"], env!("CARGO_PKG_VERSION"));
    v["leadcheck"] = "<version>".into();
    insta::assert_snapshot!("json", serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn json_titles_follow_the_language() {
    let mut buf = Vec::new();
    render(&sample(), ReportFormat::Json, Lang::Pl, false, &mut buf).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
    assert_eq!(
        v["destinations"][0]["findings"][0]["title"],
        page("LC402", Lang::Pl).title
    );
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

#[test]
fn junit_snapshot() {
    let text = out(ReportFormat::Junit, true);
    assert!(!text.contains('\x1b'));
    assert!(text.contains("<failure"), "{text}");
    insta::assert_snapshot!("junit", placeholders(text, xml_escape));
}

#[test]
fn github_snapshot_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("summary.md");
    let mut buf = Vec::new();
    github::render(&sample(), Lang::En, &mut buf, Some(&summary)).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert!(!text.contains('\x1b') && !text.contains("add-mask"));
    // Every annotation is one line.
    assert!(
        text.lines()
            .all(|l| l.starts_with("::") || l.starts_with("leadcheck: ")),
        "{text}"
    );
    insta::assert_snapshot!("github", placeholders(text, github::escape_property));
    let md = std::fs::read_to_string(&summary).unwrap();
    insta::assert_snapshot!(
        "github_summary",
        placeholders(md, |s| s
            .replace('|', "\\|")
            .replace('<', "&lt;")
            .replace('>', "&gt;"))
    );
}

#[test]
fn canary_secret_never_shows() {
    for format in [
        ReportFormat::Human,
        ReportFormat::Json,
        ReportFormat::Junit,
        ReportFormat::Github,
    ] {
        for color in [false, true] {
            let text = out(format, color);
            assert!(!text.contains(CANARY), "{format:?}: {text}");
            assert!(
                text.contains("<redacted>") || text.contains("&lt;redacted&gt;"),
                "{format:?}: {text}"
            );
        }
    }
    let md = github::markdown(&sample(), Lang::En);
    assert!(!md.contains(CANARY));
}
