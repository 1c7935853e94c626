//! The sandbox: its emulators speak the documented protocols (checked on the wire), its
//! command prints a config leadcheck reads, refuses unknown scenarios, and stops on Ctrl-C.

use crate::support::leadcheck;
use leadcheck::sandbox::{Sandbox, SandboxHandle};
use predicates::prelude::*;
use serde_json::Value;
use std::time::{Duration, Instant};

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// (status, headers, body) of one request.
fn call(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, String) {
    rt().block_on(async {
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = client
            .request(method.parse().unwrap(), url)
            .timeout(Duration::from_secs(10));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.text().await.unwrap())
    })
}

fn field<'a>(sb: &'a SandboxHandle, entry: &str, key: &str) -> &'a str {
    sb.entry(entry)
        .and_then(|e| e.get(key))
        .unwrap_or_else(|| panic!("{entry}.{key}"))
}

fn token_form(sb: &SandboxHandle, entry: &str, secret: &str) -> String {
    let scope = format!("{}/.default", field(sb, entry, "instance_url"));
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "client_credentials"),
            ("client_id", field(sb, entry, "application_id")),
            ("client_secret", secret),
            ("scope", &scope),
        ])
        .finish()
}

/// Checks the shape every Entra ID error has.
fn assert_aadsts(body: &str, error: &str, code: u64) -> Value {
    let j: Value = serde_json::from_str(body).unwrap();
    assert_eq!(j["error"], error, "{body}");
    assert_eq!(j["error_codes"][0], code, "{body}");
    let d = j["error_description"].as_str().unwrap();
    assert!(d.starts_with(&format!("AADSTS{code}: ")), "{d}");
    assert!(
        d.contains("\r\nTrace ID: ")
            && d.contains("\r\nCorrelation ID: ")
            && d.contains("\r\nTimestamp: "),
        "{d}"
    );
    for k in ["timestamp", "trace_id", "correlation_id", "error_uri"] {
        assert!(j[k].is_string(), "{k} in {body}");
    }
    assert!(j["error_uri"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/error?code={code}")));
    j
}

#[test]
fn entra_discovery_known_unknown_and_malformed_tenants() {
    let sb = Sandbox::start(&["LC302", "LC304"]).unwrap();
    let authority = field(&sb, "dynamics", "authority_host");
    let tid = field(&sb, "dynamics", "directory_id");
    let (s, _, body) = call(
        "GET",
        &format!("{authority}/{tid}/v2.0/.well-known/openid-configuration"),
        &[],
        None,
    );
    assert_eq!(s, 200);
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["issuer"], format!("{authority}/{tid}/v2.0"));
    assert_eq!(
        j["token_endpoint"],
        format!("{authority}/{tid}/oauth2/v2.0/token")
    );
    assert_eq!(j["tenant_region_scope"], "WW");
    // A domain resolves to the GUID through the issuer.
    let (s, _, body) = call(
        "GET",
        &format!(
            "{authority}/contoso-sandbox.onmicrosoft.com/v2.0/.well-known/openid-configuration"
        ),
        &[],
        None,
    );
    assert_eq!(s, 200);
    assert!(body.contains(&format!("/{tid}/v2.0\"")), "{body}");
    let unknown = field(&sb, "dynamics-lc302", "directory_id");
    let (s, _, body) = call(
        "GET",
        &format!("{authority}/{unknown}/v2.0/.well-known/openid-configuration"),
        &[],
        None,
    );
    assert_eq!(s, 400);
    let j = assert_aadsts(&body, "invalid_tenant", 90002);
    assert!(j["error_description"]
        .as_str()
        .unwrap()
        .contains(&format!("Tenant '{unknown}' not found.")));
    let malformed = field(&sb, "dynamics-lc304", "directory_id");
    let (s, _, body) = call(
        "GET",
        &format!("{authority}/{malformed}/v2.0/.well-known/openid-configuration"),
        &[],
        None,
    );
    assert_eq!(s, 400);
    assert_aadsts(&body, "invalid_tenant", 900023);
}

#[test]
fn entra_token_errors_have_the_documented_statuses_and_codes() {
    let sb = Sandbox::start(&["LC303", "LC305", "LC306"]).unwrap();
    let authority = field(&sb, "dynamics", "authority_host");
    let tid = field(&sb, "dynamics", "directory_id");
    let url = format!("{authority}/{tid}/oauth2/v2.0/token");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    // Healthy: a v2 token answer.
    let (s, _, body) = call(
        "POST",
        &url,
        &form,
        Some(&token_form(
            &sb,
            "dynamics",
            field(&sb, "dynamics", "application_key"),
        )),
    );
    assert_eq!(s, 200, "{body}");
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["token_type"], "Bearer");
    assert_eq!(j["expires_in"], 3599);
    // Wrong secret: invalid_client is 401.
    let (s, _, body) = call(
        "POST",
        &url,
        &form,
        Some(&token_form(
            &sb,
            "dynamics-lc305",
            field(&sb, "dynamics-lc305", "application_key"),
        )),
    );
    assert_eq!(s, 401);
    assert_aadsts(&body, "invalid_client", 7000215);
    // Expired secret.
    let (s, _, body) = call(
        "POST",
        &url,
        &form,
        Some(&token_form(
            &sb,
            "dynamics-lc306",
            field(&sb, "dynamics-lc306", "application_key"),
        )),
    );
    assert_eq!(s, 401);
    assert_aadsts(&body, "invalid_client", 7000222);
    // Unknown application: unauthorized_client, 400.
    let (s, _, body) = call(
        "POST",
        &url,
        &form,
        Some(&token_form(&sb, "dynamics-lc303", "x")),
    );
    assert_eq!(s, 400);
    let j = assert_aadsts(&body, "unauthorized_client", 700016);
    assert!(j["error_description"]
        .as_str()
        .unwrap()
        .contains("was not found in the directory 'Contoso Sandbox'"));
    // No secret at all.
    let (s, _, body) = call(
        "POST",
        &url,
        &form,
        Some(&format!(
            "grant_type=client_credentials&client_id={}&scope=x/.default",
            field(&sb, "dynamics", "application_id")
        )),
    );
    assert_eq!(s, 401);
    assert_aadsts(&body, "invalid_client", 7000218);
}

