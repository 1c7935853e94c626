//! Exit codes, decided in one place (PRODUCT.md, "Exit codes").

use std::fmt;

/// The outcome of a command, as the process reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// diagnose/lint: every destination passed; explain/triage: at least one match.
    Ok = 0,
    /// diagnose/lint: a finding of severity error; explain/triage: nothing matched.
    Findings = 1,
    /// leadcheck could not do its job: usage, unreadable input, internal error.
    Error = 2,
    /// Interrupted by Ctrl-C.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that stops a command with exit 2: what is wrong, and what to do about it.
#[derive(Debug)]
pub struct UserError {
    pub message: String,
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(message: impl Into<String>) -> UserError {
        UserError {
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> UserError {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for UserError {}
