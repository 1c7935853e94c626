//! The MSFT_TEST lead and its encodings per destination; `test-lead`.
//!
//! The marketplace's own test lead fills every customer field with `MSFT_TEST_<ticks>` (.NET
//! ticks of when it was minted), e-mail `MSFT_TEST_<ticks>@test.com`, phone `1234567890`,
//! country `US` (ms-lead-docs.md §2). Each destination gets it in its own encoding.

use crate::app::App;
use crate::cli::{DestinationType, TestLeadArgs};
use crate::config::model::DEFAULT_OFFER_TITLE;
use crate::exit::Exit;
use serde_json::{json, Map, Value};

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
pub const TICKS_AT_UNIX_EPOCH: u64 = 621_355_968_000_000_000;

/// `LeadSource` of every marketplace lead in the JSON encodings.
pub const LEAD_SOURCE: &str = "AzureMarketplace";
/// `ActionCode` of the test lead (`INS`: install).
pub const ACTION_CODE: &str = "INS";
pub const PHONE: &str = "1234567890";
pub const COUNTRY: &str = "US";

/// Dynamics `leadsourcecode` option value sent with the lead. The marketplace's value is not
/// documented (only that it sets the attribute, from the LC401 error); 8 is the default
/// option set's "Web" (inferred).
pub const DYNAMICS_LEAD_SOURCE_CODE: i64 = 8;

/// The test lead, as the marketplace mints it: every customer field `MSFT_TEST_<ticks>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub ticks: u64,
    pub offer_title: String,
}

impl Lead {
    /// A lead with these ticks (default: now) and offer title (default `leadcheck test`).
    pub fn new(ticks: Option<u64>, offer_title: Option<&str>) -> Lead {
        Lead {
            ticks: ticks.unwrap_or_else(ticks_now),
            offer_title: offer_title
                .filter(|t| !t.is_empty())
                .unwrap_or(DEFAULT_OFFER_TITLE)
                .to_string(),
        }
    }

    /// `MSFT_TEST_<ticks>`.
    pub fn marker(&self) -> String {
        format!("MSFT_TEST_{}", self.ticks)
    }

    /// `MSFT_TEST_<ticks>@test.com`.
    pub fn email(&self) -> String {
        format!("MSFT_TEST_{}@test.com", self.ticks)
    }

    /// The combined `Source-Action|Offer` string of the form encodings; for the test lead
    /// source and action are the marker itself, as in the documented sample:
    /// `MSFT_TEST_<t>-MSFT_TEST_<t>|<offer title>`.
    pub fn combined_lead_source(&self) -> String {
        let m = self.marker();
        format!("{m}-{m}|{}", self.offer_title)
    }

    /// The customer fields, in the marketplace's order and spelling.
    fn user_details(&self) -> Map<String, Value> {
        let m = self.marker();
        let mut u = Map::new();
        u.insert("FirstName".into(), m.clone().into());
        u.insert("LastName".into(), m.clone().into());
        u.insert("Email".into(), self.email().into());
        u.insert("Phone".into(), PHONE.into());
        u.insert("Country".into(), COUNTRY.into());
        u.insert("Company".into(), m.clone().into());
        u.insert("Title".into(), m.into());
        u
    }

