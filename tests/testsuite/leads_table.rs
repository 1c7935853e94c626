//! `leadcheck leads` on Azure Table, through the binary, against Azurite (the real table
//! service emulator): the list, the period, the formats (CSV read back by a CSV parser),
//! counts per day, LC601, skips and failures, `--watch` with `--exec`, and no key in any
//! output.

use crate::azure_table::{Azurite, DEV_KEY};
use crate::leads_support::{created, lines, now, wait_for, Watching};
use crate::support::leadcheck;
use leadcheck::leads::{day, parse_time, rfc3339};
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

const OFFERS: [&str; 3] = ["Contoso Analytics", "Fabrikam CRM", "Northwind BI"];

/// A customer's lead in the shape leadcheck's own test lead has (CustomerInfo a JSON string).
fn customer(id: &str, created: i64, offer: &str, info: Value) -> Value {
    json!({
        "PartitionKey": day(created),
        "RowKey": id,
        "OfferDisplayName": offer,
        "LeadSource": "AzureMarketplace",
        "ActionCode": "INS",
        "CustomerInfo": info.to_string(),
        "CreatedTime": rfc3339(created),
    })
}

/// leadcheck's own MSFT_TEST lead, created at `created`.
fn test_lead(created: i64) -> Value {
    let ticks = leadcheck::lead::TICKS_AT_UNIX_EPOCH + created as u64 * 10_000_000;
    leadcheck::lead::Lead::new(Some(ticks), Some("Contoso Analytics")).table_entity()
}

/// Creates `table` (when missing) and inserts the entities, signed by leadcheck's signer.
fn insert(az: &Azurite, table: &str, entities: &[Value]) {
    use leadcheck::destination::azure_table::{account_from, signed_request};
    use leadcheck::net::{Net, NetOptions};
    use reqwest::Method;
    let account = account_from(&leadcheck::secret::Secret::new(
        az.connection_string(DEV_KEY),
    ))
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        let net = Net::new(NetOptions::new(Duration::from_secs(20), deadline)).unwrap();
        let send = |rest: &str, body: &Value| {
            let url = url::Url::parse(&format!("{}/{rest}", az.endpoint())).unwrap();
            let req = signed_request(
                &net,
                &account,
                Method::POST,
                url,
                Some(body.to_string().into_bytes()),
            )
            .unwrap();
            let net = net.clone();
            async move { net.send(req).await.unwrap().status.as_u16() }
        };
        let created = send("Tables", &json!({ "TableName": table })).await;
        assert!(
            created == 204 || created == 409,
            "create {table}: {created}"
        );
        for e in entities {
            assert_eq!(send(table, e).await, 204, "insert {e}");
        }
    });
}

