//! Marketo emulator: the identity service and the REST calls a Marketo destination uses.
//!
//! From protocols.md §4: the token call (`/identity/oauth/token`, HTTP 401 for bad client
//! credentials), errors as HTTP 200 with `"success":false` and a numeric-string code (600/601
//! token missing or invalid, 602 expired, 603 access denied, 606 rate limit, 607 daily quota,
//! 610 not found), record-level `"status":"skipped"` with `reasons` (1006 field not found),
//! `leads.json` by e-mail, and Submit Form (`leads/submitForm.json`).
//! The research is silent on the asset API; `form/{id}/fields.json` is kept to the fields
//! leadcheck reads (`id`, `label`, `dataType`, `required`), and a missing form answers 610.
//!
//! For `leadcheck leads` (see [`crate::leads::marketo`]) it keeps an activity log of form
//! fills: Submit Form logs a "Fill Out Form" activity (type 2, the form as primary
//! attribute), `activities/pagingtoken.json?sinceDatetime=` hands out a paging token,
//! `activities.json?activityTypeIds=&nextPageToken=[&batchSize=]` pages through the fills
//! since then, oldest first, up to 300 a page (`moreResult`, `nextPageToken`), and
//! `leads.json` also takes `filterType=id`. The research is silent on these endpoints; they
//! follow the shapes of Marketo's public REST reference, kept to the fields leadcheck reads,
//! and a bad paging token answers 1001 (invalid value). With `deny_read` (the role lacks
//! Read-Only Lead and Read-Only Activity) they answer 603. Tests preload leads and fills
//! with [`Marketo::add_lead`] and [`Marketo::add_fill`].

use super::{entry_name, Builder, DestinationEntry, Emulator, Family, Reply, Request, Scenario};
use bytes::Bytes;
use http_body_util::Full;
use hyper::http::{header, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

pub const MUNCHKIN_ID: &str = "123-PQR-789";
pub const FORM_ID: u64 = 1179;
pub const CLIENT_ID: &str = "3f1c6a52-9b7e-4a41-8d2f-0c5e8a7b1d23";
pub const CLIENT_SECRET: &str = "sandbox-marketo-client-secret-7Qx2";

/// "Fill Out Form", the activity type Submit Form logs.
pub const FILL_OUT_FORM: u64 = 2;
/// The most activities a page holds.
pub const ACTIVITY_PAGE: usize = 300;

/// Lead fields of the emulated instance (REST API names).
const LEAD_FIELDS: [&str; 12] = [
    "email",
    "firstName",
    "lastName",
    "company",
    "title",
    "phone",
    "country",
    "leadSource",
    "sourceSystemName",
    "industry",
    "city",
    "state",
];

/// The form as the doc's screenshot shows it (ms-lead-docs.md §3.3): asset-API field ids,
/// labels, types.
const FORM: [(&str, &str, &str); 8] = [
    ("FirstName", "First Name:", "string"),
    ("LastName", "Last Name:", "string"),
    ("Email", "Email Address:", "email"),
    ("Company", "Company Name:", "string"),
    ("Country", "Country:", "string"),
    ("Phone", "Phone Number:", "phone"),
    ("Title", "Job Title:", "string"),
    ("LeadSource", "Lead Source:", "string"),
];

/// The failures the emulator can reproduce.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// LC318: the client credentials are refused (HTTP 401 on the token call).
    pub refuse_client: bool,
    /// LC318 too: every token it hands out is already expired (602).
    pub expire_tokens: bool,
    /// LC408: the API user's role may not read forms (603).
    pub deny_forms: bool,
    /// 603 on `leads.json` and the activity calls: the role may write but not read leads.
    pub deny_read: bool,
    /// LC509: rate limit (606) on Submit Form.
    pub rate_limited: bool,
    /// LC510: daily quota used up (607) on Submit Form.
    pub quota_used: bool,
    /// LC511: the form does not exist (610).
    pub no_form: bool,
    /// LC512: the form has no Lead Source field.
    pub no_lead_source: bool,
    /// LC513: the instance has no `leadSource` field; Submit Form skips the lead (1006).
    pub missing_field: bool,
    /// LC508: Submit Form says created, but no lead is stored.
    pub drop_silently: bool,
}

