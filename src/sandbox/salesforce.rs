//! Salesforce emulator: the web-to-lead servlet and a minimal REST API, sharing one store so
//! that a lead posted to the servlet is what a SOQL query finds.
//!
//! Web-to-lead follows protocols.md §3: the servlet answers HTTP 200 whatever happens; a lead
//! it takes gets `Is-Processed: true` and an empty body; a lead it refuses (wrong `oid`,
//! web-to-lead off, reCAPTCHA on, a required field missing) gets
//! `Is-Processed: true Exception:common.exception.SalesforceGenericException`, and the real
//! reason goes to the admin by e-mail. Over the daily limit (500) a lead is queued, not
//! refused. Creation is asynchronous: a new lead is missed by the first query after it.
//!
//! The research is silent on the REST API; this keeps to what leadcheck reads, in the shapes
//! of Salesforce's public REST reference: `query` (a Lead by e-mail; `DailyWebToLeadCount`
//! and `DailyWebToLeadLimit` of the Organization object), `sobjects/Lead/describe` (fields
//! with `nillable`, `defaultedOnCreate`, `createable`, `type`), `DELETE sobjects/Lead/<id>`,
//! and the 401 `INVALID_SESSION_ID` body for a refused token.
//!
//! For `leadcheck leads` it also answers the listing query ([`crate::leads::salesforce::soql`]:
//! `LeadSource LIKE` patterns joined by `OR`, an optional `CreatedDate >=` literal, `ORDER BY
//! CreatedDate DESC`) with SOQL's `LIKE` semantics (case-insensitive, `%`, `_`, `\` escapes),
//! in batches of [`BATCH`]: `"done": false` and a `nextRecordsUrl` of
//! `/services/data/<version>/query/<locator>-<offset>` until the last batch (an unknown
//! locator is `INVALID_QUERY_LOCATOR`). A user without Read on Lead gets what the public
//! reference describes for an object the user cannot see: 400 `INVALID_TYPE`. Tests preload
//! Leads with [`Salesforce::add_lead`].

use super::{entry_name, Builder, DestinationEntry, Emulator, Family, Reply, Request, Scenario};
use bytes::Bytes;
use http_body_util::Full;
use hyper::http::{header, Method, Response, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The header the servlet sets on every answer.
pub const IS_PROCESSED: &str = "Is-Processed";
/// Its value when the lead was refused.
pub const REFUSED: &str = "true Exception:common.exception.SalesforceGenericException";
/// The servlet's path.
pub const SERVLET_PATH: &str = "/servlet/servlet.WebToLead";
/// The org id the emulator accepts by default.
pub const OID: &str = "00D5e000000SbxQ";
/// The REST access token it accepts by default.
pub const TOKEN: &str = "00D5e000000SbxQ!AQ4AQFakeSessionTokenForTheSandbox";
/// Web-to-lead daily limit (protocols.md §3).
pub const DAILY_LIMIT: u32 = 500;
/// The required picklist the LC501 faults adds to the Lead object.
pub const REQUIRED_PICKLIST: &str = "Partner_Region__c";
/// Records per batch of a query's answer (Salesforce's smallest batch size).
pub const BATCH: usize = 200;
/// Query cursors kept open; the oldest is closed beyond that.
const CURSORS: usize = 64;

/// The failures the emulator can reproduce (catalog codes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// LC501: a required picklist on Lead; web-to-lead refuses leads without it.
    pub required_picklist: bool,
    /// LC502: web-to-lead refuses every lead (off, or reCAPTCHA on).
    pub refuse_all: bool,
    /// LC508: leads are taken but never created (a validation or duplicate rule).
    pub drop_silently: bool,
    /// LC514: the daily limit is used up; leads are queued.
    pub daily_limit_reached: bool,
    /// LC319: the REST API refuses every token.
    pub refuse_token: bool,
    /// The API user may not read Leads: a query on Lead is 400 `INVALID_TYPE` (no catalog
    /// code: `leads` reports it as a skip).
    pub deny_read: bool,
}

impl Faults {
    /// The faults of a catalog code, if the emulator reproduces it.
    pub fn from_code(code: &str) -> Option<Faults> {
        let mut s = Faults::default();
        match code {
            "LC501" => s.required_picklist = true,
            "LC502" => s.refuse_all = true,
            "LC508" => s.drop_silently = true,
            "LC514" => s.daily_limit_reached = true,
            "LC319" => s.refuse_token = true,
            _ => return None,
        }
        Some(s)
    }

