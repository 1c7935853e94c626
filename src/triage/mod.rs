//! `triage`: classify every record of a ticket export; also home of `explain` and `catalog`.

pub mod catalog_cmd;
pub mod explain;

use crate::app::{not_yet, App};
use crate::cli::TriageArgs;
use crate::exit::Exit;

pub fn run(_args: TriageArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("triage")
}
