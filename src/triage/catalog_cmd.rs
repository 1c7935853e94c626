//! `catalog [--family LC3]`: the codes, their status and titles.

use super::render;
use crate::app::App;
use crate::cli::{CatalogArgs, TextFormat};
use crate::exit::{Exit, UserError};
use colored::Colorize;
use serde_json::{json, Value};

/// Reads `LC3`, `lc3xx`, `3`, `LC3XX` as family 3.
pub fn parse_family(s: &str) -> Option<u8> {
    let s = s.trim();
    // `get`, not `[..2]`: the family may start with a multi-byte character.
    let s = match (s.get(..2), s.get(2..)) {
        (Some(p), Some(rest)) if p.eq_ignore_ascii_case("lc") => rest,
        _ => s,
    };
    let s = s
        .strip_suffix("xx")
        .or_else(|| s.strip_suffix("XX"))
        .unwrap_or(s);
    match s.as_bytes() {
        [d @ b'1'..=b'6'] => Some(d - b'0'),
        _ => None,
    }
}

pub fn run(args: CatalogArgs, app: &mut App) -> anyhow::Result<Exit> {
    let format = crate::app::output_format("catalog", args.format, args.json)?;
    colored::control::set_override(app.term.color && format == TextFormat::Human);
    let family = match &args.family {
        None => None,
        Some(f) => Some(parse_family(f).ok_or_else(|| {
            UserError::new(format!("`{f}` is not a code family"))
                .hint("use LC1 to LC6 (or LC3xx, or 3)")
        })?),
    };
    // The build-time index: no page is parsed to list them.
    let entries: Vec<_> = crate::catalog::summaries()
        .filter(|e| family.is_none_or(|f| e.family() == f))
        .collect();
    match format {
        TextFormat::Json => {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({"code": e.code, "title": e.title(app.lang), "status": e.status, "destinations": e.destinations})
                })
                .collect();
            render::write_json(app.out, &render::envelope("entries", Value::Array(list)))?;
        }
        TextFormat::Human => {
            for e in &entries {
                let status = match e.status {
                    "active" => String::new(),
                    s => format!("  ({s})"),
                };
                writeln!(
                    app.out,
                    "{}  {}{}",
                    e.code.bold(),
                    e.title(app.lang),
                    status.dimmed()
                )?;
            }
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::parse_family;

    #[test]
    fn family_shapes() {
        for s in ["LC3", "lc3", "LC3xx", "3", "lc3XX"] {
            assert_eq!(parse_family(s), Some(3), "{s}");
        }
        for s in [
            "LC",
            "LC33",
            "x",
            "0",
            "",
            "LC9",
            "안",
            "é",
            "L我",
            "😀3",
            "L\u{301}3",
        ] {
            assert_eq!(parse_family(s), None, "{s}");
        }
    }
}