    /// The codes [`Faults::from_code`] knows.
    pub const CODES: [&'static str; 5] = ["LC501", "LC502", "LC508", "LC514", "LC319"];

    /// Both faultss at once.
    pub fn merge(self, o: Faults) -> Faults {
        Faults {
            required_picklist: self.required_picklist || o.required_picklist,
            refuse_all: self.refuse_all || o.refuse_all,
            drop_silently: self.drop_silently || o.drop_silently,
            daily_limit_reached: self.daily_limit_reached || o.daily_limit_reached,
            refuse_token: self.refuse_token || o.refuse_token,
            deny_read: self.deny_read || o.deny_read,
        }
    }
}

/// A POST to the servlet as received.
#[derive(Debug, Clone)]
pub struct Posted {
    /// The raw query string of the servlet URL.
    pub query: String,
    pub content_type: String,
    /// The decoded form fields, in order.
    pub form: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
struct StoredLead {
    id: String,
    fields: BTreeMap<String, String>,
    /// `CreatedDate`, Unix seconds.
    created: i64,
    /// Queries that still miss it (web-to-lead creates leads asynchronously).
    hidden_for: u32,
}

impl StoredLead {
    /// A field of the record as the REST API writes it (`null` when empty).
    fn value(&self, field: &str) -> Value {
        if field.eq_ignore_ascii_case("Id") {
            return Value::String(self.id.clone());
        }
        if field.eq_ignore_ascii_case("CreatedDate") {
            return Value::String(crate::leads::rfc3339(self.created).replace('Z', ".000+0000"));
        }
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(field))
            .map(|(_, v)| Value::String(v.clone()))
            .unwrap_or(Value::Null)
    }

