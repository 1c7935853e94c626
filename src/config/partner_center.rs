//! A `.json` config: Partner Center's own lead configuration, pasted as it is.
//!
//! Two generations are read (ms-lead-docs.md §3, protocols.md §0):
//! - the ingestion API's `resourceType` objects, e.g.
//!   `{"resourceType":"AzureTableLeadConfiguration","connectionString":"..","contactEmail":".."}`;
//! - the `leadDestination` shape of the Product Ingestion `customer-leads` resource
//!   (`"leadDestination":"dynamics","dynamicsLeadConfiguration":{..}`), and the older Cloud
//!   Partner Portal offer JSON with `microsoft-azure-marketplace.leadDestination` and
//!   `microsoft-azure-marketplace.tableLeadConfiguration`, ...
//!
//! They are found anywhere in the document (a product's resource list, a CPP offer's
//! `definition`). Keys are matched without regard to case; keys that are not lead settings
//! (`id`, `@odata.etag`, `dailyDigestEmailContacts`, ...) are ignored, except one that looks
//! like a misspelt setting, which is an error with a suggestion.

use super::fields::{self, FieldKind, FieldValue};
use super::model::{Config, Destination, SecretField};
use super::toml_file::ParseError;
use crate::report::Location;
use serde_json::{Map, Value};

const CPP_PREFIX: &str = "microsoft-azure-marketplace.";

fn norm(key: &str) -> String {
    let key = key.strip_prefix(CPP_PREFIX).unwrap_or(key);
    key.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The field a Partner Center key stands for in a destination of `kind`.
fn field_for(kind: &str, key: &str) -> Option<&'static str> {
    let k = norm(key);
    let f = match (kind, k.as_str()) {
        (_, "contactemail" | "contactemails") => "contact_email",
        ("dynamics", "uri" | "url" | "instanceurl" | "crmurl") => "instance_url",
        ("dynamics", "authentication" | "authenticationtype") => "authentication",
        ("dynamics", "username" | "user") => "username",
        ("dynamics", "password") => "password",
        ("dynamics", "applicationid" | "clientid") => "application_id",
        ("dynamics", "applicationkey" | "clientsecret") => "application_key",
        ("dynamics", "directoryid" | "tenantid") => "directory_id",
        ("salesforce", "objectidentifier" | "oid" | "organizationid") => "object_identifier",
        ("marketo", "serverid") => "server_id",
        ("marketo", "munchkinaccountid" | "munchkinid") => "munchkin_id",
        ("marketo", "formid") => "form_id",
        ("marketo", "clientid") => "client_id",
        ("marketo", "clientsecret") => "client_secret",
        ("azure-table" | "azure-blob", "connectionstring" | "storageaccountconnectionstring") => {
            "storage_account_connection_string"
        }
        ("azure-blob", "containername") => "container_name",
        ("https", "httpsendpointuri" | "httpsendpointurl" | "uri" | "url") => "https_endpoint_url",
        _ => return None,
    };
    Some(f)
}

/// Partner Center names of each kind's settings, for suggestions.
fn pc_names(kind: &str) -> &'static [&'static str] {
    match kind {
        "dynamics" => &[
            "instanceUrl",
            "authentication",
            "username",
            "password",
            "applicationId",
            "applicationKey",
            "directoryId",
        ],
        "salesforce" => &["objectIdentifier"],
        "marketo" => &[
            "serverId",
            "munchkinId",
            "munchkinAccountId",
            "formId",
            "clientId",
            "clientSecret",
        ],
        "azure-table" => &["storageAccountConnectionString", "connectionString"],
        "azure-blob" => &["connectionString", "containerName"],
        "https" => &["httpsEndpointUrl", "httpsEndpointUri"],
        _ => &[],
    }
}

struct Doc<'a> {
    file: &'a str,
    text: &'a str,
}

impl Doc<'_> {
    /// Where `"key"` first appears in the text (serde_json keeps no positions).
    fn find(&self, key: &str) -> Option<Location> {
        let needle = format!("\"{key}\"");
        self.text.find(&needle).map(|at| {
            let (line, column) = fields::line_col(self.text, at);
            Location {
                file: self.file.to_string(),
                line,
                column,
            }
        })
    }
}

