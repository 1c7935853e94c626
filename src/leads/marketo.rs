//! Marketo: the leads the marketplace submitted to the configured form, read back through
//! the REST API.
//!
//! How a marketplace lead is recognized: Microsoft's setup has the publisher create a form
//! for the marketplace (the "MarketPlaceLeads" form with a Lead Source field) and give its
//! Form ID in Partner Center; the marketplace submits every lead to that form
//! (ms-lead-docs.md §3.3, protocols.md §4: most likely through Submit Form). So a marketplace
//! lead is a lead that filled out *that* form; leads of any other form or of an import are
//! not listed. Its `leadSource` holds the combined `Source-Action|Offer` (see
//! [`crate::lead::Lead::marketo_fields`]), split as for Salesforce.
//!
//! Why activities: the Lead API has no "leads by date" query (`leads.json` takes a
//! `filterType` and exact values, such as e-mails or ids), and the bulk export API is an
//! asynchronous job that hands back a file. The activity log does list, by date and page by
//! page, every "Fill Out Form" activity (type 2) with its form as primary attribute:
//! `GET /rest/v1/activities/pagingtoken.json?sinceDatetime=...` gives a paging token, then
//! `GET /rest/v1/activities.json?activityTypeIds=2&nextPageToken=...` gives up to 300
//! activities a page (`moreResult`, the next `nextPageToken`), and the leads of a page come
//! in one `GET /rest/v1/leads.json?filterType=id&filterValues=...` call. Each form fill is
//! one listed lead (the marketplace sends one customer's leads at several funnel steps;
//! Marketo keeps one lead record per e-mail), created when the form was filled out.
//!
//! The research has the token call, `leads.json` and the error codes (protocols.md §4); it is
//! silent on the activity endpoints, the "Fill Out Form" type id (2), `filterType=id` and the
//! role permissions ("Read-Only Activity", "Read-Only Lead"), which are from Marketo's public
//! REST reference. The token call and the REST errors are those of
//! [`crate::destination::marketo`] (its `judge`, `Api::call`, `scrub`).

use super::salesforce::{parse_zoned, split_lead_source};
use super::source::{ReadError, Reader};
use super::{rfc3339, Listed};
use crate::config;
use crate::destination::marketo::{token_refusal, Answer, Api};
use crate::destination::Ctx;
use crate::lead::Lead;
use crate::net::{BoxFuture, Net};
use crate::secret::Secret;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use url::Url;

/// Marketo's activity type "Fill Out Form".
pub const FILL_OUT_FORM: u64 = 2;
/// Activities asked for per page (Marketo's largest batch; also the most ids one
/// `leads.json` call takes).
pub const PAGE: u32 = 300;
/// The lead fields read.
pub const FIELDS: &str = "id,firstName,lastName,email,company,country,leadSource,createdAt";

/// What the API user's role needs to read leads back.
const GRANT: &str = "give the API user's role the permissions Read-Only Activity and Read-Only Lead (Admin > Users & Roles), or use a LaunchPoint service whose API user has them";

/// Reads the leads the marketplace submitted to a Marketo form.
pub struct MarketoReader {
    name: String,
    base: Url,
    munchkin: String,
    form_id: u64,
    client_id: String,
    secret: Secret,
    since: Option<i64>,
    token: Option<String>,
    /// The paging token of the next page of activities; `None` before the first.
    page: Option<String>,
    done: bool,
}

impl MarketoReader {
    /// The reader of `dest` (a Marketo destination), or why it cannot read.
    pub fn open(
        dest: &config::Destination,
        spec: &config::model::Marketo,
        since: Option<i64>,
    ) -> Result<MarketoReader, ReadError> {
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let missing =
            |f: &str| ReadError::Failed(format!("{f} is missing (`leadcheck lint` says more)"));
        let munchkin = text(&spec.munchkin_id).ok_or_else(|| missing("munchkin_id"))?;
        let form = text(&spec.form_id).ok_or_else(|| missing("form_id"))?;
        let form_id = form.parse::<u64>().map_err(|_| {
            ReadError::Failed(format!(
                "form_id {:?} is not a number",
                crate::term::sanitize(&form, false)
            ))
        })?;
        let client_id = text(&spec.client_id).ok_or_else(|| missing("client_id"))?;
        let secret = spec
            .client_secret
            .as_ref()
            .and_then(|s| s.secret())
            .cloned()
            .ok_or_else(|| missing("client_secret"))?;
        let endpoint =
            text(&spec.endpoint).unwrap_or_else(|| format!("https://{munchkin}.mktorest.com"));
        let base = crate::net::check_url(&endpoint).map_err(|e| ReadError::Failed(e.evidence))?;
        Ok(MarketoReader {
            name: dest.name.clone(),
            base,
            munchkin,
            form_id,
            client_id,
            secret,
            since,
            token: None,
            page: None,
            done: false,
        })
    }

