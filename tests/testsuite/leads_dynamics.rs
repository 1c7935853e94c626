//! `leadcheck leads` on Dynamics 365, through the binary, against the sandbox's Entra ID
//! and Dataverse emulators: the marketplace's leads (and only they) newest first, across
//! pages of 200, `--since`, JSON Lines, CSV read back by a CSV parser, `--count`, the Lead
//! Writer's refused read as a skip, sign-in failures with their code, `-v` with the OData
//! query, and no secret or token in any output.

use crate::leads_support::{created, lines, now};
use crate::support::leadcheck;
use leadcheck::leads::{parse_time, rfc3339};
use leadcheck::sandbox::{FieldValue, Sandbox, SandboxHandle, SecretStyle};
use serde_json::{json, Value};
use std::time::Duration;

const LIST_PATH: &str = "/api/data/v9.2/leads";

/// One expected lead: (leadid, created, test).
type Expect = (String, i64, bool);

/// 450 marketplace leads, one every 30 minutes back from a minute ago (every tenth the
/// marketplace's test lead, as leadcheck writes it), and 150 leads from other sources
/// in between (the newest lead of all among them) that must not be listed.
fn fixture(now: i64) -> (Vec<Value>, Vec<Expect>) {
    let subjects = [
        (
            "AzureMarketplace-INS|contoso.analytics",
            "AzureMarketplace",
            "INS",
            "contoso.analytics",
        ),
        (
            "AppSource (SPZA)-PLT | fabrikam.crm-pro",
            "AppSource (SPZA)",
            "PLT",
            "fabrikam.crm-pro",
        ),
        (
            "AzurePortal-Create|northwind.bi",
            "AzurePortal",
            "Create",
            "northwind.bi",
        ),
    ];
    let mut records = Vec::new();
    let mut expect = Vec::new();
    for k in 0..450i64 {
        let at = now - k * 1800 - 60;
        let id = format!("00000000-0000-4000-8000-{k:012}");
        let test = k % 10 == 7;
        let mut r = if test {
            let ticks = leadcheck::lead::TICKS_AT_UNIX_EPOCH + at as u64 * 10_000_000;
            leadcheck::lead::Lead::new(Some(ticks), Some("Contoso Analytics")).dynamics_record()
        } else {
            let (subject, ..) = subjects[k as usize % 3];
            json!({
                "subject": subject,
                "firstname": "Ana",
                "lastname": format!("Silva {k}"),
                "emailaddress1": format!("ana{k}@contoso.com"),
                "companyname": "Contoso",
                "address1_country": "PT",
                "leadsourcecode": 8,
            })
        };
        r["leadid"] = id.clone().into();
        r["createdon"] = rfc3339(at).into();
        records.push(r);
        expect.push((id, at, test));
    }
    let others = [
        "Request a quote",
        "Web form: pricing",
        "AzureMarketplace",
        "Web-INS|x",
    ];
    for k in 0..150i64 {
        let at = now - 10 - k * 5400;
        records.push(json!({
            "leadid": format!("00000000-0000-4000-9000-{k:012}"),
            "createdon": rfc3339(at),
            "subject": others[k as usize % 4],
            "firstname": "Other",
            "lastname": format!("Source {k}"),
            "emailaddress1": format!("other{k}@fabrikam.com"),
            "leadsourcecode": 8,
        }));
    }
    (records, expect)
}

