//! The one integration-test binary (one link on a 2-core machine). Each module covers one
//! area; `support` holds the harness.

mod support;

mod cli;
mod catalog;
mod explain;
mod triage;
