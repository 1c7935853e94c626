//! Azure Table: a lead entity as the marketplace writes it, read back into [`Listed`].
//!
//! Microsoft does not document the columns; this reads the shape public consumers of the
//! marketplace's table use (protocols.md §5), which leadcheck's own test lead has too (see
//! [`crate::lead::Lead::table_entity`]): the offer and action as columns, the customer fields
//! in `CustomerInfo`, a JSON *string*; `CreatedTime`, else the service's `Timestamp`.

use super::{parse_time, rfc3339, Listed};
use crate::destination::azure_table::{signed_request, Account};
use crate::net::Net;
use reqwest::Method;
use serde_json::{Map, Value};

/// Entities asked for per page: the service's own maximum. Fewer, larger pages matter: a
/// table service may take time per page that grows with the table (Azurite does: 100,000
/// leads took 48 s in pages of 200, 11 s in pages of 1,000; benches/leads.sh).
pub const PAGE: u32 = 1000;

/// Where the next page starts (the service's continuation headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Continuation {
    partition: String,
    /// The service may leave NextRowKey out (the next page starts at a partition's first
    /// row); the SDKs then send NextPartitionKey alone, and so does leadcheck.
    row: Option<String>,
}

/// One page of a table's leads.
#[derive(Debug)]
pub struct Page {
    pub leads: Vec<Listed>,
    pub next: Option<Continuation>,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The credentials may not read (a SAS or key without read permission): a skip, with
    /// the right to grant.
    Refused(String),
    /// No such table: no lead was ever written there.
    NoTable,
    /// Anything else: the service's answer or the network's, in words.
    Failed(String),
}

