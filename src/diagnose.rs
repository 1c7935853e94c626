//! `diagnose` and `lint`: load the config, run every destination concurrently under the run
//! deadline, render the report.

use crate::app::{not_yet, App};
use crate::cli::{DiagnoseArgs, LintArgs};
use crate::exit::Exit;

pub fn run_diagnose(_args: DiagnoseArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("diagnose")
}

pub fn run_lint(_args: LintArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("lint")
}