    fn record(&self, select: &[String], version: &str) -> Value {
        let mut rec = serde_json::Map::new();
        rec.insert(
            "attributes".into(),
            json!({"type": "Lead", "url": format!("/services/data/{version}/sobjects/Lead/{}", self.id)}),
        );
        for f in select {
            rec.insert(f.clone(), self.value(f));
        }
        Value::Object(rec)
    }
}

/// The records of one listing query, batch by batch.
#[derive(Debug)]
struct Cursor {
    locator: String,
    records: Vec<Value>,
}

#[derive(Debug, Default)]
struct Store {
    leads: Vec<StoredLead>,
    next: u64,
    today: u32,
    /// Every web-to-lead POST, for tests.
    posted: Vec<Posted>,
    /// Open query cursors, oldest first.
    cursors: std::collections::VecDeque<Cursor>,
    next_cursor: u64,
}

/// One emulated org.
#[derive(Debug)]
pub struct Salesforce {
    pub oid: String,
    pub token: String,
    pub faults: Faults,
    store: Mutex<Store>,
}

type Resp = Response<Full<Bytes>>;

/// The web-to-lead parameters and the Lead fields they fill.
const FORM_FIELDS: [(&str, &str); 10] = [
    ("first_name", "FirstName"),
    ("last_name", "LastName"),
    ("email", "Email"),
    ("company", "Company"),
    ("title", "Title"),
    ("phone", "Phone"),
    ("country", "Country"),
    ("description", "Description"),
    ("lead_source", "LeadSource"),
    ("industry", "Industry"),
];

impl Salesforce {
    pub fn new(faults: Faults) -> Salesforce {
        Salesforce {
            oid: OID.to_string(),
            token: TOKEN.to_string(),
            faults,
            store: Mutex::new(Store::default()),
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic elsewhere must not take the emulator down with it.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every POST to the servlet, in order.
    pub fn posted(&self) -> Vec<Posted> {
        self.store().posted.clone()
    }

    /// Adds a Lead as if created at `created` (Unix seconds), visible to the next query:
    /// `fields` by their API names (`LeadSource`, `Email`, ...). Its id.
    pub fn add_lead(&self, fields: &[(&str, &str)], created: i64) -> String {
        let mut store = self.store();
        store.next += 1;
        let id = format!("00Q5e{:010}AAA", store.next);
        store.leads.push(StoredLead {
            id: id.clone(),
            fields: fields
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created,
            hidden_for: 0,
        });
        id
    }

    /// Answers one request.
    pub fn respond(&self, req: &Request) -> Resp {
        let path = req.path.as_str();
        if path == SERVLET_PATH {
            return self.web_to_lead(req);
        }
        if let Some(rest) = path.strip_prefix("/services/data/") {
            return self.rest(req, rest);
        }
        not_found()
    }

    fn web_to_lead(&self, req: &Request) -> Resp {
        if req.method != Method::POST {
            // A browser GET of the servlet gets the same blank page; nothing is created.
            return servlet(false);
        }
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let get = |name: &str| {
            form.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or("")
        };
        let mut store = self.store();
        store.posted.push(Posted {
            query: req.query.clone().unwrap_or_default(),
            content_type: req.header("content-type").unwrap_or("").to_string(),
            form: form.clone(),
        });
        let refused = self.faults.refuse_all
            || get("oid") != self.oid
            // LastName and Company are required on every Lead.
            || get("last_name").is_empty()
            || get("company").is_empty()
            || (self.faults.required_picklist && get(REQUIRED_PICKLIST).is_empty());
        if refused {
            return servlet(false);
        }
        if self.faults.drop_silently || self.faults.daily_limit_reached {
            // Taken, but no lead: a rule dropped it, or it waits in the pending queue.
            return servlet(true);
        }
        store.next += 1;
        store.today += 1;
        let id = format!("00Q5e{:010}AAA", store.next);
        let fields = FORM_FIELDS
            .iter()
            .filter(|(param, _)| !get(param).is_empty())
            .map(|(param, field)| (field.to_string(), get(param).to_string()))
            .collect();
        store.leads.push(StoredLead {
            id,
            fields,
            created: now(),
            hidden_for: 1,
        });
        servlet(true)
    }

    fn rest(&self, req: &Request, rest: &str) -> Resp {
        let Some((version, tail)) = rest.split_once('/') else {
            return not_found();
        };
        if !version.starts_with('v') {
            return not_found();
        }
        let auth = req
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("OAuth "))
            .unwrap_or("");
        if self.faults.refuse_token || token != self.token {
            return rest_json(
                StatusCode::UNAUTHORIZED,
                json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]),
            );
        }
        match (&req.method, tail) {
            (&Method::GET, t) if t.starts_with("query/") && t.len() > "query/".len() => {
                self.next_batch(version, &t["query/".len()..])
            }
            (&Method::GET, "query") | (&Method::GET, "query/") => {
                let q = url::form_urlencoded::parse(req.query.as_deref().unwrap_or("").as_bytes())
                    .find(|(k, _)| k == "q")
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default();
                self.query(version, &q)
            }
            (&Method::GET, "sobjects/Lead/describe")
            | (&Method::GET, "sobjects/Lead/describe/") => {
                rest_json(StatusCode::OK, self.describe())
            }
            (&Method::DELETE, t) if t.starts_with("sobjects/Lead/") => {
                let id = t.strip_prefix("sobjects/Lead/").unwrap_or_default();
                let mut store = self.store();
                match store.leads.iter().position(|l| l.id == id) {
                    Some(i) => {
                        store.leads.remove(i);
                        Response::builder()
                            .status(StatusCode::NO_CONTENT)
                            .body(Full::new(Bytes::new()))
                            .unwrap_or_default()
                    }
                    None => rest_json(
                        StatusCode::NOT_FOUND,
                        json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
                    ),
                }
            }
            _ => rest_json(
                StatusCode::NOT_FOUND,
                json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
            ),
        }
    }

