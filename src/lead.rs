//! The MSFT_TEST lead and its encodings per destination; `test-lead`.

use crate::app::{not_yet, App};
use crate::cli::TestLeadArgs;
use crate::exit::Exit;

/// .NET ticks (100 ns since 0001-01-01) at the Unix epoch.
pub const TICKS_AT_UNIX_EPOCH: u64 = 621_355_968_000_000_000;

/// The test lead, as the marketplace mints it: every customer field `MSFT_TEST_<ticks>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lead {
    pub ticks: u64,
    pub offer_title: String,
}

impl Lead {
    /// `MSFT_TEST_<ticks>`.
    pub fn marker(&self) -> String {
        format!("MSFT_TEST_{}", self.ticks)
    }

    /// `MSFT_TEST_<ticks>@test.com`.
    pub fn email(&self) -> String {
        format!("MSFT_TEST_{}@test.com", self.ticks)
    }
}

/// .NET ticks of now.
pub fn ticks_now() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    TICKS_AT_UNIX_EPOCH + since.as_secs() * 10_000_000 + u64::from(since.subsec_nanos() / 100)
}

pub fn run(_args: TestLeadArgs, _app: &mut App) -> anyhow::Result<Exit> {
    not_yet("test-lead")
}
