//! The fields of each destination type, shared by every reader (TOML, Partner Center JSON,
//! flags): which names exist, what kind of value each takes, and how a list of read fields
//! becomes a typed [`Destination`].

use super::model::*;
use crate::report::Location;
use std::collections::BTreeMap;

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A string (`form_id` also takes an integer).
    Str,
    /// A secret: a string, `{ env = "VAR" }` or `{ file = "PATH" }`.
    Secret,
    /// A string or a list of strings (`contact_email`).
    List,
}

/// The destination types a config may name, by their canonical spelling.
pub const KINDS: &[&str] = &[
    "dynamics",
    "salesforce",
    "marketo",
    "azure-table",
    "https",
    "azure-blob",
    "none",
    "email",
];

/// The canonical type for a spelling: PRODUCT.md's kebab-case, Partner Center's own names
/// (`table`, `httpsEndpoint`, `blob`, `crm`, ...) and the ingestion API's resource types.
pub fn canonical_kind(s: &str) -> Option<&'static str> {
    let k: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let k = k.strip_suffix("leadconfiguration").unwrap_or(&k);
    Some(match k {
        "dynamics"
        | "dynamics365"
        | "dynamicscrm"
        | "dynamicscrmonline"
        | "crm"
        | "dynamicscustomerrelationshipmanagement"
        | "dynamics365customerengagement" => "dynamics",
        "salesforce" => "salesforce",
        "marketo" => "marketo",
        "azuretable" | "table" => "azure-table",
        "https" | "httpsendpoint" => "https",
        "azureblob" | "blob" => "azure-blob",
        "none" | "" => "none",
        "email" => "email",
        _ => return None,
    })
}

/// The fields of a type, common ones included.
pub fn fields(kind: &str) -> &'static [(&'static str, FieldKind)] {
    use FieldKind::*;
    match kind {
        "dynamics" => &[
            ("instance_url", Str),
            ("authentication", Str),
            ("directory_id", Str),
            ("application_id", Str),
            ("application_key", Secret),
            ("username", Str),
            ("password", Secret),
            ("client_id", Str),
            ("authority_host", Str),
        ],
        "salesforce" => &[
            ("object_identifier", Str),
            ("endpoint", Str),
            ("api_instance_url", Str),
            ("api_access_token", Secret),
        ],
        "marketo" => &[
            ("munchkin_id", Str),
            ("form_id", Str),
            ("client_id", Str),
            ("client_secret", Secret),
            ("server_id", Str),
            ("endpoint", Str),
        ],
        "azure-table" => &[
            ("storage_account_connection_string", Secret),
            ("table", Str),
        ],
        "https" => &[("https_endpoint_url", Secret)],
        "azure-blob" => &[
            ("storage_account_connection_string", Secret),
            ("container_name", Str),
        ],
        _ => &[],
    }
}

pub const COMMON: &[(&str, FieldKind)] = &[
    ("contact_email", FieldKind::List),
    ("offer", FieldKind::Str),
    ("offer_title", FieldKind::Str),
];

/// The kind of a field of a type, or `None` when the type has no such field.
pub fn field_kind(kind: &str, field: &str) -> Option<FieldKind> {
    fields(kind)
        .iter()
        .chain(COMMON)
        .find(|(n, _)| *n == field)
        .map(|(_, k)| *k)
}

/// Every field name a type takes (plus `type`), for error messages.
pub fn field_names(kind: &str) -> Vec<&'static str> {
    std::iter::once("type")
        .chain(fields(kind).iter().chain(COMMON).map(|(n, _)| *n))
        .collect()
}

/// The closest known name, when one is close enough to be a typo.
pub fn did_you_mean<'a>(input: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['-', '_', ' '], "");
    let input_n = norm(input);
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(&input_n, &norm(k)), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// `authentication` values: PRODUCT.md's kebab-case and Partner Center's spellings.
pub fn parse_auth(s: &str) -> Option<DynamicsAuth> {
    let k: String = s
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    match k.as_str() {
        "azuread" | "aad" | "azureactivedirectory" | "entraid" | "microsoftentraid" => {
            Some(DynamicsAuth::AzureAd)
        }
        "office365" | "o365" | "microsoft365" => Some(DynamicsAuth::Office365),
        _ => None,
    }
}

/// A field's value as read.
#[derive(Debug, Clone)]
pub enum FieldValue {
    Str(String),
    List(Vec<String>),
    Secret(SecretField),
}

