//! `explain CODE | TEXT... | -` and `explain --all`: a code's page in `--lang`, or the codes
//! recognized in pasted text (standard input with `-`).

use super::render;
use crate::app::App;
use crate::catalog::matcher::match_text;
use crate::catalog::Catalog;
use crate::cli::{ExplainArgs, TextFormat};
use crate::exit::{Exit, UserError};
use serde_json::Value;
use std::io::Read;

/// Pasted text is matched on its first MiB, as a triage record is.
const MAX_TEXT: usize = 1 << 20;

pub fn run(args: ExplainArgs, app: &mut App) -> anyhow::Result<Exit> {
    let format = crate::app::output_format("explain", args.format, args.json)?;
    colored::control::set_override(app.term.color && format == TextFormat::Human);

    if args.all {
        return all(Catalog::get(), format, app);
    }
    if args.input.len() == 1 && args.input[0] != "-" {
        let input = args.input[0].trim();
        if let Some(code) = Catalog::parse_code(input) {
            return page(&code, format, app);
        }
        if looks_like_code(input) {
            return Err(unknown_code(&input.to_ascii_uppercase()).into());
        }
    }
    let text = if args.input.len() == 1 && args.input[0] == "-" {
        read_stdin(app)?
    } else {
        args.input.join(" ")
    };
    text_matches(&text, format, app)
}

/// `LC4021`, `lc40`: meant as a code, but not one. Byte-safe: pasted text often starts with
/// a character wider than one byte (`안녕`, `„`, an emoji), so nothing is sliced by index.
fn looks_like_code(s: &str) -> bool {
    let digits = s
        .get(..2)
        .filter(|p| p.eq_ignore_ascii_case("lc"))
        .and_then(|_| s.get(2..));
    digits.is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

fn unknown_code(code: &str) -> UserError {
    let near: Vec<&str> = crate::catalog::summaries()
        .map(|e| e.code)
        .filter(|c| strsim::levenshtein(c, code) == 1 || (code.len() > 5 && code.starts_with(c)))
        .take(3)
        .collect();
    let err = UserError::new(format!("{code} is not a leadcheck code"));
    if near.is_empty() {
        err.hint("`leadcheck catalog` lists every code")
    } else {
        err.hint(format!(
            "did you mean {}? `leadcheck catalog` lists every code",
            near.join(" or ")
        ))
    }
}

/// A code's page: only that page is parsed, so it shows at once.
fn page(code: &str, format: TextFormat, app: &mut App) -> anyhow::Result<Exit> {
    let Some(e) = crate::catalog::page(code) else {
        return Err(unknown_code(code).into());
    };
    let e = &e;
    match format {
        TextFormat::Json => render::write_json(
            app.out,
            &render::envelope("entry", render::entry_json(e, app.lang)),
        )?,
        TextFormat::Human => render::entry_human(app.out, e, app.lang)?,
    }
    Ok(Exit::Ok)
}

fn all(catalog: &Catalog, format: TextFormat, app: &mut App) -> anyhow::Result<Exit> {
    match format {
        TextFormat::Json => {
            let entries: Vec<Value> = catalog
                .entries()
                .iter()
                .map(|e| render::entry_json(e, app.lang))
                .collect();
            render::write_json(app.out, &render::envelope("entries", Value::Array(entries)))?;
        }
        TextFormat::Human => {
            for (i, e) in catalog.entries().iter().enumerate() {
                if i > 0 {
                    writeln!(app.out, "\n{}\n", "-".repeat(78))?;
                }
                render::entry_human(app.out, e, app.lang)?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// Standard input, up to [`MAX_TEXT`] bytes (the rest is read and dropped), decoded lossily.
fn read_stdin(app: &mut App) -> anyhow::Result<String> {
    let mut buf = Vec::new();
    (&mut *app.stdin)
        .take(MAX_TEXT as u64)
        .read_to_end(&mut buf)?;
    let dropped = std::io::copy(&mut *app.stdin, &mut std::io::sink())?;
    if dropped > 0 {
        app.note(&format!("note: standard input is longer than 1 MiB; matched its first MiB ({dropped} bytes left out)"))?;
    }
    let text = match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => {
            app.note("note: standard input is not valid UTF-8; invalid bytes were replaced")?;
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    Ok(text)
}

fn text_matches(text: &str, format: TextFormat, app: &mut App) -> anyhow::Result<Exit> {
    let text = if text.len() > MAX_TEXT {
        let mut cut = MAX_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        &text[..cut]
    } else {
        text
    };
    let matches = match_text(text);
    // Only the pages of the codes found: parsing the whole catalog would cost more than the
    // match itself.
    let pages: Vec<_> = matches
        .iter()
        .map(|m| crate::catalog::page(&m.code))
        .collect();
    match format {
        TextFormat::Json => {
            let list: Vec<Value> = matches
                .iter()
                .zip(&pages)
                .map(|(m, e)| render::match_json(m, e.as_ref(), app.lang))
                .collect();
            render::write_json(app.out, &render::envelope("matches", Value::Array(list)))?;
        }
        TextFormat::Human if matches.is_empty() => {
            writeln!(app.out, "no confident match")?;
            app.note("hint: paste the error message itself or its code (AADSTS…, 0x8004…); `leadcheck catalog` lists every code")?;
        }
        TextFormat::Human => render::matches_human(app.out, &matches, &pages, app.lang)?,
    }
    Ok(if matches.is_empty() {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

#[cfg(test)]
mod tests {
    use super::looks_like_code;

    #[test]
    fn code_lookalikes() {
        for s in ["LC4021", "lc40", "Lc9"] {
            assert!(looks_like_code(s), "{s}");
        }
        for s in ["LC", "lc", "LCx1", "402", ""] {
            assert!(!looks_like_code(s), "{s}");
        }
    }

    /// Issue 10: a text whose second byte falls inside a character once panicked here.
    #[test]
    fn multi_byte_starts_are_not_codes_and_do_not_panic() {
        for s in [
            "안녕하세요, 지난달 송장을 보내주세요.",
            "L我",
            "我们的线索没有到达",
            "„Lead\" nie dotarł",
            "— forwarded",
            "😀 LC402",
            "é",
            "L\u{301}C402",
            "\u{202e}LC402",
        ] {
            assert!(!looks_like_code(s), "{s}");
        }
    }
}
