//! `leadcheck leads` on Salesforce (REST API, SOQL) and Marketo (form fills from the activity
//! log), through the binary, against the emulators preloaded with several hundred leads:
//! marketplace leads, MSFT_TEST leads, and leads of other sources that must not be listed.
//! The list newest first, the period, more than one page, JSON Lines, CSV read back, counts,
//! refused reads as skips, `-v` with the query, and no secret in any output.

use crate::leads_support::{created, lines, now, served};
use crate::support::leadcheck;
use leadcheck::lead::{Lead, TICKS_AT_UNIX_EPOCH};
use leadcheck::leads::{day, rfc3339};
use leadcheck::sandbox::marketo as mk;
use leadcheck::sandbox::salesforce as sf;
use serde_json::Value;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const OFFERS: [&str; 3] = ["contoso.analytics", "fabrikam.crm", "northwind.bi-preview"];
/// A form of the same Marketo instance that is not the marketplace's.
const OTHER_FORM: u64 = 2001;
/// A Salesforce token the emulator does not accept.
const STALE_TOKEN: &str = "00D5e000000SbxQ!AQ4AQStaleSessionTokenThatExpired";
const WRONG_SECRET: &str = "not-the-marketo-secret-9Zk1";

/// What a fixture lead should list as: (id, created, test).
type Expect = Vec<(String, i64, bool)>;

/// When the k-th lead was written: every 30 minutes back from `now` (450 leads: 9 days),
/// never near a day's or a period's edge by less than a minute.
fn at(now: i64, k: i64) -> i64 {
    now - 120 - k * 1800
}

/// The test lead leadcheck (and the marketplace) mints at `t`.
fn test_lead(t: i64) -> Lead {
    Lead::new(
        Some(TICKS_AT_UNIX_EPOCH + t as u64 * 10_000_000),
        Some("Contoso Analytics"),
    )
}

/// 450 Salesforce Leads: every fifth of another source (a web form, a partner, a source
/// that only looks like the marketplace's), every fifth an MSFT_TEST lead as web-to-lead
/// writes it, the rest customers of the marketplace's three sources.
fn salesforce_fixture(org: &sf::Salesforce, now: i64) -> Expect {
    let mut expect = Vec::new();
    for k in 0..450 {
        let t = at(now, k);
        let offer = OFFERS[k as usize % 3];
        let listed = match k % 5 {
            0 => {
                let source = ["Web", "Partner Referral", "AzureMarketplace", "MSFTxTEST_1"]
                    [(k / 5) as usize % 4];
                org.add_lead(
                    &[
                        ("LeadSource", source),
                        ("LastName", "Other"),
                        ("Company", "Elsewhere"),
                        ("Email", &format!("other{k}@example.com")),
                    ],
                    t,
                );
                None
            }
            1 => {
                let lead = test_lead(t);
                let form = lead.salesforce_form(sf::OID);
                let get = |n: &str| form.iter().find(|(k, _)| k == n).unwrap().1.clone();
                let id = org.add_lead(
                    &[
                        ("LeadSource", &get("lead_source")),
                        ("FirstName", &get("first_name")),
                        ("LastName", &get("last_name")),
                        ("Company", &get("company")),
                        ("Email", &get("email")),
                        ("Country", &get("country")),
                    ],
                    t,
                );
                Some((id, true))
            }
            r => {
                let source = [
                    "AzureMarketplace-INS",
                    "AppSource (SPZA)-PLT",
                    "AzurePortal-Create",
                ][r as usize - 2];
                let id = org.add_lead(
                    &[
                        ("LeadSource", &format!("{source}|{offer}")),
                        ("FirstName", "Ana"),
                        ("LastName", &format!("Silva {k}")),
                        ("Company", "Contoso"),
                        ("Email", &format!("ana{k}@contoso.com")),
                        ("Country", "PT"),
                    ],
                    t,
                );
                Some((id, false))
            }
        };
        if let Some((id, test)) = listed {
            expect.push((id, t, test));
        }
    }
    expect
}