impl Faults {
    pub fn from_code(code: &str) -> Option<Faults> {
        let mut s = Faults::default();
        match code {
            "LC318" => s.refuse_client = true,
            "LC408" => s.deny_forms = true,
            "LC509" => s.rate_limited = true,
            "LC510" => s.quota_used = true,
            "LC511" => s.no_form = true,
            "LC512" => s.no_lead_source = true,
            "LC513" => s.missing_field = true,
            "LC508" => s.drop_silently = true,
            _ => return None,
        }
        Some(s)
    }

    /// The codes [`Faults::from_code`] knows.
    pub const CODES: [&'static str; 8] = [
        "LC318", "LC408", "LC509", "LC510", "LC511", "LC512", "LC513", "LC508",
    ];

    pub fn merge(self, o: Faults) -> Faults {
        Faults {
            refuse_client: self.refuse_client || o.refuse_client,
            expire_tokens: self.expire_tokens || o.expire_tokens,
            deny_forms: self.deny_forms || o.deny_forms,
            deny_read: self.deny_read || o.deny_read,
            rate_limited: self.rate_limited || o.rate_limited,
            quota_used: self.quota_used || o.quota_used,
            no_form: self.no_form || o.no_form,
            no_lead_source: self.no_lead_source || o.no_lead_source,
            missing_field: self.missing_field || o.missing_field,
            drop_silently: self.drop_silently || o.drop_silently,
        }
    }
}

#[derive(Debug, Default)]
struct Store {
    tokens: BTreeSet<String>,
    leads: BTreeMap<u64, BTreeMap<String, String>>,
    next: u64,
    requests: u64,
    /// Every `leadFormFields` object submitted, for tests.
    submitted: Vec<serde_json::Map<String, Value>>,
    /// Every raw token-call query string, for tests (the secret must not be in it).
    token_queries: Vec<String>,
    /// When each lead was created (Unix seconds).
    created: BTreeMap<u64, i64>,
    /// The "Fill Out Form" activity log.
    activities: Vec<Activity>,
}

