//! `demo`: the sandbox and diagnose in one process.

use crate::app::{not_yet, App};
use crate::cli::DemoArgs;
use crate::exit::Exit;

pub fn run(_args: DemoArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("demo")
}
