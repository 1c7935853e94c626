//! The catalog's data and the matcher, against the fixture messages: every code is
//! recognized from every line of `fixtures/messages/LCnnn.txt`, ordinary tickets match
//! nothing, every page exists in every language, and the fixed codes keep their meaning.

use crate::support::fixture;
use leadcheck::catalog::matcher::match_text;
use leadcheck::catalog::Catalog;
use leadcheck::lang::{Lang, TextLang};

/// `lang: text` lines of a fixture file, with their line numbers; `#` starts a comment.
fn fixture_lines(rel: &str) -> Vec<(usize, TextLang, String)> {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (tag, body) = line.split_once(": ").unwrap_or_else(|| panic!("{rel}:{}: expected `lang: text`", i + 1));
        let lang = TextLang::from_tag(tag).unwrap_or_else(|| panic!("{rel}:{}: unknown language {tag}", i + 1));
        out.push((i + 1, lang, body.to_string()));
    }
    out
}

#[test]
fn every_code_is_recognized_from_its_messages() {
    let catalog = Catalog::get();
    let mut failures = Vec::new();
    let mut checked = 0;
    for e in catalog.entries() {
        let rel = format!("messages/{}.txt", e.code);
        if !fixture(&rel).exists() {
            continue;
        }
        for (line, _lang, text) in fixture_lines(&rel) {
            checked += 1;
            let found = match_text(&text);
            let codes: Vec<&str> = found.iter().map(|m| m.code.as_str()).collect();
            if codes.first() != Some(&e.code.as_str()) {
                failures.push(format!("fixtures/{rel}:{line}: expected {} first, got {codes:?}", e.code));
            }
        }
    }
    assert!(checked > 0, "no fixture messages found");
    assert!(failures.is_empty(), "{} of {checked} messages not recognized:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_active_code_has_fixture_messages() {
    let missing: Vec<&str> = Catalog::get()
        .entries()
        .iter()
        .filter(|e| e.status.as_str() == "active")
        .filter(|e| !fixture(&format!("messages/{}.txt", e.code)).exists())
        .map(|e| e.code.as_str())
        .collect();
    // Reported, not failed: the catalog is written in parallel with the matcher.
    if !missing.is_empty() {
        eprintln!("codes without fixtures/messages: {missing:?}");
    }
}

#[test]
fn ordinary_tickets_match_nothing() {
    let mut failures = Vec::new();
    let lines = fixture_lines("messages/ordinary.txt");
    for (line, _lang, text) in &lines {
        let found = match_text(text);
        if !found.is_empty() {
            let what: Vec<String> = found.iter().map(|m| format!("{} ({:.2}, {:?})", m.code, m.confidence, m.matched)).collect();
            failures.push(format!("fixtures/messages/ordinary.txt:{line}: matched {}", what.join(", ")));
        }
    }
    for lang in ["en", "pl", "pt-BR", "zh-TW", "ko-KR", "zh-CN"] {
        let n = lines.iter().filter(|l| l.1.tag() == lang).count();
        assert!(n >= 10, "ordinary.txt has {n} {lang} tickets, want 10 or more");
    }
    assert!(failures.is_empty(), "{} ordinary tickets matched:\n{}", failures.len(), failures.join("\n"));
}
