//! `explain CODE | TEXT... | -`.

use crate::app::{not_yet, App};
use crate::cli::ExplainArgs;
use crate::exit::Exit;

pub fn run(_args: ExplainArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("explain")
}
