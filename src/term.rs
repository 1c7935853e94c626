//! The terminal: whether to color, whether to show progress, and escaping of text that came
//! from outside (tickets, servers) before it reaches a terminal.

use std::io::IsTerminal;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// How much to say on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

/// Decided once, at start-up, from the flags and the environment.
#[derive(Debug, Clone, Copy)]
pub struct Term {
    /// Color on stdout (human formats only; machine formats never color).
    pub color: bool,
    /// Color on stderr.
    pub color_stderr: bool,
    /// Spinners and progress bars on stderr.
    pub progress: bool,
    pub verbosity: Verbosity,
}

impl Term {
    /// `--color` first; under `auto`, a non-empty NO_COLOR disables, a non-empty
    /// CLICOLOR_FORCE forces, `CLICOLOR=0` or `TERM=dumb` disables, else color when the
    /// stream is a terminal.
    pub fn decide(
        choice: ColorChoice,
        verbosity: Verbosity,
        env: impl Fn(&str) -> Option<String>,
        stdout_tty: bool,
        stderr_tty: bool,
    ) -> Term {
        let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
        let auto = |tty: bool| {
            if set("NO_COLOR") {
                false
            } else if set("CLICOLOR_FORCE") {
                true
            } else if env("CLICOLOR").as_deref() == Some("0")
                || env("TERM").as_deref() == Some("dumb")
            {
                false
            } else {
                tty
            }
        };
        let (color, color_stderr) = match choice {
            ColorChoice::Always => (true, true),
            ColorChoice::Never => (false, false),
            ColorChoice::Auto => (auto(stdout_tty), auto(stderr_tty)),
        };
        let progress =
            stderr_tty && verbosity == Verbosity::Normal && env("TERM").as_deref() != Some("dumb");
        Term {
            color,
            color_stderr,
            progress,
            verbosity,
        }
    }

    /// From the real process environment and streams.
    pub fn from_process(choice: ColorChoice, verbosity: Verbosity) -> Term {
        Term::decide(
            choice,
            verbosity,
            |k| std::env::var(k).ok(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        )
    }

    /// No color, no progress: for tests and machine formats.
    pub fn plain() -> Term {
        Term {
            color: false,
            color_stderr: false,
            progress: false,
            verbosity: Verbosity::Normal,
        }
    }
}

/// Escapes control, bidi-override and zero-width characters so that text from a ticket or a
/// server cannot move the cursor, recolor the terminal or reorder what is shown. Newlines and
/// tabs are kept when `keep_newlines` is set.
pub fn sanitize(text: &str, keep_newlines: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if keep_newlines => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2069}'
            | '\u{feff}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn color_precedence() {
        let t = Term::decide(ColorChoice::Auto, Verbosity::Normal, env(&[]), true, true);
        assert!(t.color && t.progress);
        let t = Term::decide(
            ColorChoice::Auto,
            Verbosity::Normal,
            env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]),
            true,
            true,
        );
        assert!(!t.color);
        let t = Term::decide(
            ColorChoice::Auto,
            Verbosity::Normal,
            env(&[("CLICOLOR_FORCE", "1")]),
            false,
            false,
        );
        assert!(t.color && !t.progress);
        let t = Term::decide(
            ColorChoice::Always,
            Verbosity::Quiet,
            env(&[("NO_COLOR", "1")]),
            false,
            true,
        );
        assert!(t.color && !t.progress);
        let t = Term::decide(
            ColorChoice::Auto,
            Verbosity::Normal,
            env(&[("NO_COLOR", "")]),
            false,
            false,
        );
        assert!(!t.color);
    }

    #[test]
    fn escapes_terminal_tricks() {
        assert_eq!(sanitize("a\x1b[31mb", false), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\u{202e}y\nz", true), "x\\u{202e}y\nz");
        assert_eq!(sanitize("x\ny", false), "x\\u{a}y");
    }
}