    /// The SOQL shapes leadcheck sends; anything else is a malformed query here.
    fn query(&self, version: &str, q: &str) -> Resp {
        if self.faults.deny_read && regex_is_match(r"(?i)\sFROM\s+Lead\b", q) {
            return rest_json(
                StatusCode::BAD_REQUEST,
                json!([{"message": "sObject type 'Lead' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.", "errorCode": "INVALID_TYPE"}]),
            );
        }
        if let Some(listing) = parse_listing(q) {
            return self.list(version, listing);
        }
        let lead_by_email =
            regex::Regex::new(r"(?i)^\s*SELECT\s+([\w\s,]+?)\s+FROM\s+Lead\s+WHERE\s+Email\s*=\s*'((?:[^'\\]|\\.)*)'\s*(LIMIT\s+\d+\s*)?$")
                .ok()
                .and_then(|re| re.captures(q).map(|c| (c[1].to_string(), c[2].replace("\\'", "'").replace("\\\\", "\\"))));
        if let Some((select, email)) = lead_by_email {
            let mut store = self.store();
            let mut records = Vec::new();
            for lead in store.leads.iter_mut().filter(|l| {
                l.fields
                    .get("Email")
                    .map(|e| e.eq_ignore_ascii_case(&email))
                    .unwrap_or(false)
            }) {
                if lead.hidden_for > 0 {
                    lead.hidden_for -= 1;
                    continue;
                }
                let select: Vec<String> = select
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect();
                records.push(lead.record(&select, version));
            }
            return rest_json(
                StatusCode::OK,
                json!({"totalSize": records.len(), "done": true, "records": records}),
            );
        }
        let org = regex::Regex::new(r"(?i)^\s*SELECT\s+DailyWebToLeadCount\s*,\s*DailyWebToLeadLimit\s+FROM\s+Organization\s*$")
            .map(|re| re.is_match(q))
            .unwrap_or(false);
        if org {
            let today = if self.faults.daily_limit_reached {
                DAILY_LIMIT
            } else {
                self.store().today
            };
            return rest_json(
                StatusCode::OK,
                json!({"totalSize": 1, "done": true, "records": [{
                    "attributes": {"type": "Organization", "url": format!("/services/data/{version}/sobjects/Organization/{}", self.oid)},
                    "DailyWebToLeadCount": today,
                    "DailyWebToLeadLimit": DAILY_LIMIT,
                }]}),
            );
        }
        rest_json(
            StatusCode::BAD_REQUEST,
            json!([{"message": "unexpected token: the sandbox understands only leadcheck's own queries", "errorCode": "MALFORMED_QUERY"}]),
        )
    }

    /// Answers a listing query: the matching Leads newest first, the first batch now and a
    /// cursor for the rest.
    fn list(&self, version: &str, listing: Listing) -> Resp {
        let mut store = self.store();
        let mut hits: Vec<&mut StoredLead> = store
            .leads
            .iter_mut()
            .filter(|l| {
                let source = l.fields.get("LeadSource").map(String::as_str);
                source.is_some_and(|s| listing.like.iter().any(|re| re.is_match(s)))
                    && listing.since.is_none_or(|t| l.created >= t)
            })
            .collect();
        // Newest first; the id breaks ties so that batches never overlap.
        hits.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
        let mut records = Vec::new();
        for lead in hits {
            if lead.hidden_for > 0 {
                lead.hidden_for -= 1;
                continue;
            }
            records.push(lead.record(&listing.select, version));
        }
        store.next_cursor += 1;
        let locator = format!("01gSB{:013}", store.next_cursor);
        let total = records.len();
        let first: Vec<Value> = records.iter().take(BATCH).cloned().collect();
        let mut body = json!({"totalSize": total, "done": total <= BATCH, "records": first});
        if total > BATCH {
            body["nextRecordsUrl"] =
                json!(format!("/services/data/{version}/query/{locator}-{BATCH}"));
            store.cursors.push_back(Cursor { locator, records });
            while store.cursors.len() > CURSORS {
                store.cursors.pop_front();
            }
        }
        rest_json(StatusCode::OK, body)
    }

    /// `query/<locator>-<offset>`: the next batch of an open cursor.
    fn next_batch(&self, version: &str, tail: &str) -> Resp {
        let invalid = || {
            rest_json(
                StatusCode::BAD_REQUEST,
                json!([{"message": "invalid query locator", "errorCode": "INVALID_QUERY_LOCATOR"}]),
            )
        };
        let Some((locator, offset)) = tail.rsplit_once('-') else {
            return invalid();
        };
        let Ok(offset) = offset.parse::<usize>() else {
            return invalid();
        };
        let store = self.store();
        let Some(cursor) = store.cursors.iter().find(|c| c.locator == locator) else {
            return invalid();
        };
        let total = cursor.records.len();
        if offset == 0 || offset >= total {
            return invalid();
        }
        let end = offset.saturating_add(BATCH).min(total);
        let mut body = json!({"totalSize": total, "done": end >= total, "records": cursor.records[offset..end].to_vec()});
        if end < total {
            body["nextRecordsUrl"] =
                json!(format!("/services/data/{version}/query/{locator}-{end}"));
        }
        rest_json(StatusCode::OK, body)
    }

