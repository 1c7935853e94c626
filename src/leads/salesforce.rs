//! Salesforce: the marketplace's leads read back through the REST API with SOQL, newest
//! first, batch by batch through `nextRecordsUrl`.
//!
//! How a marketplace lead is recognized: web-to-lead puts the marketplace's `lead_source`
//! into the Lead's `LeadSource` field (protocols.md §3, the form fields). The marketplace
//! writes it as `Source-Action|Offer` with the sources `AzureMarketplace`, `AzurePortal`,
//! `AppSource (SPZA)` (older: `SPZA`, `TestDrive`), and its test lead as
//! `MSFT_TEST_<t>-MSFT_TEST_<t>|<offer title>` (protocols.md §0, ms-lead-docs.md §4). So the
//! query keeps the Leads whose `LeadSource` starts with one of those sources followed by `-`,
//! or with `MSFT_TEST_`; every other Lead (a website form, an import) is not the marketplace's.
//!
//! The research is silent on the REST API. This uses what diagnose already uses (the `query`
//! resource of the same API version, the token as a bearer, its `[{"errorCode",..}]` error
//! bodies; see [`crate::destination::salesforce`]) plus the query's documented paging: an
//! answer with `"done": false` names the next batch in `nextRecordsUrl`, a path on the same
//! instance. Which error codes mean "may not read" is Salesforce's public REST reference,
//! not the research: `INSUFFICIENT_ACCESS...`, `API_DISABLED_FOR_ORG` and
//! `API_CURRENTLY_DISABLED` (no API for the user or the org), `INVALID_TYPE` (the Lead object
//! is not visible to the user) and `INVALID_FIELD` (a selected field is hidden from the user).

use super::source::{ReadError, Reader};
use super::{parse_time, rfc3339, Listed};
use crate::config;
use crate::destination::salesforce::{api_call, Api, Rest, API_VERSION};
use crate::destination::Ctx;
use crate::lead::Lead;
use crate::net::{BoxFuture, Net};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::Value;
use url::Url;

/// The `LeadSource` sources of the marketplace (ms-lead-docs.md §4): each is followed by
/// `-<action>|<offer>`.
pub const SOURCES: [&str; 5] = [
    "AzureMarketplace",
    "AzurePortal",
    "AppSource (SPZA)",
    "SPZA",
    "TestDrive",
];

/// The marker that starts a test lead's `LeadSource`.
const TEST_MARKER: &str = "MSFT_TEST_";

/// The Lead fields read, in the order of [`Listed`].
const FIELDS: &str = "Id, CreatedDate, LeadSource, FirstName, LastName, Company, Email, Country";

/// What `open` says when the config can only write leads.
pub const WEB_TO_LEAD_ONLY: &str =
    "web-to-lead cannot be read back; add api_instance_url and api_access_token to read leads";