    /// `sinceDatetime`: the period's start, else the epoch (everything Marketo still keeps).
    fn since_datetime(&self) -> String {
        rfc3339(self.since.unwrap_or(0))
    }

    /// A new access token with the client credentials (in the form body, never in a URL).
    async fn fetch_token(&self, net: &Net) -> Result<String, ReadError> {
        let url = self
            .base
            .join("/identity/oauth/token")
            .map_err(|e| ReadError::Failed(format!("bad endpoint: {e}")))?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "client_credentials")
            .append_pair("client_id", &self.client_id)
            .append_pair("client_secret", self.secret.expose())
            .finish();
        let req = net
            .request(Method::POST, url)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body)
            .build()
            .map_err(|e| ReadError::Failed(format!("cannot build the token request: {e}")))?;
        let resp = net
            .send(req)
            .await
            .map_err(|e| ReadError::Failed(format!("the token call: {}", e.evidence)))?;
        let v = resp.json().unwrap_or(Value::Null);
        let status = resp.status.as_u16();
        if status == 200 {
            if let Some(t) = v["access_token"].as_str().filter(|t| !t.is_empty()) {
                return Ok(t.to_string());
            }
        }
        token_error(status, &v, &self.secret)
    }

    /// One REST call with the current token; a token Marketo calls invalid or expired
    /// (601, 602) is renewed once.
    async fn call(
        &mut self,
        net: &Net,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, ReadError> {
        // `Api::call` reads only the network of its context.
        let ctx = Ctx::new(net.clone(), Lead::new(Some(0), None), self.name.clone());
        for attempt in 0..2 {
            let token = match &self.token {
                Some(t) => t.clone(),
                None => {
                    let t = self.fetch_token(net).await?;
                    self.token = Some(t.clone());
                    t
                }
            };
            let api = Api {
                base: &self.base,
                token: &token,
            };
            match api.call(&ctx, Method::GET, path, query, None).await {
                Answer::Ok(v) => return Ok(v),
                Answer::Failed("LC318", _) if attempt == 0 => self.token = None,
                Answer::Failed(code, why) => return Err(api_error(code, &why)),
            }
        }
        Err(ReadError::Failed(
            "Marketo refused a fresh access token".into(),
        ))
    }
}

/// Why the token call gave no token. The secret is cut out of whatever the server echoed.
fn token_error(status: u16, v: &Value, secret: &Secret) -> Result<String, ReadError> {
    let server = token_refusal(v, secret);
    let evidence = format!("HTTP {status} from the token call{server}");
    if v["errors"][0]["code"].as_str() == Some("603")
        || server.to_ascii_lowercase().contains("access denied")
    {
        return Err(ReadError::Refused(format!(
            "Marketo denied the API user a token ({evidence}): {GRANT}"
        )));
    }
    Err(ReadError::Failed(match status {
        401 => format!(
            "{evidence}: Marketo refused client_id or client_secret; copy both again from the LaunchPoint service (Admin > LaunchPoint > View Details)"
        ),
        _ => evidence,
    }))
}

/// A REST failure ([`crate::destination::marketo::judge`]'s code and evidence) as a read
/// error: 603 "Access denied" (or HTTP 403) is a refusal, with the permissions to grant.
fn api_error(code: &str, why: &str) -> ReadError {
    if code == "LC408" {
        ReadError::Refused(format!(
            "the Marketo API user may not read leads ({why}): {GRANT}"
        ))
    } else {
        ReadError::Failed(why.to_string())
    }
}