#[test]
fn dataverse_challenges_without_a_token_and_writes_with_one() {
    let sb = Sandbox::start(&["LC402"]).unwrap();
    let authority = field(&sb, "dynamics", "authority_host");
    let tid = field(&sb, "dynamics", "directory_id");
    let instance = field(&sb, "dynamics", "instance_url");
    let (s, h, body) = call(
        "GET",
        &format!("{instance}/api/data/v9.2/WhoAmI"),
        &[],
        None,
    );
    assert_eq!(s, 401);
    assert!(body.is_empty());
    assert_eq!(
        h["www-authenticate"].to_str().unwrap(),
        format!(
            "Bearer authorization_uri={authority}/{tid}/oauth2/authorize, resource_id={instance}/"
        )
    );
    let token_url = format!("{authority}/{tid}/oauth2/v2.0/token");
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let (_, _, body) = call(
        "POST",
        &token_url,
        &form,
        Some(&token_form(
            &sb,
            "dynamics",
            field(&sb, "dynamics", "application_key"),
        )),
    );
    let token: Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let auth = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (s, _, body) = call(
        "GET",
        &format!("{instance}/api/data/v9.2/WhoAmI"),
        &auth,
        None,
    );
    assert_eq!(s, 200);
    let who: Value = serde_json::from_str(&body).unwrap();
    assert!(who["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"));
    let lead =
        r#"{"subject":"MSFT_TEST_1-MSFT_TEST_1|x","lastname":"MSFT_TEST_1","leadsourcecode":8}"#;
    let (s, h, _) = call(
        "POST",
        &format!("{instance}/api/data/v9.2/leads"),
        &auth,
        Some(lead),
    );
    assert_eq!(s, 204);
    let entity = h["odata-entityid"].to_str().unwrap().to_string();
    assert!(
        entity.starts_with(&format!("{instance}/api/data/v9.2/leads(")),
        "{entity}"
    );
    // The token of the healthy instance is refused by another instance (another audience).
    let other = field(&sb, "dynamics-lc402", "instance_url");
    let (s, h, _) = call("GET", &format!("{other}/api/data/v9.2/WhoAmI"), &auth, None);
    assert_eq!(s, 401);
    assert!(h["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer error=invalid_token"));
    // The LC402 instance with its own token: the documented 403 body on the write.
    let form402 = token_form(
        &sb,
        "dynamics-lc402",
        field(&sb, "dynamics-lc402", "application_key"),
    );
    let (_, _, body) = call("POST", &token_url, &form, Some(&form402));
    let token: Value = serde_json::from_str(&body).unwrap();
    let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
    let auth = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/json"),
    ];
    let (s, _, body) = call(
        "POST",
        &format!("{other}/api/data/v9.2/leads"),
        &auth,
        Some(lead),
    );
    assert_eq!(s, 403);
    let j: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(j["error"]["code"], "0x80042f09");
    let m = j["error"]["message"].as_str().unwrap();
    assert!(m.starts_with("SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user. Returned hr = -2147209463, User: "), "{m}");
}

