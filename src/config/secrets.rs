//! Resolving secrets. A secret that cannot be read is not a parse error: the field keeps the
//! reason (`SecretField.value = Err(..)`) and lint reports it as LC106. Reasons name the
//! variable or the file, never a value.

use super::model::{SecretField, SecretSource};
use crate::secret::Secret;
use std::path::{Path, PathBuf};

/// `{ env = "VAR" }` / `env:VAR`.
pub fn from_env(var: &str) -> SecretField {
    let value = match std::env::var(var) {
        Ok(v) => Ok(Secret::new(v)),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("the environment variable {var} is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("the environment variable {var} is not valid UTF-8"))
        }
    };
    SecretField {
        source: SecretSource::Env(var.to_string()),
        value,
    }
}

/// `{ file = "PATH" }` (relative to `base`, the config file's folder) / `file:PATH`. One
/// trailing newline is dropped, as editors and `echo` add one.
pub fn from_file(path: &str, base: Option<&Path>) -> SecretField {
    let p = PathBuf::from(path);
    let full = match base {
        Some(b) if p.is_relative() => b.join(&p),
        _ => p,
    };
    let value = match read_capped(&full) {
        Ok(bytes) if bytes.len() > MAX_SECRET_FILE => Err(format!(
            "the file {} is larger than {} KiB: not a secret",
            full.display(),
            MAX_SECRET_FILE / 1024
        )),
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(s) => Ok(Secret::new(trim_one_newline(s))),
            Err(_) => Err(format!("the file {} is not UTF-8 text", full.display())),
        },
        Err(e) => Err(format!(
            "cannot read the file {}: {}",
            full.display(),
            io_reason(&e)
        )),
    };
    SecretField {
        source: SecretSource::File(full),
        value,
    }
}

/// A secret file is read up to this size: `/dev/zero` or a huge file by mistake must not
/// hang the run or fill memory.
pub const MAX_SECRET_FILE: usize = 64 * 1024;

fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_SECRET_FILE as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}

pub fn trim_one_newline(mut s: String) -> String {
    if s.ends_with("\r\n") {
        s.truncate(s.len() - 2);
    } else if s.ends_with('\n') {
        s.truncate(s.len() - 1);
    }
    s
}

/// Reads standard input for secret flags given as `-`: at most once per run.
#[derive(Debug, Default)]
pub struct Stdin {
    used_by: Option<String>,
}

impl Stdin {
    /// A secret flag's value: `env:VAR`, `file:PATH` (relative to the working directory),
    /// `-` (standard input, once), else a literal (a warning: it shows in `ps`).
    pub fn flag(
        &mut self,
        flag: &str,
        value: &str,
        read: impl FnOnce() -> std::io::Result<String>,
    ) -> SecretField {
        if let Some(var) = value.strip_prefix("env:") {
            from_env(var)
        } else if let Some(path) = value.strip_prefix("file:") {
            from_file(path, None)
        } else if value == "-" {
            let value = match &self.used_by {
                Some(first) => Err(format!(
                    "standard input was already read for --{first}; use env: or file: for --{flag}"
                )),
                None => {
                    self.used_by = Some(flag.to_string());
                    read()
                        .map(|s| Secret::new(trim_one_newline(s)))
                        .map_err(|e| format!("cannot read standard input: {e}"))
                }
            };
            SecretField {
                source: SecretSource::Stdin,
                value,
            }
        } else {
            SecretField {
                source: SecretSource::Flag,
                value: Ok(Secret::new(value)),
            }
        }
    }
}

/// Reads all of standard input.
pub fn read_stdin() -> std::io::Result<String> {
    let mut s = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_files() {
        let mut stdin = Stdin::default();
        let f = stdin.flag("password", "-", || Ok("hunter2\n".into()));
        assert_eq!(f.value.unwrap().expose(), "hunter2");
        let f = stdin.flag("client-secret", "-", || Ok("x".into()));
        assert!(f.value.unwrap_err().contains("already read for --password"));
        let f = stdin.flag("password", "lit", || unreachable!());
        assert_eq!(f.source, SecretSource::Flag);
        let f = stdin.flag(
            "password",
            "env:LEADCHECK_TEST_SURELY_UNSET_VAR",
            || unreachable!(),
        );
        assert!(f
            .value
            .unwrap_err()
            .contains("LEADCHECK_TEST_SURELY_UNSET_VAR is not set"));
        let f = from_file("no/such/file", Some(Path::new("/nonexistent")));
        assert!(f
            .value
            .unwrap_err()
            .contains("/nonexistent/no/such/file: no such file"));
        assert_eq!(trim_one_newline("a\n\n".into()), "a\n");
        assert_eq!(trim_one_newline("a\r\n".into()), "a");
    }
}
