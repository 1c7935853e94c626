//! Marketo: probe the REST host, get a token with the client credentials, read the form's
//! fields (it must exist and hold a Lead Source field), submit the lead to the form, find it
//! by e-mail, and with `--cleanup` delete only the lead the submission created.
//!
//! Errors come as HTTP 200 with `"success":false` and a code (protocols.md §4). The client
//! secret goes in the token call's form body, never in a URL. The asset API call
//! (`form/{id}/fields.json`) is not in the research; leadcheck reads only `id` and `label`.

use super::{probe, record_cleaned, record_created, BoxFuture, Ctx, Destination, Run, Step};
use crate::config;
use crate::net::{sensitive, Response};
use crate::report::Finding;
use crate::secret::Secret;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use url::Url;

/// Waits between read-backs.
const VERIFY_WAITS: [u64; 3] = [1, 2, 3];

const STEPS: &[(&str, &str)] = &[
    ("dns", "Resolve host"),
    ("connect", "Connect"),
    ("tls", "TLS handshake"),
    ("token", "Get an access token"),
    ("form", "Read the form's fields"),
    ("send", "Submit the MSFT_TEST lead to the form"),
    ("verify", "Find the test lead"),
    ("cleanup", "Delete the test lead"),
];

/// The `marketo` destination.
pub struct Marketo {
    dest: config::Destination,
}

impl Marketo {
    pub fn new(dest: config::Destination) -> Marketo {
        Marketo { dest }
    }
}

impl Destination for Marketo {
    fn kind(&self) -> &'static str {
        "marketo"
    }

    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        STEPS
    }

    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()> {
        Box::pin(self.run(ctx, run))
    }
}

/// What one REST call came to.
pub enum Answer {
    /// `"success": true`: the whole body.
    Ok(Value),
    /// A failure, already a finding (`code`) with evidence.
    Failed(&'static str, String),
}

/// The catalog code of a Marketo error code.
pub fn code_for(marketo: &str) -> &'static str {
    match marketo {
        "600" | "601" | "602" => "LC318",
        "603" => "LC408",
        "606" | "615" => "LC509",
        "607" => "LC510",
        "610" => "LC511",
        "1003" | "1006" => "LC513",
        _ => "LC504",
    }
}

