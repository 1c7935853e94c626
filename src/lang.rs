//! The languages leadcheck speaks (`--lang`) and the languages it recognizes in pasted text.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A language of the catalog's pages. `--lang` takes one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Lang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pl")]
    Pl,
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "ko-KR")]
    KoKr,
}

impl Lang {
    pub const ALL: [Lang; 5] = [Lang::En, Lang::Pl, Lang::PtBr, Lang::ZhTw, Lang::KoKr];

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pl => "pl",
            Lang::PtBr => "pt-BR",
            Lang::ZhTw => "zh-TW",
            Lang::KoKr => "ko-KR",
        }
    }

    /// The language from POSIX locale variables (`LC_ALL`, `LC_MESSAGES`, `LANG`, first set
    /// wins), else English. `pl_PL.UTF-8` is Polish; any Chinese locale gets the
    /// Traditional pages, the only Chinese ones the catalog has.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Lang {
        for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let Some(v) = get(var).filter(|v| !v.is_empty()) {
                return Lang::from_locale(&v).unwrap_or(Lang::En);
            }
        }
        Lang::En
    }

    pub fn from_locale(locale: &str) -> Option<Lang> {
        let base = locale
            .split(['.', '@'])
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let primary = base.split(['_', '-']).next().unwrap_or("");
        match primary {
            "en" => Some(Lang::En),
            "pl" => Some(Lang::Pl),
            "pt" => Some(Lang::PtBr),
            "zh" => Some(Lang::ZhTw),
            "ko" => Some(Lang::KoKr),
            _ => None,
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

impl FromStr for Lang {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "en" | "en-us" | "en-gb" => Ok(Lang::En),
            "pl" | "pl-pl" => Ok(Lang::Pl),
            "pt-br" | "pt" => Ok(Lang::PtBr),
            "zh-tw" | "zh-hant" | "zh" => Ok(Lang::ZhTw),
            "ko-kr" | "ko" => Ok(Lang::KoKr),
            _ => Err(format!(
                "unknown language `{s}`; expected one of en, pl, pt-BR, zh-TW, ko-KR"
            )),
        }
    }
}

/// The language a piece of pasted text was recognized in. Wider than [`Lang`]: Simplified
/// Chinese is recognized although no pages are written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TextLang {
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pl")]
    Pl,
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "ko-KR")]
    KoKr,
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl TextLang {
    pub fn tag(self) -> &'static str {
        match self {
            TextLang::En => "en",
            TextLang::Pl => "pl",
            TextLang::PtBr => "pt-BR",
            TextLang::ZhTw => "zh-TW",
            TextLang::KoKr => "ko-KR",
            TextLang::ZhCn => "zh-CN",
        }
    }

    pub fn from_tag(tag: &str) -> Option<TextLang> {
        Some(match tag {
            "en" => TextLang::En,
            "pl" => TextLang::Pl,
            "pt-BR" => TextLang::PtBr,
            "zh-TW" => TextLang::ZhTw,
            "ko-KR" => TextLang::KoKr,
            "zh-CN" => TextLang::ZhCn,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_variables() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(Lang::from_env(env(&[("LANG", "pl_PL.UTF-8")])), Lang::Pl);
        assert_eq!(
            Lang::from_env(env(&[("LC_ALL", "ko_KR.UTF-8"), ("LANG", "pl_PL")])),
            Lang::KoKr
        );
        assert_eq!(Lang::from_env(env(&[("LANG", "C.UTF-8")])), Lang::En);
        assert_eq!(Lang::from_env(env(&[])), Lang::En);
        assert_eq!("PT-br".parse::<Lang>().unwrap(), Lang::PtBr);
    }
}
