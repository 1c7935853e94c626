//! The MSFT_TEST lead and its encodings per destination; `test-lead`.

use crate::app::{not_yet, App};
use crate::cli::TestLeadArgs;
use crate::exit::Exit;

pub fn run(_args: TestLeadArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("test-lead")
}