    /// The body POSTed to an HTTPS endpoint: the documented `UserDetails` JSON, PascalCase as
    /// the schema in the docs (ms-lead-docs.md §3.5).
    pub fn https_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("UserDetails".into(), Value::Object(self.user_details()));
        o.insert("LeadSource".into(), LEAD_SOURCE.into());
        o.insert("ActionCode".into(), ACTION_CODE.into());
        o.insert("OfferTitle".into(), self.offer_title.clone().into());
        o.insert("Description".into(), self.marker().into());
        Value::Object(o)
    }

    /// Salesforce web-to-lead form fields, as in the documented key = value test lead
    /// (`encoding=UTF-8` appears twice there: once here, once in the servlet URL's query).
    pub fn salesforce_form(&self, oid: &str) -> Vec<(String, String)> {
        let m = self.marker();
        [
            ("oid", oid.to_string()),
            ("first_name", m.clone()),
            ("last_name", m.clone()),
            ("email", self.email()),
            ("company", m.clone()),
            ("title", m.clone()),
            ("phone", PHONE.to_string()),
            ("country", COUNTRY.to_string()),
            ("description", m),
            ("lead_source", self.combined_lead_source()),
            ("encoding", "UTF-8".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Marketo form fields. Microsoft documents only the form's field labels (First Name,
    /// Last Name, Email Address, Company Name, Country, Phone Number, Job Title, Lead Source);
    /// the API names below are Marketo's standard lead fields for them (inferred).
    pub fn marketo_fields(&self) -> Map<String, Value> {
        let m = self.marker();
        let mut f = Map::new();
        f.insert("firstName".into(), m.clone().into());
        f.insert("lastName".into(), m.clone().into());
        f.insert("email".into(), self.email().into());
        f.insert("company".into(), m.clone().into());
        f.insert("phone".into(), PHONE.into());
        f.insert("country".into(), COUNTRY.into());
        f.insert("title".into(), m.into());
        f.insert("leadSource".into(), self.combined_lead_source().into());
        f
    }

    /// The Azure Table entity. Microsoft does not document the columns; this is the shape
    /// public consumers of the marketplace's table read (protocols.md §5): `PartitionKey` the
    /// date as M/D/YYYY with `/` escaped as `:2F`, `CustomerInfo` a JSON *string*. `RowKey`
    /// is the marker so that leadcheck can read back and delete exactly its own entity.
    pub fn table_entity(&self) -> Value {
        let (y, mo, d, h, mi, s) = civil_from_ticks(self.ticks);
        let customer = Value::Object(self.user_details()).to_string();
        let mut o = Map::new();
        o.insert("PartitionKey".into(), format!("{mo}:2F{d}:2F{y}").into());
        o.insert("RowKey".into(), self.marker().into());
        o.insert("ProductId".into(), self.marker().into());
        o.insert("PublisherDisplayName".into(), self.marker().into());
        o.insert("OfferDisplayName".into(), self.offer_title.clone().into());
        o.insert("LeadSource".into(), LEAD_SOURCE.into());
        o.insert("ActionCode".into(), ACTION_CODE.into());
        o.insert("CustomerInfo".into(), customer.into());
        o.insert("Description".into(), self.marker().into());
        o.insert(
            "CreatedTime".into(),
            format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z").into(),
        );
        Value::Object(o)
    }

    /// A Dynamics `lead` record (Web API attribute names). The marketplace's mapping is not
    /// documented beyond `leadsourcecode`; this is the customer fields on their standard
    /// attributes.
    pub fn dynamics_record(&self) -> Value {
        let m = self.marker();
        json!({
            "subject": self.combined_lead_source(),
            "firstname": m,
            "lastname": m,
            "emailaddress1": self.email(),
            "companyname": m,
            "jobtitle": m,
            "telephone1": PHONE,
            "address1_country": COUNTRY,
            "description": m,
            "leadsourcecode": DYNAMICS_LEAD_SOURCE_CODE,
        })
    }

    /// The lead as `test-lead` prints it for a destination type.
    pub fn render(&self, kind: DestinationType, oid: &str) -> String {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default();
        match kind {
            DestinationType::Https => pretty(&self.https_json()),
            DestinationType::AzureTable => pretty(&self.table_entity()),
            DestinationType::Dynamics => pretty(&self.dynamics_record()),
            DestinationType::Marketo => pretty(&Value::Object(self.marketo_fields())),
            DestinationType::Salesforce => self
                .salesforce_form(oid)
                .iter()
                .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of one key or value.
pub fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// .NET ticks of now.
pub fn ticks_now() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    TICKS_AT_UNIX_EPOCH + since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

/// UTC (year, month, day, hour, minute, second) of a .NET tick count (before the Unix epoch
/// clamps to it).
pub fn civil_from_ticks(ticks: u64) -> (i64, u32, u32, u32, u32, u32) {
    let secs = ticks.saturating_sub(TICKS_AT_UNIX_EPOCH) / 10_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// The oid shown by `test-lead --type salesforce`: the documented sample's.
pub const SAMPLE_OID: &str = "00Do0000000ZHog";

pub fn run(args: TestLeadArgs, app: &mut App) -> anyhow::Result<Exit> {
    let lead = Lead::new(args.ticks, args.offer_title.as_deref());
    writeln!(app.out, "{}", lead.render(args.kind, SAMPLE_OID))?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 636_573_304_831_318_844;

    fn lead() -> Lead {
        Lead::new(Some(T), Some("Contoso Test"))
    }

    #[test]
    fn https_json_is_the_documented_sample() {
        // The FAQ sample with its missing comma restored and `UserDetails` capitalised as in
        // the schema and the @b9b17356 version.
        let doc = r#"{"UserDetails":{"FirstName":"MSFT_TEST_636573304831318844","LastName":"MSFT_TEST_636573304831318844","Email":"MSFT_TEST_636573304831318844@test.com","Phone":"1234567890","Country":"US","Company":"MSFT_TEST_636573304831318844","Title":"MSFT_TEST_636573304831318844"},"LeadSource":"AzureMarketplace","ActionCode":"INS","OfferTitle":"Contoso Test","Description":"MSFT_TEST_636573304831318844"}"#;
        assert_eq!(lead().https_json().to_string(), doc);
    }

    #[test]
    fn salesforce_form_is_the_documented_sample() {
        let mut got: Vec<String> = lead()
            .salesforce_form("00Do0000000ZHog")
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        // The documented sample is sorted and lists `encoding` twice (one is in the URL).
        got.push("encoding = UTF-8".into());
        got.sort();
        let doc = "company = MSFT_TEST_636573304831318844
country = US
description = MSFT_TEST_636573304831318844
email = MSFT_TEST_636573304831318844@test.com
encoding = UTF-8
encoding = UTF-8
first_name = MSFT_TEST_636573304831318844
last_name = MSFT_TEST_636573304831318844
lead_source = MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844|Contoso Test
oid = 00Do0000000ZHog
phone = 1234567890
title = MSFT_TEST_636573304831318844";
        assert_eq!(got.join("\n"), doc);
    }

    #[test]
    fn ticks_decode_to_the_documented_date() {
        // 636573304831318844 -> 2018-03-22 15:48 UTC (protocols.md §0).
        let (y, m, d, h, mi, _) = civil_from_ticks(T);
        assert_eq!((y, m, d, h, mi), (2018, 3, 22, 15, 48));
        let e = lead().table_entity();
        assert_eq!(e["PartitionKey"], "3:2F22:2F2018");
        assert_eq!(e["CreatedTime"], "2018-03-22T15:48:03Z");
        let info: Value = serde_json::from_str(e["CustomerInfo"].as_str().unwrap()).unwrap();
        assert_eq!(info["Email"], "MSFT_TEST_636573304831318844@test.com");
        assert_eq!(civil_from_ticks(TICKS_AT_UNIX_EPOCH), (1970, 1, 1, 0, 0, 0));
        assert_eq!(
            civil_from_ticks(TICKS_AT_UNIX_EPOCH + 951_782_400 * 10_000_000).1,
            2
        );
        // 2000-02-29
    }

    #[test]
    fn defaults_and_other_encodings() {
        let l = Lead::new(Some(1), None);
        assert_eq!(l.offer_title, "leadcheck test");
        assert!(ticks_now() > T);
        let m = lead().marketo_fields();
        assert_eq!(
            m["leadSource"],
            "MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844|Contoso Test"
        );
        assert_eq!(
            lead().dynamics_record()["emailaddress1"],
            "MSFT_TEST_636573304831318844@test.com"
        );
        let form = lead().render(DestinationType::Salesforce, "00D000000000001");
        assert!(form.contains(
            "lead_source=MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844%7CContoso+Test"
        ));
    }
}
