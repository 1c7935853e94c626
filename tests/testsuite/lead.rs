//! `test-lead`: the MSFT_TEST lead as each destination receives it.

use crate::support::leadcheck;

const T: &str = "636573304831318844";

fn test_lead(kind: &str) -> String {
    let out = leadcheck()
        .args([
            "test-lead",
            "--type",
            kind,
            "--ticks",
            T,
            "--offer-title",
            "Contoso Test",
        ])
        .assert()
        .code(0);
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn https_prints_the_user_details_json() {
    let v: serde_json::Value = serde_json::from_str(&test_lead("https")).unwrap();
    assert_eq!(
        v["UserDetails"]["FirstName"],
        "MSFT_TEST_636573304831318844"
    );
    assert_eq!(
        v["UserDetails"]["Email"],
        "MSFT_TEST_636573304831318844@test.com"
    );
    assert_eq!(v["LeadSource"], "AzureMarketplace");
    assert_eq!(v["ActionCode"], "INS");
    assert_eq!(v["OfferTitle"], "Contoso Test");
    assert_eq!(v["Description"], "MSFT_TEST_636573304831318844");
    let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "UserDetails",
            "LeadSource",
            "ActionCode",
            "OfferTitle",
            "Description"
        ]
    );
}

#[test]
fn salesforce_prints_urlencoded_form_lines() {
    let out = test_lead("salesforce");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "oid=00Do0000000ZHog");
    assert!(lines.contains(
        &"lead_source=MSFT_TEST_636573304831318844-MSFT_TEST_636573304831318844%7CContoso+Test"
    ));
    assert!(lines.contains(&"email=MSFT_TEST_636573304831318844%40test.com"));
    assert_eq!(lines.last(), Some(&"encoding=UTF-8"));
}

#[test]
fn table_dynamics_marketo_are_json() {
    let t: serde_json::Value = serde_json::from_str(&test_lead("azure-table")).unwrap();
    assert_eq!(t["PartitionKey"], "3:2F22:2F2018");
    assert!(t["CustomerInfo"].is_string());
    let d: serde_json::Value = serde_json::from_str(&test_lead("dynamics")).unwrap();
    assert_eq!(d["lastname"], "MSFT_TEST_636573304831318844");
    let m: serde_json::Value = serde_json::from_str(&test_lead("marketo")).unwrap();
    assert_eq!(m["country"], "US");
}

#[test]
fn default_title_and_ticks_now() {
    let out = leadcheck()
        .args(["test-lead", "--type", "https"])
        .assert()
        .code(0);
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    assert_eq!(v["OfferTitle"], "leadcheck test");
    let first = v["UserDetails"]["FirstName"].as_str().unwrap();
    let ticks: u64 = first.strip_prefix("MSFT_TEST_").unwrap().parse().unwrap();
    assert!(ticks > 638_000_000_000_000_000, "ticks of now: {ticks}");
    leadcheck()
        .args(["test-lead", "--type", "nosuch"])
        .assert()
        .code(2);
}