pub fn parse(text: &str, file: &str) -> Result<Config, ParseError> {
    let root: Value = serde_json::from_str(text).map_err(|e| ParseError {
        location: Some(Location {
            file: file.to_string(),
            line: e.line(),
            column: e.column(),
        }),
        message: format!("invalid JSON: {}", strip_position(&e.to_string())),
        expected: None,
    })?;
    let doc = Doc { file, text };
    let mut found = Vec::new();
    walk(&doc, &root, &mut found)?;
    if found.is_empty() {
        return Err(ParseError {
            location: Some(Location { file: file.to_string(), line: 1, column: 1 }),
            message: "no Partner Center lead configuration found in this JSON".into(),
            expected: Some(
                "an object with `resourceType` (e.g. \"AzureTableLeadConfiguration\") or with `leadDestination` and its `...LeadConfiguration`"
                    .into(),
            ),
        });
    }
    // Names: the type; a second destination of the same type gets `-2`, ...
    let mut destinations: Vec<Destination> = Vec::new();
    for mut d in found {
        let base = d.kind().to_string();
        let base = if base == "none" {
            d_nothing_kind(&d)
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 1;
        while destinations.iter().any(|o| o.name == name) {
            n += 1;
            name = format!("{base}-{n}");
        }
        d.name = name;
        destinations.push(d);
    }
    Ok(Config {
        path: None,
        destinations,
    })
}

fn d_nothing_kind(d: &Destination) -> String {
    match &d.spec {
        super::model::Spec::Nothing { kind } => kind.clone(),
        _ => d.kind().to_string(),
    }
}

/// serde_json appends " at line L column C"; the location is reported separately.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn get_ci<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<(&'a String, &'a Value)> {
    obj.iter().find(|(k, _)| norm(k) == norm(key))
}