/// Builds a destination from fields already checked against [`fields`]. Only an
/// `authentication` value that names no mode is an error here (what is expected is listed).
pub fn build(
    name: &str,
    kind: &str,
    values: Vec<(String, FieldValue, Option<Location>)>,
    location: Option<Location>,
) -> Result<Destination, (String, Option<Location>)> {
    let mut locations = BTreeMap::new();
    let mut strs: BTreeMap<String, String> = BTreeMap::new();
    let mut secrets: BTreeMap<String, SecretField> = BTreeMap::new();
    let mut common = Common::default();
    for (field, value, loc) in values {
        if let Some(l) = &loc {
            locations.insert(field.clone(), l.clone());
        }
        match (field.as_str(), value) {
            ("contact_email", FieldValue::List(list)) => common.contact_email.extend(list),
            ("contact_email", FieldValue::Str(s)) => common.contact_email.extend(split_emails(&s)),
            ("offer", FieldValue::Str(s)) => common.offer = Some(s),
            ("offer_title", FieldValue::Str(s)) => common.offer_title = Some(s),
            (_, FieldValue::Secret(sf)) => {
                secrets.insert(field, sf);
            }
            (_, FieldValue::Str(s)) => {
                strs.insert(field, s);
            }
            (_, FieldValue::List(l)) => {
                strs.insert(field, l.join(";"));
            }
        }
    }
    let mut s = |f: &str| strs.remove(f);
    let mut sec = |f: &str| secrets.remove(f);
    let spec = match kind {
        "dynamics" => {
            let authentication = match s("authentication") {
                None => None,
                Some(a) => Some(parse_auth(&a).ok_or_else(|| {
                    (
                        format!("`authentication = \"{a}\"` names no authentication mode; expected \"azure-ad\" or \"office-365\""),
                        locations.get("authentication").cloned(),
                    )
                })?),
            };
            Spec::Dynamics(Dynamics {
                instance_url: s("instance_url"),
                authentication,
                directory_id: s("directory_id"),
                application_id: s("application_id"),
                application_key: sec("application_key"),
                username: s("username"),
                password: sec("password"),
                client_id: s("client_id"),
                authority_host: s("authority_host"),
            })
        }
        "salesforce" => Spec::Salesforce(Salesforce {
            object_identifier: s("object_identifier"),
            endpoint: s("endpoint"),
            api_instance_url: s("api_instance_url"),
            api_access_token: sec("api_access_token"),
        }),
        "marketo" => Spec::Marketo(Marketo {
            munchkin_id: s("munchkin_id"),
            form_id: s("form_id"),
            client_id: s("client_id"),
            client_secret: sec("client_secret"),
            server_id: s("server_id"),
            endpoint: s("endpoint"),
        }),
        "azure-table" => Spec::AzureTable(AzureTable {
            storage_account_connection_string: sec("storage_account_connection_string"),
            table: s("table"),
        }),
        "https" => Spec::Https(Https {
            https_endpoint_url: sec("https_endpoint_url"),
        }),
        "azure-blob" => Spec::AzureBlob(AzureBlob {
            storage_account_connection_string: sec("storage_account_connection_string"),
            container_name: s("container_name"),
        }),
        other => Spec::Nothing {
            kind: other.to_string(),
        },
    };
    Ok(Destination {
        name: name.to_string(),
        spec,
        common,
        locations,
        location,
    })
}

/// Partner Center separates contact e-mails with semicolons; commas are accepted too.
pub fn split_emails(s: &str) -> Vec<String> {
    s.split([';', ','])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(String::from)
        .collect()
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_auth_spellings() {
        assert_eq!(canonical_kind("azure-table"), Some("azure-table"));
        assert_eq!(
            canonical_kind("AzureTableLeadConfiguration"),
            Some("azure-table")
        );
        assert_eq!(
            canonical_kind("DynamicsCustomerRelationshipManagementLeadConfiguration"),
            Some("dynamics")
        );
        assert_eq!(canonical_kind("httpsEndpoint"), Some("https"));
        assert_eq!(
            canonical_kind("SalesForceLeadConfiguration"),
            Some("salesforce")
        );
        assert_eq!(canonical_kind("ftp"), None);
        for a in ["azure-ad", "azureAD", "AzureAD", "Azure Active Directory"] {
            assert_eq!(parse_auth(a), Some(DynamicsAuth::AzureAd), "{a}");
        }
        for a in ["office-365", "office365", "Office 365"] {
            assert_eq!(parse_auth(a), Some(DynamicsAuth::Office365), "{a}");
        }
    }

    #[test]
    fn suggestions_and_positions() {
        assert_eq!(
            did_you_mean("instance_uri", field_names("dynamics")),
            Some("instance_url")
        );
        assert_eq!(
            did_you_mean("applicationId", field_names("dynamics")),
            Some("application_id")
        );
        assert_eq!(did_you_mean("zzz", field_names("dynamics")), None);
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        assert_eq!(line_col("żb", 2), (1, 2));
        assert_eq!(line_col("żb", 1), (1, 1));
        assert_eq!(
            split_emails("a@x.com; b@y.com;"),
            vec!["a@x.com", "b@y.com"]
        );
    }
}