/// The query of one page: `{endpoint}/{table}()` with `$top`, a `Timestamp` filter from
/// `since`, and the continuation. Spaces are `%20`, not `+` (the service reads `+` as is).
pub fn page_url(
    account: &Account,
    table: &str,
    since: Option<i64>,
    after: Option<&Continuation>,
) -> Result<url::Url, String> {
    let enc = |v: &str| {
        url::form_urlencoded::byte_serialize(v.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    };
    let mut q = format!("$top={PAGE}");
    if let Some(t) = since {
        q.push_str("&$filter=");
        q.push_str(&enc(&format!("Timestamp ge datetime'{}'", rfc3339(t))));
    }
    if let Some(c) = after {
        q.push_str(&format!("&NextPartitionKey={}", enc(&c.partition)));
        if let Some(row) = &c.row {
            q.push_str(&format!("&NextRowKey={}", enc(row)));
        }
    }
    let base = account.endpoint.as_str().trim_end_matches('/');
    url::Url::parse(&format!("{base}/{}()?{q}", enc(table)))
        .map_err(|e| format!("cannot build the URL of table {table}: {e}"))
}

/// Reads one page of the table's leads (`after`: where the previous page stopped).
pub async fn read_page(
    net: &Net,
    account: &Account,
    table: &str,
    since: Option<i64>,
    after: Option<&Continuation>,
) -> Result<Page, ReadError> {
    let url = page_url(account, table, since, after).map_err(ReadError::Failed)?;
    let req = signed_request(net, account, Method::GET, url, None).map_err(ReadError::Failed)?;
    let resp = net
        .send_capped(req, crate::net::LIST_CAP)
        .await
        .map_err(|e| ReadError::Failed(e.to_string()))?;
    // The error code: the service's header, else its OData body (both are documented).
    let code = resp
        .header("x-ms-error-code")
        .map(str::to_string)
        .or_else(|| {
            let body = resp.json()?;
            Some(body.pointer("/odata.error/code")?.as_str()?.to_string())
        })
        .unwrap_or_default();
    match resp.status.as_u16() {
        200 => {}
        404 if code == "TableNotFound" || code == "ResourceNotFound" => {
            return Err(ReadError::NoTable)
        }
        403 if code.starts_with("AuthorizationPermissionMismatch")
            || code == "AuthorizationResourceTypeMismatch" =>
        {
            return Err(ReadError::Refused(format!(
                "the credentials may not read table {table} ({code}): give the key or SAS read (r) permission on tables"
            )))
        }
        s => {
            return Err(ReadError::Failed(format!(
                "the table service answered {s} {code}"
            )))
        }
    }
    if resp.truncated {
        return Err(ReadError::Failed(format!(
            "a page of table {table} was larger than the network layer reads"
        )));
    }
    let body: Value = serde_json::from_slice(&resp.body)
        .map_err(|e| ReadError::Failed(format!("the table service's answer is not JSON: {e}")))?;
    let leads = body
        .get("value")
        .and_then(Value::as_array)
        .map(|v| {
            v.iter()
                .filter_map(Value::as_object)
                .map(from_entity)
                .collect()
        })
        .unwrap_or_default();
    // A next page is named by its partition key; without one, this was the last page.
    let next = resp
        .header("x-ms-continuation-NextPartitionKey")
        .map(|p| Continuation {
            partition: p.to_string(),
            row: resp
                .header("x-ms-continuation-NextRowKey")
                .map(str::to_string),
        });
    Ok(Page { leads, next })
}

/// The lead an entity holds (`odata=nometadata` JSON). Missing or malformed fields are left
/// empty, never an error: a table may hold rows written by other tools too.
pub fn from_entity(e: &Map<String, Value>) -> Listed {
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // A JSON string holding an object; some writers store the object itself.
    let customer: Map<String, Value> = match e.get("CustomerInfo") {
        Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    let person = |k: &str| {
        customer
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let created = ["CreatedTime", "Timestamp"]
        .iter()
        .find_map(|k| e.get(*k).and_then(Value::as_str).and_then(parse_time));
    let mut lead = Listed {
        id: text("RowKey"),
        created,
        offer: text("OfferDisplayName"),
        action_code: text("ActionCode"),
        lead_source: text("LeadSource"),
        first_name: person("FirstName"),
        last_name: person("LastName"),
        company: person("Company"),
        email: person("Email"),
        country: person("Country"),
        test: false,
    };
    lead.mark_test();
    lead
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lead::Lead;

    #[test]
    fn reads_the_entity_leadcheck_writes() {
        // The documented sample's ticks: 2018-03-22T15:48:03Z.
        let lead = Lead::new(Some(636_573_304_831_318_844), Some("Contoso Analytics"));
        let e = lead.table_entity();
        let l = from_entity(e.as_object().unwrap());
        assert_eq!(l.id, lead.marker());
        assert_eq!(l.offer, "Contoso Analytics");
        assert_eq!(l.action_code, "INS");
        assert_eq!(l.lead_source, "AzureMarketplace");
        assert_eq!(l.email, lead.email());
        assert_eq!(l.country, "US");
        assert!(l.test);
        assert_eq!(
            l.created.map(super::super::rfc3339).as_deref(),
            Some("2018-03-22T15:48:03Z")
        );
    }

    #[test]
    fn a_foreign_row_is_read_as_far_as_it_goes() {
        let e = serde_json::json!({
            "PartitionKey": "x", "RowKey": "r1", "CustomerInfo": "{not json",
            "Timestamp": "2026-11-02T10:11:12.1234567Z", "ActionCode": 7
        });
        let l = from_entity(e.as_object().unwrap());
        assert_eq!(l.id, "r1");
        assert_eq!(l.action_code, "");
        assert_eq!(l.email, "");
        assert!(!l.test);
        assert_eq!(l.created, super::super::parse_time("2026-11-02T10:11:12Z"));
        let o = serde_json::json!({"CustomerInfo": {"Email": "ana@contoso.com"}});
        assert_eq!(from_entity(o.as_object().unwrap()).email, "ana@contoso.com");
    }
}
