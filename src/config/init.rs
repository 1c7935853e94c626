//! `init`: write a commented leadcheck.toml for one destination type. Every field is
//! explained; required values are left empty and secrets point at environment variables, so
//! that `lint` on the fresh file reports only what is still to be filled in (LC102, LC106).

use crate::app::App;
use crate::cli::{DestinationType, InitArgs};
use crate::exit::{Exit, UserError};
use std::path::PathBuf;

const HEADER: &str = r#"# leadcheck configuration: the lead destinations to check.
#
# Each [destination.NAME] table is one destination; NAME is yours (lint and diagnose take
# names to check only some). `type` is one of: dynamics, salesforce, marketo, azure-table,
# https. Field names follow Partner Center's lead configuration.
#
# Secrets (keys, passwords, secrets, signed URLs) take one of:
#   field = { env = "VARIABLE" }    read from an environment variable (recommended)
#   field = { file = "PATH" }       read from a file, relative to this file; one trailing
#                                   newline is dropped
#   field = "value"                 works, but lint warns (LC105): keep secrets out of files
#
# Fields every destination may carry:
#   contact_email = ["you@contoso.com"]   who Partner Center notifies of new leads
#   offer = "publisher.offer"             the offer's id
#   offer_title = "Contoso Widget"        sent as the test lead's offer title
#
# Next: fill in the empty values, set the environment variables, then run
#   leadcheck lint          offline checks of this file
#   leadcheck diagnose      sends a real MSFT_TEST lead, as the marketplace would
"#;

const DYNAMICS: &str = r#"
[destination.dynamics]
type = "dynamics"
# The Dynamics 365 instance URL, e.g. https://contoso.crm4.dynamics.com (online only;
# on-premises Dynamics is not supported by the marketplace).
instance_url = ""
# "azure-ad" (recommended: an app registration and its client secret) or "office-365"
# (a licensed user whose password must be rotated every 90 days).
authentication = "azure-ad"
# azure-ad: the directory (tenant) ID, a GUID or a domain such as contoso.onmicrosoft.com.
directory_id = ""
# azure-ad: the application (client) ID of the app registration, a GUID.
application_id = ""
# azure-ad: the app registration's client secret.
application_key = { env = "LEADCHECK_DYNAMICS_APPLICATION_KEY" }
# office-365 instead: the user name and password of the lead-writing user.
# username = "leads@contoso.onmicrosoft.com"
# password = { env = "LEADCHECK_DYNAMICS_PASSWORD" }
# client_id = ""   # office-365 only: a public client app ID to sign in with, if not the default
# Sovereign clouds: the sign-in host.
# authority_host = "https://login.microsoftonline.us"
"#;

const SALESFORCE: &str = r#"
[destination.salesforce]
type = "salesforce"
# The organization ID: the `oid` value of your web-to-lead form (00D followed by 12 or 15
# letters and digits), also under Setup > Company Information.
object_identifier = ""
# Where web-to-lead forms are posted; change only for a test server.
# endpoint = "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8"
# Optional, to verify that the lead arrived: your instance URL and an API access token.
# api_instance_url = "https://contoso.my.salesforce.com"
# api_access_token = { env = "LEADCHECK_SALESFORCE_TOKEN" }
"#;

const MARKETO: &str = r#"
[destination.marketo]
type = "marketo"
# The Munchkin ID, e.g. 123-ABC-456 (Admin > Munchkin, or your https://<id>.mktorest.com).
munchkin_id = ""
# The ID of the form that receives leads, e.g. 1179 (from the form's embed code).
form_id = ""
# The LaunchPoint custom service's client ID and secret (Admin > LaunchPoint > View Details).
client_id = ""
client_secret = { env = "LEADCHECK_MARKETO_CLIENT_SECRET" }
# server_id = ""   # older setups only; Partner Center no longer asks for it
# The REST endpoint; default https://<munchkin_id>.mktorest.com
# endpoint = ""
"#;

const AZURE_TABLE: &str = r#"
[destination.azure-table]
type = "azure-table"
# The storage account's connection string (Access keys > Connection string):
# DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...;EndpointSuffix=core.windows.net
storage_account_connection_string = { env = "LEADCHECK_STORAGE_CONNECTION_STRING" }
# The table the marketplace writes to.
# table = "MarketplaceLeads"
"#;

const HTTPS: &str = r#"
[destination.https]
type = "https"
# The URL the marketplace POSTs each lead to as JSON, e.g. a Power Automate flow's
# "When a HTTP request is received" URL. Such a URL carries its signature (sig=), so it is a
# secret.
https_endpoint_url = { env = "LEADCHECK_HTTPS_ENDPOINT_URL" }
"#;

/// The commented template for a type.
pub fn template(kind: DestinationType) -> String {
    let body = match kind {
        DestinationType::Dynamics => DYNAMICS,
        DestinationType::Salesforce => SALESFORCE,
        DestinationType::Marketo => MARKETO,
        DestinationType::AzureTable => AZURE_TABLE,
        DestinationType::Https => HTTPS,
    };
    format!("{HEADER}{body}")
}

pub fn run(args: InitArgs, app: &mut App) -> anyhow::Result<Exit> {
    let kind = args.kind.unwrap_or(DestinationType::Https);
    let text = template(kind);
    let path = args
        .output
        .unwrap_or_else(|| PathBuf::from(super::DEFAULT_FILE));
    if path.as_os_str() == "-" {
        app.out.write_all(text.as_bytes())?;
        return Ok(Exit::Ok);
    }
    if path.exists() && !args.force {
        return Err(UserError::new(format!("{} already exists", path.display()))
            .hint("pass --force to overwrite it, -o FILE to write elsewhere, or -o - to print the template")
            .into());
    }
    // Written beside the target and renamed into place: never a half-written file.
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("leadcheck"),
        std::process::id()
    ));
    let write = std::fs::write(&tmp, &text).and_then(|_| std::fs::rename(&tmp, &path));
    if let Err(e) = write {
        let _ = std::fs::remove_file(&tmp);
        return Err(UserError::new(format!("cannot write {}: {e}", path.display())).into());
    }
    app.note(&format!(
        "wrote {} (a {} destination): fill in the empty values, then run `leadcheck lint`",
        path.display(),
        kind.as_str()
    ))?;
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::lint::lint_destination;

    #[test]
    fn every_template_parses_and_lints_to_missing_values_only() {
        for kind in [
            DestinationType::Dynamics,
            DestinationType::Salesforce,
            DestinationType::Marketo,
            DestinationType::AzureTable,
            DestinationType::Https,
        ] {
            let c =
                crate::config::toml_file::parse(&template(kind), "leadcheck.toml", None).unwrap();
            assert_eq!(c.destinations.len(), 1);
            assert_eq!(c.destinations[0].kind(), kind.as_str());
            assert_eq!(c.destinations[0].name, kind.as_str());
            for f in lint_destination(&c.destinations[0]) {
                assert!(
                    ["LC102", "LC106"].contains(&f.code.as_str()),
                    "{kind:?}: {f:?}"
                );
            }
        }
    }
}