/// One "Fill Out Form" activity.
#[derive(Debug, Clone)]
struct Activity {
    id: u64,
    lead: u64,
    form: u64,
    at: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// One emulated Marketo instance.
#[derive(Debug)]
pub struct Marketo {
    pub munchkin_id: String,
    pub form_id: u64,
    pub client_id: String,
    pub client_secret: String,
    pub faults: Faults,
    store: Mutex<Store>,
}

type Resp = Response<Full<Bytes>>;

impl Marketo {
    pub fn new(faults: Faults) -> Marketo {
        Marketo {
            munchkin_id: MUNCHKIN_ID.to_string(),
            form_id: FORM_ID,
            client_id: CLIENT_ID.to_string(),
            client_secret: CLIENT_SECRET.to_string(),
            faults,
            store: Mutex::new(Store {
                next: 1000,
                ..Store::default()
            }),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every `leadFormFields` submitted, in order.
    pub fn submitted(&self) -> Vec<serde_json::Map<String, Value>> {
        self.store().submitted.clone()
    }

    /// The query strings of every token call.
    pub fn token_queries(&self) -> Vec<String> {
        self.store().token_queries.clone()
    }

    /// Every access token handed out, for tests (none may show in leadcheck's output).
    pub fn tokens(&self) -> Vec<String> {
        self.store().tokens.iter().cloned().collect()
    }

    /// Adds a lead created at `created` (Unix seconds) with `fields` (REST API names:
    /// `email`, `leadSource`, ...), without any activity. Its id.
    pub fn add_lead(&self, fields: &[(&str, &str)], created: i64) -> u64 {
        let mut store = self.store();
        store.next += 1;
        let id = store.next;
        store.leads.insert(
            id,
            fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        store.created.insert(id, created);
        id
    }

    /// Logs that lead `lead` filled out form `form` at `at` (Unix seconds).
    pub fn add_fill(&self, lead: u64, form: u64, at: i64) {
        let mut store = self.store();
        let id = store.activities.len() as u64 + 1;
        store.activities.push(Activity { id, lead, form, at });
    }

    /// Answers one request.
    pub fn respond(&self, req: &Request) -> Resp {
        let path = req.path.as_str();
        let query = req.query.as_deref().unwrap_or("");
        let body = &req.body[..];
        if path == "/identity/oauth/token" {
            return self.token(req, query);
        }
        if !path.starts_with("/rest/") {
            return plain(StatusCode::NOT_FOUND, "Not Found");
        }
        let request_id = {
            let mut s = self.store();
            s.requests += 1;
            format!(
                "{:x}#{:x}",
                0xe42b + s.requests,
                0x0142_72d0_7d78 + s.requests
            )
        };
        let failed = |code: &str, message: &str| {
            json_ok(
                json!({"requestId": request_id, "success": false, "errors": [{"code": code, "message": message}]}),
            )
        };
        // The token: the header, or the `access_token` query parameter Marketo is retiring.
        let auth = req
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = auth
            .strip_prefix("Bearer ")
            .map(str::to_string)
            .or_else(|| param(query.as_bytes(), "access_token"))
            .unwrap_or_default();
        if token.is_empty() {
            return failed("600", "Access token not specified");
        }
        if !self.store().tokens.contains(&token) {
            return failed("601", "Access token invalid");
        }
        if self.faults.expire_tokens {
            return failed("602", "Access token expired");
        }

        let form_fields = path
            .strip_prefix("/rest/asset/v1/form/")
            .and_then(|t| t.strip_suffix("/fields.json"));
        match (&req.method, path) {
            (&Method::GET, _) if form_fields.is_some() => {
                if self.faults.deny_forms {
                    return failed("603", "Access denied");
                }
                let asked = form_fields.unwrap_or_default();
                if self.faults.no_form || asked.parse::<u64>().ok() != Some(self.form_id) {
                    return failed("610", "Requested resource not found");
                }
                let result: Vec<Value> = FORM
                    .iter()
                    .filter(|(id, _, _)| !(self.faults.no_lead_source && *id == "LeadSource"))
                    .map(|(id, label, kind)| {
                        json!({
                            "id": id,
                            "label": label,
                            "dataType": kind,
                            "validationMessage": "This field is required.",
                            "required": *id == "Email",
                            "maxLength": 255,
                            "formPrefill": true,
                        })
                    })
                    .collect();
                json_ok(
                    json!({"success": true, "errors": [], "requestId": request_id, "warnings": [], "result": result}),
                )
            }
            (&Method::POST, "/rest/v1/leads/submitForm.json") => {
                if self.faults.rate_limited {
                    return failed("606", "Max rate limit '100' exceeded with in '20' secs");
                }
                if self.faults.quota_used {
                    return failed("607", "Daily quota reached");
                }
                let Ok(req) = serde_json::from_slice::<Value>(body) else {
                    return failed("609", "Invalid JSON");
                };
                if req["formId"].as_u64() != Some(self.form_id) || self.faults.no_form {
                    return failed("610", "Requested resource not found");
                }
                let Some(input) = req["input"].as_array() else {
                    return failed("1001", "Invalid value for input");
                };
                let mut results = Vec::new();
                let mut store = self.store();
                for item in input {
                    let fields = item["leadFormFields"]
                        .as_object()
                        .cloned()
                        .unwrap_or_default();
                    store.submitted.push(fields.clone());
                    let known = |k: &str| {
                        LEAD_FIELDS.contains(&k)
                            && !(self.faults.missing_field && k == "leadSource")
                    };
                    if let Some(bad) = fields.keys().find(|k| !known(k)) {
                        results.push(json!({"status": "skipped", "reasons": [{"code": "1006", "message": format!("Field '{bad}' not found")}]}));
                        continue;
                    }
                    let email = fields.get("email").and_then(Value::as_str).unwrap_or("");
                    if email.is_empty() {
                        results.push(json!({"status": "skipped", "reasons": [{"code": "1003", "message": "Value for required field 'email' not specified"}]}));
                        continue;
                    }
                    let values: BTreeMap<String, String> = fields
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                v.as_str()
                                    .map(str::to_string)
                                    .unwrap_or_else(|| v.to_string()),
                            )
                        })
                        .collect();
                    let existing = store
                        .leads
                        .iter()
                        .find(|(_, l)| {
                            l.get("email")
                                .map(|e| e.eq_ignore_ascii_case(email))
                                .unwrap_or(false)
                        })
                        .map(|(id, _)| *id);
                    let form = self.form_id;
                    let log = |store: &mut Store, lead: u64| {
                        let id = store.activities.len() as u64 + 1;
                        store.activities.push(Activity {
                            id,
                            lead,
                            form,
                            at: now(),
                        });
                    };
                    if let Some(id) = existing {
                        store.leads.insert(id, values);
                        log(&mut store, id);
                        results.push(json!({"id": id, "status": "updated"}));
                    } else {
                        store.next += 1;
                        let id = store.next;
                        if !self.faults.drop_silently {
                            store.leads.insert(id, values);
                            store.created.insert(id, now());
                            log(&mut store, id);
                        }
                        results.push(json!({"id": id, "status": "created"}));
                    }
                }
                json_ok(json!({"requestId": request_id, "result": results, "success": true}))
            }
            (&Method::GET, "/rest/v1/leads.json") => {
                if self.faults.deny_read {
                    return failed("603", "Access denied");
                }
                let q = query.as_bytes();
                let by = param(q, "filterType").unwrap_or_default();
                if by != "email" && by != "id" {
                    return failed("1003", "Invalid filterType");
                }
                let wanted: Vec<String> = param(q, "filterValues")
                    .unwrap_or_default()
                    .split(',')
                    .map(|s| s.trim().to_lowercase())
                    .collect();
                if wanted.len() > ACTIVITY_PAGE {
                    return failed("1003", "Too many filterValues (300 at most)");
                }
                let fields: Vec<String> = match param(q, "fields") {
                    Some(f) => f
                        .split(',')
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    None => ["updatedAt", "lastName", "email", "createdAt", "firstName"]
                        .iter()
                        .map(|s| s.to_string())
                        .collect(),
                };
                let store = self.store();
                let result: Vec<Value> = store
                    .leads
                    .iter()
                    .filter(|(id, l)| {
                        if by == "id" {
                            return wanted.contains(&id.to_string());
                        }
                        l.get("email")
                            .map(|e| wanted.contains(&e.to_lowercase()))
                            .unwrap_or(false)
                    })
                    .map(|(id, l)| {
                        let mut o = serde_json::Map::new();
                        o.insert("id".into(), json!(id));
                        let created = store.created.get(id).copied().unwrap_or(0);
                        for f in &fields {
                            let v = match f.as_str() {
                                "id" => continue,
                                "createdAt" | "updatedAt" => json!(crate::leads::rfc3339(created)),
                                _ => l.get(f).map(|v| json!(v)).unwrap_or(Value::Null),
                            };
                            o.insert(f.clone(), v);
                        }
                        Value::Object(o)
                    })
                    .collect();
                json_ok(json!({"requestId": request_id, "result": result, "success": true}))
            }
            (&Method::GET, "/rest/v1/activities/pagingtoken.json") => {
                if self.faults.deny_read {
                    return failed("603", "Access denied");
                }
                let since = param(query.as_bytes(), "sinceDatetime").unwrap_or_default();
                let since = crate::leads::salesforce::parse_zoned(&since).or_else(|| {
                    crate::leads::parse_since(&since, 0)
                        .ok()
                        .filter(|_| since.len() == 10)
                });
                match since {
                    Some(t) => json_ok(
                        json!({"requestId": request_id, "success": true, "nextPageToken": page_token(t, 0)}),
                    ),
                    None => failed("1001", "Invalid value for sinceDatetime"),
                }
            }
            (&Method::GET, "/rest/v1/activities.json") => {
                if self.faults.deny_read {
                    return failed("603", "Access denied");
                }
                let q = query.as_bytes();
                let Some(types) = param(q, "activityTypeIds")
                    .map(|t| {
                        t.split(',')
                            .map(|s| s.trim().parse::<u64>())
                            .collect::<Result<Vec<u64>, _>>()
                    })
                    .and_then(Result::ok)
                else {
                    return failed("1003", "activityTypeIds is required");
                };
                let Some((since, offset)) =
                    param(q, "nextPageToken").and_then(|t| read_page_token(&t))
                else {
                    return failed("1001", "Invalid value for nextPageToken");
                };
                let batch = param(q, "batchSize")
                    .and_then(|b| b.parse::<usize>().ok())
                    .filter(|b| (1..=ACTIVITY_PAGE).contains(b))
                    .unwrap_or(ACTIVITY_PAGE);
                let store = self.store();
                let mut log: Vec<&Activity> = store
                    .activities
                    .iter()
                    .filter(|a| a.at >= since && types.contains(&FILL_OUT_FORM))
                    .collect();
                log.sort_by_key(|a| (a.at, a.id));
                let end = offset.saturating_add(batch).min(log.len());
                let page: Vec<Value> = log
                    .get(offset.min(end)..end)
                    .unwrap_or_default()
                    .iter()
                    .map(|a| {
                        json!({
                            "id": a.id,
                            "marketoGUID": a.id.to_string(),
                            "leadId": a.lead,
                            "activityDate": crate::leads::rfc3339(a.at),
                            "activityTypeId": FILL_OUT_FORM,
                            "primaryAttributeValueId": a.form,
                            "primaryAttributeValue": (if a.form == self.form_id { "MarketPlaceLeads".to_string() } else { format!("Form {}", a.form) }),
                            "attributes": [],
                        })
                    })
                    .collect();
                let mut body = json!({
                    "requestId": request_id,
                    "success": true,
                    "nextPageToken": page_token(since, end),
                    "moreResult": end < log.len(),
                });
                if !page.is_empty() {
                    body["result"] = Value::Array(page);
                }
                json_ok(body)
            }
            (&Method::POST, "/rest/v1/leads/delete.json") => {
                let ids: Vec<u64> = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|v| {
                        v["input"]
                            .as_array()
                            .map(|a| a.iter().filter_map(|i| i["id"].as_u64()).collect())
                    })
                    .unwrap_or_default();
                json_ok(
                    json!({"requestId": request_id, "result": self.delete(&ids), "success": true}),
                )
            }
            (&Method::DELETE, "/rest/v1/leads.json") => {
                let ids: Vec<u64> = param(query.as_bytes(), "id")
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
                json_ok(
                    json!({"requestId": request_id, "result": self.delete(&ids), "success": true}),
                )
            }
            _ => plain(StatusCode::NOT_FOUND, "Not Found"),
        }
    }

