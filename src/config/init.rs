//! `init`: write a commented leadcheck.toml.

use crate::app::{not_yet, App};
use crate::cli::InitArgs;
use crate::exit::Exit;

pub fn run(_args: InitArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("init")
}