fn walk(doc: &Doc, v: &Value, out: &mut Vec<Destination>) -> Result<(), ParseError> {
    match v {
        Value::Object(obj) => {
            if let Some((rk, Value::String(rt))) = get_ci(obj, "resourceType") {
                if norm(rt).ends_with("leadconfiguration") {
                    let Some(kind) = fields::canonical_kind(rt) else {
                        return Err(ParseError {
                            location: doc.find(rk),
                            message: format!("unknown lead configuration type \"{rt}\""),
                            expected: Some(
                                "one of DynamicsCustomerRelationshipManagementLeadConfiguration, SalesForceLeadConfiguration, MarketoLeadConfiguration, AzureTableLeadConfiguration, AzureBlobLeadConfiguration, HttpsEndpointLeadConfiguration"
                                    .into(),
                            ),
                        });
                    };
                    out.push(settings(doc, kind, &[obj], doc.find(rk))?);
                    return Ok(());
                }
            }
            if let Some((dk, dv)) = get_ci(obj, "leadDestination") {
                let Value::String(dest) = dv else {
                    return Err(ParseError {
                        location: doc.find(dk),
                        message: format!("`{dk}` is not a string"),
                        expected: Some(
                            "none, blob, dynamics, email, httpsEndpoint, marketo, salesforce or table".into(),
                        ),
                    });
                };
                let Some(kind) = fields::canonical_kind(dest) else {
                    return Err(ParseError {
                        location: doc.find(dk),
                        message: format!("unknown lead destination \"{dest}\""),
                        expected: Some(
                            "none, blob, dynamics, email, httpsEndpoint, marketo, salesforce or table".into(),
                        ),
                    });
                };
                // The settings object of the chosen kind (`tableLeadConfiguration`, ...), and
                // the sibling keys (`contactEmail`).
                let inner: Vec<&Map<String, Value>> = obj
                    .iter()
                    .filter(|(k, _)| {
                        let n = norm(k);
                        n.strip_suffix("leadconfiguration")
                            .and_then(fields::canonical_kind)
                            == Some(kind)
                            && n != "leaddestination"
                    })
                    .filter_map(|(_, v)| v.as_object())
                    .collect();
                let mut objs = vec![obj];
                objs.extend(inner);
                out.push(settings(doc, kind, &objs, doc.find(dk))?);
                return Ok(());
            }
            for (_, child) in obj {
                walk(doc, child, out)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|i| walk(doc, i, out)),
        _ => Ok(()),
    }
}

fn settings(
    doc: &Doc,
    kind: &str,
    objs: &[&Map<String, Value>],
    location: Option<Location>,
) -> Result<Destination, ParseError> {
    let mut values = Vec::new();
    for obj in objs {
        for (k, v) in obj.iter() {
            let Some(field) = field_for(kind, k) else {
                let n = norm(k);
                let known = pc_names(kind);
                if !n.ends_with("leadconfiguration")
                    && n != "leaddestination"
                    && n != "resourcetype"
                {
                    if let Some(s) =
                        fields::did_you_mean(k, known.iter().copied()).filter(|s| norm(s) != n)
                    {
                        if strsim::jaro_winkler(&n, &norm(s)) >= 0.9 {
                            return Err(ParseError {
                                location: doc.find(k),
                                message: format!(
                                    "unknown setting `{k}` in the {kind} lead configuration"
                                ),
                                expected: Some(format!("did you mean `{s}`?")),
                            });
                        }
                    }
                }
                continue;
            };
            let value = match (v, fields::field_kind(kind, field)) {
                (Value::Null, _) => continue,
                (Value::String(s), Some(FieldKind::Secret)) => {
                    FieldValue::Secret(SecretField::plain(s.clone()))
                }
                (Value::String(s), _) => FieldValue::Str(s.clone()),
                (Value::Number(n), Some(FieldKind::Str)) => FieldValue::Str(n.to_string()),
                (Value::Array(items), Some(FieldKind::List)) => FieldValue::List(
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(String::from))
                        .collect(),
                ),
                (other, _) => {
                    return Err(ParseError {
                        location: doc.find(k),
                        message: format!("`{k}` is {}", json_kind(other)),
                        expected: Some(
                            if field == "contact_email" {
                                "a string or a list of strings"
                            } else {
                                "a string"
                            }
                            .into(),
                        ),
                    })
                }
            };
            values.push((field.to_string(), value, doc.find(k)));
        }
    }
    fields::build(kind, kind, values, location).map_err(|(message, location)| ParseError {
        location,
        message,
        expected: None,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{DynamicsAuth, Spec};

    #[test]
    fn ingestion_api_shape() {
        let c = parse(
            r#"{"resourceType":"AzureTableLeadConfiguration","connectionString":"DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b","contactEmail":"a@x.com;b@x.com","dailyDigestEmailContacts":null}"#,
            "pc.json",
        )
        .unwrap();
        let d = &c.destinations[0];
        assert_eq!(d.name, "azure-table");
        assert!(
            matches!(&d.spec, Spec::AzureTable(t) if t.storage_account_connection_string.is_some())
        );
        assert_eq!(d.common.contact_email, vec!["a@x.com", "b@x.com"]);
    }

    #[test]
    fn lead_destination_shape() {
        let text = r#"{
  "$schema": "https://schema.mp.microsoft.com/schema/customer-leads/2022-03-01-preview3",
  "leadDestination": "dynamics",
  "contactEmail": ["x@contoso.com"],
  "dynamicsLeadConfiguration": {
    "instanceUrl": "https://contoso.crm4.dynamics.com",
    "authentication": "azureAD",
    "applicationId": "23456052-aaaa-bbbb-8662-1234df56788f",
    "applicationKey": "k",
    "directoryId": "contoso.onmicrosoft.com"
  }
}"#;
        let c = parse(text, "pc.json").unwrap();
        let d = &c.destinations[0];
        let Spec::Dynamics(dy) = &d.spec else {
            panic!("{:?}", d.spec)
        };
        assert_eq!(dy.authentication, Some(DynamicsAuth::AzureAd));
        assert_eq!(
            dy.instance_url.as_deref(),
            Some("https://contoso.crm4.dynamics.com")
        );
        assert_eq!(d.locations["instance_url"].to_string(), "pc.json:6:5");
    }

    #[test]
    fn cpp_shape_and_none() {
        let text = r#"{"definition":{"offer":{"microsoft-azure-marketplace.leadDestination":"None","microsoft-azure-marketplace.tableLeadConfiguration":{}}}}"#;
        let c = parse(text, "cpp.json").unwrap();
        assert!(matches!(&c.destinations[0].spec, Spec::Nothing { kind } if kind == "none"));
        let text = r#"{"microsoft-azure-marketplace.leadDestination":"TableLeadConfiguration","microsoft-azure-marketplace.tableLeadConfiguration":{"connectionString":"x"}}"#;
        assert!(matches!(
            &parse(text, "cpp.json").unwrap().destinations[0].spec,
            Spec::AzureTable(_)
        ));
    }

    #[test]
    fn every_lead_destination_kind() {
        let cases = [
            (
                r#"{"leadDestination":"httpsEndpoint","httpsEndpointLeadConfiguration":{"httpsEndpointUrl":"https://x.example/l"}}"#,
                "https",
            ),
            (
                r#"{"leadDestination":"table","tableLeadConfiguration":{"storageAccountConnectionString":"x"}}"#,
                "azure-table",
            ),
            (
                r#"{"leadDestination":"salesforce","salesforceLeadConfiguration":{"objectIdentifier":"00D36000000qRha"}}"#,
                "salesforce",
            ),
            (
                r#"{"leadDestination":"marketo","marketoLeadConfiguration":{"serverId":"ys12","munchkinId":"123-PQR-789","formId":1179}}"#,
                "marketo",
            ),
            (
                r#"{"leadDestination":"blob","blobLeadConfiguration":{"connectionString":"x","containerName":"c"}}"#,
                "azure-blob",
            ),
            (
                r#"{"leadDestination":"email","contactEmail":["a@x.com"]}"#,
                "none",
            ),
            (
                r#"{"resourceType":"HttpsEndpointLeadConfiguration","httpsEndpointUri":"https://x.example/l"}"#,
                "https",
            ),
            (
                r#"{"resourceType":"SalesForceLeadConfiguration","objectIdentifier":"00D36000000qRha"}"#,
                "salesforce",
            ),
            (
                r#"{"resourceType":"MarketoLeadConfiguration","serverID":"ys12","munchkinAccountID":"123-PQR-789","formID":"1179"}"#,
                "marketo",
            ),
            (
                r#"{"resourceType":"AzureBlobLeadConfiguration","connectionString":"x","containerName":"c"}"#,
                "azure-blob",
            ),
            (
                r#"{"resourceType":"DynamicsCustomerRelationshipManagementLeadConfiguration","uri":"https://c.crm.dynamics.com","authentication":"Office365","userName":"u@c.com","password":"p"}"#,
                "dynamics",
            ),
        ];
        for (text, kind) in cases {
            let c = parse(text, "pc.json").unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(c.destinations[0].kind(), kind, "{text}");
            let findings = crate::config::lint::lint_destination(&c.destinations[0]);
            // Marketo's older settings lack the client ID and secret that are asked for now.
            let missing: Vec<_> = findings.iter().filter(|f| f.code == "LC102").collect();
            assert_eq!(
                missing.len(),
                if kind == "marketo" { 2 } else { 0 },
                "{text}: {findings:?}"
            );
        }
        let c = parse(cases[3].0, "pc.json").unwrap();
        let Spec::Marketo(m) = &c.destinations[0].spec else {
            panic!()
        };
        assert_eq!(
            (m.form_id.as_deref(), m.server_id.as_deref()),
            (Some("1179"), Some("ys12"))
        );
        // Two configurations in one document (a product's resource list) get distinct names.
        let c = parse(&format!("[{},{}]", cases[0].0, cases[6].0), "pc.json").unwrap();
        let names: Vec<&str> = c.destinations.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["https", "https-2"]);
    }

    #[test]
    fn errors() {
        let e = parse("{\n  \"leadDestination\": \"table\",\n}", "f.json").unwrap_err();
        assert_eq!(e.location.unwrap().line, 3);
        assert!(e.message.starts_with("invalid JSON"));
        let e = parse(r#"{"leadDestination":"ftp"}"#, "f.json").unwrap_err();
        assert!(e.message.contains("unknown lead destination"));
        let e = parse(
            r#"{"resourceType":"AzureTableLeadConfiguration","conectionString":"x"}"#,
            "f.json",
        )
        .unwrap_err();
        assert!(e.expected.unwrap().contains("connectionString"));
        assert!(parse(r#"{"a":1}"#, "f.json").is_err());
    }
}
