//! The error catalog: one stable code per root cause, each with its page in every language
//! and the signatures that recognize it in pasted text. The data lives in `catalog/*.toml`
//! and is embedded at build time (see `build.rs`); it is parsed once, on first use.

pub mod compiled;
pub mod grams;
pub mod matcher;
pub mod normalize;
mod patterns;
pub mod prefilter;

use crate::lang::Lang;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::OnceLock;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/catalog_files.rs"));
}

/// Whether a code is in use. Codes are never reused: a retired code keeps its page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Active,
    Retired,
    Superseded,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Retired => "retired",
            Status::Superseded => "superseded",
        }
    }
}

/// Text in each page language, keyed by language tag (`en`, `pl`, `pt-BR`, `zh-TW`, `ko-KR`).
pub type Localized<T> = BTreeMap<String, T>;

/// How an entry is recognized in pasted text. See `catalog/README.md` for the rules.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signatures {
    /// Language-neutral identifiers (AADSTS codes, Dataverse hex codes, API names): one hit
    /// is decisive.
    #[serde(default)]
    pub anchors: Vec<String>,
    /// Whole phrases per text language (`en`, `pl`, `pt-BR`, `zh-TW`, `zh-CN`, `ko-KR`).
    #[serde(default)]
    pub phrases: BTreeMap<String, Vec<String>>,
    /// Keyword rules per text language: `"a|b + c|d"` hits when every `+` group has one of
    /// its `|` alternatives.
    #[serde(default)]
    pub keywords: BTreeMap<String, Vec<String>>,
}

/// One catalog entry: a code and its page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub code: String,
    pub status: Status,
    #[serde(default)]
    pub superseded_by: Option<String>,
    pub destinations: Vec<String>,
    /// Raw upstream error identifiers this entry stands for (shown on the page).
    #[serde(default)]
    pub upstream: Vec<String>,
    #[serde(default)]
    pub docs: Vec<String>,
    pub title: Localized<String>,
    pub cause: Localized<String>,
    pub remedy: Localized<Vec<String>>,
    #[serde(default)]
    pub signatures: Signatures,
}

impl Entry {
    /// The family digit: 1 config, 2 network, 3 sign-in, 4 permission, 5 delivery, 6 FAQ.
    pub fn family(&self) -> u8 {
        self.code.as_bytes().get(2).map(|b| b - b'0').unwrap_or(0)
    }

    fn pick<T>(map: &Localized<T>, lang: Lang, empty: impl Fn(&T) -> bool) -> &T {
        map.get(lang.tag())
            .filter(|v| !empty(v))
            .or_else(|| map.get("en"))
            .expect("every entry has English text (checked by tests)")
    }

    /// The title in `lang`, falling back to English where a translation is missing.
    pub fn title(&self, lang: Lang) -> &str {
        Self::pick::<String>(&self.title, lang, |s| s.is_empty())
    }

    pub fn cause(&self, lang: Lang) -> &str {
        Self::pick::<String>(&self.cause, lang, |s| s.is_empty())
    }

    pub fn remedy(&self, lang: Lang) -> &[String] {
        Self::pick::<Vec<String>>(&self.remedy, lang, |v| v.is_empty())
    }
}

/// The whole catalog, sorted by code.
pub struct Catalog {
    entries: Vec<Entry>,
}

static CATALOG: OnceLock<Catalog> = OnceLock::new();

impl Catalog {
    /// The embedded catalog. Its files are checked by the test suite, so a parse failure here
    /// is a build defect, not a user error.
    pub fn get() -> &'static Catalog {
        CATALOG.get_or_init(|| {
            Catalog::parse(embedded::FILES.iter().copied())
                .unwrap_or_else(|e| panic!("embedded catalog is invalid: {e}"))
        })
    }

    /// The embedded catalog if it was already parsed.
    fn get_parsed() -> Option<&'static Catalog> {
        CATALOG.get()
    }

    /// Parses catalog files given as (file name, text).
    pub fn parse<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> Result<Catalog, String> {
        let mut entries = Vec::new();
        for (name, text) in files {
            let entry: Entry = toml::from_str(text).map_err(|e| format!("catalog/{name}: {e}"))?;
            if format!("{}.toml", entry.code) != name {
                return Err(format!("catalog/{name}: holds code {}", entry.code));
            }
            entries.push(entry);
        }
        entries.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(Catalog { entries })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Looks up a code exactly (`LC402`).
    pub fn entry(&self, code: &str) -> Option<&Entry> {
        self.entries
            .binary_search_by(|e| e.code.as_str().cmp(code))
            .ok()
            .map(|i| &self.entries[i])
    }

    /// Reads what a user typed as a code: `LC402`, `lc402` or `402`. `None` when the text is
    /// not shaped like a code at all (so it is matched as text instead).
    pub fn parse_code(input: &str) -> Option<String> {
        let s = input.trim();
        // `get`, not `[..2]`: a five-byte input can start with a multi-byte character.
        let digits = match (s.get(..2), s.get(2..)) {
            (Some(p), Some(rest)) if s.len() == 5 && p.eq_ignore_ascii_case("lc") => rest,
            _ => s,
        };
        (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("LC{digits}"))
    }
}

/// A page's code, status, destinations and titles, from the index written at build time:
/// what `catalog` lists, without parsing every page.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub code: &'static str,
    pub status: &'static str,
    pub destinations: &'static [&'static str],
    titles: &'static [(&'static str, &'static str)],
}

impl Summary {
    pub fn family(&self) -> u8 {
        self.code.as_bytes().get(2).map(|b| b - b'0').unwrap_or(0)
    }

    /// The title in `lang`, falling back to English as [`Entry::title`] does.
    pub fn title(&self, lang: Lang) -> &'static str {
        let get = |tag: &str| {
            self.titles
                .iter()
                .find(|t| t.0 == tag && !t.1.is_empty())
                .map(|t| t.1)
        };
        get(lang.tag()).or_else(|| get("en")).unwrap_or("")
    }
}

/// Every page's summary, sorted by code.
pub fn summaries() -> impl Iterator<Item = Summary> {
    embedded::INDEX
        .iter()
        .map(|&(code, status, destinations, titles)| Summary {
            code,
            status,
            destinations,
            titles,
        })
}

/// One page, parsed alone (`explain CODE` needs no other).
pub fn page(code: &str) -> Option<Entry> {
    let name = format!("{code}.toml");
    let (_, text) = embedded::FILES.iter().find(|f| f.0 == name)?;
    match Catalog::get_parsed() {
        Some(c) => c.entry(code).cloned(),
        None => toml::from_str(text).ok(),
    }
}

/// Every catalog file's name and text, for tests and tools that check the data.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::FILES
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_shapes() {
        assert_eq!(Catalog::parse_code("LC402").as_deref(), Some("LC402"));
        assert_eq!(Catalog::parse_code("lc402").as_deref(), Some("LC402"));
        assert_eq!(Catalog::parse_code("402").as_deref(), Some("LC402"));
        assert_eq!(Catalog::parse_code(" 999 ").as_deref(), Some("LC999"));
        assert_eq!(Catalog::parse_code("4021"), None);
        assert_eq!(Catalog::parse_code("no roles"), None);
        // Five bytes whose second byte is inside a character (issue 10): not a code.
        for s in ["안12", "L我1", "—ab", "😀l", "„x12"] {
            assert_eq!(Catalog::parse_code(s), None, "{s}");
        }
    }

    #[test]
    fn embedded_catalog_parses() {
        let c = Catalog::get();
        assert!(c.entry("LC402").is_some());
        assert!(c.entries().windows(2).all(|w| w[0].code < w[1].code));
    }
}