/// 700 Marketo leads: every seventh never filled out a form, every third of the others
/// filled out another form; of the marketplace form's fills every fourth is an MSFT_TEST
/// lead. Fills every 30 minutes back from `now`.
fn marketo_fixture(inst: &mk::Marketo, now: i64) -> Expect {
    let mut expect = Vec::new();
    for k in 0..700 {
        let t = at(now, k) + 5;
        if k % 7 == 0 {
            inst.add_lead(
                &[
                    ("email", &format!("import{k}@example.com")),
                    ("leadSource", "List Import"),
                ],
                t - 86_400,
            );
            continue;
        }
        if k % 3 == 0 {
            let id = inst.add_lead(
                &[
                    ("email", &format!("web{k}@example.com")),
                    ("leadSource", "Website"),
                ],
                t - 60,
            );
            inst.add_fill(id, OTHER_FORM, t);
            continue;
        }
        let (id, test) = if k % 4 == 1 {
            let lead = test_lead(t);
            let fields: Vec<(String, String)> = lead
                .marketo_fields()
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
                .collect();
            let fields: Vec<(&str, &str)> = fields
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            (inst.add_lead(&fields, t), true)
        } else {
            let offer = OFFERS[k as usize % 3];
            let id = inst.add_lead(
                &[
                    ("firstName", "Bo"),
                    ("lastName", &format!("Berg {k}")),
                    ("email", &format!("bo{k}@fabrikam.com")),
                    ("company", "Fabrikam"),
                    ("country", "SE"),
                    ("leadSource", &format!("AzureMarketplace-INS|{offer}")),
                ],
                // Created long before: the fill is when the marketplace sent it.
                t - 30 * 86_400,
            );
            (id, false)
        };
        inst.add_fill(id, mk::FORM_ID, t);
        expect.push((id.to_string(), t, test));
    }
    expect
}

/// The config: the healthy org and instance, and the ones that refuse.
struct Env {
    _dir: tempfile::TempDir,
    cfg: PathBuf,
}

fn salesforce_entry(name: &str, addr: SocketAddr, token_env: Option<&str>) -> String {
    let mut t = format!(
        "[destination.{name}]\ntype = \"salesforce\"\nobject_identifier = \"{}\"\nendpoint = \"http://{addr}{}?encoding=UTF-8\"\n",
        sf::OID,
        sf::SERVLET_PATH
    );
    if let Some(env) = token_env {
        t.push_str(&format!(
            "api_instance_url = \"http://{addr}\"\napi_access_token = {{ env = \"{env}\" }}\n"
        ));
    }
    t.push('\n');
    t
}

fn marketo_entry(name: &str, addr: SocketAddr, secret_env: &str) -> String {
    format!(
        "[destination.{name}]\ntype = \"marketo\"\nmunchkin_id = \"{}\"\nform_id = \"{}\"\nclient_id = \"{}\"\nclient_secret = {{ env = \"{secret_env}\" }}\nendpoint = \"http://{addr}\"\n\n",
        mk::MUNCHKIN_ID,
        mk::FORM_ID,
        mk::CLIENT_ID
    )
}

fn write_config(text: &str) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(&cfg, text).unwrap();
    Env { _dir: dir, cfg }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `leads` with the secrets in the environment; no secret, no access token and no