    fn delete(&self, ids: &[u64]) -> Vec<Value> {
        let mut store = self.store();
        ids.iter()
            .map(|id| match store.leads.remove(id) {
                Some(_) => json!({"id": id, "status": "deleted"}),
                None => json!({"id": id, "status": "skipped", "reasons": [{"code": "1004", "message": "Lead not found"}]}),
            })
            .collect()
    }

    fn token(&self, req: &Request, query: &str) -> Resp {
        self.store().token_queries.push(query.to_string());
        // Parameters from the query (documented) or a form body (what leadcheck sends).
        let get = |k: &str| {
            param(query.as_bytes(), k).or_else(|| {
                if req.method == Method::POST {
                    param(&req.body, k)
                } else {
                    None
                }
            })
        };
        if get("grant_type").as_deref() != Some("client_credentials") {
            return json_status(
                StatusCode::BAD_REQUEST,
                json!({"error": "unsupported_grant_type", "error_description": "Unsupported grant type"}),
            );
        }
        let ok = !self.faults.refuse_client
            && get("client_id").as_deref() == Some(self.client_id.as_str())
            && get("client_secret").as_deref() == Some(self.client_secret.as_str());
        if !ok {
            return json_status(
                StatusCode::UNAUTHORIZED,
                json!({"error": "invalid_client", "error_description": "Bad client credentials"}),
            );
        }
        let token = format!("{}:ab", uuid::Uuid::new_v4());
        self.store().tokens.insert(token.clone());
        json_ok(
            json!({"access_token": token, "token_type": "bearer", "expires_in": 3599, "scope": "leadcheck-api@sandbox.example"}),
        )
    }
}