impl Marketo {
    async fn run(&self, ctx: &Ctx, run: &mut Run) {
        let config::Spec::Marketo(spec) = &self.dest.spec else {
            return;
        };
        let step = run.step("config", "Read the Marketo settings");
        let missing = |field: &str| {
            Finding::error("LC102", format!("{field} is missing")).at(self.dest.loc(field))
        };
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let Some(munchkin) = text(&spec.munchkin_id) else {
            return run.fail(step, "munchkin_id is missing", missing("munchkin_id"));
        };
        let Some(form_raw) = text(&spec.form_id) else {
            return run.fail(step, "form_id is missing", missing("form_id"));
        };
        let Ok(form_id) = form_raw.parse::<u64>() else {
            let e = format!(
                "form_id {:?} is not a number",
                crate::term::sanitize(&form_raw, false)
            );
            return run.fail(
                step,
                e.clone(),
                Finding::error("LC115", e).at(self.dest.loc("form_id")),
            );
        };
        let Some(client_id) = text(&spec.client_id) else {
            return run.fail(step, "client_id is missing", missing("client_id"));
        };
        let Some(secret) = spec.client_secret.as_ref().and_then(|s| s.secret()) else {
            return run.fail(
                step,
                "client_secret is missing or unreadable",
                missing("client_secret"),
            );
        };
        let endpoint =
            text(&spec.endpoint).unwrap_or_else(|| format!("https://{munchkin}.mktorest.com"));
        let base = match ctx.net.check_url(&endpoint) {
            Ok(u) => u,
            Err(e) => return super::fail(run, step, &e),
        };
        run.pass(
            step,
            format!(
                "Munchkin ID {munchkin}, form {form_id}, REST API at {}",
                crate::net::redact_url(&base)
            ),
        );

        if !probe(ctx, run, &base).await {
            return;
        }

        // token
        let step = run.step("token", "Get an access token");
        let Some(token) = self.token(ctx, run, step, &base, &client_id, secret).await else {
            return;
        };
        let api = Api {
            base: &base,
            token: &token,
        };

        // form
        let step = run.step("form", "Read the form's fields");
        match api
            .call(
                ctx,
                Method::GET,
                &format!("/rest/asset/v1/form/{form_id}/fields.json"),
                &[],
                None,
            )
            .await
        {
            Answer::Failed(code, e) => return run.fail(step, e.clone(), Finding::error(code, e)),
            Answer::Ok(v) => {
                let fields = v["result"].as_array().cloned().unwrap_or_default();
                if fields.is_empty() {
                    let e = format!("form {form_id} was not found (no fields){}", warnings(&v));
                    return run.fail(step, e.clone(), Finding::error("LC511", e));
                }
                let names: Vec<String> = fields
                    .iter()
                    .map(|f| crate::term::sanitize(f["id"].as_str().unwrap_or("?"), false))
                    .collect();
                match fields.iter().find(|f| is_lead_source(f)) {
                    Some(f) => run.pass(
                        step,
                        format!(
                            "form {form_id}: {} fields, Lead Source is {}",
                            fields.len(),
                            crate::term::sanitize(f["id"].as_str().unwrap_or("?"), false)
                        ),
                    ),
                    None => {
                        let e = format!(
                            "form {form_id} has no Lead Source field (fields: {}); the marketplace needs one",
                            names.join(", ")
                        );
                        return run.fail(step, e.clone(), Finding::error("LC512", e));
                    }
                }
            }
        }

        // send
        let step = run.step("send", "Submit the MSFT_TEST lead to the form");
        if ctx.dry_run {
            run.skip(step, "dry run: the lead was not sent");
            return;
        }
        let body =
            json!({"formId": form_id, "input": [{"leadFormFields": ctx.lead.marketo_fields()}]});
        let mut created: Option<u64> = None;
        match api
            .call(
                ctx,
                Method::POST,
                "/rest/v1/leads/submitForm.json",
                &[],
                Some(body),
            )
            .await
        {
            Answer::Failed(code, e) => return run.fail(step, e.clone(), Finding::error(code, e)),
            Answer::Ok(v) => {
                let rec = &v["result"][0];
                let status = rec["status"].as_str().unwrap_or("");
                match status {
                    "created" | "updated" => {
                        let id = rec["id"].as_u64();
                        record_created(
                            ctx,
                            run,
                            id.map(|i| i.to_string())
                                .unwrap_or_else(|| ctx.lead.marker()),
                        );
                        if status == "created" {
                            created = id;
                        }
                        run.pass(
                            step,
                            format!(
                                "lead {} {status}",
                                id.map(|i| i.to_string()).unwrap_or_else(|| "?".into())
                            ),
                        );
                    }
                    _ => {
                        let (code, e) = record_failure(rec);
                        return run.fail(step, e.clone(), Finding::error(code, e));
                    }
                }
            }
        }

        // verify
        let step = run.step("verify", "Find the test lead");
        let Some(found) = self.verify(ctx, run, step, &api).await else {
            return;
        };

        // cleanup: only a lead this submission created.
        if !ctx.cleanup {
            return;
        }
        let step = run.step("cleanup", "Delete the test lead");
        let Some(id) = created.filter(|c| *c == found) else {
            // Not attempted: `cleaned_up` stays null.
            return run.skip(
                step,
                format!("lead {found} existed before this run (the submission updated it), so leadcheck leaves it alone"),
            );
        };
        let body = json!({"input": [{"id": id}]});
        match api
            .call(
                ctx,
                Method::POST,
                "/rest/v1/leads/delete.json",
                &[],
                Some(body),
            )
            .await
        {
            Answer::Ok(v) if v["result"][0]["status"] == "deleted" => {
                record_cleaned(ctx, run, true);
                run.pass(step, format!("deleted lead {id}"));
            }
            Answer::Ok(v) => {
                record_cleaned(ctx, run, false);
                let (_, why) = record_failure(&v["result"][0]);
                run.skip(
                    step,
                    format!("lead {id} was not deleted ({why}); delete it by hand"),
                );
            }
            Answer::Failed(_, why) => {
                record_cleaned(ctx, run, false);
                run.skip(
                    step,
                    format!("lead {id} was not deleted ({why}); delete it by hand"),
                );
            }
        }
    }

