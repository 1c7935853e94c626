//! Dynamics 365 (Dataverse Web API): the marketplace's `lead` records read back into
//! [`Listed`], page by page.
//!
//! Sign-in is diagnose's own (tenant discovery, the instance's 401 challenge for the
//! resource, then client credentials or the password grant; see
//! [`crate::destination::dynamics`]), then
//! `GET {instance}/api/data/v9.2/leads?$select=...&$filter=...&$orderby=createdon desc`
//! with `Prefer: odata.maxpagesize=200`, following `@odata.nextLink` (only on the
//! instance's own origin).
//!
//! # Which leads are the marketplace's
//!
//! Microsoft does not document how the marketplace maps a lead onto the `lead` table
//! (ms-lead-docs.md §3.1 and §5: "the Dynamics lead-entity field mapping" is a gap; only
//! `leadsourcecode` is known to be written, from the LC401 error). What is documented is the
//! lead's `LeadSource`, "Source-Action | Offer" with the sources `AzureMarketplace`,
//! `AzurePortal`, `AppSource (SPZA)` (older: `SPZA`, `TestDrive`) (ms-lead-docs.md §4,
//! protocols.md §0), and the test lead's `MSFT_TEST_<t>-MSFT_TEST_<t>|<offer>`.
//! leadcheck writes that combined string as the record's `subject` (Topic), see
//! [`crate::lead::Lead::dynamics_record`]; so a marketplace lead is a record whose `subject`
//! starts with one of those sources followed by `-`, or with `MSFT_TEST_`. `leadsourcecode`
//! is not used: its value (8, "Web") is inferred, and other web forms share it.
//! (A publisher's own Power Automate flow may map Topic from `OfferTitle` instead
//! (ms-lead-docs.md §3.5); such records are not the marketplace's Dynamics writer's.)

use super::source::{ReadError, Reader};
use super::{parse_time, rfc3339, Listed};
use crate::config::{self, DynamicsAuth};
use crate::destination::dynamics::{
    api, challenge, clean, dataverse, discover_tenant, dv_error, dv_evidence, is_refusal,
    read_config, sign_in, TenantInfo,
};
use crate::destination::{Ctx, Run};
use crate::lang::Lang;
use crate::lead::Lead;
use crate::net::{redact_url, BoxFuture, Net, NetError, Response};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::{Map, Value};
use url::Url;

/// Records asked for per page (`Prefer: odata.maxpagesize`); Dataverse's own default and
/// maximum is 5,000. A page of leads stays far under the network layer's 1 MiB body cap.
pub const PAGE: u32 = 200;

/// The attributes read: the ones the marketplace (and leadcheck's test lead) writes.
pub const SELECT: &str = "leadid,createdon,subject,firstname,lastname,companyname,emailaddress1,address1_country,leadsourcecode";

/// The starts of a marketplace lead's `subject`: the documented sources of `LeadSource`
/// ("Source-Action | Offer"), and the test lead's marker.
pub const SUBJECT_PREFIXES: &[&str] = &[
    "AzureMarketplace-",
    "AzurePortal-",
    "AppSource (SPZA)-",
    "SPZA-",
    "TestDrive-",
    "MSFT_TEST_",
];

/// The OData `$filter` of the marketplace's leads, created since `since` when given.
pub fn filter(since: Option<i64>) -> String {
    let sources: Vec<String> = SUBJECT_PREFIXES
        .iter()
        .map(|p| format!("startswith(subject,'{}')", p.replace('\'', "''")))
        .collect();
    let mut f = format!("({})", sources.join(" or "));
    if let Some(t) = since {
        f.push_str(&format!(" and createdon ge {}", rfc3339(t)));
    }
    f
}