/// A `LIKE` pattern matching `prefix` then anything, escaped for SOQL: `\` and `'` in the
/// string literal, `%` and `_` (wildcards) in the pattern.
fn like_prefix(prefix: &str) -> String {
    let mut p = String::new();
    for c in prefix.chars() {
        if matches!(c, '\\' | '\'' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    format!("'{p}%'")
}

/// The SOQL that selects the marketplace's Leads created since `since`, newest first.
pub fn soql(since: Option<i64>) -> String {
    let mut like: Vec<String> = SOURCES
        .iter()
        .map(|s| format!("LeadSource LIKE {}", like_prefix(&format!("{s}-"))))
        .collect();
    like.push(format!("LeadSource LIKE {}", like_prefix(TEST_MARKER)));
    let mut q = format!("SELECT {FIELDS} FROM Lead WHERE ({})", like.join(" OR "));
    if let Some(t) = since {
        // A datetime literal is written bare, in UTC.
        q.push_str(&format!(" AND CreatedDate >= {}", rfc3339(t)));
    }
    q.push_str(" ORDER BY CreatedDate DESC");
    q
}

/// Whether a `LeadSource` is the marketplace's, by the same rule as [`soql`] and, as SOQL's
/// `LIKE`, regardless of ASCII case (the service's answer is checked too: a Lead the query
/// should not have matched is left out).
pub fn is_marketplace_source(s: &str) -> bool {
    let starts = |s: &str, p: &str| s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    starts(s, TEST_MARKER) || SOURCES.iter().any(|src| starts(s, &format!("{src}-")))
}

/// The parts of the marketplace's combined lead source `Source-Action|Offer` (the docs also
/// write it with spaces around `|`): (source, action, offer). A string without `|` or `-`
/// is the source alone.
pub fn split_lead_source(s: &str) -> (String, String, String) {
    let (head, offer) = match s.split_once('|') {
        Some((h, o)) => (h.trim(), o.trim()),
        None => (s.trim(), ""),
    };
    // A known source may itself hold a `-` in the future; match the known ones first.
    let known = SOURCES
        .iter()
        .filter_map(|src| {
            head.strip_prefix(src)
                .and_then(|r| r.strip_prefix('-'))
                .map(|a| (*src, a))
        })
        .max_by_key(|(src, _)| src.len());
    let (source, action) = match known {
        Some((src, a)) => (src, a),
        None => head.rsplit_once('-').unwrap_or((head, "")),
    };
    (
        source.trim().to_string(),
        action.trim().to_string(),
        offer.to_string(),
    )
}

/// A timestamp as Salesforce and Marketo write it: `2026-11-02T10:11:12.000+0000` (a numeric
/// offset, with or without `:`), or with `Z`. `None` for anything else.
pub fn parse_zoned(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.len() > 19 && s.is_char_boundary(19) {
        let (head, tail) = s.split_at(19);
        if let Some(pos) = tail.find(['+', '-']) {
            let (frac, zone) = tail.split_at(pos);
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let local = parse_time(&format!("{head}{frac}"))?;
            return Some(local - sign * (h * 3600 + m * 60));
        }
    }
    parse_time(s)
}

/// One Lead record of a query's answer, as listed.
pub fn from_record(r: &Value) -> Listed {
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    let (source, action, offer) = split_lead_source(&text("LeadSource"));
    let mut lead = Listed {
        id: text("Id"),
        created: r["CreatedDate"].as_str().and_then(parse_zoned),
        offer,
        action_code: action,
        lead_source: source,
        first_name: text("FirstName"),
        last_name: text("LastName"),
        company: text("Company"),
        email: text("Email"),
        country: text("Country"),
        test: false,
    };
    lead.mark_test();
    lead.test |= lead.lead_source.starts_with(TEST_MARKER);
    lead
}

/// The Salesforce error code of an answer as [`api_call`] words it
/// (`HTTP <status> <CODE>: <message>`), when there is one.
fn error_code(why: &str) -> Option<&str> {
    let rest = why.strip_prefix("HTTP ")?;
    let (_, rest) = rest.split_once(' ')?;
    let (code, _) = rest.split_once(':')?;
    (!code.is_empty() && code.bytes().all(|c| c.is_ascii_uppercase() || c == b'_')).then_some(code)
}

/// Whether a Salesforce error code means the token may not read leads.
fn is_refusal(code: &str) -> bool {
    code.starts_with("INSUFFICIENT_ACCESS")
        || matches!(
            code,
            "API_DISABLED_FOR_ORG" | "API_CURRENTLY_DISABLED" | "INVALID_TYPE" | "INVALID_FIELD"
        )
}

/// A REST answer that is not a batch of records, as a read error.
pub(crate) fn read_error(rest: Rest) -> ReadError {
    match rest {
        Rest::Ok(_) | Rest::Done => ReadError::Failed(
            "Salesforce's answer to the query is not a batch of records (or is larger than leadcheck reads)".into(),
        ),
        Rest::Refused(why) => ReadError::Failed(format!(
            "{why}; the session behind api_access_token has expired or was revoked: get a new access token for the API user and put it in api_access_token (`leadcheck diagnose` checks it)"
        )),
        Rest::Other(why) => match error_code(&why) {
            Some(code) if is_refusal(code) => ReadError::Refused(format!(
                "the REST API may not read leads ({why}): grant the API user API Enabled and Read on Lead, with read access to its fields {FIELDS}"
            )),
            _ => ReadError::Failed(format!("the REST API could not query leads: {why}")),
        },
        Rest::Net(e) => ReadError::Failed(format!(
            "the REST API at api_instance_url: {}",
            e.evidence
        )),
    }
}

/// The path under `/services/data/<version>/` of a `nextRecordsUrl`: only on the instance
/// leadcheck asked, under its API version, and a query locator (`query/<locator>`).
pub fn next_path(base: &Url, next: &str) -> Result<String, String> {
    let refuse = || {
        format!(
            "Salesforce named a next batch leadcheck does not follow: {}",
            crate::term::sanitize(&next.chars().take(200).collect::<String>(), false)
        )
    };
    let url = base.join(next).map_err(|_| refuse())?;
    if url.origin() != base.origin() || url.query().is_some() || url.fragment().is_some() {
        return Err(refuse());
    }
    let prefix = format!("/services/data/{API_VERSION}/query/");
    let locator = url.path().strip_prefix(&prefix).ok_or_else(refuse)?;
    if locator.is_empty()
        || !locator
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-')
    {
        return Err(refuse());
    }
    Ok(format!("query/{locator}"))
}

/// Reads a Salesforce org's marketplace Leads.
pub struct SalesforceReader {
    name: String,
    base: Url,
    token: Secret,
    soql: String,
    /// The next batch (`query/<locator>`); `None` before the first.
    next: Option<String>,
    done: bool,
}

impl SalesforceReader {
    /// The reader of `dest` (a Salesforce destination), or why it cannot read.
    pub fn open(
        dest: &config::Destination,
        spec: &config::model::Salesforce,
        since: Option<i64>,
    ) -> Result<SalesforceReader, ReadError> {
        let url = spec
            .api_instance_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty());
        let (url, token) = match (url, spec.api_access_token.as_ref()) {
            (Some(u), Some(t)) => (u, t),
            _ => return Err(ReadError::Refused(WEB_TO_LEAD_ONLY.into())),
        };
        let token = token.secret().cloned().ok_or_else(|| {
            ReadError::Failed(
                "api_access_token could not be read or is empty (`leadcheck lint` says more)"
                    .into(),
            )
        })?;
        let base = crate::net::check_url(url).map_err(|e| ReadError::Failed(e.evidence))?;
        Ok(SalesforceReader {
            name: dest.name.clone(),
            base,
            token,
            soql: soql(since),
            next: None,
            done: false,
        })
    }
}

impl Reader for SalesforceReader {
    fn what(&self) -> String {
        format!(
            "the Salesforce org at {}",
            crate::net::redact_url(&self.base)
        )
    }

    fn query(&self) -> String {
        format!(
            "GET {}services/data/{API_VERSION}/query?q={} (then each batch's nextRecordsUrl)",
            crate::net::redact_url(&self.base)
                .trim_end_matches('/')
                .to_string()
                + "/",
            self.soql
        )
    }

    fn next_page<'a>(
        &'a mut self,
        net: &'a Net,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, ReadError>> {
        Box::pin(async move {
            if self.done {
                return Ok(None);
            }
            // `api_call` reads only the network of its context.
            let ctx = Ctx::new(net.clone(), Lead::new(Some(0), None), self.name.clone());
            let api = Api {
                base: self.base.clone(),
                token: &self.token,
            };
            let rest = match &self.next {
                None => api_call(&ctx, &api, Method::GET, "query", Some(&self.soql)).await,
                Some(path) => api_call(&ctx, &api, Method::GET, path, None).await,
            };
            let v = match rest {
                Rest::Ok(v) if v["records"].is_array() => v,
                other => return Err(read_error(other)),
            };
            let leads = v["records"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter(|r| r["LeadSource"].as_str().is_some_and(is_marketplace_source))
                        .map(from_record)
                        .collect()
                })
                .unwrap_or_default();
            match (v["done"].as_bool(), v["nextRecordsUrl"].as_str()) {
                (Some(false), Some(next)) => {
                    let path = next_path(&self.base, next).map_err(ReadError::Failed)?;
                    if self.next.as_deref() == Some(path.as_str()) {
                        return Err(ReadError::Failed(
                            "Salesforce named the same batch again".into(),
                        ));
                    }
                    self.next = Some(path);
                }
                (Some(false), None) => {
                    return Err(ReadError::Failed(
                        "Salesforce said more Leads follow but named no next batch".into(),
                    ))
                }
                _ => self.done = true,
            }
            Ok(Some(leads))
        })
    }

    fn rewind(&mut self, since: Option<i64>) {
        self.soql = soql(since);
        self.next = None;
        self.done = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_query_selects_marketplace_sources_and_the_period() {
        let q = soql(None);
        assert_eq!(
            q,
            "SELECT Id, CreatedDate, LeadSource, FirstName, LastName, Company, Email, Country FROM Lead \
             WHERE (LeadSource LIKE 'AzureMarketplace-%' OR LeadSource LIKE 'AzurePortal-%' \
             OR LeadSource LIKE 'AppSource (SPZA)-%' OR LeadSource LIKE 'SPZA-%' \
             OR LeadSource LIKE 'TestDrive-%' OR LeadSource LIKE 'MSFT\\_TEST\\_%') \
             ORDER BY CreatedDate DESC"
        );
        let start = super::super::days_from_civil(2026, 11, 1).unwrap();
        let q = soql(Some(start));
        assert!(
            q.ends_with(" AND CreatedDate >= 2026-11-01T00:00:00Z ORDER BY CreatedDate DESC"),
            "{q}"
        );
        assert_eq!(like_prefix("o'h_a%\\"), "'o\\'h\\_a\\%\\\\%'");
    }

    #[test]
    fn marketplace_sources_are_told_apart() {
        for s in [
            "AzureMarketplace-INS|contoso.analytics",
            "AzurePortal-Create | fabrikam.crm",
            "AppSource (SPZA)-PLT|northwind.bi",
            "SPZA-DNC|x.y",
            "TestDrive-StartTestDrive|x.y",
            "MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844|Contoso Test",
            "azuremarketplace-INS|a.b",
        ] {
            assert!(is_marketplace_source(s), "{s}");
        }
        for s in [
            "",
            "Web",
            "AzureMarketplace",
            "AzureMarketplaceX-INS|a.b",
            "Partner Referral",
            "MSFTxTEST_1",
            "AzureMarketplaceINS|a.b",
        ] {
            assert!(!is_marketplace_source(s), "{s}");
        }
    }

    #[test]
    fn the_combined_lead_source_is_split() {
        let t = |s: &str| {
            let (a, b, c) = split_lead_source(s);
            (a, b, c)
        };
        let own = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        assert_eq!(
            t("AzureMarketplace-INS|contoso.analytics"),
            own("AzureMarketplace", "INS", "contoso.analytics")
        );
        assert_eq!(
            t("AppSource (SPZA)-PLT | northwind.bi"),
            own("AppSource (SPZA)", "PLT", "northwind.bi")
        );
        let lead = Lead::new(Some(636_573_304_831_318_844), Some("Contoso | Test"));
        assert_eq!(
            t(&lead.combined_lead_source()),
            own(&lead.marker(), &lead.marker(), "Contoso | Test")
        );
        assert_eq!(t("Web"), own("Web", "", ""));
        assert_eq!(t(""), own("", "", ""));
    }

    #[test]
    fn a_record_is_mapped() {
        let lead = Lead::new(Some(636_573_304_831_318_844), Some("Contoso Test"));
        let form: std::collections::BTreeMap<String, String> =
            lead.salesforce_form("00D").into_iter().collect();
        let r = json!({
            "attributes": {"type": "Lead", "url": "/services/data/v60.0/sobjects/Lead/00Q1"},
            "Id": "00Q5e000001AAA", "CreatedDate": "2018-03-22T16:48:03.000+0100",
            "LeadSource": form["lead_source"], "FirstName": form["first_name"],
            "LastName": form["last_name"], "Company": form["company"],
            "Email": form["email"], "Country": form["country"],
        });
        let l = from_record(&r);
        assert_eq!(l.id, "00Q5e000001AAA");
        assert_eq!(
            l.created.map(rfc3339).as_deref(),
            Some("2018-03-22T15:48:03Z")
        );
        assert_eq!(l.lead_source, lead.marker());
        assert_eq!(l.action_code, lead.marker());
        assert_eq!(l.offer, "Contoso Test");
        assert_eq!(l.email, lead.email());
        assert_eq!(l.country, "US");
        assert!(l.test);

        let r = json!({"Id": "00Q2", "CreatedDate": "2026-11-02T10:11:12.000+0000",
            "LeadSource": "AzureMarketplace-INS|contoso.analytics", "FirstName": null,
            "LastName": "Silva", "Email": 7});
        let l = from_record(&r);
        assert_eq!(l.created, parse_time("2026-11-02T10:11:12Z"));
        assert_eq!(
            (
                l.lead_source.as_str(),
                l.action_code.as_str(),
                l.offer.as_str()
            ),
            ("AzureMarketplace", "INS", "contoso.analytics")
        );
        assert_eq!((l.first_name.as_str(), l.email.as_str()), ("", ""));
        assert!(!l.test);
        assert_eq!(from_record(&json!("x")), Listed::default());
    }

    #[test]
    fn zoned_times() {
        let z = parse_time("2026-11-02T10:11:12Z");
        assert_eq!(parse_zoned("2026-11-02T10:11:12.000+0000"), z);
        assert_eq!(parse_zoned("2026-11-02T10:11:12Z"), z);
        assert_eq!(parse_zoned("2026-11-02T05:11:12-05:00"), z);
        assert_eq!(parse_zoned("2026-11-02T11:11:12+0100"), z);
        for bad in [
            "",
            "2026-11-02T10:11:12+01",
            "2026-11-02T10:11:12+2500",
            "2026-11-02T10:11:12.x+0000",
            "2026-11-02",
            "2026-11-02T10:11:12+０１００",
        ] {
            assert_eq!(parse_zoned(bad), None, "{bad}");
        }
    }

    #[test]
    fn refusals_are_told_from_failures() {
        let refused = |why: &str| matches!(read_error(Rest::Other(why.into())), ReadError::Refused(r) if r.contains("grant the API user API Enabled and Read on Lead"));
        assert!(refused(
            "HTTP 403 INSUFFICIENT_ACCESS: insufficient access rights on object id"
        ));
        assert!(refused(
            "HTTP 403 API_DISABLED_FOR_ORG: The REST API is not enabled for this Organization."
        ));
        assert!(refused(
            "HTTP 403 API_CURRENTLY_DISABLED: API is disabled for this User"
        ));
        assert!(refused(
            "HTTP 400 INVALID_TYPE: sObject type 'Lead' is not supported."
        ));
        assert!(refused(
            "HTTP 400 INVALID_FIELD: No such column 'LeadSource' on entity 'Lead'."
        ));
        assert!(!refused("HTTP 400 MALFORMED_QUERY: unexpected token"));
        assert!(!refused("HTTP 503 Service Unavailable"));
        assert!(!refused("HTTP 500 x: INSUFFICIENT_ACCESS"));
        match read_error(Rest::Refused(
            "the REST API refused api_access_token: HTTP 401 INVALID_SESSION_ID: Session expired or invalid".into(),
        )) {
            ReadError::Failed(e) => {
                assert!(e.contains("INVALID_SESSION_ID") && e.contains("get a new access token"), "{e}")
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(read_error(Rest::Done), ReadError::Failed(_)));
    }

    #[test]
    fn next_batches_stay_on_the_instance() {
        let base = Url::parse("https://contoso.my.salesforce.com").unwrap();
        assert_eq!(
            next_path(&base, "/services/data/v60.0/query/01gD0000002HU6KIAW-200").as_deref(),
            Ok("query/01gD0000002HU6KIAW-200")
        );
        assert_eq!(
            next_path(
                &base,
                "https://contoso.my.salesforce.com/services/data/v60.0/query/01g-400"
            )
            .as_deref(),
            Ok("query/01g-400")
        );
        for bad in [
            "https://evil.example/services/data/v60.0/query/01g-200",
            "http://contoso.my.salesforce.com/services/data/v60.0/query/01g-200",
            "//evil.example/services/data/v60.0/query/01g-200",
            "/services/data/v60.0/query/",
            "/services/data/v59.0/query/01g-200",
            "/services/data/v60.0/query/01g-200?x=1",
            "/services/data/v60.0/query/../sobjects/Lead/00Q1",
            "/services/data/v60.0/query/01g%2F..",
            "/services/data/v60.0/sobjects/Lead",
        ] {
            assert!(next_path(&base, bad).is_err(), "{bad}");
        }
    }
}
