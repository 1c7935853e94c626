//! Rendering shared by `explain`, `triage` and `catalog`: localized labels, the JSON
//! envelope, catalog pages and text matches, in human and JSON form.

use crate::catalog::matcher::Match;
use crate::catalog::Entry;
use crate::lang::Lang;
use crate::secret::redact;
use crate::term::sanitize;
use colored::Colorize;
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// Words of the page frame, per page language (the page text itself is in the catalog).
pub struct Labels {
    pub cause: &'static str,
    pub remedy: &'static str,
    pub docs: &'static str,
    pub status: &'static str,
    pub destinations: &'static str,
    pub upstream: &'static str,
    pub confidence: &'static str,
    pub language: &'static str,
    pub matched: &'static str,
    pub superseded_by: &'static str,
    pub found: &'static str,
}

pub fn labels(lang: Lang) -> &'static Labels {
    const EN: Labels = Labels {
        cause: "Cause",
        remedy: "Remedy",
        docs: "Docs",
        status: "status",
        destinations: "destinations",
        upstream: "upstream codes",
        confidence: "confidence",
        language: "language",
        matched: "matched",
        superseded_by: "superseded by",
        found: "codes found",
    };
    const PL: Labels = Labels {
        cause: "Przyczyna",
        remedy: "Rozwiązanie",
        docs: "Dokumentacja",
        status: "stan",
        destinations: "miejsca docelowe",
        upstream: "kody źródłowe",
        confidence: "pewność",
        language: "język",
        matched: "dopasowano",
        superseded_by: "zastąpiony przez",
        found: "znalezione kody",
    };
    const PT: Labels = Labels {
        cause: "Causa",
        remedy: "Solução",
        docs: "Documentação",
        status: "status",
        destinations: "destinos",
        upstream: "códigos de origem",
        confidence: "confiança",
        language: "idioma",
        matched: "trecho",
        superseded_by: "substituído por",
        found: "códigos encontrados",
    };
    const ZH: Labels = Labels {
        cause: "原因",
        remedy: "解決方法",
        docs: "文件",
        status: "狀態",
        destinations: "目的地",
        upstream: "上游代碼",
        confidence: "信賴度",
        language: "語言",
        matched: "相符片段",
        superseded_by: "取代者",
        found: "找到的代碼",
    };
    const KO: Labels = Labels {
        cause: "원인",
        remedy: "해결 방법",
        docs: "문서",
        status: "상태",
        destinations: "대상",
        upstream: "업스트림 코드",
        confidence: "신뢰도",
        language: "언어",
        matched: "일치한 부분",
        superseded_by: "대체 코드",
        found: "찾은 코드",
    };
    match lang {
        Lang::En => &EN,
        Lang::Pl => &PL,
        Lang::PtBr => &PT,
        Lang::ZhTw => &ZH,
        Lang::KoKr => &KO,
    }
}

/// Wraps a JSON document's body with `schema_version` and `leadcheck`.
pub fn envelope(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    m.insert("schema_version".into(), json!(crate::SCHEMA_VERSION));
    m.insert("leadcheck".into(), json!(crate::VERSION));
    Value::Object(m)
}