    fn describe(&self) -> Value {
        // (name, type, nillable, defaultedOnCreate, createable)
        let mut fields: Vec<(&str, &str, bool, bool, bool)> = vec![
            ("Id", "id", false, true, false),
            ("LastName", "string", false, false, true),
            ("FirstName", "string", true, false, true),
            ("Company", "string", false, false, true),
            ("Email", "email", true, false, true),
            ("Phone", "phone", true, false, true),
            ("Title", "string", true, false, true),
            ("Country", "string", true, false, true),
            ("Description", "textarea", true, false, true),
            ("LeadSource", "picklist", true, false, true),
            ("Industry", "picklist", true, false, true),
            // Required, but Salesforce fills it: not a problem for web-to-lead.
            ("Status", "picklist", false, true, true),
            ("CreatedDate", "datetime", false, true, false),
        ];
        if self.faults.required_picklist {
            fields.push((REQUIRED_PICKLIST, "picklist", false, false, true));
        }
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(name, kind, nillable, defaulted, createable)| {
                let picklist: Vec<Value> = if kind == "picklist" {
                    ["Web", "Partner", "Other"]
                        .iter()
                        .map(|v| json!({"active": true, "defaultValue": false, "label": v, "validFor": null, "value": v}))
                        .collect()
                } else {
                    Vec::new()
                };
                json!({
                    "name": name,
                    "label": name.trim_end_matches("__c").replace('_', " "),
                    "type": kind,
                    "nillable": nillable,
                    "defaultedOnCreate": defaulted,
                    "createable": createable,
                    "custom": name.ends_with("__c"),
                    "picklistValues": picklist,
                })
            })
            .collect();
        json!({"name": "Lead", "label": "Lead", "createable": true, "deletable": true, "queryable": true, "fields": fields})
    }
}

impl Emulator for Salesforce {
    fn handle(&self, req: &Request) -> Reply {
        Reply::Now(self.respond(req))
    }
}

/// The sandbox's Salesforce orgs: a healthy one with REST API credentials, a healthy one
/// without (web-to-lead only, as most Partner Center configs), and one per scenario.
pub struct SalesforceFamily;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        code: "LC319",
        what: "the REST API refuses the access token (INVALID_SESSION_ID)",
    },
    Scenario {
        code: "LC501",
        what: "a required picklist field on Lead that web-to-lead cannot fill",
    },
    Scenario {
        code: "LC502",
        what: "web-to-lead refuses every lead (Is-Processed: ... SalesforceGenericException)",
    },
    Scenario {
        code: "LC508",
        what: "web-to-lead takes the lead, but no Lead is ever created",
    },
    Scenario {
        code: "LC514",
        what: "the web-to-lead daily limit is used up; leads wait in the pending queue",
    },
];

impl Family for SalesforceFamily {
    fn name(&self) -> &'static str {
        "salesforce"
    }

    fn scenarios(&self) -> &'static [Scenario] {
        SCENARIOS
    }

    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()> {
        let healthy = [(None, true), (None, false)];
        let scenarios = wanted.iter().map(|c| (Some(*c), true));
        for (code, api) in healthy.into_iter().chain(scenarios) {
            let faults = match code {
                None => Faults::default(),
                Some(c) => match Faults::from_code(c) {
                    Some(f) => f,
                    None => continue,
                },
            };
            let name = match (code, api) {
                (None, false) => "salesforce-web-to-lead-only".to_string(),
                _ => entry_name("salesforce", code),
            };
            let slot = sb.bind()?;
            let url = slot.url().to_string();
            let org = Salesforce::new(faults);
            // The demo leads (when asked for) in the healthy org that can be read.
            if code.is_none() && api {
                for l in sb.demo_leads() {
                    let fields = l.salesforce_fields();
                    let pairs: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    org.add_lead(&pairs, l.created);
                }
            }
            sb.serve(slot, &name, org);
            let what = code
                .and_then(|c| SCENARIOS.iter().find(|s| s.code == c))
                .map_or(
                    if api {
                        "a Salesforce org: web-to-lead plus the REST API to verify and clean up"
                    } else {
                        "a Salesforce org, web-to-lead only: arrival cannot be verified"
                    },
                    |s| s.what,
                );
            let mut entry = DestinationEntry::new(name, "salesforce")
                .field("object_identifier", OID)
                .field("endpoint", format!("{url}{SERVLET_PATH}?encoding=UTF-8"));
            if api {
                entry = entry
                    .field("api_instance_url", url.clone())
                    .secret("api_access_token", TOKEN);
            }
            sb.destination(entry.note(what).expect(code));
        }
        Ok(())
    }
}

