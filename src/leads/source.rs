//! One reader per destination type behind one trait: the leads of a destination, page by
//! page, so that a command never holds more than one page.

use super::table::{self, Continuation};
use super::Listed;
use crate::config::{self, Spec};
use crate::destination::azure_table::{account_from, Account};
use crate::net::{BoxFuture, Net};

pub use super::table::ReadError;

/// Reads a destination's leads, page by page.
pub trait Reader: Send {
    /// What is read, in words ("table MarketplaceLeads of account contoso").
    fn what(&self) -> String;
    /// The query that selects the marketplace's leads, as the destination's API reads it
    /// (an OData filter, SOQL, ...), shown with `-v`. Never holds a secret.
    fn query(&self) -> String;
    /// The next page; `None` after the last one.
    fn next_page<'a>(
        &'a mut self,
        net: &'a Net,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, ReadError>>;
    /// Starts over at the first page of the leads since `since`, keeping a sign-in that is
    /// still good: `--watch` polls with one reader, not one sign-in a poll.
    fn rewind(&mut self, since: Option<i64>);
}

/// The reader of `dest`'s leads since `since` (Unix seconds; `None`: all). A destination
/// whose leads cannot be read back is a [`ReadError::Refused`] (a skip), with the reason.
pub fn open(dest: &config::Destination, since: Option<i64>) -> Result<Box<dyn Reader>, ReadError> {
    match &dest.spec {
        Spec::AzureTable(t) => {
            let raw = t
                .storage_account_connection_string
                .as_ref()
                .and_then(|f| f.secret())
                .ok_or_else(|| {
                    ReadError::Failed(
                        "storage_account_connection_string is missing (`leadcheck lint` says more)"
                            .into(),
                    )
                })?;
            let account = account_from(raw).map_err(ReadError::Failed)?;
            let table = t
                .table
                .clone()
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| config::DEFAULT_TABLE.to_string());
            Ok(Box::new(TableReader {
                account,
                table,
                since,
                next: None,
                done: false,
            }))
        }
        Spec::Https(_) => Err(ReadError::Refused(
            "an HTTPS endpoint only receives leads; it has no API to read them back (look in the service behind it)".into(),
        )),
        Spec::AzureBlob(_) => Err(ReadError::Refused(
            "Azure Blob is no longer a lead destination (LC101); there is nothing to read".into(),
        )),
        Spec::Nothing { .. } => Err(ReadError::Refused(
            "no lead destination is configured; leads are only listed in Partner Center's Referrals workspace".into(),
        )),
        Spec::Dynamics(d) => Ok(Box::new(super::dynamics::open(dest, d, since)?)),
        Spec::Salesforce(s) => Ok(Box::new(super::salesforce::SalesforceReader::open(
            dest, s, since,
        )?)),
        Spec::Marketo(m) => Ok(Box::new(super::marketo::MarketoReader::open(
            dest, m, since,
        )?)),
    }
}

/// Azure Table: the table read through its continuation headers.
struct TableReader {
    account: Account,
    table: String,
    since: Option<i64>,
    next: Option<Continuation>,
    done: bool,
}

impl Reader for TableReader {
    fn what(&self) -> String {
        format!("table {} of account {}", self.table, self.account.name)
    }

    fn query(&self) -> String {
        match table::page_url(&self.account, &self.table, self.since, None) {
            Ok(url) => format!(
                "GET {url} (pages of {}, through the service's continuation headers)",
                table::PAGE
            ),
            Err(e) => e,
        }
    }

    fn next_page<'a>(
        &'a mut self,
        net: &'a Net,
    ) -> BoxFuture<'a, Result<Option<Vec<Listed>>, ReadError>> {
        Box::pin(async move {
            if self.done {
                return Ok(None);
            }
            let page = table::read_page(
                net,
                &self.account,
                &self.table,
                self.since,
                self.next.as_ref(),
            )
            .await?;
            // A service that names the page just read as the next one would never end.
            if page.next.is_some() && page.next == self.next {
                return Err(ReadError::Failed(
                    "the table service named the same page again as the next one".into(),
                ));
            }
            self.next = page.next;
            self.done = self.next.is_none();
            Ok(Some(page.leads))
        })
    }

    fn rewind(&mut self, since: Option<i64>) {
        self.since = since;
        self.next = None;
        self.done = false;
    }
}
