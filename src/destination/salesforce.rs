//! Salesforce web-to-lead: probe the servlet, (with API credentials) predict what would drop
//! the lead, POST the form exactly as the marketplace does, read `Is-Processed`, then (with
//! API credentials) find the lead by its e-mail and, with `--cleanup`, delete only it.
//!
//! The servlet answers HTTP 200 whatever becomes of the lead (protocols.md §3): a refusal
//! shows only as `Exception` in the `Is-Processed` header, and the reason is mailed to the
//! org's admin. Without the REST API, arrival cannot be verified. The research is silent on
//! the REST API; leadcheck uses only `sobjects/Lead/describe`, SOQL `query` (Lead by e-mail;
//! the Organization's `DailyWebToLeadCount`/`DailyWebToLeadLimit`) and `DELETE` of one Lead.

use super::{probe, record_cleaned, send, BoxFuture, Ctx, Destination, Run, Step};
use crate::config;
use crate::net::{sensitive, NetError, Response};
use crate::report::Finding;
use crate::secret::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Duration;
use url::Url;

/// The REST API version leadcheck speaks.
pub const API_VERSION: &str = "v60.0";

/// Lead fields the marketplace's web-to-lead form fills (ms-lead-docs.md §3.2).
const FILLED: [&str; 9] = [
    "FirstName",
    "LastName",
    "Email",
    "Company",
    "Title",
    "Phone",
    "Country",
    "Description",
    "LeadSource",
];

/// Waits between read-backs (about 20 s in all, cut short by the deadline): web-to-lead
/// creates leads asynchronously.
const VERIFY_WAITS: [u64; 6] = [1, 2, 3, 4, 5, 5];

const STEPS: &[(&str, &str)] = &[
    ("dns", "Resolve host"),
    ("connect", "Connect"),
    ("tls", "TLS handshake"),
    ("describe", "Required Lead fields (REST API)"),
    ("limit", "Web-to-lead daily limit (REST API)"),
    ("send", "POST the MSFT_TEST lead to web-to-lead"),
    ("verify", "Find the test lead (REST API)"),
    ("cleanup", "Delete the test lead"),
];

/// The `salesforce` destination.
pub struct Salesforce {
    dest: config::Destination,
}

impl Salesforce {
    pub fn new(dest: config::Destination) -> Salesforce {
        Salesforce { dest }
    }
}

impl Destination for Salesforce {
    fn kind(&self) -> &'static str {
        "salesforce"
    }

    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        STEPS
    }

    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()> {
        Box::pin(self.run(ctx, run))
    }
}

/// The REST API: instance URL and access token.
pub(crate) struct Api<'a> {
    pub(crate) base: Url,
    pub(crate) token: &'a Secret,
}

/// What a REST call came to.
pub(crate) enum Rest {
    Ok(Value),
    /// 204 and other bodiless successes.
    Done,
    /// 401: the token was refused (LC319).
    Refused(String),
    /// Any other answer; the reason, for a `skip`.
    Other(String),
    /// No answer (DNS, connect, TLS, timeout, the run deadline).
    Net(NetError),
}

/// A network failure on the REST API. The API only checks around the delivery, so this is
/// a warning, except the run deadline, which stops the chain. `true` when the chain goes on.
fn api_unreachable(run: &mut Run, step: Step, e: &NetError) -> bool {
    let evidence = format!("the REST API at api_instance_url: {}", e.evidence);
    if e.code == "LC210" {
        run.fail(step, evidence.clone(), Finding::error("LC210", evidence));
        false
    } else {
        run.warn(step, evidence.clone(), Finding::warning(e.code, evidence));
        true
    }
}