/// Writes one JSON document on one line.
pub fn write_json(out: &mut dyn Write, doc: &Value) -> io::Result<()> {
    serde_json::to_writer(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// A confidence as JSON shows it: two decimals.
pub fn confidence(c: f32) -> f64 {
    (c as f64 * 100.0).round() / 100.0
}

/// A catalog page as JSON (`explain CODE`).
pub fn entry_json(e: &Entry, lang: Lang) -> Value {
    json!({
        "code": e.code,
        "title": e.title(lang),
        "status": e.status.as_str(),
        "destinations": e.destinations,
        "cause": e.cause(lang),
        "remedy": e.remedy(lang),
        "docs": e.docs,
    })
}

/// A text match as JSON (`explain TEXT`); the fragment is redacted.
pub fn match_json(m: &Match, e: Option<&Entry>, lang: Lang) -> Value {
    json!({
        "code": m.code,
        "title": e.map(|e| e.title(lang)).unwrap_or(""),
        "confidence": confidence(m.confidence),
        "language": m.language.tag(),
        "matched": redact(&m.matched),
        "remedy": e.map(|e| e.remedy(lang)).unwrap_or(&[]),
        "docs": e.map(|e| e.docs.as_slice()).unwrap_or(&[]),
    })
}

/// Wraps `text` at `width` characters on spaces, indenting every line by `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    for para in text.split('\n') {
        let mut line = String::new();
        for word in para.split(' ').filter(|w| !w.is_empty()) {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(indent);
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if !line.is_empty() {
            out.push_str(indent);
            out.push_str(&line);
        }
        out.push('\n');
    }
    out
}

/// Numbered steps, each wrapped under its number.
fn steps(out: &mut dyn Write, steps: &[String], indent: &str) -> io::Result<()> {
    for (i, s) in steps.iter().enumerate() {
        let num = format!("{}. ", i + 1);
        let body = wrap(s, 76, &" ".repeat(indent.len() + num.len()));
        let body = body.trim_start();
        write!(out, "{indent}{num}{body}")?;
    }
    Ok(())
}

/// A catalog page for people.
pub fn entry_human(out: &mut dyn Write, e: &Entry, lang: Lang) -> io::Result<()> {
    let l = labels(lang);
    writeln!(out, "{}  {}", e.code.bold().yellow(), e.title(lang).bold())?;
    let mut meta = format!("{}: {}", l.status, e.status.as_str());
    if let Some(by) = &e.superseded_by {
        meta.push_str(&format!(" ({} {by})", l.superseded_by));
    }
    if !e.destinations.is_empty() {
        meta.push_str(&format!(
            "    {}: {}",
            l.destinations,
            e.destinations.join(", ")
        ));
    }
    writeln!(out, "{meta}")?;
    if !e.upstream.is_empty() {
        writeln!(out, "{}: {}", l.upstream, e.upstream.join(", "))?;
    }
    writeln!(out)?;
    writeln!(out, "{}", l.cause.bold())?;
    write!(out, "{}", wrap(e.cause(lang), 78, "  "))?;
    writeln!(out)?;
    writeln!(out, "{}", l.remedy.bold())?;
    steps(out, e.remedy(lang), "  ")?;
    if !e.docs.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", l.docs.bold())?;
        for d in &e.docs {
            writeln!(out, "  {d}")?;
        }
    }
    Ok(())
}

/// Text matches for people: code, title, confidence, language, the fragment (sanitized and
/// redacted), the remedy, and where to read more.
pub fn matches_human(
    out: &mut dyn Write,
    matches: &[Match],
    pages: &[Option<Entry>],
    lang: Lang,
) -> io::Result<()> {
    let l = labels(lang);
    // Several codes: the list first, so that a long paste's answer is read at a glance.
    if matches.len() > 1 {
        let codes: Vec<String> = matches
            .iter()
            .map(|m| m.code.bold().yellow().to_string())
            .collect();
        writeln!(out, "{} ({}): {}", l.found, matches.len(), codes.join(", "))?;
        writeln!(out)?;
    }
    for (i, m) in matches.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        let e = pages.get(i).and_then(Option::as_ref);
        let title = e.map(|e| e.title(lang)).unwrap_or("");
        writeln!(out, "{}  {}", m.code.bold().yellow(), title.bold())?;
        writeln!(
            out,
            "  {} {:.2}, {} {}",
            l.confidence,
            m.confidence,
            l.language,
            m.language.tag()
        )?;
        let shown = sanitize(&redact(&m.matched), false);
        writeln!(out, "  {}: \"{}\"", l.matched, shown.dimmed())?;
        if let Some(e) = e {
            steps(out, e.remedy(lang), "  ")?;
        }
        writeln!(out, "  run `leadcheck explain {}`", m.code)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_spaces() {
        assert_eq!(wrap("aaa bbb ccc", 7, "  "), "  aaa bbb\n  ccc\n");
        assert_eq!(wrap("", 7, "  "), "\n");
    }
}