/// The query's parameters, in order, not encoded.
fn params(since: Option<i64>) -> [(&'static str, String); 3] {
    [
        ("$select", SELECT.to_string()),
        ("$filter", filter(since)),
        ("$orderby", "createdon desc".to_string()),
    ]
}

/// The first page's URL: `{instance}/api/data/v9.2/leads?...`, values percent-encoded
/// (spaces as `%20`: OData reads `+` as a plus).
pub fn first_page_url(instance: &Url, since: Option<i64>) -> Option<Url> {
    let enc = |v: &str| {
        url::form_urlencoded::byte_serialize(v.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let q: Vec<String> = params(since)
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    api(instance, &format!("leads?{}", q.join("&")))
}

/// Whether a `subject` is a marketplace lead's (see the module's comment).
pub fn is_marketplace_subject(subject: &str) -> bool {
    SUBJECT_PREFIXES.iter().any(|p| {
        subject
            .get(..p.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(p))
    })
}

/// `Source-Action | Offer` -> (source, action, offer); parts that are absent are empty.
/// The offer is after the first `|`; the action after the last `-` before it (sources and
/// actions have no `-`, offers do: `checkpoint.check-point-r77-10sg-byol`).
pub fn split_subject(subject: &str) -> (String, String, String) {
    let (left, offer) = subject.split_once('|').unwrap_or((subject, ""));
    let left = left.trim();
    let (source, action) = left.rsplit_once('-').unwrap_or((left, ""));
    (
        source.trim().to_string(),
        action.trim().to_string(),
        offer.trim().to_string(),
    )
}

/// The lead a `lead` record holds (Web API JSON). Missing or malformed attributes are left
/// empty, never an error.
pub fn from_record(r: &Map<String, Value>) -> Listed {
    let text = |k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (lead_source, action_code, offer) = split_subject(&text("subject"));
    let mut lead = Listed {
        id: text("leadid"),
        created: r
            .get("createdon")
            .and_then(Value::as_str)
            .and_then(parse_time),
        offer,
        action_code,
        lead_source,
        first_name: text("firstname"),
        last_name: text("lastname"),
        company: text("companyname"),
        email: text("emailaddress1"),
        country: text("address1_country"),
        test: false,
    };
    lead.mark_test();
    lead
}

/// The reader of one Dynamics destination.
pub struct DynamicsReader {
    name: String,
    spec: config::Dynamics,
    since: Option<i64>,
    /// The instance's origin (validated when opened).
    instance: Url,
    state: State,
    /// The last sign-in's token and when it was taken, kept across [`Reader::rewind`].
    signed: Option<(Secret, std::time::Instant)>,
}

/// How long a sign-in is used again. Entra's access tokens live 60 to 90 minutes; half an
/// hour leaves room for a clock or a policy that shortens them, and a token refused before
/// then is replaced once (see `next_page`).
const REUSE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

enum State {
    /// At the first page; signed in already when a kept sign-in is still fresh.
    Start,
    /// Signed in; the next page is at `next`.
    Next {
        token: Secret,
        next: Url,
    },
    Done,
}

/// Opens the reader; the instance URL is checked here, the sign-in waits for the first page.
pub fn open(
    dest: &config::Destination,
    spec: &config::Dynamics,
    since: Option<i64>,
) -> Result<DynamicsReader, ReadError> {
    let raw = spec
        .instance_url
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ReadError::Failed("instance_url is missing (`leadcheck lint` says more)".into())
        })?;
    let mut instance = crate::net::check_url(raw).map_err(|e| net_failure(&e))?;
    // The Web API lives at the origin, as diagnose reads it.
    instance.set_path("");
    instance.set_query(None);
    instance.set_fragment(None);
    Ok(DynamicsReader {
        name: dest.name.clone(),
        spec: spec.clone(),
        since,
        instance,
        state: State::Start,
        signed: None,
    })
}

/// `LC305 Dynamics via Entra ID: invalid client secret`.
fn code_words(code: &str) -> String {
    let title = crate::report::page(code, Lang::En).title;
    if title == code {
        code.to_string()
    } else {
        format!("{code} {title}")
    }
}

fn net_failure(e: &NetError) -> ReadError {
    ReadError::Failed(format!("{} ({})", e.evidence, code_words(e.code)))
}

impl DynamicsReader {
    fn shown_instance(&self) -> String {
        redact_url(&self.instance).trim_end_matches('/').to_string()
    }

    fn ctx(&self, net: &Net) -> Ctx {
        Ctx::new(net.clone(), Lead::new(Some(0), None), self.name.clone())
    }

    /// Signs in as diagnose does; a failure names the step and its catalog code.
    async fn sign_in(&self, net: &Net) -> Result<Secret, ReadError> {
        let ctx = self.ctx(net);
        let mut run = Run::new();
        let token = async {
            let step = run.step("url", "Read the instance URL");
            let (instance, authority, creds) = read_config(&self.spec, &ctx, &mut run, step)?;
            let mut tenant = TenantInfo::of(&creds);
            if !discover_tenant(&ctx, &mut run, &authority, &mut tenant).await {
                return None;
            }
            let resource = challenge(&ctx, &mut run, &instance, &tenant).await?;
            sign_in(&ctx, &mut run, &authority, &tenant, &creds, &resource).await
        }
        .await;
        if let Some(t) = token {
            return Ok(t);
        }
        let step = run.checks.last().map(|c| (c.id.clone(), c.title.clone()));
        let what = match step.as_ref().map(|(id, t)| (id.as_str(), t.as_str())) {
            Some(("url", _)) | None => "the config cannot be read".to_string(),
            Some(("token", _)) => "sign-in failed".to_string(),
            Some((_, title)) => format!("sign-in failed at \"{title}\""),
        };
        let finding = run
            .findings
            .iter()
            .rev()
            .find(|f| f.severity == crate::report::Severity::Error);
        let (code, evidence) = match finding {
            Some(f) => (code_words(&f.code), f.evidence.clone()),
            None => ("LC301".to_string(), String::new()),
        };
        let evidence = if evidence.is_empty() {
            String::new()
        } else {
            format!(": {evidence}")
        };
        Err(ReadError::Failed(format!(
            "{what} ({code}){evidence}; run leadcheck diagnose {}",
            crate::term::shell_word(&self.name)
        )))
    }

    /// Signs in and keeps the token for the next [`Reader::rewind`].
    async fn fresh_token(&mut self, net: &Net) -> Result<Secret, ReadError> {
        self.signed = None;
        let token = self.sign_in(net).await?;
        self.signed = Some((token.clone(), std::time::Instant::now()));
        Ok(token)
    }

    /// Who must be given the right to read: an application user (azure-ad) or the user.
    fn grantee(&self) -> &'static str {
        match self.spec.authentication {
            Some(DynamicsAuth::Office365) => "the user",
            _ => "the application user",
        }
    }

    async fn page(&self, net: &Net, token: &Secret, url: Url) -> Result<Response, ReadError> {
        let ctx = self.ctx(net);
        let req = dataverse(&ctx, Method::GET, url, Some(token))
            .header("Prefer", format!("odata.maxpagesize={PAGE}"))
            .header("If-None-Match", "null")
            .build()
            .map_err(|e| ReadError::Failed(format!("cannot build the query: {e}")))?;
        net.send(req).await.map_err(|e| net_failure(&e))
    }

    /// The answer's leads and the next page's URL, or why there are none.
    fn judge(&self, resp: &Response) -> Result<(Vec<Listed>, Option<Url>), ReadError> {
        let status = resp.status.as_u16();
        if !resp.status.is_success() {
            let (code, _) = dv_error(resp);
            let code = code.map(|c| c.to_ascii_lowercase());
            let grant = format!(
                "give {} a security role with Read on Lead (prvReadLead), e.g. Salesperson (\"{}\" alone may only create leads)",
                self.grantee(),
                crate::destination::dynamics::LEAD_WRITER_ROLE
            );
            if status == 403 && code.as_deref() == Some("0x80042f09") {
                return Err(ReadError::Refused(format!(
                    "{} holds no security role ({}), so the marketplace cannot write leads either (LC402): assign \"{}\", and to read them back {grant}",
                    self.grantee(),
                    dv_evidence(resp),
                    crate::destination::dynamics::LEAD_WRITER_ROLE
                )));
            }
            if is_refusal(resp) {
                return Err(ReadError::Refused(format!(
                    "the credentials may not read leads ({}): {grant}",
                    dv_evidence(resp)
                )));
            }
            let lc = crate::destination::dynamics::dataverse_code(status, code.as_deref());
            // LC515 is a rejected write: for a query, the service's own words say more.
            let lc = match (status, lc) {
                (401, _) => format!(" ({})", code_words("LC301")),
                (_, "LC515") => String::new(),
                (_, lc) => format!(" ({})", code_words(lc)),
            };
            return Err(ReadError::Failed(format!(
                "the instance answered the lead query with {}{lc}; run leadcheck diagnose {}",
                dv_evidence(resp),
                crate::term::shell_word(&self.name)
            )));
        }
        if resp.truncated {
            return Err(ReadError::Failed(
                "a page of leads was larger than the network layer reads".into(),
            ));
        }
        let body: Value = serde_json::from_slice(&resp.body).map_err(|e| {
            ReadError::Failed(format!(
                "HTTP {status} with a body that is not JSON ({e}): not a Dataverse Web API"
            ))
        })?;
        let Some(records) = body.get("value").and_then(Value::as_array) else {
            return Err(ReadError::Failed(format!(
                "HTTP {status} without a \"value\" list: not a Dataverse Web API answer"
            )));
        };
        let leads = records
            .iter()
            .filter_map(Value::as_object)
            // The service filtered already; a record it let through anyway is not listed.
            .filter(|r| {
                is_marketplace_subject(r.get("subject").and_then(Value::as_str).unwrap_or(""))
            })
            .map(from_record)
            .collect();
        let next = match body.get("@odata.nextLink") {
            None | Some(Value::Null) => None,
            Some(v) => Some(self.next_link(v.as_str().unwrap_or(""))?),
        };
        Ok((leads, next))
    }

    /// The next page's URL: only on the instance's own origin (the token goes with it).
    fn next_link(&self, raw: &str) -> Result<Url, ReadError> {
        let refuse = |why: String| {
            ReadError::Failed(format!(
                "the instance's @odata.nextLink {why}; leadcheck did not follow it and sent nothing there"
            ))
        };
        let url = self
            .instance
            .join(raw)
            .map_err(|e| refuse(format!("is not a URL ({e})")))?;
        if url.origin() != self.instance.origin() {
            return Err(refuse(format!(
                "points to another origin ({}), not {}",
                clean(&redact_url(&url), 200),
                self.shown_instance()
            )));
        }
        crate::net::check_url(url.as_str()).map_err(|e| refuse(e.evidence))
    }
}