#[test]
fn power_automate_checks_the_signature_and_the_schema() {
    let sb = Sandbox::start(&["LC317", "LC505", "LC516"]).unwrap();
    let json = [("Content-Type", "application/json")];
    let lead = r#"{"UserDetails":{"FirstName":"MSFT_TEST_1","Phone":"1234567890"},"LeadSource":"AzureMarketplace","ActionCode":"INS","OfferTitle":"t","Description":"MSFT_TEST_1"}"#;
    let url = field(&sb, "https", "https_endpoint_url");
    assert!(url.contains("/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig="), "{url}");
    let (s, _, _) = call("POST", url, &json, Some(lead));
    assert_eq!(s, 202);
    let (s, _, body) = call(
        "POST",
        field(&sb, "https-lc317", "https_endpoint_url"),
        &json,
        Some(lead),
    );
    assert_eq!(
        (s, body.contains("\"code\":\"AuthorizationFailed\"")),
        (401, true),
        "{body}"
    );
    let unsigned = url.split("&sp=").next().unwrap();
    let (s, _, body) = call("POST", unsigned, &json, Some(lead));
    assert_eq!(s, 401);
    assert!(body.contains("Required parameters for shared access URL are permissions ('sp'), version ('sv'), and signature ('sig')."));
    let (s, _, body) = call(
        "POST",
        field(&sb, "https-lc505", "https_endpoint_url"),
        &json,
        Some(lead),
    );
    assert_eq!(s, 400);
    assert!(
        body.contains("TriggerInputSchemaMismatch")
            && body.contains("Expected Integer but got String"),
        "{body}"
    );
    let (s, _, _) = call(
        "POST",
        field(&sb, "https-lc516", "https_endpoint_url"),
        &json,
        Some(lead),
    );
    assert_eq!(s, 404);
}

#[test]
fn every_scenario_has_a_destination_that_expects_it() {
    let sb = Sandbox::start(&["all"]).unwrap();
    for (family, s) in Sandbox::scenarios() {
        let name = format!("{family}-{}", s.code.to_ascii_lowercase());
        let e = sb.entry(&name).unwrap_or_else(|| panic!("no {name}"));
        assert_eq!(e.expect, Some(s.code));
    }
    // The printed config parses, and names every destination.
    let text = sb.config_toml();
    let cfg = leadcheck::config::toml_file::parse(&text, "sandbox.toml", None)
        .unwrap_or_else(|e| panic!("{}", e.message));
    assert_eq!(cfg.destinations.len(), sb.entries().len());
}

#[test]
fn unknown_scenario_is_exit_2_with_the_list() {
    leadcheck()
        .args(["sandbox", "--scenario", "LC999"])
        .timeout(Duration::from_secs(15))
        .assert()
        .code(2)
        .stderr(
            predicates::str::contains("no scenario LC999").and(predicates::str::contains("LC402")),
        );
}

