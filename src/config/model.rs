//! The typed destination config every reader produces (TOML, Partner Center JSON, flags) and
//! every consumer reads (lint, diagnose, test-lead). Fields are `Option` because a missing
//! required field is a lint finding (LC102), not a parse error: the file parsed.

use crate::report::Location;
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A whole config: one or more named destinations.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it came from; `None` for flags.
    pub path: Option<PathBuf>,
    pub destinations: Vec<Destination>,
}

/// One named destination.
#[derive(Debug, Clone)]
pub struct Destination {
    pub name: String,
    pub spec: Spec,
    pub common: Common,
    /// Where each field was written (field name in snake_case -> file:line:col), so that lint
    /// findings can point at it. Empty for flags.
    pub locations: BTreeMap<String, Location>,
    /// Where the destination's table (or object) starts.
    pub location: Option<Location>,
}

impl Destination {
    /// The location of a field, else of the destination itself.
    pub fn loc(&self, field: &str) -> Option<Location> {
        self.locations
            .get(field)
            .cloned()
            .or_else(|| self.location.clone())
    }

    /// The `type` as PRODUCT.md spells it.
    pub fn kind(&self) -> &'static str {
        self.spec.kind()
    }
}

/// Fields every destination may carry.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub contact_email: Vec<String>,
    /// `publisher.offer` id.
    pub offer: Option<String>,
    pub offer_title: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Spec {
    Dynamics(Dynamics),
    Salesforce(Salesforce),
    Marketo(Marketo),
    AzureTable(AzureTable),
    Https(Https),
    /// Retired: recognized only to report LC101.
    AzureBlob(AzureBlob),
    /// Partner Center's `none` or `email`: nothing to test (LC117).
    Nothing {
        kind: String,
    },
}

impl Spec {
    pub fn kind(&self) -> &'static str {
        match self {
            Spec::Dynamics(_) => "dynamics",
            Spec::Salesforce(_) => "salesforce",
            Spec::Marketo(_) => "marketo",
            Spec::AzureTable(_) => "azure-table",
            Spec::Https(_) => "https",
            Spec::AzureBlob(_) => "azure-blob",
            Spec::Nothing { .. } => "none",
        }
    }
}

/// Where a secret came from; lint warns about `Plain` (and `Flag`, which shows in `ps`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// Written in the config file as a string.
    Plain,
    /// A literal on the command line.
    Flag,
    Env(String),
    File(PathBuf),
    Stdin,
}

/// A secret field: its source, and its value or why it could not be read (LC106).
#[derive(Debug, Clone)]
pub struct SecretField {
    pub source: SecretSource,
    pub value: Result<Secret, String>,
}

impl SecretField {
    pub fn plain(value: impl Into<String>) -> SecretField {
        SecretField {
            source: SecretSource::Plain,
            value: Ok(Secret::new(value)),
        }
    }

    /// The value when it could be read and is not empty.
    pub fn secret(&self) -> Option<&Secret> {
        self.value.as_ref().ok().filter(|s| !s.is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicsAuth {
    AzureAd,
    Office365,
}

#[derive(Debug, Clone, Default)]
pub struct Dynamics {
    pub instance_url: Option<String>,
    pub authentication: Option<DynamicsAuth>,
    pub directory_id: Option<String>,
    pub application_id: Option<String>,
    pub application_key: Option<SecretField>,
    pub username: Option<String>,
    pub password: Option<SecretField>,
    pub client_id: Option<String>,
    /// Default `https://login.microsoftonline.com`.
    pub authority_host: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Salesforce {
    /// The web-to-lead `oid`.
    pub object_identifier: Option<String>,
    /// Default `https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8`.
    pub endpoint: Option<String>,
    pub api_instance_url: Option<String>,
    pub api_access_token: Option<SecretField>,
}

#[derive(Debug, Clone, Default)]
pub struct Marketo {
    pub munchkin_id: Option<String>,
    pub form_id: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretField>,
    pub server_id: Option<String>,
    /// Default `https://<munchkin_id>.mktorest.com`.
    pub endpoint: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AzureTable {
    pub storage_account_connection_string: Option<SecretField>,
    /// Default `MarketplaceLeads`.
    pub table: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Https {
    /// A secret field: a Power Automate URL carries its signature (`sig`) in the query.
    pub https_endpoint_url: Option<SecretField>,
}

#[derive(Debug, Clone, Default)]
pub struct AzureBlob {
    pub storage_account_connection_string: Option<SecretField>,
    pub container_name: Option<String>,
}

pub const DEFAULT_TABLE: &str = "MarketplaceLeads";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const DEFAULT_SALESFORCE_ENDPOINT: &str =
    "https://webto.salesforce.com/servlet/servlet.WebToLead?encoding=UTF-8";
pub const DEFAULT_OFFER_TITLE: &str = "leadcheck test";
