//! The one integration-test binary (one link on a 2-core machine). Each module covers one
//! area; `support` holds the harness.

mod support;

mod cli;
mod dynamics;
mod fakes;
mod sandbox;
mod lead;
mod marketo;
mod salesforce;

mod azure_table;
mod config;
mod diagnose_https;
mod lint;
mod net;
mod report;
