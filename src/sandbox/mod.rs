//! Local emulators of the destinations on 127.0.0.1, and `sandbox`.

pub mod demo;
pub mod marketo;
pub mod salesforce;

use crate::app::{not_yet, App};
use crate::cli::SandboxArgs;
use crate::exit::Exit;

pub fn run(_args: SandboxArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("sandbox")
}
