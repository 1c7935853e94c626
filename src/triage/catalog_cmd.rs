//! `catalog [--family LC3]`.

use crate::app::{not_yet, App};
use crate::cli::CatalogArgs;
use crate::exit::Exit;

pub fn run(_args: CatalogArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("catalog")
}