impl Salesforce {
    async fn run(&self, ctx: &Ctx, run: &mut Run) {
        let config::Spec::Salesforce(spec) = &self.dest.spec else {
            return;
        };
        let step = run.step("config", "Read the web-to-lead settings");
        let Some(oid) = spec
            .object_identifier
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        else {
            run.fail(
                step,
                "object_identifier is missing",
                Finding::error(
                    "LC102",
                    "object_identifier (the web-to-lead oid) is missing",
                )
                .at(self.dest.loc("object_identifier")),
            );
            return;
        };
        let endpoint = spec
            .endpoint
            .as_deref()
            .unwrap_or(config::model::DEFAULT_SALESFORCE_ENDPOINT);
        let url = match ctx.net.check_url(endpoint) {
            Ok(u) => u,
            Err(e) => return super::fail(run, step, &e),
        };
        // Both API fields, or no verification; a token that cannot be read is LC106 in lint.
        let api = match (
            spec.api_instance_url.as_deref(),
            spec.api_access_token.as_ref().and_then(|t| t.secret()),
        ) {
            (Some(raw), Some(token)) => match ctx.net.check_url(raw) {
                Ok(base) => Some(Api { base, token }),
                Err(e) => return super::fail(run, step, &e),
            },
            _ => None,
        };
        run.pass(
            step,
            format!(
                "oid {oid}, endpoint {}{}",
                crate::net::redact_url(&url),
                match &api {
                    Some(a) => format!(", REST API at {}", crate::net::redact_url(&a.base)),
                    None => ", no REST API credentials".into(),
                }
            ),
        );

        if !probe(ctx, run, &url).await {
            return;
        }

        let mut limit_reached = false;
        let mut before = BTreeSet::new();
        if let Some(api) = &api {
            if !self.describe(ctx, run, api).await {
                return;
            }
            match self.daily_limit(ctx, run, api).await {
                Some(reached) => limit_reached = reached,
                None => return,
            }
            // Leads that already carry this e-mail (a fixed --ticks) are not ours to delete.
            if !ctx.dry_run {
                if let Rest::Ok(v) =
                    api_get(ctx, api, "query", Some(&lead_query(&ctx.lead.email()))).await
                {
                    before = ids(&v);
                }
            }
        }

        // send
        let step = run.step("send", "POST the MSFT_TEST lead to web-to-lead");
        if ctx.dry_run {
            run.skip(step, "dry run: the lead was not sent");
            let step = run.step("verify", "Find the test lead (REST API)");
            run.skip(step, "dry run: nothing was sent");
            return;
        }
        let form = ctx.lead.salesforce_form(oid);
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let Some((step, req)) = super::build(
            run,
            step,
            ctx.net
                .request(Method::POST, url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(body),
        ) else {
            return;
        };
        let Some((step, resp)) = send(ctx, run, step, req).await else {
            return;
        };
        if !self.judge_send(ctx, run, step, &resp) {
            return;
        }

        // verify
        let step = run.step("verify", "Find the test lead (REST API)");
        let Some(api) = &api else {
            run.skip(
                step,
                format!(
                    "web-to-lead answers 200 whatever becomes of a lead, so arrival cannot be verified without \
                     api_instance_url and api_access_token; Salesforce e-mails refusals to the org's admin. \
                     Search Leads for {}",
                    ctx.lead.marker()
                ),
            );
            if ctx.cleanup {
                let step = run.step("cleanup", "Delete the test lead");
                run.skip(step, format!("without REST API credentials nothing can be deleted; delete the lead {} by hand", ctx.lead.marker()));
            }
            return;
        };
        let Some(id) = self
            .verify(ctx, run, step, api, &before, limit_reached)
            .await
        else {
            return;
        };

        // cleanup
        if !ctx.cleanup {
            return;
        }
        let step = run.step("cleanup", "Delete the test lead");
        match api_call(
            ctx,
            api,
            Method::DELETE,
            &format!("sobjects/Lead/{id}"),
            None,
        )
        .await
        {
            Rest::Done | Rest::Ok(_) => {
                record_cleaned(ctx, run, true);
                run.pass(step, format!("deleted Lead {id}"));
            }
            Rest::Refused(e) => {
                record_cleaned(ctx, run, false);
                run.fail(step, e.clone(), Finding::error("LC319", e));
            }
            Rest::Net(e) => {
                record_cleaned(ctx, run, false);
                api_unreachable(run, step, &e);
            }
            Rest::Other(why) => {
                record_cleaned(ctx, run, false);
                run.skip(
                    step,
                    format!("Lead {id} was not deleted ({why}); delete it by hand"),
                );
            }
        }
    }

    /// The `describe` step: a required field web-to-lead cannot fill drops every lead.
    async fn describe(&self, ctx: &Ctx, run: &mut Run, api: &Api<'_>) -> bool {
        let step = run.step("describe", "Required Lead fields (REST API)");
        let v = match api_get(ctx, api, "sobjects/Lead/describe", None).await {
            Rest::Ok(v) => v,
            Rest::Done => Value::Null,
            Rest::Refused(e) => {
                run.fail(step, e.clone(), Finding::error("LC319", e));
                return false;
            }
            Rest::Net(e) => return api_unreachable(run, step, &e),
            Rest::Other(why) => {
                run.skip(
                    step,
                    format!("the Lead object could not be described ({why})"),
                );
                return true;
            }
        };
        let fields = v["fields"].as_array().cloned().unwrap_or_default();
        let required: Vec<&Value> = fields
            .iter()
            .filter(|f| {
                f["createable"].as_bool() == Some(true)
                    && f["nillable"].as_bool() == Some(false)
                    && f["defaultedOnCreate"].as_bool() == Some(false)
                    && f["type"].as_str() != Some("boolean")
            })
            .filter(|f| !FILLED.contains(&f["name"].as_str().unwrap_or("")))
            .collect();
        let name = |f: &Value| crate::term::sanitize(f["name"].as_str().unwrap_or("?"), false);
        let (picklists, others): (Vec<&Value>, Vec<&Value>) = required
            .into_iter()
            .partition(|f| matches!(f["type"].as_str(), Some("picklist" | "multipicklist")));
        if !picklists.is_empty() {
            let names: Vec<String> = picklists.iter().map(|f| name(f)).collect();
            let evidence = format!(
                "required picklist field{} on Lead: {}; the marketplace's web-to-lead form does not fill {}, so Salesforce drops every lead (nothing was sent)",
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 { "it" } else { "them" }
            );
            run.fail(step, evidence.clone(), Finding::error("LC501", evidence));
            return false;
        }
        if !others.is_empty() {
            let names: Vec<String> = others
                .iter()
                .map(|f| {
                    format!(
                        "{} ({})",
                        name(f),
                        crate::term::sanitize(f["type"].as_str().unwrap_or("?"), false)
                    )
                })
                .collect();
            let evidence = format!(
                "required field{} on Lead the marketplace does not fill: {}; web-to-lead refuses such leads (nothing was sent)",
                if names.len() == 1 { "" } else { "s" },
                names.join(", ")
            );
            run.fail(step, evidence.clone(), Finding::error("LC502", evidence));
            return false;
        }
        run.pass(
            step,
            format!(
                "{} Lead fields; every required one is filled by web-to-lead or by Salesforce",
                fields.len()
            ),
        );
        true
    }

    /// The `limit` step: `Some(true)` when today's web-to-lead limit is used up, `None` when
    /// the chain must stop.
    async fn daily_limit(&self, ctx: &Ctx, run: &mut Run, api: &Api<'_>) -> Option<bool> {
        let step = run.step("limit", "Web-to-lead daily limit (REST API)");
        let q = "SELECT DailyWebToLeadCount, DailyWebToLeadLimit FROM Organization";
        match api_get(ctx, api, "query", Some(q)).await {
            Rest::Ok(v) => {
                let rec = &v["records"][0];
                match (
                    rec["DailyWebToLeadCount"].as_u64(),
                    rec["DailyWebToLeadLimit"].as_u64(),
                ) {
                    (Some(used), Some(limit)) if limit > 0 && used >= limit => {
                        let evidence = format!(
                            "{used} of {limit} web-to-lead leads used today: new leads wait in the pending queue until the limit refreshes"
                        );
                        run.warn(step, evidence.clone(), Finding::warning("LC514", evidence));
                        Some(true)
                    }
                    (Some(used), Some(limit)) => {
                        run.pass(
                            step,
                            format!("{used} of {limit} web-to-lead leads used today"),
                        );
                        Some(false)
                    }
                    _ => {
                        run.skip(step, "the organization's web-to-lead counters are not readable with this token");
                        Some(false)
                    }
                }
            }
            Rest::Done => {
                run.skip(step, "no answer body");
                Some(false)
            }
            Rest::Refused(e) => {
                run.fail(step, e.clone(), Finding::error("LC319", e));
                None
            }
            Rest::Net(e) => api_unreachable(run, step, &e).then_some(false),
            Rest::Other(why) => {
                run.skip(step, format!("the daily limit could not be read ({why})"));
                Some(false)
            }
        }
    }

    /// Judges the servlet's answer; `false` when the chain must stop.
    fn judge_send(&self, ctx: &Ctx, run: &mut Run, step: Step, resp: &Response) -> bool {
        let status = resp.status.as_u16();
        if status != 200 {
            // The servlet answers 200 to everything; anything else is Salesforce (or the
            // endpoint) failing.
            let evidence = format!(
                "HTTP {status} {} from the web-to-lead endpoint (it answers 200 when it works){}",
                resp.status.canonical_reason().unwrap_or(""),
                if resp.body.is_empty() {
                    String::new()
                } else {
                    format!(": {}", resp.excerpt(200))
                }
            );
            let code = if status >= 500 { "LC504" } else { "LC502" };
            run.fail(step, evidence.clone(), Finding::error(code, evidence));
            return false;
        }
        let processed = resp
            .header("is-processed")
            .map(|v| crate::term::sanitize(v, false));
        match processed {
            Some(p) if p.contains("Exception") => {
                let evidence = format!(
                    "HTTP 200 with Is-Processed: {p}: web-to-lead refused the lead (a wrong oid, web-to-lead turned off, \
                     reCAPTCHA on the form, or a required field left empty); Salesforce e-mailed the reason to the admin"
                );
                run.fail(step, evidence.clone(), Finding::error("LC502", evidence));
                false
            }
            p => {
                super::record_created(ctx, run, ctx.lead.marker());
                run.pass(
                    step,
                    match p {
                        Some(p) => format!(
                            "HTTP 200, Is-Processed: {p} ({} ms)",
                            resp.elapsed.as_millis()
                        ),
                        None => format!(
                            "HTTP 200, no Is-Processed header ({} ms)",
                            resp.elapsed.as_millis()
                        ),
                    },
                );
                true
            }
        }
    }

    /// The `verify` step: SOQL by e-mail, a few times within the deadline. The Lead's id
    /// when found.
    async fn verify(
        &self,
        ctx: &Ctx,
        run: &mut Run,
        step: Step,
        api: &Api<'_>,
        before: &BTreeSet<String>,
        limit_reached: bool,
    ) -> Option<String> {
        let email = ctx.lead.email();
        let started = std::time::Instant::now();
        let mut waits = VERIFY_WAITS.iter();
        let mut tries = 0;
        loop {
            tries += 1;
            match api_get(ctx, api, "query", Some(&lead_query(&email))).await {
                Rest::Ok(v) => {
                    let new: Vec<String> = ids(&v)
                        .into_iter()
                        .filter(|id| !before.contains(id))
                        .collect();
                    if let Some(id) = new.first() {
                        run.test_lead.verified = Some(true);
                        run.test_lead.id = Some(id.clone());
                        rename_created(ctx, id);
                        run.pass(step, format!("Lead {id} has Email {email} (query {tries})"));
                        return Some(id.clone());
                    }
                }
                Rest::Done => {}
                Rest::Refused(e) => {
                    run.fail(step, e.clone(), Finding::error("LC319", e));
                    return None;
                }
                Rest::Net(e) => {
                    api_unreachable(run, step, &e);
                    return None;
                }
                Rest::Other(why) => {
                    run.skip(
                        step,
                        format!(
                            "leads could not be queried ({why}); search Leads for {}",
                            ctx.lead.marker()
                        ),
                    );
                    return None;
                }
            }
            // Wait again only while that leaves a second of the deadline.
            let next = waits.next().map(|s| Duration::from_secs(*s));
            match next {
                Some(w)
                    if tokio::time::Instant::now() + w + Duration::from_secs(1)
                        < ctx.net.deadline() =>
                {
                    tokio::time::sleep(w).await
                }
                _ => break,
            }
        }
        run.test_lead.verified = Some(false);
        let waited = started.elapsed().as_secs();
        if limit_reached {
            run.skip(
                step,
                format!("no Lead with Email {email} after {tries} queries over {waited} s: the daily limit is used up, so it is probably in the pending queue"),
            );
            return None;
        }
        let evidence = format!(
            "web-to-lead took the lead, but no Lead with Email {email} appeared after {tries} queries over {waited} s: \
             a validation rule, duplicate rule or the pending queue kept it; Salesforce e-mails the reason to the admin"
        );
        run.fail(step, evidence.clone(), Finding::error("LC508", evidence));
        None
    }
}

/// `SELECT Id FROM Lead WHERE Email = '<email>'`, the value escaped for SOQL.
pub fn lead_query(email: &str) -> String {
    let escaped = email.replace('\\', "\\\\").replace('\'', "\\'");
    format!("SELECT Id FROM Lead WHERE Email = '{escaped}'")
}

fn ids(v: &Value) -> BTreeSet<String> {
    v["records"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["Id"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces the marker registered at send time by the Lead's id, so that an interrupted run
/// names the record to delete.
fn rename_created(ctx: &Ctx, id: &str) {
    if let Ok(mut list) = ctx.created.lock() {
        for c in list.iter_mut().filter(|c| c.destination == ctx.name) {
            c.id = id.to_string();
        }
    }
}

async fn api_get(ctx: &Ctx, api: &Api<'_>, path: &str, soql: Option<&str>) -> Rest {
    api_call(ctx, api, Method::GET, path, soql).await
}

/// One REST call under `/services/data/<version>/`. Network failures become `Other` (the
/// steps that use the API are checks around the delivery, not the delivery).
pub(crate) async fn api_call(
    ctx: &Ctx,
    api: &Api<'_>,
    method: Method,
    path: &str,
    soql: Option<&str>,
) -> Rest {
    let mut url = match api
        .base
        .join(&format!("/services/data/{API_VERSION}/{path}"))
    {
        Ok(u) => u,
        Err(e) => return Rest::Other(format!("bad instance URL: {e}")),
    };
    if let Some(q) = soql {
        url.query_pairs_mut().append_pair("q", q);
    }
    let req = match ctx
        .net
        .request(method, url)
        .header(
            AUTHORIZATION,
            sensitive(&format!("Bearer {}", api.token.expose())),
        )
        .header(ACCEPT, "application/json")
        .build()
    {
        Ok(r) => r,
        Err(e) => return Rest::Other(format!("cannot build the request: {e}")),
    };
    // A query's batch may hold up to 2,000 records (the API's default), over the 1 MiB a
    // single answer is allowed; `leads` reads them.
    let cap = if path.starts_with("query") {
        crate::net::LIST_CAP
    } else {
        crate::net::BODY_CAP
    };
    let resp = match ctx.net.send_capped(req, cap).await {
        Ok(r) => r,
        Err(e) => return Rest::Net(e),
    };
    let status = resp.status.as_u16();
    let error = || {
        // `[{"message":..,"errorCode":..}]`
        let v = resp.json().unwrap_or(Value::Null);
        let e = &v[0];
        match (e["errorCode"].as_str(), e["message"].as_str()) {
            (Some(c), Some(m)) => format!(
                "HTTP {status} {}: {}",
                crate::term::sanitize(c, false),
                crate::term::sanitize(&m.chars().take(200).collect::<String>(), false)
            ),
            _ => format!(
                "HTTP {status} {}",
                resp.status.canonical_reason().unwrap_or("")
            ),
        }
    };
    match status {
        200..=299 => match resp.json() {
            Some(v) => Rest::Ok(v),
            None => Rest::Done,
        },
        401 => Rest::Refused(format!(
            "the REST API refused api_access_token: {}",
            error()
        )),
        _ => Rest::Other(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soql_values_are_escaped() {
        assert_eq!(
            lead_query("a@b.c"),
            "SELECT Id FROM Lead WHERE Email = 'a@b.c'"
        );
        assert_eq!(
            lead_query("o'hara\\@b.c"),
            "SELECT Id FROM Lead WHERE Email = 'o\\'hara\\\\@b.c'"
        );
    }
}