#[cfg(unix)]
#[test]
fn sandbox_writes_its_config_and_stops_on_ctrl_c_with_130() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadcheck.toml");
    let bin = assert_cmd::cargo::cargo_bin("leadcheck");
    let child = std::process::Command::new(bin)
        .args(["sandbox", "--scenario", "402", "--write-config"])
        .arg(&path)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !path.exists()
        || std::fs::read_to_string(&path)
            .map(|t| !t.contains("[destination."))
            .unwrap_or(true)
    {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "no config written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[destination.dynamics-lc402]"), "{text}");
    // The emulators answer while it runs.
    assert!(
        text.contains(
            "application_key = { file = \"leadcheck.secrets/dynamics.application_key\" }"
        ),
        "{text}"
    );
    let instance = text
        .lines()
        .find(|l| l.starts_with("instance_url"))
        .unwrap()
        .split('"')
        .nth(1)
        .unwrap()
        .to_string();
    let (s, _, _) = call(
        "GET",
        &format!("{instance}/api/data/v9.2/WhoAmI"),
        &[],
        None,
    );
    assert_eq!(s, 401);
    // The written config lints clean (secrets in files, so not even LC105) and diagnoses
    // through the binary: healthy passes, the scenario fails with its code.
    leadcheck()
        .args(["lint", "--config"])
        .arg(&path)
        .timeout(Duration::from_secs(15))
        .assert()
        .code(0);
    let out = leadcheck()
        .args(["diagnose", "--format", "json", "--cleanup", "--config"])
        .arg(&path)
        .args(["dynamics", "https"])
        .timeout(Duration::from_secs(30))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["status"], "pass", "{j}");
    assert_eq!(j["destinations"][0]["test_lead"]["cleaned_up"], true);
    let out = leadcheck()
        .args(["diagnose", "--config"])
        .arg(&path)
        .arg("dynamics-lc402")
        .timeout(Duration::from_secs(30))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(
        human.contains("LC402") && human.contains("run `leadcheck explain LC402`"),
        "{human}"
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        predicates::str::contains("until interrupted").eval(&err),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn demo_tours_the_sandbox_and_exits_zero() {
    let out = leadcheck()
        .arg("demo")
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let stdout = String::from_utf8_lossy(&out.stdout);
    for want in [
        "error[LC402]",
        "error[LC305]",
        "error[LC505]",
        "error[LC501]",
        "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user",
        "AADSTS7000215",
    ] {
        // Evidence wraps at the width: read it with its line breaks undone.
        let flat = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(want), "{want} missing from:\n{stdout}");
    }
    assert!(String::from_utf8_lossy(&out.stderr).contains("every destination ended as designed"));
    // One screen: each healthy destination is one line, and the whole report is short.
    for healthy in [
        "https",
        "dynamics",
        "dynamics-lead-writer",
        "dynamics-office-365",
        "salesforce",
        "marketo",
    ] {
        let prefix = format!("✓ {healthy} (");
        let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(lines.len(), 1, "{healthy}:\n{stdout}");
        assert!(lines[0].contains("test lead sent"), "{}", lines[0]);
    }
    // Passing steps are left out unless -v.
    assert!(!stdout.lines().any(|l| l.starts_with("  ✓ ")), "{stdout}");
    // The report fits one screen; the newest demo leads follow it (leads_sandbox.rs).
    let report = stdout.split("\nLeads: ").next().unwrap_or_default();
    assert!(report.lines().count() <= 90, "{stdout}");
    let out = leadcheck()
        .args(["demo", "--format", "json"])
        .timeout(Duration::from_secs(60))
        .assert()
        .code(0)
        .get_output()
        .clone();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["schema_version"], 1);
    let status = |name: &str| {
        j["destinations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("dynamics"), "pass");
    assert_eq!(status("https"), "pass");
    assert_eq!(status("dynamics-lc402"), "fail");
    assert_eq!(status("dynamics-lc305"), "fail");
    assert_eq!(status("salesforce"), "pass");
    assert_eq!(status("marketo"), "pass");
    assert_eq!(status("salesforce-lc501"), "fail");
}

#[test]
fn demo_never_shows_a_secret_in_any_format_or_with_v() {
    // The sandbox's made-up secrets are stable, so a sandbox started here has the demo's.
    let sb = Sandbox::start(leadcheck::sandbox::demo::SCENARIOS).unwrap();
    let mut canaries: Vec<String> = sb
        .entries()
        .iter()
        .flat_map(|e| e.fields.iter())
        .filter_map(|(_, v)| match v {
            leadcheck::sandbox::FieldValue::Secret(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    // A flow URL is a secret for its signature: the `sig` value is the canary.
    for c in canaries.clone() {
        if let Some((_, sig)) = c.split_once("sig=") {
            canaries.push(sig.to_string());
        }
    }
    assert!(canaries.len() >= 5, "{canaries:?}");
    for format in ["human", "json", "junit", "github"] {
        let out = leadcheck()
            .args(["demo", "-v", "--format", format])
            .timeout(Duration::from_secs(60))
            .assert()
            .code(0)
            .get_output()
            .clone();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            all.contains("POST"),
            "-v shows the requests ({format}): {all}"
        );
        for c in &canaries {
            assert!(
                !all.contains(c.as_str()),
                "{format} shows a secret {c}: {all}"
            );
        }
        assert!(!all.contains("eyJ0eXAi"), "{format} shows a token");
    }
}

#[test]
fn a_busy_port_is_exit_2_naming_it() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    leadcheck()
        .args(["sandbox", "--port", &port])
        .timeout(Duration::from_secs(15))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(format!(
            "cannot listen on 127.0.0.1:{port}"
        )));
}

#[test]
fn listeners_take_consecutive_ports_from_the_first() {
    // Find a free run of ports by letting the system pick, then asking for it again.
    let probe = Sandbox::start(&[]).unwrap();
    let n = probe.addrs().len();
    drop(probe);
    let first = (20_000u16..60_000)
        .step_by(97)
        .find(|p| {
            (0..n as u16 + 1).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok())
        })
        .unwrap();
    let sb = Sandbox::start_on(&[], Some(first)).unwrap();
    let ports: Vec<u16> = sb.addrs().iter().map(|a| a.port()).collect();
    assert_eq!(ports, (first..first + n as u16).collect::<Vec<_>>());
    assert_eq!(sb.addr().port(), first);
}