impl Emulator for Marketo {
    fn handle(&self, req: &Request) -> Reply {
        Reply::Now(self.respond(req))
    }
}

/// The sandbox's Marketo instances: a healthy one and one per scenario.
pub struct MarketoFamily;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        code: "LC318",
        what: "the client ID or secret is refused (HTTP 401 invalid_client)",
    },
    Scenario {
        code: "LC408",
        what: "the API user's role may not read the form (603 Access denied)",
    },
    Scenario {
        code: "LC508",
        what: "Submit Form says created, but the lead is never found",
    },
    Scenario {
        code: "LC509",
        what: "the rate limit is hit on Submit Form (606)",
    },
    Scenario {
        code: "LC510",
        what: "the daily API quota is used up (607)",
    },
    Scenario {
        code: "LC511",
        what: "the form does not exist (610)",
    },
    Scenario {
        code: "LC512",
        what: "the form has no Lead Source field",
    },
    Scenario {
        code: "LC513",
        what: "Submit Form skips the lead: 1006 Field 'leadSource' not found",
    },
];

impl Family for MarketoFamily {
    fn name(&self) -> &'static str {
        "marketo"
    }

    fn scenarios(&self) -> &'static [Scenario] {
        SCENARIOS
    }

    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()> {
        for code in std::iter::once(None).chain(wanted.iter().copied().map(Some)) {
            let faults = match code {
                None => Faults::default(),
                Some(c) => match Faults::from_code(c) {
                    Some(f) => f,
                    None => continue,
                },
            };
            let name = entry_name("marketo", code);
            let slot = sb.bind()?;
            let url = slot.url().to_string();
            let instance = Marketo::new(faults);
            // The demo leads (when asked for) in the healthy instance: each a lead that
            // filled out the marketplace's form when the marketplace sent it.
            if code.is_none() {
                for l in sb.demo_leads() {
                    let fields: Vec<(String, String)> = l
                        .marketo_fields()
                        .into_iter()
                        .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                        .collect();
                    let pairs: Vec<(&str, &str)> = fields
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let id = instance.add_lead(&pairs, l.created);
                    instance.add_fill(id, instance.form_id, l.created);
                }
            }
            sb.serve(slot, &name, instance);
            let what = code
                .and_then(|c| SCENARIOS.iter().find(|s| s.code == c))
                .map_or("a Marketo instance whose form takes the lead", |s| s.what);
            sb.destination(
                DestinationEntry::new(name, "marketo")
                    .field("munchkin_id", MUNCHKIN_ID)
                    .field("form_id", FORM_ID.to_string())
                    .field("client_id", CLIENT_ID)
                    .secret("client_secret", CLIENT_SECRET)
                    .field("endpoint", url)
                    .note(what)
                    .expect(code),
            );
        }
        Ok(())
    }
}