/// The listing query, parsed: the fields selected, the `LIKE` patterns (as regexes), and
/// the `CreatedDate >=` bound.
struct Listing {
    select: Vec<String>,
    like: Vec<regex::Regex>,
    since: Option<i64>,
}

/// `SELECT <fields> FROM Lead WHERE (LeadSource LIKE '..' OR ...) [AND CreatedDate >= <dt>]
/// ORDER BY CreatedDate DESC`; `None` for any other shape.
fn parse_listing(q: &str) -> Option<Listing> {
    const LIT: &str = r"'(?:[^'\\]|\\.)*'";
    let shape = format!(
        r"(?is)^\s*SELECT\s+([\w\s,]+?)\s+FROM\s+Lead\s+WHERE\s+\(\s*(LeadSource\s+LIKE\s+{LIT}(?:\s+OR\s+LeadSource\s+LIKE\s+{LIT})*)\s*\)(?:\s+AND\s+CreatedDate\s*>=\s*(\S+))?\s+ORDER\s+BY\s+CreatedDate\s+DESC\s*$"
    );
    let c = regex::Regex::new(&shape).ok()?.captures(q)?;
    let select = c[1]
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_string)
        .collect();
    let lit = regex::Regex::new(&format!("(?s)LIKE\\s+({LIT})")).ok()?;
    let like = lit
        .captures_iter(&c[2])
        .map(|m| like_regex(&m[1]))
        .collect::<Option<Vec<_>>>()?;
    let since = match c.get(3) {
        Some(t) => Some(crate::leads::salesforce::parse_zoned(t.as_str())?),
        None => None,
    };
    Some(Listing {
        select,
        like,
        since,
    })
}

/// A SOQL `LIKE` string literal (quotes included) as a regex: case-insensitive, `%` any run,
/// `_` one character, a backslash escapes the next character.
fn like_regex(literal: &str) -> Option<regex::Regex> {
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    let mut re = String::from("(?is)^");
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => re.push_str(&regex::escape(&chars.next()?.to_string())),
            '%' => re.push_str(".*"),
            '_' => re.push('.'),
            c => re.push_str(&regex::escape(&c.to_string())),
        }
    }
    re.push('$');
    regex::Regex::new(&re).ok()
}

