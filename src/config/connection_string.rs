//! Azure Storage connection strings (protocols.md §5):
//! `DefaultEndpointsProtocol=https;AccountName=..;AccountKey=..;EndpointSuffix=core.windows.net`,
//! an explicit `TableEndpoint=`, or `UseDevelopmentStorage=true` (Azurite's well-known
//! account). Errors never contain the key, nor any segment that could be it.

use crate::secret::Secret;
use base64::Engine as _;

/// The emulator's well-known account and key (public: Azurite's README).
pub const DEV_ACCOUNT: &str = "devstoreaccount1";
pub const DEV_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
pub const DEV_TABLE_ENDPOINT: &str = "http://127.0.0.1:10002/devstoreaccount1";

/// What leadcheck needs of a storage account to write a table entity.
#[derive(Debug, Clone)]
pub struct StorageAccount {
    pub name: String,
    pub key: Secret,
    /// `https://ACCOUNT.table.core.windows.net/` or the explicit `TableEndpoint` (which may
    /// carry a path, as the emulator's `http://127.0.0.1:10002/devstoreaccount1`).
    pub table_endpoint: url::Url,
}

impl StorageAccount {
    /// The development-storage account (`UseDevelopmentStorage=true`, or Azurite's name).
    pub fn is_development(&self) -> bool {
        self.name == DEV_ACCOUNT
    }
}

/// Parses a connection string. The error says which part is wrong and what is expected.
pub fn parse(s: &str) -> Result<StorageAccount, String> {
    let mut protocol = None;
    let mut name = None;
    let mut key = None;
    let mut suffix = None;
    let mut table_endpoint = None;
    let mut dev = false;
    let mut sas = false;
    for (i, part) in s.trim().split(';').enumerate() {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((k, v)) = part.split_once('=') else {
            return Err(format!(
                "part {} has no `=`: expected `Key=Value` parts separated by `;`",
                i + 1
            ));
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "defaultendpointsprotocol" => protocol = Some(v.to_ascii_lowercase()),
            "accountname" => name = Some(v.to_string()),
            "accountkey" => key = Some(v.to_string()),
            "endpointsuffix" => suffix = Some(v.to_string()),
            "tableendpoint" => table_endpoint = Some(v.to_string()),
            "usedevelopmentstorage" => dev = v.eq_ignore_ascii_case("true"),
            "sharedaccesssignature" => sas = true,
            "blobendpoint" | "queueendpoint" | "fileendpoint" | "developmentstorageproxyuri" => {}
            other => {
                // The name only when it looks like one: never a piece of a key.
                let shown = if other.len() <= 40 && other.chars().all(|c| c.is_ascii_alphabetic()) {
                    format!("`{other}`")
                } else {
                    format!("number {}", i + 1)
                };
                return Err(format!(
                    "unknown part {shown}: expected DefaultEndpointsProtocol, AccountName, AccountKey, EndpointSuffix or TableEndpoint"
                ));
            }
        }
    }
    if dev {
        return Ok(StorageAccount {
            name: DEV_ACCOUNT.to_string(),
            key: Secret::new(DEV_KEY),
            table_endpoint: url::Url::parse(DEV_TABLE_ENDPOINT).expect("constant URL"),
        });
    }
    let name = name
        .filter(|n| !n.is_empty())
        .ok_or("no AccountName: expected `AccountName=<storage account>`")?;
    let valid = (3..=24).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !valid {
        return Err(format!(
            "AccountName `{name}` is not a storage account name: 3 to 24 lowercase letters and digits"
        ));
    }
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Err(if sas {
            "a shared access signature instead of an AccountKey: the marketplace needs the account key connection string from Access keys".into()
        } else {
            "no AccountKey: expected `AccountKey=<key>` (Access keys in the Azure portal)".into()
        });
    };
    match base64::engine::general_purpose::STANDARD.decode(&key) {
        Ok(bytes) if !bytes.is_empty() => {}
        _ => {
            return Err(
                "AccountKey is not valid base64: copy the connection string again from Access keys"
                    .into(),
            )
        }
    }
    let protocol = protocol.unwrap_or_else(|| "https".into());
    if protocol != "https" && protocol != "http" {
        return Err(format!(
            "DefaultEndpointsProtocol `{protocol}`: expected https"
        ));
    }
    let table_endpoint = match table_endpoint {
        Some(t) => url::Url::parse(&t).map_err(|e| format!("TableEndpoint is not a URL ({e})"))?,
        None => {
            let suffix = suffix.unwrap_or_else(|| "core.windows.net".into());
            if suffix.is_empty() || suffix.contains(['/', ':', ' ']) {
                return Err(format!(
                    "EndpointSuffix `{suffix}` is not a domain: expected e.g. core.windows.net"
                ));
            }
            url::Url::parse(&format!("{protocol}://{name}.table.{suffix}/")).map_err(|e| {
                format!("the table endpoint built from AccountName and EndpointSuffix is not a URL ({e})")
            })?
        }
    };
    if !matches!(table_endpoint.scheme(), "http" | "https") || table_endpoint.host_str().is_none() {
        return Err("TableEndpoint must be an http(s) URL with a host".into());
    }
    Ok(StorageAccount {
        name,
        key: Secret::new(key),
        table_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1ieXRlcw==";

    #[test]
    fn parses_the_forms() {
        let a = parse(&format!(
            "DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey={KEY};EndpointSuffix=core.windows.net"
        ))
        .unwrap();
        assert_eq!(
            a.table_endpoint.as_str(),
            "https://contoso.table.core.windows.net/"
        );
        assert_eq!(a.key.expose(), KEY);
        let a = parse(&format!(
            "AccountName=contoso;AccountKey={KEY};EndpointSuffix=core.chinacloudapi.cn;"
        ))
        .unwrap();
        assert_eq!(
            a.table_endpoint.host_str(),
            Some("contoso.table.core.chinacloudapi.cn")
        );
        let a = parse("UseDevelopmentStorage=true").unwrap();
        assert!(a.is_development());
        assert_eq!(a.table_endpoint.as_str(), DEV_TABLE_ENDPOINT);
        let a = parse(&format!(
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DEV_KEY};TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
        ))
        .unwrap();
        assert_eq!(a.table_endpoint.port(), Some(10002));
    }

    #[test]
    fn errors_never_show_the_key() {
        let bad_key = "not*base64*secretvalue";
        for s in [
            format!("AccountName=contoso;AccountKey={bad_key}"),
            format!("AccountName=contoso;{bad_key}"),
            format!("AccountName=Contoso;AccountKey={bad_key}"),
            format!("AccountKey={bad_key}"),
        ] {
            let e = parse(&s).unwrap_err();
            assert!(!e.contains("secretvalue"), "{e}");
        }
        assert!(parse("AccountName=contoso")
            .unwrap_err()
            .contains("no AccountKey"));
        assert!(parse("AccountName=contoso;SharedAccessSignature=sv=x")
            .unwrap_err()
            .contains("shared access signature"));
        assert!(parse(&format!("AccountName=ab;AccountKey={KEY}"))
            .unwrap_err()
            .contains("3 to 24"));
        assert!(
            parse(&format!("AccountName=contoso;AccountKey={KEY};Foo=1"))
                .unwrap_err()
                .contains("unknown part `foo`")
        );
    }
}