/// The emulator's paging token: where the fills since `since` go on. Opaque to clients
/// (Marketo's are too), in Marketo's base32-looking alphabet.
fn page_token(since: i64, offset: usize) -> String {
    let raw = format!("{since}.{offset}");
    raw.bytes()
        .map(|b| format!("{:02X}", b))
        .collect::<String>()
}

fn read_page_token(token: &str) -> Option<(i64, usize)> {
    if !token.len().is_multiple_of(2) || token.len() > 64 || !token.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).ok())
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let (since, offset) = raw.split_once('.')?;
    Some((since.parse().ok()?, offset.parse().ok()?))
}

fn param(raw: &[u8], key: &str) -> Option<String> {
    url::form_urlencoded::parse(raw)
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

fn json_status(status: StatusCode, body: Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

fn json_ok(body: Value) -> Resp {
    json_status(StatusCode::OK, body)
}

fn plain(status: StatusCode, text: &'static str) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(text.as_bytes())))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn call(
        m: &Marketo,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, Value) {
        let mut b = hyper::http::Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header("Authorization", format!("Bearer {t}"));
        }
        let (parts, ()) = b.body(()).unwrap().into_parts();
        let req = Request {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers,
            body: Bytes::from(body.to_string()),
        };
        let resp = m.respond(&req);
        let status = resp.status();
        let bytes = futures_util::FutureExt::now_or_never(resp.into_body().collect())
            .unwrap()
            .unwrap()
            .to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    fn token(m: &Marketo) -> String {
        let body = format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
        );
        let (s, v) = call(m, "POST", "/identity/oauth/token", None, &body);
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["token_type"], "bearer");
        assert_eq!(v["expires_in"], 3599);
        v["access_token"].as_str().unwrap().to_string()
    }

    fn submit(m: &Marketo, t: &str) -> Value {
        let body = json!({"formId": FORM_ID, "input": [{"leadFormFields": {"email": "MSFT_TEST_1@test.com", "lastName": "MSFT_TEST_1", "leadSource": "x"}}]});
        call(
            m,
            "POST",
            "/rest/v1/leads/submitForm.json",
            Some(t),
            &body.to_string(),
        )
        .1
    }

    #[test]
    fn healthy_round_trip() {
        let m = Marketo::new(Faults::default());
        let t = token(&m);
        let (_, v) = call(
            &m,
            "GET",
            "/rest/asset/v1/form/1179/fields.json",
            Some(&t),
            "",
        );
        assert_eq!(v["success"], true);
        assert!(v["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "LeadSource"));
        let v = submit(&m, &t);
        assert_eq!(v["result"][0]["status"], "created");
        let id = v["result"][0]["id"].as_u64().unwrap();
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/leads.json?filterType=email&filterValues=MSFT_TEST_1%40test.com",
            Some(&t),
            "",
        );
        assert_eq!(v["result"][0]["id"], id);
        assert_eq!(v["result"][0]["email"], "MSFT_TEST_1@test.com");
        let (_, v) = call(
            &m,
            "POST",
            "/rest/v1/leads/delete.json",
            Some(&t),
            &json!({"input": [{"id": id}]}).to_string(),
        );
        assert_eq!(v["result"][0]["status"], "deleted");
        let (_, v) = call(
            &m,
            "DELETE",
            &format!("/rest/v1/leads.json?id={id}"),
            Some(&t),
            "",
        );
        assert_eq!(v["result"][0]["reasons"][0]["code"], "1004");
    }

    #[test]
    fn form_fills_are_paged_by_token() {
        let m = Marketo::new(Faults::default());
        let t = token(&m);
        let mut want = Vec::new();
        for k in 0..700i64 {
            let id = m.add_lead(&[("email", &format!("l{k}@x.com"))], 1_000_000);
            if k % 7 == 0 {
                continue; // no form filled out
            }
            let form = if k % 3 == 0 { 2001 } else { FORM_ID };
            m.add_fill(id, form, 1_000_000 + k);
            want.push((id, form, 1_000_000 + k));
        }
        let submitted = submit(&m, &t)["result"][0]["id"].as_u64().unwrap();
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/activities/pagingtoken.json?sinceDatetime=1970-01-12T13:46:40Z",
            Some(&t),
            "",
        );
        let mut next = v["nextPageToken"].as_str().unwrap().to_string();
        let mut got = Vec::new();
        let mut pages = 0;
        loop {
            let (_, v) = call(
                &m,
                "GET",
                &format!("/rest/v1/activities.json?activityTypeIds=2&nextPageToken={next}"),
                Some(&t),
                "",
            );
            assert_eq!(v["success"], true, "{v}");
            pages += 1;
            for a in v["result"].as_array().into_iter().flatten() {
                assert_eq!(a["activityTypeId"], FILL_OUT_FORM);
                got.push((
                    a["leadId"].as_u64().unwrap(),
                    a["primaryAttributeValueId"].as_u64().unwrap(),
                    crate::leads::parse_time(a["activityDate"].as_str().unwrap()).unwrap(),
                ));
            }
            next = v["nextPageToken"].as_str().unwrap().to_string();
            if v["moreResult"] != true {
                break;
            }
        }
        assert_eq!(pages, 3);
        // The submission is the newest fill, on the form.
        let last = got.pop().unwrap();
        assert_eq!((last.0, last.1), (submitted, FORM_ID));
        assert_eq!(got, want);
        // From a later date: fewer.
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/activities/pagingtoken.json?sinceDatetime=1970-01-12T13:56:40Z",
            Some(&t),
            "",
        );
        let tok = v["nextPageToken"].as_str().unwrap();
        let (_, v) = call(
            &m,
            "GET",
            &format!("/rest/v1/activities.json?activityTypeIds=2&batchSize=10&nextPageToken={tok}"),
            Some(&t),
            "",
        );
        assert_eq!(v["result"][0]["activityDate"], "1970-01-12T13:56:40Z");
        assert_eq!(v["result"].as_array().unwrap().len(), 10);
        // Leads by id.
        let ids = format!("{},{}", want[0].0, want[1].0);
        let (_, v) = call(
            &m,
            "GET",
            &format!("/rest/v1/leads.json?filterType=id&filterValues={ids}&fields=email,createdAt"),
            Some(&t),
            "",
        );
        assert_eq!(v["result"].as_array().unwrap().len(), 2);
        assert_eq!(v["result"][0]["createdAt"], "1970-01-12T13:46:40Z");
        // Bad tokens and a refused read.
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/activities.json?activityTypeIds=2&nextPageToken=zz",
            Some(&t),
            "",
        );
        assert_eq!(v["errors"][0]["code"], "1001");
        let m = Marketo::new(Faults {
            deny_read: true,
            ..Faults::default()
        });
        let t = token(&m);
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/activities/pagingtoken.json?sinceDatetime=2026-01-01",
            Some(&t),
            "",
        );
        assert_eq!(v["errors"][0]["code"], "603");
    }

    #[test]
    fn token_errors() {
        let m = Marketo::new(Faults::from_code("LC318").unwrap());
        let body = format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}"
        );
        let (s, v) = call(&m, "POST", "/identity/oauth/token", None, &body);
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(
            v,
            json!({"error": "invalid_client", "error_description": "Bad client credentials"})
        );
        let m = Marketo::new(Faults::default());
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/leads.json?filterType=email&filterValues=a",
            Some("x:ab"),
            "",
        );
        assert_eq!(
            (v["success"].as_bool(), v["errors"][0]["code"].as_str()),
            (Some(false), Some("601"))
        );
        let (_, v) = call(
            &m,
            "GET",
            "/rest/v1/leads.json?filterType=email&filterValues=a",
            None,
            "",
        );
        assert_eq!(v["errors"][0]["code"], "600");
        let m = Marketo::new(Faults {
            expire_tokens: true,
            ..Faults::default()
        });
        let t = token(&m);
        assert_eq!(submit(&m, &t)["errors"][0]["code"], "602");
    }

    #[test]
    fn faults_errors() {
        let code = |s: &str, f: &dyn Fn(&Marketo, &str) -> Value| {
            let m = Marketo::new(Faults::from_code(s).unwrap());
            let t = token(&m);
            f(&m, &t)
        };
        let fields = |m: &Marketo, t: &str| {
            call(
                m,
                "GET",
                "/rest/asset/v1/form/1179/fields.json",
                Some(t),
                "",
            )
            .1
        };
        assert_eq!(code("LC408", &fields)["errors"][0]["code"], "603");
        assert_eq!(code("LC511", &fields)["errors"][0]["code"], "610");
        let v = code("LC512", &fields);
        assert!(
            v["success"] == true
                && !v["result"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["id"] == "LeadSource")
        );
        assert_eq!(code("LC509", &submit)["errors"][0]["code"], "606");
        assert_eq!(code("LC510", &submit)["errors"][0]["code"], "607");
        let v = code("LC513", &submit);
        assert_eq!(v["result"][0]["status"], "skipped");
        assert_eq!(
            v["result"][0]["reasons"][0],
            json!({"code": "1006", "message": "Field 'leadSource' not found"})
        );
        let m = Marketo::new(Faults::default());
        let t = token(&m);
        assert_eq!(
            call(
                &m,
                "GET",
                "/rest/asset/v1/form/42/fields.json",
                Some(&t),
                ""
            )
            .1["errors"][0]["code"],
            "610"
        );
    }
}