/// A config with the Azurite tables named by `tables` ([name, table]) and, when `hook`, an
/// HTTPS endpoint (which has no leads to read).
fn config(dir: &std::path::Path, tables: &[(&str, &str)], hook: bool) -> std::path::PathBuf {
    let mut text = String::new();
    for (name, table) in tables {
        text.push_str(&format!(
            "[destination.{name}]\ntype = \"azure-table\"\nstorage_account_connection_string = {{ env = \"LC_TABLE_CS\" }}\ntable = \"{table}\"\n\n"
        ));
    }
    if hook {
        text.push_str("[destination.hook]\ntype = \"https\"\nhttps_endpoint_url = \"https://example.com/leads\"\n\n");
    }
    // A destination whose service is down.
    text.push_str("[destination.down]\ntype = \"azure-table\"\nstorage_account_connection_string = { env = \"LC_DOWN_CS\" }\n");
    let path = dir.join("leadcheck.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(az: &Azurite, cfg: &std::path::Path, args: &[&str]) -> Run {
    let out = leadcheck()
        .arg("leads")
        .arg("-c")
        .arg(cfg)
        .args(args)
        .env("LC_TABLE_CS", az.connection_string(DEV_KEY))
        .env(
            "LC_DOWN_CS",
            format!("AccountName=devstoreaccount1;AccountKey={DEV_KEY};TableEndpoint=http://127.0.0.1:9/devstoreaccount1"),
        )
        .env("COLUMNS", "120")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    // The account key never shows, whatever the command.
    assert!(
        !r.stdout.contains(DEV_KEY) && !r.stderr.contains(DEV_KEY),
        "the key in the output of {args:?}"
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// 64 leads over the last 8 days (every fourth a test lead) and one hostile newest one.
fn fixture(now: i64) -> (Vec<Value>, Vec<(String, i64, bool)>) {
    let mut entities = Vec::new();
    let mut expect = Vec::new();
    for k in 0..64 {
        let at = now - (k % 8) * 86_400 - (k / 8) * 3600 - 60;
        if k % 4 == 3 {
            let e = test_lead(at);
            expect.push((e["RowKey"].as_str().unwrap().to_string(), at, true));
            entities.push(e);
        } else {
            let id = format!("lead-{k:02}");
            entities.push(customer(
                &id,
                at,
                OFFERS[k as usize % 3],
                json!({"FirstName": "Ana", "LastName": format!("Silva {k}"), "Email": format!("ana{k}@contoso.com"), "Company": "Contoso", "Country": "PT"}),
            ));
            expect.push((id, at, false));
        }
    }
    // Escape codes, bidi overrides, RTL, CJK, Hangul, emoji, combining marks, a formula.
    entities.push(customer(
        "lead-hostile",
        now - 30,
        "Zażółć 😀 e\u{301}",
        json!({"FirstName": "\u{1b}[31mRed\u{1b}[0m", "LastName": "مرحبا \u{202e}evil", "Email": "李雷@例子.中国", "Company": "=HYPERLINK(\"http://x\")", "Country": "한국"}),
    ));
    expect.push(("lead-hostile".into(), now - 30, false));
    (entities, expect)
}

#[test]
fn leads_are_listed_filtered_counted_and_exported() {
    let Some(az) = Azurite::start() else { return };
    let now = now();
    let (entities, expect) = fixture(now);
    insert(&az, "MarketplaceLeads", &entities);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("tbl", "MarketplaceLeads")], true);

    // The five newest, newest first, with a summary of all of them.
    let r = run(&az, &cfg, &["tbl", "--json", "--limit", "5"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), 5);
    let mut newest = expect.clone();
    newest.sort_by_key(|e| std::cmp::Reverse(e.1));
    let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = newest[..5].iter().map(|e| e.0.as_str()).collect();
    assert_eq!(ids, want);
    assert_eq!(leads[0]["destination"], "tbl");
    assert_eq!(leads[0]["company"], "=HYPERLINK(\"http://x\")");
    let s = &sums[0]["summary"];
    assert_eq!(sums[0]["schema_version"], 1);
    assert_eq!(s["destination"], "tbl");
    assert_eq!(s["status"], "read");
    assert_eq!(s["leads"], 65);
    assert_eq!(s["test_leads"], 16);
    assert_eq!(s["last"], rfc3339(now - 30));
    assert!(s.get("finding").is_none(), "{s}");

    // Human: the 50 newest, text from customers made harmless, a line per lead.
    let r = run(&az, &cfg, &["tbl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains('\u{1b}') && !r.stdout.contains('\u{202e}'));
    assert!(r.stdout.contains("\\u{1b}[31mRed"), "{}", r.stdout);
    assert!(r.stdout.contains("showing the 50 newest"), "{}", r.stdout);
    let rows = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("  20") && l.as_bytes().get(12) == Some(&b' '))
        .count();
    assert_eq!(rows, 50, "{}", r.stdout);
    assert!(r.stdout.contains("65 leads in table MarketplaceLeads"));

    // --since 3d: the leads created in the last three days (the service's own Timestamp is
    // today for all of them: the period is the lead's).
    let r = run(
        &az,
        &cfg,
        &["tbl", "--json", "--limit", "0", "--since", "3d"],
    );
    let (leads, sums) = lines(&r.stdout);
    let cutoff = now - 3 * 86_400;
    let want = expect.iter().filter(|e| e.1 >= cutoff).count();
    assert_eq!(leads.len(), want);
    assert_eq!(sums[0]["summary"]["leads"], want as u64);
    assert!(leads.iter().all(|l| created(l) >= cutoff));

    // --since a date: from its start (UTC).
    let date = day(now - 5 * 86_400);
    let start = parse_time(&format!("{date}T00:00:00Z")).unwrap();
    let r = run(
        &az,
        &cfg,
        &["tbl", "--json", "--limit", "0", "--since", &date],
    );
    let (leads, _) = lines(&r.stdout);
    assert_eq!(leads.len(), expect.iter().filter(|e| e.1 >= start).count());

    // CSV: every lead, read back by a CSV parser; a formula is written as text.
    let r = run(&az, &cfg, &["tbl", "--format", "csv", "--limit", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        leadcheck::leads::render::CSV_HEADER
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 65);
    assert_eq!(rows.iter().filter(|r| &r[10] == "true").count(), 16);
    let hostile = rows.iter().find(|r| &r[11] == "lead-hostile").unwrap();
    assert_eq!(&hostile[7], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&hostile[5], "\u{1b}[31mRed\u{1b}[0m");
    assert_eq!(&hostile[2], "Zażółć 😀 e\u{301}");
    // Its words go to stderr, so that stdout stays one CSV document.
    assert!(r.stderr.contains("tbl: 65 leads"), "{}", r.stderr);

    // Counts per day: every day of the period, the leads of each.
    let r = run(&az, &cfg, &["tbl", "--json", "--count", "--since", "7d"]);
    let (leads, sums) = lines(&r.stdout);
    assert!(leads.is_empty());
    let days = sums[0]["summary"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 8);
    let since = now - 7 * 86_400;
    for d in days {
        let name = d["day"].as_str().unwrap();
        let want = expect
            .iter()
            .filter(|e| e.1 >= since && day(e.1) == name)
            .count();
        assert_eq!(d["leads"], want as u64, "{name}");
    }
    let r = run(&az, &cfg, &["tbl", "--count", "--since", "7d"]);
    assert!(r.stdout.contains('█'), "{}", r.stdout);
    assert_eq!(
        r.stdout.lines().filter(|l| l.starts_with("  20")).count(),
        8
    );

    // -v states the query and the requests; the key never shows (checked in `run`).
    let r = run(&az, &cfg, &["tbl", "-v", "--limit", "1"]);
    assert!(
        r.stderr.contains("MarketplaceLeads()?$top=1000"),
        "{}",
        r.stderr
    );
}

#[test]
fn skips_failures_and_lc601() {
    let Some(az) = Azurite::start() else { return };
    let now = now();
    insert(
        &az,
        "Old",
        &[
            customer(
                "old-1",
                now - 40 * 86_400,
                "Contoso",
                json!({"FirstName": "Ana"}),
            ),
            test_lead(now - 86_400),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("old", "Old"), ("empty", "Empty")], true);

    // An HTTPS endpoint cannot be read: a skip. With a table read too, exit 0.
    let r = run(&az, &cfg, &["old", "hook", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (_, sums) = lines(&r.stdout);
    assert_eq!(sums.len(), 2);
    assert_eq!(sums[1]["summary"]["status"], "skipped");
    assert!(sums[1]["summary"]["reason"]
        .as_str()
        .unwrap()
        .contains("HTTPS endpoint"));
    // Only skips: nothing was read, exit 1.
    let r = run(&az, &cfg, &["hook"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("skipped:"), "{}", r.stdout);

    // A service that does not answer: exit 1, the reason, the next step.
    let r = run(&az, &cfg, &["old", "down", "--timeout", "5"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("could not read:"), "{}", r.stdout);
    assert!(r.stdout.contains("leadcheck diagnose down"), "{}", r.stdout);

    // No customer lead in the period: LC601, with the last one before it.
    let r = run(&az, &cfg, &["old", "--json", "--since", "7d"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), 1);
    let s = &sums[0]["summary"];
    assert_eq!(s["finding"]["code"], "LC601");
    assert_eq!(s["last_customer"], rfc3339(now - 40 * 86_400));
    let evidence = s["finding"]["evidence"].as_str().unwrap();
    assert!(evidence.contains("only 1 test lead"), "{evidence}");
    assert!(evidence.contains("40 days ago"), "{evidence}");

    // No table at all: zero leads, LC601 and the hint to run diagnose; still exit 0.
    let r = run(&az, &cfg, &["empty"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("does not exist yet"), "{}", r.stdout);
    assert!(r.stdout.contains("LC601 no lead yet"), "{}", r.stdout);
    assert!(
        r.stdout.contains("leadcheck diagnose empty"),
        "{}",
        r.stdout
    );
}

#[test]
fn watch_prints_a_new_lead_once_and_runs_exec_once() {
    let Some(az) = Azurite::start() else { return };
    let now = now();
    insert(
        &az,
        "Watched",
        &[customer(
            "before",
            now - 600,
            "Contoso",
            json!({"FirstName": "Ana"}),
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), &[("watched", "Watched")], false);
    let got = dir.path().join("exec.jsonl");
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadcheck"));
    cmd.args([
        "leads",
        "watched",
        "--watch",
        "--interval",
        "1",
        "--format",
        "json",
        "-v",
    ])
    .arg("-c")
    .arg(&cfg)
    .arg("--exec")
    .arg(format!("cat >> '{}'", got.display()))
    .env("LC_TABLE_CS", az.connection_string(DEV_KEY))
    .env("NO_COLOR", "1");
    let w = Watching::start(&mut cmd);
    // The first poll has been answered: what is there now is not new.
    wait_for("the first poll", Duration::from_secs(30), || {
        w.stderr().contains("< 200")
    });
    insert(
        &az,
        "Watched",
        &[customer(
            "arrived",
            now,
            "Contoso",
            json!({"FirstName": "Bo", "Email": "bo@fabrikam.com"}),
        )],
    );
    wait_for("--exec", Duration::from_secs(30), || {
        std::fs::read_to_string(&got).is_ok_and(|t| t.ends_with('\n'))
    });
    // Three more polls, which must not announce it again.
    let polls = |s: &str| s.matches("< 200").count();
    let seen = polls(&w.stderr());
    wait_for("three more polls", Duration::from_secs(30), || {
        polls(&w.stderr()) >= seen + 3
    });
    let (code, out, err) = w.interrupt();
    assert_eq!(code, Some(130), "{out}\n{err}");
    assert!(!out.contains(DEV_KEY) && !err.contains(DEV_KEY));
    let (leads, _) = lines(&out);
    let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["arrived"], "{out}\n{err}");
    let execs: Vec<Value> = std::fs::read_to_string(&got)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(execs.len(), 1, "{execs:?}");
    assert_eq!(execs[0]["destination"], "watched");
    assert_eq!(execs[0]["lead"]["id"], "arrived");
    assert_eq!(execs[0]["lead"]["email"], "bo@fabrikam.com");
}

/// Bad input through argv, in any script: a clear error and exit 2, never a panic.
#[test]
fn bad_arguments_are_clear_errors_in_any_script() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(
        &cfg,
        "[destination.tbl]\ntype = \"azure-table\"\nstorage_account_connection_string = \"UseDevelopmentStorage=true\"\n",
    )
    .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--since", "안녕하세요"],
            "--since \"안녕하세요\" is neither",
        ),
        (&["--since", "７d"], "is neither a number of days"),
        (&["--since", "2026-02-30"], "no such date"),
        (&["--since", "‏שבוע‎"], "is neither"),
        (&["--since", "e\u{301}😀"], "is neither"),
        (&["안녕하세요"], "no destination named `안녕하세요`"),
        (&["李雷", "tbl"], "no destination named `李雷`"),
        (&["--interval", "0", "--watch"], "0 is not in 1..=86400"),
        (&["--exec", "true"], "--watch"),
        (&["--count", "--watch"], "cannot be used with"),
        (&["--format", "xml"], "possible values: human, json, csv"),
        (&["--timeout", "-5"], "unexpected argument"),
        (&["--timeout", "0"], "--timeout must be a positive number"),
    ];
    for (args, want) in cases {
        let out = leadcheck()
            .arg("leads")
            .arg("-c")
            .arg(&cfg)
            .args(*args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(want), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// A table service that pages as the REST reference allows but Azurite never does.
struct OddTable {
    /// Every page names itself as the next one.
    looping: bool,
}

impl leadcheck::sandbox::Emulator for OddTable {
    fn handle(&self, req: &leadcheck::sandbox::Request) -> leadcheck::sandbox::Reply {
        use leadcheck::sandbox::Reply;
        let q = req.query.as_deref().unwrap_or("");
        let entity = |row: &str| {
            json!({"PartitionKey": "p", "RowKey": row, "ProductId": "contoso.analytics",
                   "LeadSource": "AzureMarketplace", "ActionCode": "INS",
                   "CustomerInfo": "{\"FirstName\":\"Ana\"}", "CreatedTime": "2026-12-01T10:00:00Z"})
        };
        if self.looping {
            return Reply::json(200, &json!({"value": [entity("again")]}))
                .header("x-ms-continuation-NextPartitionKey", "1!4!cA--")
                .header("x-ms-continuation-NextRowKey", "1!8!YWdhaW4-");
        }
        // Page one names the next page by its partition only; page two must be asked for
        // with NextPartitionKey and no NextRowKey.
        if q.contains("NextRowKey") {
            return Reply::json(400, &json!({"odata.error": {"code": "InvalidInput"}}));
        }
        if q.contains("NextPartitionKey=1%214%21cTI-") {
            Reply::json(200, &json!({"value": [entity("three")]}))
        } else {
            Reply::json(200, &json!({"value": [entity("one"), entity("two")]}))
                .header("x-ms-continuation-NextPartitionKey", "1!4!cTI-")
        }
    }
}

#[test]
fn continuations_by_partition_alone_and_a_service_that_loops() {
    use crate::leads_support::served;
    for looping in [false, true] {
        let srv = served(std::sync::Arc::new(OddTable { looping }));
        let cs = format!(
            "AccountName=devstoreaccount1;AccountKey={DEV_KEY};TableEndpoint=http://{}/devstoreaccount1",
            srv.addr
        );
        let out = leadcheck()
            .args(["leads", "--type", "azure-table", "--json", "--limit", "0"])
            .args(["--storage-account-connection-string", "env:LC_ODD_CS"])
            .env("LC_ODD_CS", &cs)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        );
        assert!(!stdout.contains(DEV_KEY) && !stderr.contains(DEV_KEY));
        let (leads, summaries) = lines(&stdout);
        if looping {
            assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
            assert_eq!(summaries[0]["summary"]["status"], "failed");
            let reason = summaries[0]["summary"]["reason"].as_str().unwrap();
            assert!(reason.contains("same page again"), "{reason}");
        } else {
            assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
            let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
            assert_eq!(ids, ["one", "two", "three"], "{stdout}\n{stderr}");
        }
    }
}
