//! The Dynamics 365 destination against the sandbox's Entra ID and Dataverse emulators,
//! in-process: one test per scenario, each asserting the code diagnose reports.

use leadcheck::config;
use leadcheck::destination::{self, Ctx, Run};
use leadcheck::lead::Lead;
use leadcheck::net::{Net, NetOptions, ProxySettings};
use leadcheck::report::{DestinationReport, Status};
use leadcheck::sandbox::{Sandbox, SandboxHandle};
use std::time::Duration;

pub const TICKS: u64 = 638_000_000_000_000_000;

/// Options of one in-process diagnosis.
#[derive(Clone, Copy)]
pub struct Opts {
    pub timeout: f64,
    pub cleanup: bool,
    pub dry_run: bool,
}

impl Default for Opts {
    fn default() -> Opts {
        Opts {
            timeout: 5.0,
            cleanup: false,
            dry_run: false,
        }
    }
}

/// Diagnoses one sandbox destination in-process, through the config reader.
pub fn diagnose(sb: &SandboxHandle, name: &str, opts: Opts) -> DestinationReport {
    let text = sb
        .render_toml(&leadcheck::sandbox::SecretStyle::Plain, Some(&[name]))
        .unwrap();
    let cfg = config::toml_file::parse(&text, "sandbox.toml", None)
        .unwrap_or_else(|e| panic!("{}: {text}", e.message));
    let dest = cfg
        .destinations
        .into_iter()
        .find(|d| d.name == name)
        .expect("destination in the config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut o = NetOptions::new(Duration::from_secs_f64(opts.timeout), deadline);
        o.proxy = ProxySettings::none();
        let net = Net::new(o).unwrap();
        let mut ctx = Ctx::new(net, Lead::new(Some(TICKS), None), name);
        ctx.cleanup = opts.cleanup;
        ctx.dry_run = opts.dry_run;
        let d = destination::for_config(&dest).expect("dynamics is diagnosable");
        let mut run = Run::new();
        d.diagnose(&ctx, &mut run).await;
        run.into_report(name, d.kind(), false)
    })
}

