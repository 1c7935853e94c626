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
        // Spinners only when a person watches both streams: nothing of them in a pipe.
        let progress = stderr_tty
            && stdout_tty
            && verbosity == Verbosity::Normal
            && env("TERM").as_deref() != Some("dumb");
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

/// A destination name as a shell word, for a command the user may paste: quoted when it
/// holds anything but the usual, its control and bidi characters escaped.
pub fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if plain {
        name.to_string()
    } else {
        format!("'{}'", sanitize(name, false).replace('\'', "'\\''"))
    }
}

/// Columns to lay human output out in: the terminal's width when stdout is a terminal,
/// else `COLUMNS` when set, else 100 (a pipe or a file has no width of its own).
pub fn out_width() -> usize {
    let tty = std::io::stdout().is_terminal();
    let size = if tty {
        terminal_size::terminal_size().map(|(w, _)| w.0 as usize)
    } else {
        None
    };
    pick_width(size, std::env::var("COLUMNS").ok().as_deref())
}

/// Below 40 columns nothing wraps sensibly; a bogus size is ignored rather than trusted.
fn pick_width(terminal: Option<usize>, columns: Option<&str>) -> usize {
    terminal
        .filter(|w| *w > 0)
        .or_else(|| columns.and_then(|c| c.trim().parse::<usize>().ok()))
        .filter(|w| *w > 0)
        .unwrap_or(100)
        .clamp(40, 1000)
}

/// Display columns of `text` (CJK characters take two).
pub fn text_width(text: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(text)
}

/// Wraps `text` into lines of at most `width` columns: the first starts with `first`, the
/// others (and each line after a newline in `text`) with `rest`, a hanging indent. Words
/// wider than a line are cut (Chinese has no spaces to break at), except URLs, which are
/// never broken so that they stay clickable and copyable: they get a line of their own.
pub fn wrap(text: &str, width: usize, first: &str, rest: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    // Whether `line` holds any word yet (beyond its indent).
    let mut has_word = false;
    for (n, para) in text.split('\n').enumerate() {
        if n > 0 {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            has_word = false;
        }
        for word in para.split([' ', '\t']).filter(|w| !w.is_empty()) {
            let ww = text_width(word);
            if has_word && text_width(&line) + 1 + ww <= width {
                line.push(' ');
                line.push_str(word);
                continue;
            }
            if has_word {
                lines.push(std::mem::replace(&mut line, rest.to_string()));
            }
            let room = width.saturating_sub(text_width(&line)).max(1);
            if ww <= room || word.contains("://") {
                line.push_str(word);
            } else {
                // Cut a long word at character boundaries, one line per piece.
                let mut piece_w = 0;
                for c in word.chars() {
                    let cw = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
                    if piece_w > 0 && piece_w + cw > room {
                        lines.push(std::mem::replace(&mut line, rest.to_string()));
                        piece_w = 0;
                    }
                    line.push(c);
                    piece_w += cw;
                }
            }
            has_word = true;
        }
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_shell_words() {
        assert_eq!(shell_word("crm-1"), "crm-1");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word("영업팀 🚀"), "'영업팀 🚀'");
        assert_eq!(shell_word("a\u{202e}b"), "'a\\u{202e}b'");
    }

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
    fn width_from_terminal_then_columns_then_100() {
        assert_eq!(pick_width(Some(132), Some("80")), 132);
        assert_eq!(pick_width(None, Some("80")), 80);
        assert_eq!(pick_width(None, Some("x")), 100);
        assert_eq!(pick_width(None, None), 100);
        assert_eq!(pick_width(Some(0), None), 100);
        assert_eq!(pick_width(None, Some("10")), 40);
    }

    #[test]
    fn wraps_with_a_hanging_indent_and_keeps_urls_whole() {
        assert_eq!(
            wrap("aaa bbb ccc", 11, "  1. ", "     "),
            ["  1. aaa", "     bbb", "     ccc"]
        );
        assert_eq!(wrap("aa bb", 20, "- ", "  "), ["- aa bb"]);
        let url =
            "https://learn.microsoft.com/partner-center/marketplace-offers/lead-management-faq";
        let lines = wrap(&format!("see {url} now"), 40, "  ", "    ");
        assert_eq!(
            lines,
            ["  see".to_string(), format!("    {url}"), "    now".into()]
        );
        // Text without spaces (Chinese) is cut by display width: two columns a character.
        let zh = "在合作夥伴中心開啟供應項目";
        for l in wrap(zh, 12, "  ", "  ") {
            assert!(text_width(&l) <= 12, "{l}");
        }
        assert_eq!(wrap("a\nb", 20, "> ", "  "), ["> a", "  b"]);
        assert_eq!(wrap("", 20, "> ", "  "), ["> "]);
    }

    #[test]
    fn escapes_terminal_tricks() {
        assert_eq!(sanitize("a\x1b[31mb", false), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\u{202e}y\nz", true), "x\\u{202e}y\nz");
        assert_eq!(sanitize("x\ny", false), "x\\u{a}y");
    }
}