/// The form of a "Fill Out Form" activity (its primary attribute), as a number.
fn form_of(a: &Value) -> Option<u64> {
    let v = &a["primaryAttributeValueId"];
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn lead_id_of(a: &Value) -> Option<u64> {
    let v = &a["leadId"];
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// The form fills of one page of activities on `form_id`: (lead id, when), in page order.
pub fn fills(activities: &Value, form_id: u64) -> Vec<(u64, Option<i64>)> {
    activities
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|a| {
                    a["activityTypeId"]
                        .as_u64()
                        .is_none_or(|t| t == FILL_OUT_FORM)
                        && form_of(a) == Some(form_id)
                })
                .filter_map(|a| {
                    let at = a["activityDate"].as_str().and_then(parse_zoned);
                    lead_id_of(a).map(|id| (id, at))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One lead record of `leads.json`, listed as filled out at `at` (else when it was created).
pub fn from_lead(r: &Value, at: Option<i64>) -> Listed {
    let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
    let (source, action, offer) = split_lead_source(&text("leadSource"));
    let id = r["id"]
        .as_u64()
        .map(|i| i.to_string())
        .unwrap_or_else(|| text("id"));
    let mut lead = Listed {
        id,
        created: at.or_else(|| r["createdAt"].as_str().and_then(parse_zoned)),
        offer,
        action_code: action,
        lead_source: source,
        first_name: text("firstName"),
        last_name: text("lastName"),
        company: text("company"),
        email: text("email"),
        country: text("country"),
        test: false,
    };
    lead.mark_test();
    lead.test |= lead.lead_source.starts_with("MSFT_TEST_");
    lead
}

impl Reader for MarketoReader {
    fn what(&self) -> String {
        format!(
            "form {} of Marketo {}",
            self.form_id,
            crate::term::sanitize(&self.munchkin, false)
        )
    }

    fn query(&self) -> String {
        let base = crate::net::redact_url(&self.base);
        let base = base.trim_end_matches('/');
        format!(
            "GET {base}/rest/v1/activities/pagingtoken.json?sinceDatetime={}, then \
             GET {base}/rest/v1/activities.json?activityTypeIds={FILL_OUT_FORM}&batchSize={PAGE}&nextPageToken=<token> \
             (Fill Out Form activities, kept when on form {}) and for each page \
             GET {base}/rest/v1/leads.json?filterType=id&filterValues=<their lead ids>&fields={FIELDS}",
            self.since_datetime(),
            self.form_id
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
            let token = match self.page.clone() {
                Some(t) => t,
                None => {
                    let since = self.since_datetime();
                    let v = self
                        .call(
                            net,
                            "/rest/v1/activities/pagingtoken.json",
                            &[("sinceDatetime", &since)],
                        )
                        .await?;
                    v["nextPageToken"]
                        .as_str()
                        .filter(|t| !t.is_empty())
                        .map(str::to_string)
                        .ok_or_else(|| ReadError::Failed("Marketo gave no paging token".into()))?
                }
            };
            let types = FILL_OUT_FORM.to_string();
            let batch = PAGE.to_string();
            let v = self
                .call(
                    net,
                    "/rest/v1/activities.json",
                    &[
                        ("activityTypeIds", &types),
                        ("batchSize", &batch),
                        ("nextPageToken", &token),
                    ],
                )
                .await?;
            let fills = fills(&v["result"], self.form_id);
            match (v["moreResult"].as_bool(), v["nextPageToken"].as_str()) {
                (Some(true), Some(next)) if !next.is_empty() => {
                    if next == token {
                        return Err(ReadError::Failed(
                            "Marketo named the same page of activities again".into(),
                        ));
                    }
                    self.page = Some(next.to_string());
                }
                (Some(true), _) => {
                    return Err(ReadError::Failed(
                        "Marketo said more activities follow but gave no paging token".into(),
                    ))
                }
                _ => self.done = true,
            }
            if fills.is_empty() {
                return Ok(Some(Vec::new()));
            }
            let ids: BTreeSet<u64> = fills.iter().map(|(id, _)| *id).collect();
            let ids = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let v = self
                .call(
                    net,
                    "/rest/v1/leads.json",
                    &[
                        ("filterType", "id"),
                        ("filterValues", &ids),
                        ("fields", FIELDS),
                    ],
                )
                .await?;
            let records: BTreeMap<u64, &Value> = v["result"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|r| r["id"].as_u64().map(|id| (id, r)))
                        .collect()
                })
                .unwrap_or_default();
            // A lead deleted since it filled out the form is no longer held: left out.
            Ok(Some(
                fills
                    .iter()
                    .filter_map(|(id, at)| records.get(id).map(|r| from_lead(r, *at)))
                    .collect(),
            ))
        })
    }

    /// The access token is kept: `call` fetches a new one when Marketo calls it expired.
    fn rewind(&mut self, since: Option<i64>) {
        self.since = since;
        self.page = None;
        self.done = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_of_the_form_only() {
        let page = json!([
            {"id": 1, "leadId": 10, "activityDate": "2026-11-02T10:11:12Z", "activityTypeId": 2, "primaryAttributeValueId": 1179},
            {"id": 2, "leadId": 11, "activityDate": "2026-11-02T10:11:13Z", "activityTypeId": 2, "primaryAttributeValueId": 2001},
            {"id": 3, "leadId": "12", "activityDate": "2026-11-02T10:11:14Z", "activityTypeId": 2, "primaryAttributeValueId": "1179"},
            {"id": 4, "leadId": 13, "activityDate": "2026-11-02T10:11:15Z", "activityTypeId": 12, "primaryAttributeValueId": 1179},
            {"id": 5, "activityDate": "2026-11-02T10:11:16Z", "activityTypeId": 2, "primaryAttributeValueId": 1179},
            {"id": 6, "leadId": 14, "activityDate": "yesterday", "primaryAttributeValueId": 1179},
            "junk"
        ]);
        let t = super::super::parse_time;
        assert_eq!(
            fills(&page, 1179),
            vec![
                (10, t("2026-11-02T10:11:12Z")),
                (12, t("2026-11-02T10:11:14Z")),
                (14, None)
            ]
        );
        assert!(fills(&json!(null), 1179).is_empty());
        assert!(fills(&json!({"a": 1}), 1179).is_empty());
    }

    #[test]
    fn a_lead_is_mapped() {
        let lead = Lead::new(Some(636_573_304_831_318_844), Some("Contoso Test"));
        let mut r = Value::Object(lead.marketo_fields());
        r["id"] = json!(1001);
        r["createdAt"] = json!("2018-03-22T15:48:03Z");
        let l = from_lead(&r, None);
        assert_eq!(l.id, "1001");
        assert_eq!(
            l.created.map(rfc3339).as_deref(),
            Some("2018-03-22T15:48:03Z")
        );
        assert_eq!(
            (
                l.lead_source.as_str(),
                l.action_code.as_str(),
                l.offer.as_str()
            ),
            (
                lead.marker().as_str(),
                lead.marker().as_str(),
                "Contoso Test"
            )
        );
        assert_eq!(l.email, lead.email());
        assert_eq!(l.company, lead.marker());
        assert_eq!(l.country, "US");
        assert!(l.test);
        // The fill's time wins over the lead's creation.
        assert_eq!(from_lead(&r, Some(5)).created, Some(5));

        let r = json!({"id": 7, "leadSource": "AzurePortal-Create|fabrikam.crm", "firstName": "Bo",
            "email": null, "country": 3});
        let l = from_lead(&r, None);
        assert_eq!(
            (
                l.id.as_str(),
                l.lead_source.as_str(),
                l.action_code.as_str(),
                l.offer.as_str()
            ),
            ("7", "AzurePortal", "Create", "fabrikam.crm")
        );
        assert_eq!(
            (l.email.as_str(), l.country.as_str(), l.created),
            ("", "", None)
        );
        assert!(!l.test);
        assert_eq!(from_lead(&json!([]), None), Listed::default());
    }

    #[test]
    fn refusals_name_the_permissions() {
        match api_error(
            "LC408",
            "/rest/v1/activities.json: Marketo error 603 Access denied",
        ) {
            ReadError::Refused(r) => {
                assert!(
                    r.contains("603 Access denied") && r.contains("Read-Only Lead"),
                    "{r}"
                )
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            api_error(
                "LC504",
                "/rest/v1/leads.json: Marketo error 611 System error"
            ),
            ReadError::Failed(_)
        ));
        let secret = Secret::new("s3cr3t");
        let e = token_error(
            401,
            &json!({"error": "invalid_client", "error_description": "Bad client credentials s3cr3t"}),
            &secret,
        )
        .unwrap_err();
        match e {
            ReadError::Failed(e) => {
                assert!(
                    e.contains("invalid_client") && e.contains("LaunchPoint"),
                    "{e}"
                );
                assert!(!e.contains("s3cr3t"), "{e}");
            }
            e => panic!("{e:?}"),
        }
        let e = token_error(
            200,
            &json!({"success": false, "errors": [{"code": "603", "message": "Access denied"}]}),
            &secret,
        )
        .unwrap_err();
        assert!(
            matches!(e, ReadError::Refused(ref r) if r.contains("Read-Only Activity")),
            "{e:?}"
        );
    }
}
