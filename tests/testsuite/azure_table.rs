//! The Azure Table destination against Azurite (the real table service emulator) and, for
//! answers Azurite cannot produce (clock skew, permission refusals), loopback fakes with the
//! documented error bodies (protocols.md §5).
//!
//! Azurite: `$LEADCHECK_AZURITE` (path of `azurite-table`; `scripts/test` installs it and
//! sets it), else `.tools/` of this checkout. In CI (`CI=true`) a missing Azurite FAILS the
//! test; locally it is skipped with a loud message.

use crate::fakes::*;
use base64::Engine;
use hmac::{Hmac, Mac};
use leadcheck::report::Status;
use sha2::Sha256;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const LOCAL_AZURITE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/.tools/node_modules/.bin/azurite-table"
);

pub(crate) struct Azurite {
    child: Child,
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Azurite {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Azurite {
    /// Starts Azurite on a free port; `None` (after a loud message) when it is not
    /// installed and this is not CI.
    pub(crate) fn start() -> Option<Azurite> {
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let bin = match std::env::var("LEADCHECK_AZURITE") {
            Ok(p) if !p.is_empty() => p,
            _ if ci => panic!("CI=true but LEADCHECK_AZURITE is not set: the Azure Table tests need Azurite (npm azurite@3.37.0)"),
            _ if std::path::Path::new(LOCAL_AZURITE).exists() => LOCAL_AZURITE.to_string(),
            _ => {
                eprintln!("\n!!!!!! SKIPPED: Azurite not found; set LEADCHECK_AZURITE to azurite-table to run the Azure Table tests !!!!!!\n");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new(&bin)
            .args([
                "--inMemoryPersistence",
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                &port.to_string(),
            ])
            .args(["--skipApiVersionCheck", "--silent", "--disableTelemetry"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start Azurite ({bin}): {e}"));
        let az = Azurite {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Azurite did not listen within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(az)
    }

    pub(crate) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/devstoreaccount1", self.port)
    }

    pub(crate) fn connection_string(&self, key: &str) -> String {
        format!("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={key};TableEndpoint={};", self.endpoint())
    }

    /// An independent client: a SharedKey-signed GET written here, not leadcheck's signer.
    fn get(&self, path: &str) -> (u16, String) {
        let date = httpdate::fmt_http_date(std::time::SystemTime::now());
        let resource = format!(
            "/devstoreaccount1/devstoreaccount1/{}",
            path.split('?').next().unwrap()
        );
        let string_to_sign = format!("GET\n\n\n{date}\n{resource}");
        let mut mac = Hmac::<Sha256>::new_from_slice(
            &base64::engine::general_purpose::STANDARD
                .decode(DEV_KEY)
                .unwrap(),
        )
        .unwrap();
        mac.update(string_to_sign.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let request = format!(
            "GET /devstoreaccount1/{path} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nx-ms-date: {date}\r\nx-ms-version: 2019-02-02\r\nAccept: application/json;odata=nometadata\r\nAuthorization: SharedKey devstoreaccount1:{sig}\r\nConnection: close\r\n\r\n",
            self.port
        );
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }
}

fn entity_path(ticks: u64) -> String {
    let lead = leadcheck::lead::Lead::new(Some(ticks), None);
    let e = lead.table_entity();
    format!(
        "MarketplaceLeads(PartitionKey='{}',RowKey='{}')",
        e["PartitionKey"].as_str().unwrap(),
        e["RowKey"].as_str().unwrap()
    )
}

#[test]
fn azurite_insert_verify_cleanup_and_wrong_key() {
    let Some(az) = Azurite::start() else { return };

    // A fresh emulator: the table is created, the lead inserted and read back.
    let mut o = options(&[]);
    o.ticks = Some(638_000_000_000_000_001);
    let r = one(
        table_dest("leads", &az.connection_string(DEV_KEY), None),
        &o,
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(
        steps(&r),
        [
            "lint:pass",
            "connection:pass",
            "dns:pass",
            "connect:pass",
            "auth:pass",
            "table:pass",
            "send:pass",
            "verify:pass"
        ]
    );
    assert!(
        r.checks
            .iter()
            .any(|c| c.id == "table" && c.detail.contains("created")),
        "{r:#?}"
    );
    assert_eq!(r.test_lead.verified, Some(true));
    assert!(r
        .test_lead
        .id
        .as_deref()
        .unwrap()
        .contains("MSFT_TEST_638000000000000001"));
    // Read back by an independent client.
    let (status, body) = az.get(&entity_path(638_000_000_000_000_001));
    assert_eq!(status, 200, "{body}");
    let entity: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(entity["LeadSource"], "AzureMarketplace");
    assert!(entity["CustomerInfo"]
        .as_str()
        .unwrap()
        .contains("MSFT_TEST_638000000000000001@test.com"));
    // The key never shows in the report.
    let json = serde_json::to_string(&r).unwrap();
    assert!(
        !json.contains(DEV_KEY) && !json.contains("Eby8vdM02x"),
        "{json}"
    );

    // The table exists now; --cleanup deletes exactly the created entity.
    o.ticks = Some(638_000_000_000_000_002);
    o.cleanup = true;
    let r = one(
        table_dest("leads", &az.connection_string(DEV_KEY), None),
        &o,
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(r
        .checks
        .iter()
        .any(|c| c.id == "table" && c.detail.contains("exists")));
    assert_eq!(steps(&r).last().unwrap(), "cleanup:pass");
    assert_eq!(r.test_lead.cleaned_up, Some(true));
    assert_eq!(
        az.get(&entity_path(638_000_000_000_000_002)).0,
        404,
        "cleanup removed the entity"
    );
    assert_eq!(
        az.get(&entity_path(638_000_000_000_000_001)).0,
        200,
        "and only that one"
    );

    // Dry run: everything but the write.
    o.ticks = Some(638_000_000_000_000_003);
    o.cleanup = false;
    o.dry_run = true;
    let r = one(
        table_dest("leads", &az.connection_string(DEV_KEY), None),
        &o,
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(steps(&r).contains(&"send:skip".to_string()));
    assert_eq!(az.get(&entity_path(638_000_000_000_000_003)).0, 404);

    // A wrong key (valid base64, not the account's) is LC315 before any write.
    let wrong = base64::engine::general_purpose::STANDARD.encode([7u8; 64]);
    let mut o = options(&[]);
    o.ticks = Some(638_000_000_000_000_004);
    let r = one(table_dest("leads", &az.connection_string(&wrong), None), &o);
    assert_eq!(codes(&r), ["LC315"], "{r:#?}");
    assert_eq!(steps(&r).last().unwrap(), "auth:fail");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(&wrong), "{json}");

    // A table name the service refuses is the naming-rules code, whichever step finds it.
    let r = one(
        table_dest("leads", &az.connection_string(DEV_KEY), Some("1bad")),
        &o,
    );
    assert_eq!(codes(&r), ["LC110"], "{r:#?}");
}

#[test]
fn an_account_that_does_not_resolve_is_lc202() {
    let cs = format!("DefaultEndpointsProtocol=https;AccountName=nosuchaccount42;AccountKey={DEV_KEY};EndpointSuffix=core.windows.net");
    let r = one(table_dest("t", &cs, None), &options(&[]));
    assert_eq!(codes(&r), ["LC202"]);
    assert!(r.findings[0]
        .evidence
        .contains("nosuchaccount42.table.core.windows.net"));
}

/// A fake table service that answers the first request (the auth probe) with `reply`.
fn fake_refusal(reply: Reply) -> (Vec<String>, String) {
    let fake = Fake::always(reply);
    let cs = format!(
        "AccountName=acct;AccountKey={DEV_KEY};TableEndpoint={}",
        fake.url("/acct")
    );
    let r = one(table_dest("t", &cs, None), &options(&[]));
    assert_eq!(r.status, Status::Fail);
    let req = fake.last().unwrap();
    assert!(req
        .header("authorization")
        .unwrap()
        .starts_with("SharedKey acct:"));
    assert_eq!(req.header("x-ms-version"), Some("2019-02-02"));
    (codes(&r), r.findings[0].evidence.clone())
}

const AUTH_FAILED: &str = r#"{"odata.error":{"code":"AuthenticationFailed","message":{"lang":"en-US","value":"Server failed to authenticate the request. Make sure the value of the Authorization header is formed correctly including the signature.\nRequestId:0f1e\nTime:2024-01-01T00:00:00.0000000Z"}}}"#;

#[test]
fn clock_skew_is_lc316() {
    let an_hour_ago =
        httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(3600));
    let (codes, ev) = fake_refusal(
        Reply::json(403, AUTH_FAILED)
            .header("x-ms-error-code", "AuthenticationFailed")
            .header("date", &an_hour_ago),
    );
    assert_eq!(codes, ["LC316"]);
    assert!(ev.contains("clock"), "{ev}");
}

#[test]
fn authentication_failed_is_lc315_and_permission_is_lc409() {
    let (codes, ev) = fake_refusal(
        Reply::json(403, AUTH_FAILED).header("x-ms-error-code", "AuthenticationFailed"),
    );
    assert_eq!(codes, ["LC315"]);
    assert!(
        ev.contains("AuthenticationFailed") && !ev.contains("RequestId"),
        "{ev}"
    );
    let body = r#"{"odata.error":{"code":"AccountIsDisabled","message":{"lang":"en-US","value":"The specified account is disabled."}}}"#;
    assert_eq!(fake_refusal(Reply::json(403, body)).0, ["LC409"]);
    let body = r#"{"odata.error":{"code":"AuthorizationPermissionMismatch","message":{"lang":"en-US","value":"This request is not authorized to perform this operation using this permission."}}}"#;
    assert_eq!(fake_refusal(Reply::json(403, body)).0, ["LC409"]);
}

fn odata_error(code: &str, message: &str) -> String {
    serde_json::json!({"odata.error":{"code":code,"message":{"lang":"en-US","value":format!("{message}\nRequestId:1\nTime:2024-01-01T00:00:00Z")}}}).to_string()
}

/// A scripted table service: answers by method and path prefix.
fn scripted(create: Reply, insert: Reply, read: Reply) -> (Vec<String>, Vec<String>) {
    let fake = Fake::http(move |req| {
        let path = req.target.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("GET", p) if p.starts_with("/acct/Tables(") => Reply::json(
                404,
                &odata_error("ResourceNotFound", "The specified resource does not exist."),
            ),
            ("POST", "/acct/Tables") => create.clone(),
            ("POST", _) => insert.clone(),
            ("GET", _) => read.clone(),
            _ => Reply::new(500),
        }
    });
    let cs = format!(
        "AccountName=acct;AccountKey={DEV_KEY};TableEndpoint={}",
        fake.url("/acct")
    );
    let r = one(table_dest("t", &cs, None), &options(&[]));
    (steps(&r), codes(&r))
}

#[test]
fn table_that_cannot_be_created_is_lc506() {
    let (s, c) = scripted(
        Reply::json(
            409,
            &odata_error("TableBeingDeleted", "The specified table is being deleted."),
        ),
        Reply::new(204),
        Reply::new(200),
    );
    assert_eq!(c, ["LC506"]);
    assert_eq!(s.last().unwrap(), "table:fail");
}

#[test]
fn rejected_entity_is_lc507_and_missing_read_back_is_lc508() {
    let created = Reply::new(201);
    let (s, c) = scripted(
        created.clone(),
        Reply::json(
            400,
            &odata_error(
                "PropertyValueTooLarge",
                "The property value exceeds the maximum allowed size (64KB).",
            ),
        ),
        Reply::new(200),
    );
    assert_eq!(c, ["LC507"]);
    assert_eq!(s.last().unwrap(), "send:fail");
    let (s, c) = scripted(
        created,
        Reply::new(204),
        Reply::json(
            404,
            &odata_error("ResourceNotFound", "The specified resource does not exist."),
        ),
    );
    assert_eq!(c, ["LC508"]);
    assert_eq!(s.last().unwrap(), "verify:fail");
}

#[test]
fn cli_ctrl_c_after_the_insert_names_the_created_entity() {
    let fake = Fake::http(|req| {
        let path = req.target.split('?').next().unwrap_or("").to_string();
        match (req.method.as_str(), path.as_str()) {
            ("GET", p) if p.starts_with("/acct/Tables(") => Reply::new(200).body("{}"),
            ("POST", _) => Reply::new(204),
            // The read-back hangs: the user presses Ctrl-C.
            _ => Reply::new(200).delay(Duration::from_secs(60)),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(&cfg, "[destination.leads]\ntype = \"azure-table\"\nstorage_account_connection_string = { env = \"CS\" }\n").unwrap();
    let cs = format!(
        "AccountName=acct;AccountKey={DEV_KEY};TableEndpoint={}",
        fake.url("/acct")
    );
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("leadcheck"));
    for k in [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "LEADCHECK_CONFIG",
    ] {
        cmd.env_remove(k);
    }
    let child = cmd
        .args([
            "diagnose",
            "--json",
            "--ticks",
            "638000000000000009",
            "--config",
        ])
        .arg(&cfg)
        .env("CS", &cs)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while fake
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "GET")
        .count()
        < 2
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the read-back never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("MarketplaceLeads(PartitionKey='")
            && stderr.contains("RowKey='MSFT_TEST_638000000000000009')"),
        "{stderr}"
    );
    assert!(!stderr.contains(DEV_KEY));
}

#[test]
fn cli_the_account_key_never_shows_in_any_format() {
    let key =
        base64::engine::general_purpose::STANDARD.encode("CANARY-account-key-bytes-0123456789");
    // One destination succeeds (the key goes on the wire as a signature), one is refused
    // (the refusal's evidence is printed).
    let ok = Fake::http(|req| match req.method.as_str() {
        "POST" => Reply::new(204),
        _ if req.target.contains("Tables(") => Reply::new(200).body("{}"),
        _ => Reply::json(200, r#"{"RowKey":"MSFT_TEST_638000000000000010"}"#),
    });
    let refused = Fake::always(
        Reply::json(403, AUTH_FAILED).header("x-ms-error-code", "AuthenticationFailed"),
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("leadcheck.toml");
    std::fs::write(
        &cfg,
        "[destination.ok]\ntype = \"azure-table\"\nstorage_account_connection_string = { env = \"CS_OK\" }\n\n\
         [destination.refused]\ntype = \"azure-table\"\nstorage_account_connection_string = { env = \"CS_BAD\" }\n",
    )
    .unwrap();
    for format in ["human", "json", "junit", "github"] {
        let out = crate::support::leadcheck()
            .args([
                "-v",
                "diagnose",
                "--ticks",
                "638000000000000010",
                "--cleanup",
                "--format",
                format,
                "--config",
            ])
            .arg(&cfg)
            .env(
                "CS_OK",
                format!(
                    "AccountName=acct;AccountKey={key};TableEndpoint={}",
                    ok.url("/acct")
                ),
            )
            .env(
                "CS_BAD",
                format!(
                    "AccountName=acct;AccountKey={key};TableEndpoint={}",
                    refused.url("/acct")
                ),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{format}");
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(all.contains("LC315"), "{format}: {all}");
        assert!(
            !all.contains(&key) && !all.contains("CANARY") && !all.contains("SharedKey acct:"),
            "{format}: {all}"
        );
    }
    let sent = ok
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(sent, 4, "one insert per format");
}

/// `leads` reads the marketplace's table page by page: 2,050 lead entities of leadcheck's
/// own shape, inserted into Azurite, come back whole through at least two continuations, each once,
/// test leads marked; a period that starts tomorrow holds none; a missing table is told
/// apart from a failure.
#[test]
fn leads_are_read_through_every_continuation() {
    use leadcheck::destination::azure_table::{account_from, signed_request};
    use leadcheck::leads::table::{read_page, ReadError, PAGE};
    use leadcheck::net::{Net, NetOptions};
    use leadcheck::secret::Secret;
    use reqwest::Method;

    let Some(az) = Azurite::start() else { return };
    let account = account_from(&Secret::new(az.connection_string(DEV_KEY))).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        let net = Net::new(NetOptions::new(Duration::from_secs(20), deadline)).unwrap();
        let url = |rest: &str| url::Url::parse(&format!("{}/{rest}", az.endpoint())).unwrap();
        let send = |method: Method, rest: &str, body: serde_json::Value| {
            let req = signed_request(
                &net,
                &account,
                method,
                url(rest),
                Some(body.to_string().into_bytes()),
            )
            .unwrap();
            let net = net.clone();
            async move { net.send(req).await.unwrap().status.as_u16() }
        };
        // No table yet.
        assert_eq!(
            read_page(&net, &account, "MarketplaceLeads", None, None)
                .await
                .unwrap_err(),
            ReadError::NoTable
        );
        // 204: the request asks for no content back.
        assert_eq!(
            send(
                Method::POST,
                "Tables",
                serde_json::json!({"TableName": "MarketplaceLeads"})
            )
            .await,
            204
        );
        // Over two pages of the service's maximum: two continuations at least.
        const N: u64 = 2_050;
        for k in 0..N {
            let lead = leadcheck::lead::Lead::new(
                Some(636_573_304_831_318_844 + k * 10_000_000),
                Some("Contoso"),
            );
            let mut e = lead.table_entity();
            // Every other lead a customer's, not a test lead.
            if k % 2 == 1 {
                e["RowKey"] = format!("lead-{k}").into();
                e["CustomerInfo"] =
                    serde_json::json!({"FirstName": "Ana", "Email": format!("ana{k}@contoso.com")})
                        .to_string()
                        .into();
            }
            assert_eq!(
                send(Method::POST, "MarketplaceLeads", e).await,
                204,
                "insert {k}"
            );
        }
        let mut seen = std::collections::HashSet::new();
        let (mut pages, mut tests) = (0, 0);
        let mut after = None;
        loop {
            let page = read_page(&net, &account, "MarketplaceLeads", Some(0), after.as_ref())
                .await
                .unwrap();
            pages += 1;
            assert!(page.leads.len() <= PAGE as usize);
            for l in &page.leads {
                assert!(seen.insert(l.id.clone()), "{} twice", l.id);
                tests += l.test as usize;
                assert_eq!(l.offer, "Contoso");
            }
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), N as usize);
        assert_eq!(tests, N as usize / 2);
        assert!(pages >= 3, "{pages} pages");
        // A period that starts tomorrow (by the service's Timestamp) holds no lead.
        let tomorrow = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
            + 86_400;
        let page = read_page(&net, &account, "MarketplaceLeads", Some(tomorrow), None)
            .await
            .unwrap();
        assert!(page.leads.is_empty() && page.next.is_none());
    });
}

/// A key or SAS that may not read is a refusal with the right to grant, told apart from a
/// missing table and from any other answer, whether the code comes in the header or only
/// in the OData body.
#[test]
fn leads_refused_read_missing_table_and_failure() {
    use leadcheck::destination::azure_table::account_from;
    use leadcheck::leads::table::{read_page, ReadError};
    use leadcheck::net::{Net, NetOptions};
    use leadcheck::secret::Secret;

    let read = |reply: Reply| {
        let fake = Fake::always(reply);
        let cs = format!(
            "AccountName=acct;AccountKey={DEV_KEY};TableEndpoint={}",
            fake.url("/acct")
        );
        let account = account_from(&Secret::new(cs)).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt.block_on(async {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            let net = Net::new(NetOptions::new(Duration::from_secs(10), deadline)).unwrap();
            read_page(&net, &account, "MarketplaceLeads", None, None)
                .await
                .unwrap_err()
        });
        let req = fake.last().unwrap();
        assert!(req
            .header("authorization")
            .unwrap()
            .starts_with("SharedKey acct:"));
        err
    };
    let refused = odata_error(
        "AuthorizationPermissionMismatch",
        "This request is not authorized to perform this operation using this permission.",
    );
    for reply in [
        Reply::json(403, &refused).header("x-ms-error-code", "AuthorizationPermissionMismatch"),
        Reply::json(403, &refused),
    ] {
        match read(reply) {
            ReadError::Refused(why) => {
                assert!(why.contains("read (r) permission"), "{why}");
                assert!(!why.contains(DEV_KEY), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }
    let missing = odata_error("TableNotFound", "The table specified does not exist.");
    assert_eq!(read(Reply::json(404, &missing)), ReadError::NoTable);
    match read(Reply::json(
        500,
        &odata_error("InternalError", "The server encountered an internal error."),
    )) {
        ReadError::Failed(why) => assert!(why.contains("500 InternalError"), "{why}"),
        other => panic!("{other:?}"),
    }
}