    /// The token call, its parameters in the form body so the secret never sits in a URL.
    async fn token(
        &self,
        ctx: &Ctx,
        run: &mut Run,
        step: Step,
        base: &Url,
        client_id: &str,
        secret: &Secret,
    ) -> Option<String> {
        let url = match base.join("/identity/oauth/token") {
            Ok(u) => u,
            Err(e) => {
                run.fail(
                    step,
                    format!("bad endpoint: {e}"),
                    Finding::error("LC103", e.to_string()),
                );
                return None;
            }
        };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", client_id)
            .append_pair("client_secret", secret.expose())
            .finish();
        let (step, req) = super::build(
            run,
            step,
            ctx.net
                .request(Method::POST, url)
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(ACCEPT, "application/json")
                .body(body),
        )?;
        let (step, resp) = super::send(ctx, run, step, req).await?;
        let v = resp.json().unwrap_or(Value::Null);
        let status = resp.status.as_u16();
        if status == 200 {
            if let Some(t) = v["access_token"].as_str().filter(|t| !t.is_empty()) {
                run.pass(
                    step,
                    format!(
                        "token issued to client {}, expires in {} s",
                        crate::term::sanitize(client_id, false),
                        v["expires_in"].as_u64().unwrap_or(0)
                    ),
                );
                return Some(t.to_string());
            }
        }
        let server = token_refusal(&v, secret);
        let evidence = format!(
            "HTTP {status} {} from the token call{server}",
            resp.status.canonical_reason().unwrap_or("")
        );
        let code = match status {
            500..=599 => "LC504",
            404 => "LC103",
            _ => "LC318",
        };
        run.fail(step, evidence.clone(), Finding::error(code, evidence));
        None
    }

    /// Finds the lead by e-mail, a few times within the deadline; its id when found.
    async fn verify(&self, ctx: &Ctx, run: &mut Run, step: Step, api: &Api<'_>) -> Option<u64> {
        let email = ctx.lead.email();
        let query = [
            ("filterType", "email"),
            ("filterValues", email.as_str()),
            ("fields", "id,email,leadSource,createdAt"),
        ];
        let started = std::time::Instant::now();
        let mut waits = VERIFY_WAITS.iter();
        let mut tries = 0;
        loop {
            tries += 1;
            match api
                .call(ctx, Method::GET, "/rest/v1/leads.json", &query, None)
                .await
            {
                Answer::Ok(v) => {
                    if let Some(id) = v["result"][0]["id"].as_u64() {
                        run.test_lead.verified = Some(true);
                        run.test_lead.id = Some(id.to_string());
                        run.pass(step, format!("lead {id} has email {email}"));
                        return Some(id);
                    }
                }
                Answer::Failed("LC408", why) => {
                    run.skip(
                        step,
                        format!(
                            "the API user may not read leads ({why}); search Marketo for {}",
                            ctx.lead.marker()
                        ),
                    );
                    return None;
                }
                Answer::Failed(code, e) => {
                    run.fail(step, e.clone(), Finding::error(code, e));
                    return None;
                }
            }
            match waits.next().map(|s| Duration::from_secs(*s)) {
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
        let e = format!(
            "the form took the lead, but no lead with email {email} was found after {tries} queries over {} s",
            started.elapsed().as_secs()
        );
        run.fail(step, e.clone(), Finding::error("LC508", e));
        None
    }
}

/// The REST API with a token.
pub(crate) struct Api<'a> {
    pub(crate) base: &'a Url,
    pub(crate) token: &'a str,
}

impl Api<'_> {
    pub(crate) async fn call(
        &self,
        ctx: &Ctx,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Answer {
        let mut url = match self.base.join(path) {
            Ok(u) => u,
            Err(e) => return Answer::Failed("LC103", format!("bad endpoint: {e}")),
        };
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query.iter());
        }
        let mut req = ctx
            .net
            .request(method, url)
            .header(AUTHORIZATION, sensitive(&format!("Bearer {}", self.token)))
            .header(ACCEPT, "application/json");
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(b.to_string());
        }
        let req = match req.build() {
            Ok(r) => r,
            Err(e) => return Answer::Failed("LC103", format!("cannot build the request: {e}")),
        };
        match ctx.net.send(req).await {
            Ok(resp) => judge(&resp, path),
            Err(e) => Answer::Failed(e.code, e.evidence),
        }
    }
}

/// A REST answer: the body when `success` is true, else the mapped failure.
pub fn judge(resp: &Response, path: &str) -> Answer {
    let status = resp.status.as_u16();
    let v = resp.json();
    if status != 200 {
        let code = match status {
            401 => "LC318",
            403 => "LC408",
            404 => "LC103",
            _ => "LC504",
        };
        let excerpt = if resp.body.is_empty() {
            String::new()
        } else {
            format!(": {}", resp.excerpt(200))
        };
        return Answer::Failed(
            code,
            format!(
                "HTTP {status} {} from {path}{excerpt}",
                resp.status.canonical_reason().unwrap_or("")
            ),
        );
    }
    let Some(v) = v else {
        return Answer::Failed(
            "LC504",
            format!("HTTP 200 from {path} is not JSON: {}", resp.excerpt(200)),
        );
    };
    if v["success"].as_bool() == Some(true) {
        return Answer::Ok(v);
    }
    let err = &v["errors"][0];
    let mcode = err["code"]
        .as_str()
        .map(str::to_string)
        .or_else(|| err["code"].as_u64().map(|c| c.to_string()))
        .unwrap_or_default()
        .chars()
        .take(32)
        .collect::<String>();
    let message = crate::term::sanitize(
        &err["message"]
            .as_str()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect::<String>(),
        false,
    );
    Answer::Failed(
        code_for(&mcode),
        format!(
            "{path}: Marketo error {} {message}",
            crate::term::sanitize(&mcode, false)
        ),
    )
}

