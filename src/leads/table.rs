//! Azure Table: a lead entity as the marketplace writes it, read back into [`Listed`].
//!
//! Microsoft does not document the columns; this reads the shape public consumers of the
//! marketplace's table use (protocols.md §5), which leadcheck's own test lead has too (see
//! [`crate::lead::Lead::table_entity`]): the offer and action as columns, the customer fields
//! in `CustomerInfo`, a JSON *string*; `CreatedTime`, else the service's `Timestamp`.

use super::{parse_time, Listed};
use serde_json::{Map, Value};

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