/// A config with the sandbox's Dynamics entries named, secrets in files.
fn config(sb: &SandboxHandle, dir: &std::path::Path, names: &[&str]) -> std::path::PathBuf {
    let style = SecretStyle::Files {
        dir: dir.join("secrets"),
        reference: "secrets".into(),
    };
    let text = sb.render_toml(&style, Some(names)).unwrap();
    let path = dir.join("leadcheck.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Every secret of the sandbox's entries: none may show.
fn secrets(sb: &SandboxHandle) -> Vec<String> {
    sb.entries()
        .iter()
        .flat_map(|e| e.fields.iter())
        .filter_map(|(_, v)| match v {
            FieldValue::Secret(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(sb: &SandboxHandle, cfg: &std::path::Path, args: &[&str]) -> Run {
    let out = leadcheck()
        .arg("leads")
        .arg("-c")
        .arg(cfg)
        .args(args)
        .env("COLUMNS", "120")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    let all = format!("{}{}", r.stdout, r.stderr);
    for s in secrets(sb) {
        assert!(
            !all.contains(&s),
            "a secret in the output of {args:?}: {all}"
        );
    }
    // Every access token the sandbox issues is a JWT: `eyJ...` (base64 of `{"`).
    assert!(
        !all.contains("eyJ"),
        "a token in the output of {args:?}: {all}"
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// How many lead list queries the instance has answered so far.
fn list_queries(sb: &SandboxHandle) -> usize {
    sb.journal()
        .iter()
        .filter(|s| s.method == "GET" && s.path == LIST_PATH)
        .count()
}

/// A sandbox whose healthy instance holds the fixture.
fn loaded(codes: &[&str]) -> (SandboxHandle, Vec<Expect>, i64) {
    let sb = Sandbox::start(codes).unwrap();
    let now = now();
    let (records, expect) = fixture(now);
    let url = sb
        .entry("dynamics")
        .and_then(|e| e.get("instance_url"))
        .unwrap();
    assert_eq!(leadcheck::sandbox::dynamics::preload(url, records), 600);
    (sb, expect, now)
}

#[test]
fn leads_are_listed_newest_first_across_pages() {
    let (sb, expect, _) = loaded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics", "dynamics-office-365"]);

    // The five newest marketplace leads, none of the others (the newest of all is not).
    let before = list_queries(&sb);
    let r = run(&sb, &cfg, &["dynamics", "--json", "--limit", "5"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // 450 leads in pages of 200: three queries (the others are filtered by the service).
    assert_eq!(list_queries(&sb) - before, 3);
    let (leads, sums) = lines(&r.stdout);
    let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = expect[..5].iter().map(|e| e.0.as_str()).collect();
    assert_eq!(ids, want);
    assert_eq!(sums.len(), 1);
    let s = &sums[0]["summary"];
    assert_eq!(s["destination"], "dynamics");
    assert_eq!(s["type"], "dynamics");
    assert_eq!(s["status"], "read");
    assert_eq!(s["leads"], 450);
    assert_eq!(s["test_leads"], 45);
    assert_eq!(s["last"].as_str(), Some(rfc3339(expect[0].1).as_str()));
    assert_eq!(sums[0]["schema_version"], 1);
    // The mapping: source, action and offer from the subject; the customer's fields.
    let l = &leads[0];
    assert_eq!(l["destination"], "dynamics");
    assert_eq!(
        (
            l["lead_source"].as_str(),
            l["action_code"].as_str(),
            l["offer"].as_str()
        ),
        (
            Some("AzureMarketplace"),
            Some("INS"),
            Some("contoso.analytics")
        )
    );
    assert_eq!(l["email"], "ana0@contoso.com");
    assert_eq!(l["last_name"], "Silva 0");
    assert_eq!(l["company"], "Contoso");
    assert_eq!(l["country"], "PT");
    assert_eq!(l["test"], false);
    assert_eq!(leads[1]["lead_source"], "AppSource (SPZA)");
    assert_eq!(leads[1]["offer"], "fabrikam.crm-pro");

    // All of them, streamed page by page: every one once, newest first, tests marked.
    let r = run(&sb, &cfg, &["dynamics", "--json", "--limit", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, _) = lines(&r.stdout);
    let got: Vec<Expect> = leads
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                created(l),
                l["test"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expect);
    let t = leads.iter().find(|l| l["test"] == true).unwrap();
    assert!(
        t["email"].as_str().unwrap().starts_with("MSFT_TEST_"),
        "{t}"
    );
    assert_eq!(t["offer"], "Contoso Analytics");

    // The password grant (office-365) reads the same instance.
    let r = run(
        &sb,
        &cfg,
        &["dynamics-office-365", "--json", "--limit", "1"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads[0]["id"].as_str(), Some(expect[0].0.as_str()));
    assert_eq!(sums[0]["summary"]["leads"], 450);

    // Human: newest first, with the summary line.
    let r = run(&sb, &cfg, &["dynamics", "--limit", "3"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("450 leads"), "{}", r.stdout);
    assert!(r.stdout.contains("showing the 3 newest"), "{}", r.stdout);
    assert!(!r.stdout.contains("Other"), "{}", r.stdout);
}

#[test]
fn since_csv_and_count() {
    let (sb, expect, now) = loaded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics"]);

    // A date: the service filters on createdon; one page holds them all.
    let start = now - 3 * 86_400 - 900;
    let day = &rfc3339(start)[..10];
    let from = parse_time(&format!("{day}T00:00:00Z")).unwrap();
    let want: Vec<&Expect> = expect.iter().filter(|e| e.1 >= from).collect();
    assert!(want.len() > 100 && want.len() < 200, "{}", want.len());
    let before = list_queries(&sb);
    let r = run(&sb, &cfg, &["--since", day, "--limit", "0", "--json", "-v"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(list_queries(&sb) - before, 1);
    assert!(
        r.stderr
            .contains(&format!("and createdon ge {day}T00:00:00Z")),
        "{}",
        r.stderr
    );
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), want.len());
    assert!(leads.iter().all(|l| created(l) >= from));
    assert_eq!(
        sums[0]["summary"]["since"].as_str(),
        Some(rfc3339(from).as_str())
    );

    // CSV: a header, one row a lead, read back by a CSV parser.
    let r = run(&sb, &cfg, &["--format", "csv", "--limit", "25"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    let header: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, leadcheck::leads::render::CSV_HEADER);
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 25);
    for (row, e) in rows.iter().zip(&expect) {
        assert_eq!(&row[0], "dynamics");
        assert_eq!(&row[1], rfc3339(e.1));
        assert_eq!(&row[10], if e.2 { "true" } else { "false" });
        assert_eq!(&row[11], e.0);
    }
    assert_eq!(&rows[1][4], "AppSource (SPZA)");
    assert_eq!(&rows[7][2], "Contoso Analytics");

    // Per day over the last 7 days: the days add up to the leads of the period.
    let r = run(&sb, &cfg, &["--count", "--since", "7d", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert!(leads.is_empty());
    let s = &sums[0]["summary"];
    let in_week = expect.iter().filter(|e| e.1 >= now - 7 * 86_400).count();
    assert_eq!(s["leads"].as_u64(), Some(in_week as u64));
    let days: u64 = s["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["leads"].as_u64().unwrap())
        .sum();
    assert_eq!(days, in_week as u64);
}

#[test]
fn the_lead_writer_read_is_a_skip_with_the_right_to_grant() {
    let (sb, _, _) = loaded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics", "dynamics-lead-writer"]);

    // Alone: nothing could be read, exit 1, and the reason names the privilege.
    let r = run(&sb, &cfg, &["dynamics-lead-writer"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("skipped:"), "{}", r.stdout);
    assert!(r.stdout.contains("prvReadLead"), "{}", r.stdout);
    let r = run(&sb, &cfg, &["dynamics-lead-writer", "--json"]);
    assert_eq!(r.code, 1);
    let (leads, sums) = lines(&r.stdout);
    assert!(leads.is_empty());
    let s = &sums[0]["summary"];
    assert_eq!(s["status"], "skipped");
    let reason = s["reason"].as_str().unwrap();
    assert!(
        reason.contains("Principal user is missing prvReadLead privilege"),
        "{reason}"
    );
    assert!(
        reason.contains("security role with Read on Lead (prvReadLead)"),
        "{reason}"
    );

    // With a destination that could be read: exit 0, both summaries.
    let r = run(&sb, &cfg, &["--json", "--limit", "1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), 1);
    let status: Vec<&str> = sums
        .iter()
        .map(|s| s["summary"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(status, ["read", "skipped"]);
}

#[test]
fn failures_name_their_code_and_no_roles_is_a_skip() {
    let sb = Sandbox::start(&["LC305", "LC402"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics-lc305", "dynamics-lc402"]);

    // A wrong client secret: a failure with the catalog code in words, exit 1.
    let r = run(&sb, &cfg, &["dynamics-lc305", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (_, sums) = lines(&r.stdout);
    let s = &sums[0]["summary"];
    assert_eq!(s["status"], "failed");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.starts_with("sign-in failed (LC305 "), "{reason}");
    assert!(reason.contains("AADSTS7000215"), "{reason}");
    assert!(
        reason.contains("leadcheck diagnose dynamics-lc305"),
        "{reason}"
    );

    // No role at all (0x80042f09): the read is refused, a skip with the right to grant.
    let r = run(&sb, &cfg, &["dynamics-lc402", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let (_, sums) = lines(&r.stdout);
    let s = &sums[0]["summary"];
    assert_eq!(s["status"], "skipped");
    let reason = s["reason"].as_str().unwrap();
    assert!(reason.contains("no security role"), "{reason}");
    assert!(reason.contains("prvReadLead"), "{reason}");

    // Both: one failed, so exit 1.
    let r = run(&sb, &cfg, &["--json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
}

#[test]
fn verbose_shows_the_odata_query_and_no_secret() {
    let (sb, _, _) = loaded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        &sb,
        dir.path(),
        &["dynamics", "dynamics-office-365", "dynamics-lead-writer"],
    );
    let url = sb
        .entry("dynamics")
        .and_then(|e| e.get("instance_url"))
        .unwrap();
    for format in ["human", "json", "csv"] {
        let r = run(&sb, &cfg, &["-v", "--format", format, "--limit", "2"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let query =
            format!("dynamics: GET {url}/api/data/v9.2/leads?$select=leadid,createdon,subject,");
        assert!(r.stderr.contains(&query), "{format}: {}", r.stderr);
        assert!(
            r.stderr
                .contains("$filter=(startswith(subject,'AzureMarketplace-') or "),
            "{}",
            r.stderr
        );
        assert!(r.stderr.contains("$orderby=createdon desc"), "{}", r.stderr);
        assert!(r.stderr.contains("odata.maxpagesize=200"), "{}", r.stderr);
        // The requests themselves, the token request among them, without their secrets.
        assert!(r.stderr.contains("> POST "), "{}", r.stderr);
        assert!(r.stderr.contains("/oauth2/v2.0/token"), "{}", r.stderr);
        assert!(r.stderr.contains("> GET "), "{}", r.stderr);
        assert!(!r.stderr.contains("client_secret="), "{}", r.stderr);
        assert!(
            !r.stderr.to_ascii_lowercase().contains("bearer ey"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn the_test_lead_diagnose_writes_is_read_back_as_a_test_lead() {
    let sb = Sandbox::start(&[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics"]);
    leadcheck()
        .args([
            "diagnose",
            "dynamics",
            "--ticks",
            "638000000000000000",
            "-c",
        ])
        .arg(&cfg)
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0);
    let r = run(&sb, &cfg, &["--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), 1, "{}", r.stdout);
    assert_eq!(leads[0]["test"], true);
    assert_eq!(leads[0]["email"], "MSFT_TEST_638000000000000000@test.com");
    assert_eq!(leads[0]["offer"], "leadcheck test");
    assert!(uuid_shaped(leads[0]["id"].as_str().unwrap()));
    // Created now, by the instance.
    assert!((created(&leads[0]) - now()).abs() < 120);
    assert_eq!(sums[0]["summary"]["test_leads"], 1);
}

fn uuid_shaped(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

/// (status, headers, JSON body) of one GET with a bearer token.
fn get(url: &str, token: &str, prefer: Option<&str>) -> (u16, reqwest::header::HeaderMap, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut req = client
            .get(url)
            .bearer_auth(token)
            .timeout(Duration::from_secs(10));
        if let Some(p) = prefer {
            req = req.header("Prefer", p);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = serde_json::from_str(&resp.text().await.unwrap()).unwrap_or(Value::Null);
        (status, headers, body)
    })
}

/// A token for `entry`'s instance from the sandbox's Entra ID (client credentials).
fn token(sb: &SandboxHandle, entry: &str) -> String {
    let e = sb.entry(entry).unwrap();
    let key = secrets_of(sb, entry);
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        e.get("authority_host").unwrap(),
        e.get("directory_id").unwrap()
    );
    let scope = format!("{}/.default", e.get("instance_url").unwrap());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("grant_type", "client_credentials"),
                ("client_id", e.get("application_id").unwrap()),
                ("client_secret", key.as_str()),
                ("scope", scope.as_str()),
            ])
            .finish();
        let resp = client
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let j: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
        j["access_token"].as_str().unwrap().to_string()
    })
}

fn secrets_of(sb: &SandboxHandle, entry: &str) -> String {
    sb.entry(entry)
        .unwrap()
        .fields
        .iter()
        .find_map(|(k, v)| match v {
            FieldValue::Secret(s) if k == "application_key" => Some(s.clone()),
            _ => None,
        })
        .unwrap()
}

/// The emulator's list query on the wire: OData paging through `@odata.nextLink` with a
/// skip token, `$select`, `$filter`, `$orderby`, a 400 for a filter it cannot read, and the
/// documented prvReadLead refusal on the Lead Writer-only instance.
#[test]
fn the_emulator_pages_filters_and_refuses_as_odata_does() {
    let (sb, expect, _) = loaded(&[]);
    let instance = sb
        .entry("dynamics")
        .unwrap()
        .get("instance_url")
        .unwrap()
        .to_string();
    let t = token(&sb, "dynamics");
    let list = format!(
        "{instance}/api/data/v9.2/leads?$select=leadid,createdon&$filter=startswith(subject,'AzureMarketplace-')%20or%20startswith(subject,'MSFT_TEST_')&$orderby=createdon%20desc"
    );
    let want: Vec<&str> = expect
        .iter()
        .enumerate()
        .filter(|(k, e)| e.2 || k % 3 == 0)
        .map(|(_, e)| e.0.as_str())
        .collect();
    let mut got: Vec<String> = Vec::new();
    let mut next = Some(list.clone());
    let mut pages = 0;
    while let Some(url) = next.take() {
        let (s, h, body) = get(&url, &t, Some("odata.maxpagesize=100"));
        assert_eq!(s, 200, "{body}");
        assert_eq!(h["preference-applied"], "odata.maxpagesize=100");
        assert_eq!(
            body["@odata.context"],
            format!("{instance}/api/data/v9.2/$metadata#leads(leadid,createdon)")
        );
        let value = body["value"].as_array().unwrap();
        assert!(value.len() <= 100);
        for r in value {
            assert_eq!(r.as_object().unwrap().len(), 2, "{r}");
            got.push(r["leadid"].as_str().unwrap().to_string());
        }
        next = body["@odata.nextLink"].as_str().map(str::to_string);
        if let Some(n) = &next {
            assert!(
                n.starts_with(&format!("{instance}/api/data/v9.2/leads?")),
                "{n}"
            );
            assert!(n.contains("$skiptoken="), "{n}");
        }
        pages += 1;
    }
    assert_eq!(got, want);
    assert_eq!(pages, want.len().div_ceil(100));
    // Without a page size: Dataverse's 5,000, so one page.
    let (_, _, body) = get(&list, &t, None);
    assert_eq!(body["value"].as_array().unwrap().len(), want.len());
    assert!(body.get("@odata.nextLink").is_none());

    for bad in [
        "$filter=startswith(subject,",
        "$filter=nosuch%20eq%201",
        "$select=nosuch",
        "$orderby=createdon%20sideways",
        "$skiptoken=nopipe",
    ] {
        let (s, _, body) = get(&format!("{instance}/api/data/v9.2/leads?{bad}"), &t, None);
        assert_eq!(s, 400, "{bad}: {body}");
        assert_eq!(body["error"]["code"], "0x80060888", "{bad}");
    }

    let writer = sb
        .entry("dynamics-lead-writer")
        .unwrap()
        .get("instance_url")
        .unwrap()
        .to_string();
    let t = token(&sb, "dynamics-lead-writer");
    let (s, _, body) = get(&format!("{writer}/api/data/v9.2/leads"), &t, None);
    assert_eq!(s, 403);
    assert_eq!(body["error"]["code"], "0x80040220");
    assert_eq!(
        body["error"]["message"],
        "Principal user is missing prvReadLead privilege."
    );
}

/// `--watch` keeps its sign-in: four polls, one token request, and the lead that arrives
/// between two polls is printed once; a kept token that is revoked is replaced without a
/// failed poll.
#[test]
fn watch_signs_in_once_and_prints_a_new_lead_once() {
    use crate::leads_support::{wait_for, Watching};
    let (sb, _, now) = loaded(&[]);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(&sb, dir.path(), &["dynamics"]);
    let tokens = |sb: &SandboxHandle| {
        sb.journal()
            .iter()
            .filter(|s| s.method == "POST" && s.path.ends_with("/oauth2/v2.0/token"))
            .count()
    };
    let w = Watching::start(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("leadcheck"))
            .args(["leads", "dynamics", "--watch", "--interval", "1", "--json"])
            .arg("-c")
            .arg(&cfg)
            .env("NO_COLOR", "1"),
    );
    wait_for("the first poll", Duration::from_secs(60), || {
        list_queries(&sb) >= 1
    });
    let url = sb
        .entry("dynamics")
        .and_then(|e| e.get("instance_url"))
        .unwrap();
    let arrived = "00000000-0000-4000-a000-000000000001";
    assert_eq!(
        leadcheck::sandbox::dynamics::preload(
            url,
            [json!({
                "leadid": arrived,
                "createdon": rfc3339(now),
                "subject": "AzureMarketplace-Create|contoso.analytics",
                "firstname": "민준",
                "lastname": "김",
                "emailaddress1": "minjun@contoso.kr",
                "leadsourcecode": 8,
            })]
        ),
        1
    );
    let polls = |sb: &SandboxHandle| {
        // A poll reads the first page, then the pages of the overlap it asks for again.
        sb.journal()
            .iter()
            .filter(|s| s.method == "GET" && s.path == LIST_PATH && s.status == Some(200))
            .count()
    };
    let before = polls(&sb);
    wait_for("three more polls", Duration::from_secs(60), || {
        polls(&sb) >= before + 3 && w.stdout().contains(arrived)
    });
    assert_eq!(tokens(&sb), 1, "one sign-in for every poll");
    // The kept token revoked: the next poll signs in again, once, and does not fail.
    assert!(leadcheck::sandbox::dynamics::revoke_tokens(url));
    let before = polls(&sb);
    wait_for(
        "two polls after the revocation",
        Duration::from_secs(60),
        || polls(&sb) >= before + 2,
    );
    let (code, out, err) = w.interrupt();
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert_eq!(
        tokens(&sb),
        2,
        "a second sign-in after the revocation\n{err}"
    );
    assert!(!err.contains("failed"), "{err}");
    let (leads, _) = lines(&out);
    let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [arrived], "{out}\n{err}");
    assert_eq!(
        (
            leads[0]["last_name"].as_str(),
            leads[0]["first_name"].as_str()
        ),
        (Some("김"), Some("민준"))
    );
    for s in secrets(&sb) {
        assert!(!out.contains(&s) && !err.contains(&s));
    }
    assert!(!out.contains("eyJ") && !err.contains("eyJ"), "{err}");
}