/// A record-level `skipped` result: its code and evidence.
pub fn record_failure(rec: &Value) -> (&'static str, String) {
    let reasons: Vec<(String, String)> = rec["reasons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let c = r["code"]
                        .as_str()
                        .map(str::to_string)
                        .or_else(|| r["code"].as_u64().map(|c| c.to_string()))
                        .unwrap_or_default();
                    (c, r["message"].as_str().unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let code = reasons.first().map(|(c, _)| code_for(c)).unwrap_or("LC513");
    let code = if code == "LC504" { "LC513" } else { code };
    let text: Vec<String> = reasons
        .iter()
        .map(|(c, m)| {
            crate::term::sanitize(
                &format!("{c} {}", m.chars().take(200).collect::<String>()),
                false,
            )
        })
        .collect();
    (
        code,
        format!(
            "the lead was {}: {}",
            crate::term::sanitize(rec["status"].as_str().unwrap_or("not taken"), false),
            if text.is_empty() {
                "no reason given".into()
            } else {
                text.join("; ")
            }
        ),
    )
}

/// The form's Lead Source field: by id (`LeadSource`, or `SourceSystemName`, the system field
/// the doc suggests mapping it to) or by label ("Lead Source").
fn is_lead_source(f: &Value) -> bool {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase()
    };
    let id = norm(f["id"].as_str().unwrap_or(""));
    let label = norm(f["label"].as_str().unwrap_or(""));
    id == "leadsource" || id == "sourcesystemname" || label == "leadsource"
}

fn warnings(v: &Value) -> String {
    match v["warnings"].as_array().filter(|w| !w.is_empty()) {
        Some(w) => format!(
            ": {}",
            w.iter()
                .filter_map(Value::as_str)
                .map(|s| crate::term::sanitize(s, false))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None => String::new(),
    }
}

/// What the token call's answer says of a refusal (OAuth's `error` and `error_description`,
/// else Marketo's first `errors` entry), as `: ...`, the secret cut out; empty when nothing.
pub(crate) fn token_refusal(v: &Value, secret: &Secret) -> String {
    match (v["error"].as_str(), v["error_description"].as_str()) {
        (Some(e), Some(d)) => format!(": {}: {}", scrub(e, secret), scrub(d, secret)),
        (Some(e), None) => format!(": {}", scrub(e, secret)),
        _ => match v["errors"][0]["code"].as_str() {
            Some(c) => format!(
                ": {} {}",
                scrub(c, secret),
                scrub(v["errors"][0]["message"].as_str().unwrap_or(""), secret)
            ),
            None => String::new(),
        },
    }
}

/// Server text, sanitized, with the secret cut out should a server echo it.
pub(crate) fn scrub(text: &str, secret: &Secret) -> String {
    let t: String = text.chars().take(200).collect();
    let t = if secret.is_empty() {
        t
    } else {
        t.replace(secret.expose(), crate::secret::REDACTED)
    };
    crate::term::sanitize(&t, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marketo_codes_map_to_catalog_codes() {
        assert_eq!(code_for("601"), "LC318");
        assert_eq!(code_for("602"), "LC318");
        assert_eq!(code_for("603"), "LC408");
        assert_eq!(code_for("606"), "LC509");
        assert_eq!(code_for("607"), "LC510");
        assert_eq!(code_for("610"), "LC511");
        assert_eq!(code_for("1006"), "LC513");
        assert_eq!(code_for("611"), "LC504");
    }

    #[test]
    fn lead_source_by_id_or_label() {
        assert!(is_lead_source(&json!({"id": "LeadSource", "label": "x"})));
        assert!(is_lead_source(
            &json!({"id": "SourceSystemName", "label": "x"})
        ));
        assert!(is_lead_source(
            &json!({"id": "Custom_Field__c", "label": "Lead Source:"})
        ));
        assert!(!is_lead_source(
            &json!({"id": "Email", "label": "Email Address:"})
        ));
    }

    #[test]
    fn skipped_records_name_their_reasons() {
        let (code, e) = record_failure(
            &json!({"status": "skipped", "reasons": [{"code": "1006", "message": "Field 'leadSource' not found"}]}),
        );
        assert_eq!(code, "LC513");
        assert_eq!(e, "the lead was skipped: 1006 Field 'leadSource' not found");
    }
}