#[cfg(test)]
mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any request gets an answer, never a panic.
        #[test]
        fn any_request_is_answered(
            post in any::<bool>(),
            path in prop::sample::select(vec!["/identity/oauth/token", "/rest/v1/leads/submitForm.json", "/rest/v1/leads.json", "/rest/v1/leads/delete.json", "/rest/asset/v1/form/1179/fields.json", "/rest/asset/v1/form//fields.json", "/rest/v1/activities.json", "/rest/v1/activities/pagingtoken.json", "/x"]),
            query in ".{0,40}",
            body in prop::collection::vec(any::<u8>(), 0..200),
            json_body in any::<bool>(),
        ) {
            let m = Marketo::new(Faults::default());
            let t = {
                let q = format!("grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}");
                let r = Request { method: Method::GET, path: "/identity/oauth/token".into(), query: Some(q), headers: Default::default(), body: Bytes::new() };
                let resp = m.respond(&r);
                prop_assert_eq!(resp.status(), StatusCode::OK);
                m.store().tokens.iter().next().cloned().unwrap_or_default()
            };
            let mut headers = hyper::HeaderMap::new();
            headers.insert(header::AUTHORIZATION, format!("Bearer {t}").parse().unwrap());
            let body = if json_body {
                Bytes::from(json!({"formId": FORM_ID, "input": [{"leadFormFields": String::from_utf8_lossy(&body)}]}).to_string())
            } else {
                Bytes::from(body)
            };
            let r = Request { method: if post { Method::POST } else { Method::GET }, path: path.into(), query: Some(query), headers, body };
            let _ = m.respond(&r);
        }
    }
}