impl Reader for DynamicsReader {
    fn what(&self) -> String {
        format!(
            "the lead table of Dynamics 365 instance {}",
            self.shown_instance()
        )
    }

    fn query(&self) -> String {
        let q: Vec<String> = params(self.since)
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!(
            "GET {}/{}/leads?{} (Prefer: odata.maxpagesize={PAGE}; pages through @odata.nextLink)",
            self.shown_instance(),
            crate::destination::dynamics::API,
            q.join("&")
        )
    }

    fn next_page<'a>(
        &'a mut self,
        net: &'a Net,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, ReadError>> {
        Box::pin(async move {
            let (mut token, url, reused) = match std::mem::replace(&mut self.state, State::Done) {
                State::Done => return Ok(None),
                State::Next { token, next } => (token, next, false),
                State::Start => {
                    let url = first_page_url(&self.instance, self.since).ok_or_else(|| {
                        ReadError::Failed("cannot build the URL of the lead query".into())
                    })?;
                    let kept = self.signed.as_ref().filter(|(_, at)| at.elapsed() < REUSE);
                    match kept.map(|(token, _)| token.clone()) {
                        Some(token) => (token, url, true),
                        None => (self.fresh_token(net).await?, url, false),
                    }
                }
            };
            let mut resp = self.page(net, &token, url.clone()).await?;
            // A kept token the instance no longer takes (revoked, or a shorter lifetime):
            // sign in again once rather than fail the poll.
            if reused && resp.status.as_u16() == 401 {
                token = self.fresh_token(net).await?;
                resp = self.page(net, &token, url.clone()).await?;
            }
            let (leads, next) = self.judge(&resp)?;
            if let Some(next) = next {
                // An instance that names the page just read as the next one would never end.
                if next == url {
                    return Err(ReadError::Failed(
                        "the instance named the same page again as @odata.nextLink".into(),
                    ));
                }
                self.state = State::Next { token, next };
            }
            Ok(Some(leads))
        })
    }

    fn rewind(&mut self, since: Option<i64>) {
        self.since = since;
        self.state = State::Start;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_the_record_leadcheck_writes() {
        let lead = Lead::new(Some(636_573_304_831_318_844), Some("Contoso Analytics"));
        let mut r = lead.dynamics_record().as_object().unwrap().clone();
        assert!(is_marketplace_subject(r["subject"].as_str().unwrap()));
        r.insert(
            "leadid".into(),
            "6f1c2a4e-0000-4000-8000-000000000001".into(),
        );
        r.insert("createdon".into(), "2018-03-22T15:48:03Z".into());
        let l = from_record(&r);
        assert_eq!(l.id, "6f1c2a4e-0000-4000-8000-000000000001");
        assert_eq!(l.offer, "Contoso Analytics");
        assert_eq!(l.lead_source, lead.marker());
        assert_eq!(l.action_code, lead.marker());
        assert_eq!(l.first_name, lead.marker());
        assert_eq!(l.company, lead.marker());
        assert_eq!(l.email, lead.email());
        assert_eq!(l.country, "US");
        assert!(l.test);
        assert_eq!(
            l.created.map(rfc3339).as_deref(),
            Some("2018-03-22T15:48:03Z")
        );
    }

    #[test]
    fn a_customer_lead_is_split_into_source_action_and_offer() {
        let r = json!({
            "leadid": "a", "subject": "AppSource (SPZA)-PLT | checkpoint.check-point-r77-10sg-byol",
            "firstname": "Ana", "lastname": "Silva", "emailaddress1": "ana@contoso.com",
            "companyname": "Contoso", "address1_country": "PT",
            "createdon": "2026-11-02T10:11:12Z", "leadsourcecode": 8
        });
        let l = from_record(r.as_object().unwrap());
        assert_eq!(l.lead_source, "AppSource (SPZA)");
        assert_eq!(l.action_code, "PLT");
        assert_eq!(l.offer, "checkpoint.check-point-r77-10sg-byol");
        assert_eq!(
            (l.first_name.as_str(), l.last_name.as_str()),
            ("Ana", "Silva")
        );
        assert_eq!(l.country, "PT");
        assert!(!l.test);
        assert_eq!(l.created, parse_time("2026-11-02T10:11:12Z"));
        // Malformed or missing attributes are empty, never an error.
        let r = json!({"leadid": 7, "subject": null, "createdon": "yesterday"});
        let l = from_record(r.as_object().unwrap());
        assert_eq!((l.id.as_str(), l.offer.as_str(), l.created), ("", "", None));
        assert_eq!(
            split_subject("AzureMarketplace"),
            ("AzureMarketplace".into(), String::new(), String::new())
        );
    }

    #[test]
    fn marketplace_subjects_are_recognized_and_others_not() {
        for s in [
            "AzureMarketplace-INS|contoso.analytics",
            "azureportal-Create | x.y",
            "AppSource (SPZA)-DNC|a.b",
            "SPZA-PLT|a.b",
            "TestDrive-StartTestDrive|a.b",
            "MSFT_TEST_1-MSFT_TEST_1|t",
        ] {
            assert!(is_marketplace_subject(s), "{s}");
        }
        for s in [
            "",
            "Request a quote",
            "AzureMarketplace",
            "Web-INS|x",
            "é",
            "AppSource-INS",
        ] {
            assert!(!is_marketplace_subject(s), "{s}");
        }
    }

    #[test]
    fn the_query_filters_on_the_sources_and_the_period() {
        let f = filter(None);
        assert!(
            f.starts_with("(startswith(subject,'AzureMarketplace-') or "),
            "{f}"
        );
        assert!(!f.contains("createdon"), "{f}");
        let f = filter(Some(1_790_000_000));
        assert!(
            f.ends_with(") and createdon ge 2026-09-21T14:13:20Z"),
            "{f}"
        );
        let instance = Url::parse("https://contoso.crm4.dynamics.com").unwrap();
        let u = first_page_url(&instance, Some(0)).unwrap();
        assert_eq!(u.path(), "/api/data/v9.2/leads");
        let q = u.query().unwrap();
        assert!(!q.contains('+') && !q.contains(' '), "{q}");
        let pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
        assert_eq!(pairs[0], ("$select".into(), SELECT.into()));
        assert_eq!(pairs[1], ("$filter".into(), filter(Some(0))));
        assert_eq!(pairs[2], ("$orderby".into(), "createdon desc".into()));
    }

    fn reader(instance: &str) -> DynamicsReader {
        DynamicsReader {
            name: "crm".into(),
            spec: config::Dynamics::default(),
            since: None,
            instance: Url::parse(instance).unwrap(),
            state: State::Done,
            signed: None,
        }
    }

    fn resp(status: u16, body: Value) -> Response {
        Response {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            body: body.to_string().into_bytes().into(),
            truncated: false,
            elapsed: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn answers_are_judged() {
        let r = reader("https://contoso.crm.dynamics.com");
        let err = |code: &str, msg: &str| json!({"error": {"code": code, "message": msg}});
        match r.judge(&resp(
            403,
            err(
                "0x80040220",
                "Principal user is missing prvReadLead privilege.",
            ),
        )) {
            Err(ReadError::Refused(why)) => {
                assert!(why.contains("prvReadLead privilege"), "{why}");
                assert!(
                    why.contains(
                        "give the application user a security role with Read on Lead (prvReadLead)"
                    ),
                    "{why}"
                );
            }
            other => panic!("{other:?}"),
        }
        match r.judge(&resp(
            403,
            err(
                "0x80042f09",
                "SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.",
            ),
        )) {
            Err(ReadError::Refused(why)) => assert!(
                why.contains("no security role") && why.contains("LC402"),
                "{why}"
            ),
            other => panic!("{other:?}"),
        }
        for (status, body, want) in [
            (
                500,
                err("0x80040216", "An unexpected error occurred."),
                "(LC504 ",
            ),
            (401, json!({}), "(LC301 "),
            (
                404,
                err("0x80060888", "Resource not found for the segment 'leads'."),
                "segment 'leads'.; run leadcheck diagnose crm",
            ),
            (200, json!({"no": "value"}), "without a \"value\" list"),
            (
                200,
                json!({"value": [], "@odata.nextLink": "https://evil.example/next"}),
                "another origin",
            ),
        ] {
            match r.judge(&resp(status, body)) {
                Err(ReadError::Failed(why)) => {
                    assert!(why.contains(want), "{status}: {why}");
                    assert!(!why.contains("LC515"), "{why}");
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        let page = json!({"value": [
            {"leadid": "1", "subject": "AzureMarketplace-INS|a.b", "createdon": "2026-11-02T10:11:12Z"},
            {"leadid": "2", "subject": "Request a quote"},
            "not a record",
        ], "@odata.nextLink": "https://contoso.crm.dynamics.com/api/data/v9.2/leads?$skiptoken=x"});
        let (leads, next) = r.judge(&resp(200, page)).unwrap();
        assert_eq!(leads.len(), 1);
        assert_eq!(leads[0].id, "1");
        assert_eq!(next.unwrap().query(), Some("$skiptoken=x"));
        let (leads, next) = r.judge(&resp(200, json!({"value": []}))).unwrap();
        assert!(leads.is_empty() && next.is_none());
    }

    #[test]
    fn next_links_stay_on_the_instance() {
        let r = reader("https://contoso.crm.dynamics.com");
        let ok = r
            .next_link("https://contoso.crm.dynamics.com/api/data/v9.2/leads?$skiptoken=x")
            .unwrap();
        assert_eq!(ok.host_str(), Some("contoso.crm.dynamics.com"));
        for bad in [
            "https://evil.example/api/data/v9.2/leads?$skiptoken=x",
            "http://contoso.crm.dynamics.com/api/data/v9.2/leads",
            "https://contoso.crm.dynamics.com:444/api/data/v9.2/leads",
            "//evil.example/x",
        ] {
            match r.next_link(bad) {
                Err(ReadError::Failed(why)) => assert!(why.contains("did not follow"), "{why}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn the_query_names_the_instance_and_its_options() {
        let r = reader("https://contoso.crm.dynamics.com");
        let q = r.query();
        assert!(
            q.starts_with(
                "GET https://contoso.crm.dynamics.com/api/data/v9.2/leads?$select=leadid,"
            ),
            "{q}"
        );
        assert!(q.contains("$orderby=createdon desc"), "{q}");
        assert!(q.contains("odata.maxpagesize=200"), "{q}");
    }
}