fn regex_is_match(re: &str, text: &str) -> bool {
    regex::Regex::new(re)
        .map(|r| r.is_match(text))
        .unwrap_or(false)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The servlet's answer: always 200.
fn servlet(taken: bool) -> Resp {
    Response::builder()
        .status(StatusCode::OK)
        .header(IS_PROCESSED, if taken { "true" } else { REFUSED })
        .header(header::CONTENT_TYPE, "text/html;charset=UTF-8")
        .body(Full::new(Bytes::new()))
        .unwrap_or_default()
}

fn rest_json(status: StatusCode, body: Value) -> Resp {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_default()
}

fn not_found() -> Resp {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, "text/plain")
        .body(Full::new(Bytes::from_static(b"Not Found")))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn call(
        sf: &Salesforce,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: &str,
    ) -> (StatusCode, String, String) {
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
        let resp = sf.respond(&req);
        let status = resp.status();
        let processed = resp
            .headers()
            .get(IS_PROCESSED)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let bytes = futures_util::FutureExt::now_or_never(resp.into_body().collect())
            .unwrap()
            .unwrap()
            .to_bytes();
        (
            status,
            processed,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    const FORM: &str = "oid=00D5e000000SbxQ&first_name=A&last_name=MSFT_TEST_1&email=MSFT_TEST_1%40test.com&company=C&encoding=UTF-8";
    const URL: &str = "/servlet/servlet.WebToLead?encoding=UTF-8";
    const Q: &str = "/services/data/v60.0/query?q=SELECT+Id+FROM+Lead+WHERE+Email+%3D+%27MSFT_TEST_1%40test.com%27";

    #[test]
    fn a_lead_posted_is_found_on_the_second_query_and_deleted() {
        let sf = Salesforce::new(Faults::default());
        let (s, p, b) = call(&sf, "POST", URL, None, FORM);
        assert_eq!((s, p.as_str(), b.as_str()), (StatusCode::OK, "true", ""));
        let (_, _, b) = call(&sf, "GET", Q, Some(TOKEN), "");
        assert_eq!(serde_json::from_str::<Value>(&b).unwrap()["totalSize"], 0);
        let (_, _, b) = call(&sf, "GET", Q, Some(TOKEN), "");
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["totalSize"], 1);
        let id = v["records"][0]["Id"].as_str().unwrap().to_string();
        assert!(id.starts_with("00Q") && id.len() == 18);
        assert_eq!(v["records"][0]["attributes"]["type"], "Lead");
        let (s, _, _) = call(
            &sf,
            "DELETE",
            &format!("/services/data/v60.0/sobjects/Lead/{id}"),
            Some(TOKEN),
            "",
        );
        assert_eq!(s, StatusCode::NO_CONTENT);
        let (s, _, _) = call(
            &sf,
            "DELETE",
            &format!("/services/data/v60.0/sobjects/Lead/{id}"),
            Some(TOKEN),
            "",
        );
        assert_eq!(s, StatusCode::NOT_FOUND);
    }

    #[test]
    fn refusals_are_http_200_with_the_exception_header() {
        let sf = Salesforce::new(Faults::default());
        let wrong_oid = FORM.replace("00D5e000000SbxQ", "00D000000000000");
        assert_eq!(call(&sf, "POST", URL, None, &wrong_oid).1, REFUSED);
        let no_company = FORM.replace("&company=C", "");
        let (s, p, _) = call(&sf, "POST", URL, None, &no_company);
        assert_eq!((s, p.as_str()), (StatusCode::OK, REFUSED));
        let sf = Salesforce::new(Faults::from_code("LC502").unwrap());
        assert_eq!(call(&sf, "POST", URL, None, FORM).1, REFUSED);
        let sf = Salesforce::new(Faults::from_code("LC501").unwrap());
        assert_eq!(call(&sf, "POST", URL, None, FORM).1, REFUSED);
        let (_, _, b) = call(
            &sf,
            "GET",
            "/services/data/v60.0/sobjects/Lead/describe",
            Some(TOKEN),
            "",
        );
        let v: Value = serde_json::from_str(&b).unwrap();
        let f = v["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == REQUIRED_PICKLIST)
            .unwrap();
        assert_eq!(
            (
                f["type"].as_str(),
                f["nillable"].as_bool(),
                f["defaultedOnCreate"].as_bool()
            ),
            (Some("picklist"), Some(false), Some(false))
        );
    }

    #[test]
    fn a_bad_token_is_invalid_session_id() {
        let sf = Salesforce::new(Faults::default());
        let (s, _, b) = call(&sf, "GET", Q, Some("nope"), "");
        assert_eq!(s, StatusCode::UNAUTHORIZED);
        assert_eq!(
            b,
            r#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#
        );
        let sf = Salesforce::new(Faults::from_code("LC319").unwrap());
        assert_eq!(
            call(&sf, "GET", Q, Some(TOKEN), "").0,
            StatusCode::UNAUTHORIZED
        );
    }

    fn get(sf: &Salesforce, path: &str) -> (StatusCode, Value) {
        let (s, _, b) = call(sf, "GET", path, Some(TOKEN), "");
        (s, serde_json::from_str(&b).unwrap_or(Value::Null))
    }

    fn listing(since: Option<i64>) -> String {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("q", &crate::leads::salesforce::soql(since))
            .finish();
        format!("/services/data/v60.0/query?{q}")
    }

    #[test]
    fn the_listing_query_pages_newest_first_and_filters() {
        let sf = Salesforce::new(Faults::default());
        let mut want = Vec::new();
        for k in 0..450i64 {
            let source = match k % 5 {
                0 => "Web".to_string(),
                1 => format!("MSFT_TEST_{k}-MSFT_TEST_{k}|Contoso"),
                2 => "AppSource (SPZA)-PLT|contoso.bi".to_string(),
                // `_` is a wildcard unless escaped: this must not match `MSFT\_TEST\_%`.
                3 => format!("MSFTxTEST_{k}"),
                _ => "azuremarketplace-INS|contoso.bi".to_string(),
            };
            let id = sf.add_lead(&[("LeadSource", &source), ("LastName", "L")], 1_000_000 + k);
            if matches!(k % 5, 1 | 2 | 4) {
                want.push((1_000_000 + k, id));
            }
        }
        want.sort_by(|a, b| b.cmp(a));
        let (s, v) = get(&sf, &listing(None));
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["totalSize"], want.len());
        let mut got = Vec::new();
        let mut page = v;
        let mut batches = 1;
        loop {
            for r in page["records"].as_array().unwrap() {
                got.push(r["Id"].as_str().unwrap().to_string());
                assert!(r["CreatedDate"].as_str().unwrap().ends_with(".000+0000"));
            }
            if page["done"] == true {
                assert!(page.get("nextRecordsUrl").is_none());
                break;
            }
            assert_eq!(page["records"].as_array().unwrap().len(), BATCH);
            let next = page["nextRecordsUrl"].as_str().unwrap().to_string();
            page = get(&sf, &next).1;
            batches += 1;
        }
        assert_eq!(batches, 2);
        let ids: Vec<String> = want.iter().map(|(_, id)| id.clone()).collect();
        assert_eq!(got, ids);
        // The period: only Leads created since then.
        let (_, v) = get(&sf, &listing(Some(1_000_400)));
        assert_eq!(
            v["totalSize"],
            want.iter().filter(|w| w.0 >= 1_000_400).count()
        );
        // A locator that was never handed out.
        let (s, v) = get(&sf, "/services/data/v60.0/query/01gSB0000000000099-200");
        assert_eq!(
            (s, v[0]["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_QUERY_LOCATOR"))
        );
        // Without Read on Lead: INVALID_TYPE.
        let sf = Salesforce::new(Faults {
            deny_read: true,
            ..Faults::default()
        });
        let (s, v) = get(&sf, &listing(None));
        assert_eq!(
            (s, v[0]["errorCode"].as_str()),
            (StatusCode::BAD_REQUEST, Some("INVALID_TYPE"))
        );
    }

    #[test]
    fn daily_limit_queues_and_reports() {
        let sf = Salesforce::new(Faults::from_code("LC514").unwrap());
        assert_eq!(call(&sf, "POST", URL, None, FORM).1, "true");
        let q = "/services/data/v60.0/query?q=SELECT+DailyWebToLeadCount%2C+DailyWebToLeadLimit+FROM+Organization";
        let (_, _, b) = call(&sf, "GET", q, Some(TOKEN), "");
        let v: Value = serde_json::from_str(&b).unwrap();
        assert_eq!(v["records"][0]["DailyWebToLeadCount"], 500);
        assert_eq!(v["records"][0]["DailyWebToLeadLimit"], 500);
        call(&sf, "GET", Q, Some(TOKEN), "");
        assert_eq!(
            serde_json::from_str::<Value>(&call(&sf, "GET", Q, Some(TOKEN), "").2).unwrap()
                ["totalSize"],
            0
        );
    }

    #[test]
    fn a_demo_test_lead_has_the_fields_web_to_lead_gives_the_test_lead() {
        let leads = crate::sandbox::leads::demo_leads(1_796_000_000);
        let l = leads.iter().find(|l| l.test).unwrap();
        let ticks = crate::lead::TICKS_AT_UNIX_EPOCH + l.created as u64 * 10_000_000;
        let lead = crate::lead::Lead::new(Some(ticks), Some(&l.offer));
        let mut want: Vec<(String, String)> = lead
            .salesforce_form(OID)
            .into_iter()
            .filter_map(|(k, v)| {
                FORM_FIELDS
                    .iter()
                    .find(|(form, _)| *form == k)
                    .map(|(_, api)| (api.to_string(), v))
            })
            .collect();
        let mut got: Vec<(String, String)> = l
            .salesforce_fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
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
            method in prop::sample::select(vec![Method::GET, Method::POST, Method::DELETE]),
            path in prop::sample::select(vec![SERVLET_PATH, "/services/data/v60.0/query", "/services/data/v60.0/query/01gSB0000000000001-200", "/services/data/v60.0/query/-", "/services/data/v60.0/sobjects/Lead/describe", "/services/data/v60.0/sobjects/Lead/", "/services/data/", "/services/data/v60.0/sobjects/Lead/00Q"]),
            q in ".{0,60}",
            body in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let sf = Salesforce::new(Faults::default());
            let mut headers = hyper::HeaderMap::new();
            headers.insert(header::AUTHORIZATION, format!("Bearer {TOKEN}").parse().unwrap());
            let query: String = url::form_urlencoded::Serializer::new(String::new()).append_pair("q", &q).finish();
            let r = Request { method, path: path.into(), query: Some(query), headers, body: Bytes::from(body) };
            let resp = sf.respond(&r);
            if path == SERVLET_PATH {
                prop_assert_eq!(resp.status(), StatusCode::OK);
            }
        }
    }
}
