//! The one integration-test binary (one link on a 2-core machine). Each module covers one
//! area; `support` holds the harness.

mod leads_support;
mod support;

mod cli;
mod dynamics;
mod fakes;
mod lead;
mod leads_dynamics;
mod leads_saas;
mod leads_sandbox;
mod leads_table;
mod marketo;
mod salesforce;
mod sandbox;

mod argv_props;
mod azure_table;
mod catalog;
mod ci_recipes;
mod config;
mod diagnose_https;
mod equivalence;
mod explain;
mod faults;
mod fuzz_regressions;
mod hostile;
mod lint;
mod net;
mod props;
mod report;
mod secrets;
mod signals;
mod triage;