/// panic may show in either stream, whatever the arguments.
fn run(cfg: &Path, secrets: &[&str], args: &[&str]) -> Run {
    let out = leadcheck()
        .arg("leads")
        .arg("-c")
        .arg(cfg)
        .args(args)
        .env("LC_SF_TOKEN", sf::TOKEN)
        .env("LC_SF_STALE", STALE_TOKEN)
        .env("LC_MK_SECRET", mk::CLIENT_SECRET)
        .env("LC_MK_WRONG", WRONG_SECRET)
        .env("COLUMNS", "120")
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    for s in [sf::TOKEN, STALE_TOKEN, mk::CLIENT_SECRET, WRONG_SECRET]
        .iter()
        .chain(secrets)
    {
        assert!(
            !r.stdout.contains(s) && !r.stderr.contains(s),
            "a secret in the output of {args:?}:\n{}\n{}",
            r.stdout,
            r.stderr
        );
    }
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

/// The checks both destinations pass: `name` holds `expect` (newest first after sorting).
fn lists_as_expected(cfg: &Path, name: &str, expect: &Expect, now: i64, secrets: &[&str]) {
    let mut newest = expect.clone();
    newest.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let tests = expect.iter().filter(|e| e.2).count();
    assert!(expect.len() > 300, "the fixture spans several pages");

    // --limit: the newest, newest first, with a summary of all of them.
    let r = run(cfg, secrets, &[name, "--json", "--limit", "7"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (leads, sums) = lines(&r.stdout);
    let ids: Vec<&str> = leads.iter().map(|l| l["id"].as_str().unwrap()).collect();
    let want: Vec<&str> = newest[..7].iter().map(|e| e.0.as_str()).collect();
    assert_eq!(ids, want);
    assert!(leads.iter().all(|l| l["destination"] == name));
    let s = &sums[0]["summary"];
    assert_eq!(sums[0]["schema_version"], 1);
    assert_eq!(s["destination"], name);
    assert_eq!(s["status"], "read", "{s}");
    assert_eq!(s["leads"], expect.len() as u64, "{s}");
    assert_eq!(s["test_leads"], tests as u64, "{s}");
    assert_eq!(s["last"], rfc3339(newest[0].1));

    // Every lead, across pages: each once, none of another source.
    let r = run(cfg, secrets, &[name, "--json", "--limit", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, _) = lines(&r.stdout);
    let got: Vec<(String, i64, bool)> = leads
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                created(l),
                l["test"].as_bool().unwrap(),
            )
        })
        .collect();
    let mut sorted = got.clone();
    sorted.sort();
    let mut want = expect.clone();
    want.sort();
    assert_eq!(sorted, want);
    for l in &leads {
        let source = l["lead_source"].as_str().unwrap();
        if l["test"] == true {
            assert!(source.starts_with("MSFT_TEST_"), "{l}");
            assert_eq!(l["offer"], "Contoso Analytics", "{l}");
            assert!(l["email"].as_str().unwrap().ends_with("@test.com"), "{l}");
        } else {
            assert!(
                ["AzureMarketplace", "AppSource (SPZA)", "AzurePortal"].contains(&source),
                "{l}"
            );
            assert!(OFFERS.contains(&l["offer"].as_str().unwrap()), "{l}");
            assert!(!l["action_code"].as_str().unwrap().is_empty(), "{l}");
        }
    }

    // --since 3d: only the leads of the last three days.
    let r = run(
        cfg,
        secrets,
        &[name, "--json", "--limit", "0", "--since", "3d"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    let cutoff = now - 3 * 86_400;
    let want = expect.iter().filter(|e| e.1 >= cutoff).count();
    assert!(want > 0 && want < expect.len());
    assert_eq!(leads.len(), want);
    assert_eq!(sums[0]["summary"]["leads"], want as u64);
    assert!(leads.iter().all(|l| created(l) >= cutoff));

    // CSV, read back by a CSV parser.
    let r = run(cfg, secrets, &[name, "--format", "csv", "--limit", "0"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        leadcheck::leads::render::CSV_HEADER
    );
    let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), expect.len());
    assert_eq!(rows.iter().filter(|r| &r[10] == "true").count(), tests);
    let ids: BTreeSet<&str> = rows.iter().map(|r| &r[11]).collect();
    assert_eq!(ids.len(), expect.len());
    assert!(rows.iter().all(|r| &r[0] == name));

    // Counts per day over the last week.
    let r = run(cfg, secrets, &[name, "--json", "--count", "--since", "7d"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert!(leads.is_empty());
    let days = sums[0]["summary"]["days"].as_array().unwrap();
    let since = now - 7 * 86_400;
    let mut total = 0;
    for d in days {
        let name = d["day"].as_str().unwrap();
        let want = expect
            .iter()
            .filter(|e| e.1 >= since && day(e.1) == name)
            .count();
        assert_eq!(d["leads"], want as u64, "{name}");
        total += want;
    }
    assert_eq!(total, expect.iter().filter(|e| e.1 >= since).count());

    // Human: the 50 newest.
    let r = run(cfg, secrets, &[name]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("showing the 50 newest"), "{}", r.stdout);
    assert!(
        r.stdout.contains(&format!("{} leads", expect.len())),
        "{}",
        r.stdout
    );
}

#[test]
fn salesforce_leads_are_read_back_through_soql() {
    let now = now();
    let org = Arc::new(sf::Salesforce::new(sf::Faults::default()));
    let expect = salesforce_fixture(&org, now);
    let srv = served(org.clone());
    let env = write_config(&salesforce_entry("crm", srv.addr, Some("LC_SF_TOKEN")));
    lists_as_expected(&env.cfg, "crm", &expect, now, &[]);

    // -v states the SOQL and shows the requests, never the token (checked in `run`).
    let r = run(
        &env.cfg,
        &[],
        &["crm", "-v", "--limit", "1", "--since", "2d"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "SELECT Id, CreatedDate, LeadSource, FirstName, LastName, Company, Email, Country FROM Lead WHERE (LeadSource LIKE 'AzureMarketplace-%'"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("AND CreatedDate >= "), "{}", r.stderr);
    assert!(
        r.stderr.contains("ORDER BY CreatedDate DESC"),
        "{}",
        r.stderr
    );
    // More than one batch: the second through nextRecordsUrl.
    let r = run(&env.cfg, &[], &["crm", "-v", "--limit", "1"]);
    assert!(
        r.stderr.contains("/services/data/v60.0/query/01g"),
        "{}",
        r.stderr
    );
}

#[test]
fn marketo_leads_are_the_fills_of_the_marketplace_form() {
    let now = now();
    let inst = Arc::new(mk::Marketo::new(mk::Faults::default()));
    let expect = marketo_fixture(&inst, now);
    let srv = served(inst.clone());
    let env = write_config(&marketo_entry("mkto", srv.addr, "LC_MK_SECRET"));
    // Access tokens are handed out as the runs go; check the ones so far after each.
    lists_as_expected(&env.cfg, "mkto", &expect, now, &[]);
    let tokens = inst.tokens();
    assert!(!tokens.is_empty());
    let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();

    let r = run(
        &env.cfg,
        &tokens,
        &["mkto", "-v", "--limit", "1", "--since", "2026-01-01"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "/rest/v1/activities/pagingtoken.json?sinceDatetime=2026-01-01T00:00:00Z",
        "/rest/v1/activities.json?activityTypeIds=2",
        "kept when on form 1179",
        "/rest/v1/leads.json?filterType=id",
    ] {
        assert!(r.stderr.contains(want), "{want}: {}", r.stderr);
    }
    // Every token of every run so far, in no output.
    let all = inst.tokens();
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let r = run(&env.cfg, &all, &["mkto", "-v", "--count"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn refused_reads_are_skips_and_a_stale_session_is_a_failure() {
    let healthy = Arc::new(sf::Salesforce::new(sf::Faults::default()));
    let now = now();
    healthy.add_lead(
        &[
            ("LeadSource", "AzureMarketplace-INS|contoso.analytics"),
            ("LastName", "Silva"),
            ("Email", "ana@contoso.com"),
        ],
        now - 3600,
    );
    let ok = served(healthy);
    let deny = served(Arc::new(sf::Salesforce::new(sf::Faults {
        deny_read: true,
        ..sf::Faults::default()
    })));
    let mk_deny = served(Arc::new(mk::Marketo::new(mk::Faults {
        deny_read: true,
        ..mk::Faults::default()
    })));
    let mk_ok = served(Arc::new(mk::Marketo::new(mk::Faults::default())));
    let mut text = salesforce_entry("crm", ok.addr, Some("LC_SF_TOKEN"));
    text.push_str(&salesforce_entry(
        "norights",
        deny.addr,
        Some("LC_SF_TOKEN"),
    ));
    text.push_str(&salesforce_entry("webonly", ok.addr, None));
    text.push_str(&salesforce_entry("stale", ok.addr, Some("LC_SF_STALE")));
    text.push_str(&marketo_entry("mkdeny", mk_deny.addr, "LC_MK_SECRET"));
    text.push_str(&marketo_entry("mkwrong", mk_ok.addr, "LC_MK_WRONG"));
    text.push_str(&marketo_entry("mkempty", mk_ok.addr, "LC_MK_SECRET"));
    let env = write_config(&text);
    let cfg = &env.cfg;

    // Salesforce without Read on Lead: a skip with the right to grant; alone, exit 1.
    let r = run(cfg, &[], &["norights"]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("skipped:"), "{}", r.stdout);
    assert!(r.stdout.contains("INVALID_TYPE"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("grant the API user API Enabled and Read on Lead"),
        "{}",
        r.stdout
    );
    // With a destination that was read: exit 0, the skip in the summaries.
    let r = run(cfg, &[], &["crm", "norights", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["email"], "ana@contoso.com");
    assert_eq!(sums[0]["summary"]["status"], "read");
    assert_eq!(sums[1]["summary"]["status"], "skipped");
    assert!(sums[1]["summary"]["reason"]
        .as_str()
        .unwrap()
        .contains("Read on Lead"));

    // Web-to-lead only: nothing to read with; a skip that says what to add.
    let r = run(cfg, &[], &["webonly", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let (_, sums) = lines(&r.stdout);
    assert_eq!(sums[0]["summary"]["status"], "skipped");
    assert_eq!(
        sums[0]["summary"]["reason"],
        "web-to-lead cannot be read back; add api_instance_url and api_access_token to read leads"
    );
    let r = run(cfg, &[], &["webonly", "crm"]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // An expired session: not a skip, a failure that says what to do.
    let r = run(cfg, &[], &["stale", "crm"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("could not read:"), "{}", r.stdout);
    assert!(r.stdout.contains("INVALID_SESSION_ID"), "{}", r.stdout);
    assert!(r.stdout.contains("get a new access token"), "{}", r.stdout);

    // Marketo whose API user may not read: a skip naming the permissions.
    let r = run(cfg, &[], &["mkdeny", "--json"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let (_, sums) = lines(&r.stdout);
    assert_eq!(sums[0]["summary"]["status"], "skipped");
    let reason = sums[0]["summary"]["reason"].as_str().unwrap();
    assert!(reason.contains("603 Access denied"), "{reason}");
    assert!(reason.contains("Read-Only Lead"), "{reason}");
    let r = run(cfg, &[], &["mkdeny", "crm"]);
    assert_eq!(r.code, 0, "{}", r.stdout);

    // Marketo with a wrong client secret: a failure, the secret nowhere (checked in `run`).
    let r = run(cfg, &[], &["mkwrong", "-v"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("could not read:"), "{}", r.stdout);
    assert!(r.stdout.contains("invalid_client"), "{}", r.stdout);

    // A form nobody filled out yet: read, zero leads, exit 0.
    let r = run(cfg, &[], &["mkempty", "--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert!(leads.is_empty());
    assert_eq!(sums[0]["summary"]["leads"], 0);
}

#[test]
fn what_diagnose_sends_is_what_leads_lists() {
    // The test lead diagnose sends through web-to-lead and Submit Form comes back from
    // `leads` as a test lead of its offer, with its marker.
    let org = Arc::new(sf::Salesforce::new(sf::Faults::default()));
    let inst = Arc::new(mk::Marketo::new(mk::Faults::default()));
    let (a, b) = (served(org), served(inst));
    let mut text = salesforce_entry("crm", a.addr, Some("LC_SF_TOKEN"));
    text.push_str(&marketo_entry("mkto", b.addr, "LC_MK_SECRET"));
    let env = write_config(&text);
    let ticks = "638000000000000000";
    let out = leadcheck()
        .args(["diagnose", "--ticks", ticks, "-c"])
        .arg(&env.cfg)
        .env("LC_SF_TOKEN", sf::TOKEN)
        .env("LC_MK_SECRET", mk::CLIENT_SECRET)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let r = run(&env.cfg, &[], &["--json"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let (leads, sums) = lines(&r.stdout);
    assert_eq!(sums.len(), 2);
    for name in ["crm", "mkto"] {
        let l: Vec<&Value> = leads.iter().filter(|l| l["destination"] == name).collect();
        assert_eq!(l.len(), 1, "{name}: {}", r.stdout);
        let marker = format!("MSFT_TEST_{ticks}");
        assert_eq!(l[0]["test"], true);
        assert_eq!(l[0]["lead_source"], marker.as_str());
        assert_eq!(l[0]["action_code"], marker.as_str());
        assert_eq!(l[0]["email"], format!("{marker}@test.com"));
        assert_eq!(l[0]["offer"], leadcheck::config::model::DEFAULT_OFFER_TITLE);
    }
}

/// `--watch` on Marketo: a lead that fills out the marketplace form again is a new lead
/// (one row a form fill), announced once, with one access token for every poll.
#[test]
fn marketo_watch_announces_a_second_fill_of_the_same_lead() {
    use crate::leads_support::{wait_for, Watching};
    let now = now();
    let inst = Arc::new(mk::Marketo::new(mk::Faults::default()));
    let ana = inst.add_lead(
        &[
            ("firstName", "Ana"),
            ("lastName", "Silva"),
            ("email", "ana@contoso.pt"),
            ("leadSource", "AzureMarketplace-INS|contoso.analytics"),
        ],
        now - 86_400,
    );
    inst.add_fill(ana, mk::FORM_ID, now - 60);
    let srv = served(inst.clone());
    let env = write_config(&marketo_entry("mkto", srv.addr, "LC_MK_SECRET"));
    let w = Watching::start(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("leadcheck"))
            .args([
                "leads",
                "mkto",
                "--watch",
                "--interval",
                "1",
                "--json",
                "-v",
            ])
            .arg("-c")
            .arg(&env.cfg)
            .env("LC_MK_SECRET", mk::CLIENT_SECRET)
            .env("NO_COLOR", "1"),
    );
    // `-v` states the query at the start of each poll: two of them, one poll done.
    let polls = || w.stderr().matches("mkto: GET ").count();
    wait_for("the first poll", Duration::from_secs(60), || polls() >= 2);
    // Ana fills out the form again (another offer), and a new customer for the first time.
    inst.add_fill(ana, mk::FORM_ID, now);
    let wei = inst.add_lead(
        &[
            ("firstName", "伟"),
            ("lastName", "王"),
            ("email", "wei@fabrikam.cn"),
            ("leadSource", "AppSource (SPZA)-PLT|fabrikam.crm"),
        ],
        now,
    );
    inst.add_fill(wei, mk::FORM_ID, now + 1);
    wait_for("both fills", Duration::from_secs(60), || {
        w.stdout().contains("wei@fabrikam.cn")
    });
    let seen = polls();
    wait_for("three more polls", Duration::from_secs(60), || {
        polls() >= seen + 3
    });
    let (code, out, err) = w.interrupt();
    assert_eq!(code, Some(130), "{out}\n{err}");
    let (leads, _) = lines(&out);
    let got: Vec<(&str, i64)> = leads
        .iter()
        .map(|l| (l["email"].as_str().unwrap(), created(l)))
        .collect();
    assert_eq!(
        got,
        [("ana@contoso.pt", now), ("wei@fabrikam.cn", now + 1)],
        "{out}\n{err}"
    );
    assert_eq!(
        inst.token_queries().len(),
        1,
        "one token for every poll\n{err}"
    );
    for s in inst
        .tokens()
        .iter()
        .map(String::as_str)
        .chain([mk::CLIENT_SECRET])
    {
        assert!(!out.contains(s) && !err.contains(s), "{err}");
    }
}