fn codes(r: &DestinationReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

fn check(r: &DestinationReport, id: &str) -> leadcheck::report::Status {
    r.checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no step {id} in {r:#?}"))
        .status
}

/// Starts a sandbox with `code`, diagnoses `dynamics-<code>`, asserts it failed with `code`.
fn expect_code(code: &str) -> DestinationReport {
    let sb = Sandbox::start(&[code]).unwrap();
    let name = format!("dynamics-{}", code.to_ascii_lowercase());
    let r = diagnose(&sb, &name, Opts::default());
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert!(codes(&r).contains(&code), "expected {code}: {r:#?}");
    assert!(r.checks.iter().any(|c| c.status == Status::Fail), "{r:#?}");
    r
}

#[test]
fn healthy_creates_verifies_and_cleans_up_only_its_lead() {
    let sb = Sandbox::start(&[]).unwrap();
    let r = diagnose(
        &sb,
        "dynamics",
        Opts {
            cleanup: true,
            ..Opts::default()
        },
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(r.findings.is_empty(), "{r:#?}");
    let id = r.test_lead.id.clone().expect("a lead id");
    assert!(r.test_lead.sent);
    assert_eq!(r.test_lead.verified, Some(true));
    assert_eq!(r.test_lead.cleaned_up, Some(true));
    for step in [
        "tenant",
        "challenge",
        "token",
        "whoami",
        "roles",
        "send",
        "verify",
        "cleanup",
    ] {
        assert_eq!(check(&r, step), Status::Pass, "{step}: {r:#?}");
    }
    let mut ids: Vec<&str> = r.checks.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "step ids are unique: {ids:?}");
    assert!(ids.contains(&"authority-connect"), "{ids:?}");
    let deletes: Vec<_> = sb
        .journal()
        .into_iter()
        .filter(|s| s.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
    assert_eq!(deletes[0].path, format!("/api/data/v9.2/leads({id})"));
    assert_eq!(deletes[0].status, Some(204));
}

#[test]
fn without_cleanup_nothing_is_deleted() {
    let sb = Sandbox::start(&[]).unwrap();
    let r = diagnose(&sb, "dynamics", Opts::default());
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(r.test_lead.cleaned_up, None);
    assert!(!sb.journal().iter().any(|s| s.method == "DELETE"));
}

#[test]
fn dry_run_writes_nothing() {
    let sb = Sandbox::start(&[]).unwrap();
    let r = diagnose(
        &sb,
        "dynamics",
        Opts {
            dry_run: true,
            cleanup: true,
            ..Opts::default()
        },
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert_eq!(check(&r, "send"), Status::Skip);
    assert!(!r.test_lead.sent);
    assert!(!sb
        .journal()
        .iter()
        .any(|s| s.method == "POST" && s.path.ends_with("/leads")));
}

#[test]
fn lead_writer_rights_alone_pass_with_skips() {
    let sb = Sandbox::start(&[]).unwrap();
    let r = diagnose(
        &sb,
        "dynamics-lead-writer",
        Opts {
            cleanup: true,
            ..Opts::default()
        },
    );
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    assert!(r.test_lead.sent);
    assert_eq!(check(&r, "roles"), Status::Skip);
    assert_eq!(check(&r, "verify"), Status::Skip);
    assert_eq!(check(&r, "cleanup"), Status::Skip);
    assert_eq!(r.test_lead.verified, None);
    assert_eq!(r.test_lead.cleaned_up, Some(false));
    let detail = &r.checks.iter().find(|c| c.id == "cleanup").unwrap().detail;
    assert!(
        detail.contains("prvDeleteLead") && detail.contains(r.test_lead.id.as_deref().unwrap()),
        "{detail}"
    );
}

#[test]
fn office_365_user_signs_in_with_the_password_grant() {
    let sb = Sandbox::start(&[]).unwrap();
    let r = diagnose(&sb, "dynamics-office-365", Opts::default());
    assert_eq!(r.status, Status::Pass, "{r:#?}");
    // The tenant comes from the user name's domain, resolved to its GUID.
    let tenant = &r.checks.iter().find(|c| c.id == "tenant").unwrap().detail;
    assert!(
        tenant.contains("contoso-sandbox.onmicrosoft.com is tenant"),
        "{tenant}"
    );
}

// The eight documented Dynamics errors.

#[test]
fn lc201_an_instance_that_never_answers_times_out_per_request() {
    let sb = Sandbox::start(&["LC201"]).unwrap();
    let started = std::time::Instant::now();
    let r = diagnose(
        &sb,
        "dynamics-lc201",
        Opts {
            timeout: 2.0,
            ..Opts::default()
        },
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(r.status, Status::Fail, "{r:#?}");
    assert_eq!(codes(&r), vec!["LC201"], "{r:#?}");
    assert_eq!(check(&r, "challenge"), Status::Fail);
}

#[test]
fn lc301_wrong_password() {
    let r = expect_code("LC301");
    assert!(r.findings[0].evidence.contains("AADSTS50126"), "{r:#?}");
}

#[test]
fn lc302_tenant_not_found_by_discovery_without_a_secret() {
    let r = expect_code("LC302");
    assert_eq!(check(&r, "tenant"), Status::Fail);
    assert!(
        r.findings[0]
            .evidence
            .contains("invalid_tenant: AADSTS90002: Tenant"),
        "{r:#?}"
    );
}

#[test]
fn lc303_application_not_found() {
    let r = expect_code("LC303");
    assert_eq!(check(&r, "token"), Status::Fail);
    assert!(r.findings[0].evidence.contains("AADSTS700016"), "{r:#?}");
}

#[test]
fn lc304_malformed_directory_id() {
    let r = expect_code("LC304");
    assert!(r.findings[0].evidence.contains("AADSTS900023"), "{r:#?}");
}

#[test]
fn lc305_invalid_client_secret() {
    let r = expect_code("LC305");
    assert_eq!(check(&r, "token"), Status::Fail);
    assert!(
        r.findings[0]
            .evidence
            .starts_with("HTTP 401 invalid_client: AADSTS7000215: Invalid client secret provided."),
        "{r:#?}"
    );
}

#[test]
fn lc401_no_create_permission_on_leadsourcecode() {
    let r = expect_code("LC401");
    assert_eq!(check(&r, "send"), Status::Fail);
    let e = &r.findings[0].evidence;
    assert!(e.contains("0x8004F502") && e.contains("does not have Create permissions for the leadsourcecode attribute in the lead entity"), "{e}");
}

#[test]
fn lc402_no_roles_assigned() {
    let r = expect_code("LC402");
    assert_eq!(check(&r, "roles"), Status::Fail);
    let e = &r.findings[0].evidence;
    assert!(e.contains("0x80042f09: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user. Returned hr = -2147209463, User: "), "{e}");
}

// The raw upstream codes the sandbox reproduces.

#[test]
fn lc306_expired_secret() {
    expect_code("LC306");
}

#[test]
fn lc307_password_expired() {
    expect_code("LC307");
}

#[test]
fn lc308_account_disabled() {
    expect_code("LC308");
}

#[test]
fn lc309_account_locked() {
    expect_code("LC309");
}

#[test]
fn lc310_mfa_required() {
    expect_code("LC310");
}

#[test]
fn lc311_conditional_access() {
    expect_code("LC311");
}

#[test]
fn lc312_resource_not_in_tenant() {
    let r = expect_code("LC312");
    assert!(r.findings[0].evidence.contains("AADSTS500011"), "{r:#?}");
}

#[test]
fn lc313_no_consent() {
    expect_code("LC313");
}

#[test]
fn lc314_instance_of_another_tenant() {
    let r = expect_code("LC314");
    // The warning at the challenge became the failure when the instance refused the token.
    assert_eq!(check(&r, "challenge"), Status::Warn);
    assert_eq!(check(&r, "whoami"), Status::Fail);
    assert_eq!(codes(&r), vec!["LC314"], "{r:#?}");
}

#[test]
fn lc320_secret_expected() {
    expect_code("LC320");
}

#[test]
fn lc403_missing_prv_create_lead() {
    let r = expect_code("LC403");
    assert!(
        r.findings
            .iter()
            .any(|f| f.evidence.contains("prvCreateLead")),
        "{r:#?}"
    );
}

#[test]
fn lc404_not_a_member_of_the_organization() {
    let r = expect_code("LC404");
    assert_eq!(check(&r, "whoami"), Status::Fail);
}

#[test]
fn lc405_user_disabled() {
    expect_code("LC405");
}

#[test]
fn lc406_unlicensed() {
    expect_code("LC406");
}

#[test]
fn lc407_lead_writer_role_missing() {
    let r = expect_code("LC407");
    assert_eq!(check(&r, "roles"), Status::Warn);
    // The write then fails on the field the role would have allowed.
    assert!(codes(&r).contains(&"LC401"), "{r:#?}");
}

#[test]
fn lc504_server_error_on_write() {
    expect_code("LC504");
}

#[test]
fn lc509_throttled_write() {
    expect_code("LC509");
}

#[test]
fn lc515_lead_rejected() {
    let r = expect_code("LC515");
    assert!(r.findings[0].evidence.contains("0x80040265"), "{r:#?}");
}

#[test]
fn secrets_never_appear_in_reports() {
    let sb = Sandbox::start(&["LC301", "LC305", "LC402", "LC201"]).unwrap();
    let secrets: Vec<String> = sb
        .entries()
        .iter()
        .filter(|e| e.kind == "dynamics")
        .flat_map(|e| [e.get("application_key"), e.get("password")])
        .flatten()
        .map(str::to_string)
        .collect();
    assert!(secrets.len() >= 4);
    for name in [
        "dynamics",
        "dynamics-office-365",
        "dynamics-lc301",
        "dynamics-lc305",
        "dynamics-lc402",
    ] {
        let r = diagnose(
            &sb,
            name,
            Opts {
                cleanup: true,
                ..Opts::default()
            },
        );
        let text = format!("{}\n{r:?}", serde_json::to_string(&r).unwrap());
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{name} leaks a secret: {text}");
        }
        assert!(!text.contains("eyJ0eXAi"), "{name} leaks a token: {text}");
    }
}

#[test]
fn explain_recognizes_what_diagnose_reports() {
    // The server texts the emulators send (and diagnose quotes as evidence) are the ones
    // the catalog matches when a user pastes them.
    let wanted = [
        "LC301", "LC302", "LC303", "LC305", "LC306", "LC307", "LC308", "LC309", "LC310", "LC311",
        "LC312", "LC313", "LC320", "LC401", "LC402",
    ];
    let sb = Sandbox::start(&wanted).unwrap();
    for code in wanted {
        let r = diagnose(
            &sb,
            &format!("dynamics-{}", code.to_ascii_lowercase()),
            Opts::default(),
        );
        let evidence = &r
            .findings
            .iter()
            .find(|f| f.code == code)
            .unwrap_or_else(|| panic!("{code}: {r:#?}"))
            .evidence;
        let matches = leadcheck::catalog::matcher::match_text(evidence);
        assert_eq!(
            matches.first().map(|m| m.code.as_str()),
            Some(code),
            "explain of {evidence:?}: {matches:?}"
        );
    }
}
