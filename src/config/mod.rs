//! Reading destination configs: `leadcheck.toml`, Partner Center's JSON, or flags; resolving
//! secrets; linting.

pub mod init;
pub mod model;

pub use model::*;
