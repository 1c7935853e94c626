//! Secrets (client secrets, passwords, account keys, URL signatures, tokens) live in
//! [`Secret`], which has no `Display` and whose `Debug` prints `<redacted>`: printing one by
//! accident shows nothing. [`redact`] scrubs secret-shaped text out of anything echoed.

use std::fmt;

/// A secret value. Read it only with [`Secret::expose`], at the point where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself; call this only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The text put in place of a redacted value.
pub const REDACTED: &str = "<redacted>";
