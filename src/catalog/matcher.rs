//! Matching pasted text against the catalog's signatures (see `catalog/README.md`).
//!
//! Evidence, strongest first:
//! - an **anchor** (a language-neutral identifier such as `AADSTS7000215` or
//!   `SecLib::RetrievePrivilegeForUser`) found in the normalized text; decisive when only one
//!   code has it, mere support when several do (`LastCRMError`);
//! - a **whole phrase** (its words in order, a few extra words such as names allowed between
//!   them; for Chinese and Korean, the phrase without spaces); its strength depends on how
//!   distinctive its words are across the catalog, so the generic "Could not save the lead to
//!   Dynamics CRM" decides nothing alone;
//! - **most of a phrase** (a weighted share of its words, or of its character bigrams for
//!   Chinese and Korean, within a window);
//! - a **keyword rule** (every `+` group has one of its `|` alternatives, close together).
//!
//! Words are weighted by how many codes use them (rare words weigh more). A cheap prefilter
//! over the raw bytes skips normalization for texts that hold no candidate at all, which is
//! what keeps `triage` fast on large exports.

use super::grams::GramFilter;
use super::normalize::{self, alnum, is_placeholder, Normalized};
use super::patterns::PatternSet;
use super::prefilter::Folder;
use super::{Catalog, Entry};
use crate::lang::TextLang;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

/// An automaton that is quick to build: these are searched on one text at a time (or a
/// few percent of a triage's records), where building a DFA costs more than it saves.
fn nfa<I, P>(patterns: I) -> Result<AhoCorasick, aho_corasick::BuildError>
where
    I: IntoIterator<Item = P>,
    P: AsRef<[u8]>,
{
    AhoCorasickBuilder::new()
        .kind(Some(aho_corasick::AhoCorasickKind::NoncontiguousNFA))
        .build(patterns)
}

/// Below this confidence nothing is reported.
pub const THRESHOLD: f32 = 0.5;

/// One code recognized in a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub code: String,
    /// 0..1; at least [`THRESHOLD`].
    pub confidence: f32,
    /// The language the evidence was written in.
    pub language: TextLang,
    /// The fragment of the original text that decided the match (not sanitized or redacted:
    /// do both before echoing it).
    pub matched: String,
}

/// Every code found in `text`, best first. Uses the embedded catalog.
pub fn match_text(text: &str) -> Vec<Match> {
    Matcher::get().match_text(text)
}

const ANCHOR: f32 = 0.97;
const WHOLE_STRONG: f32 = 0.92;
const WHOLE_MEDIUM: f32 = 0.75;
const SUPPORT: f32 = 0.3;
const KEYWORD: f32 = 0.72;
/// Share of a phrase's (weighted) words needed for a partial match.
const WEAK_SHARE: f32 = 0.6;
/// Extra tokens allowed between two words of a whole phrase (names, ids, filler).
const GAP: usize = 4;
/// Keyword groups must all hit within this many bytes of the normalized text.
const KEYWORD_SPAN: usize = 300;
/// Longest fragment shown, in characters.
const FRAGMENT_CHARS: usize = 200;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
enum KeyPat {
    Anchor {
        code: u16,
        decisive: bool,
        bound_start: bool,
        bound_end: bool,
    },
    /// An alternative of the group a keyword rule is looked at for (see `Matcher::build`).
    Trigger { rule: u32, bound_end: bool },
}

#[derive(Debug, Serialize, Deserialize)]
struct Phrase {
    code: u16,
    lang: TextLang,
    cjk: bool,
    /// Latin phrases: every token, for the whole-phrase check, joined by NUL (one string
    /// to load, not one per token).
    tokens: Box<str>,
    /// CJK phrases: the phrase without spaces and punctuation.
    compact: String,
    /// Weight of each unit (content word or bigram), indexed by slot.
    weights: Vec<f32>,
    total: f32,
    /// Shared by many codes, or made only of common words: support, never decisive.
    generic: bool,
    /// Length in tokens (Latin) or characters (CJK), for the window of a partial match.
    len: usize,
    /// Units that ordinary text rarely holds (not in [`COMMON`], not short): a whole phrase
    /// decides alone only with two of them, or one among three words or more, so "please
    /// retry the request" or "system error" needs a context.
    distinctive: usize,
    /// A question or symptom of the FAQ (LC6xx): its sentences are ordinary words, so they
    /// never decide without a lead context.
    faq: bool,
}

/// What a literal found by the prefilter's second stage proves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
enum Confirm {
    /// A signature may match: an anchor, a Chinese or Korean phrase's literal, a context cue.
    Pass,
    /// One group of a keyword rule has a hit; the rule needs all of them.
    Group { rule: u32, group: u8 },
    /// A word of a distinctive Latin phrase: without a lead context (itself a literal that
    /// passes), only the whole phrase can match, and it holds every one of its words.
    Phrase { phrase: u32 },
}

#[derive(Debug, Serialize, Deserialize)]
struct Rule {
    code: u16,
    lang: TextLang,
    groups: u8,
    /// Groups the prefilter cannot check (an alternative without letters or digits, or too
    /// short for its windows: under three bytes compacted): counted as present.
    free: u8,
    /// Its alternatives, a range of [`Matcher::rule_alts`].
    alts: (u32, u32),
}

/// One alternative of a keyword rule: a pattern of [`Matcher::keys`] in one of its groups.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct RuleAlt {
    pat: u32,
    group: u8,
    bound_end: bool,
    /// 1 / the number of codes whose rules have this alternative.
    spec: f32,
}

/// The compiled catalog signatures. Serialized ahead of time (see [`super::compiled`]):
/// the automata are not, they are built on first use.
#[derive(Serialize, Deserialize)]
pub struct Matcher {
    codes: Vec<String>,
    phrases: Vec<Phrase>,
    /// By phrase: the fewest hits its units need in a text to give any evidence, without
    /// and with a lead context (see [`gate`]). Two bytes a phrase, so that the many phrases
    /// a text touches with one common word are passed over without loading them.
    gates: Vec<[u8; 2]>,
    rules: Vec<Rule>,
    /// Anchors and keyword alternatives, normalized.
    keys: PatternSet,
    /// By pattern of `keys`: the anchors written that way, and the rules it triggers (an
    /// alternative of the group a rule is looked at for, its rarest).
    key_pats: Lists<KeyPat>,
    /// Every rule's alternatives, rule after rule (see [`Rule::alts`]).
    rule_alts: Vec<RuleAlt>,
    // Looked up once per token of every candidate text: a fast hasher (the keys come from
    // the catalog, not from the text, so there is nothing to flood).
    /// Word -> its list of units in `word_units`.
    words: FxHashMap<Box<str>, u32>,
    word_units: Lists<Unit>,
    /// Character bigram -> its list of units in `bigram_units`.
    bigrams: FxHashMap<(char, char), u32>,
    bigram_units: Lists<Unit>,
    /// The prefilter's literals (see [`super::prefilter`]); `None` when empty.
    /// Built on first use: only `triage` needs it, and `explain` must start fast.
    #[serde(skip)]
    pre_ac: OnceLock<Option<GramFilter>>,
    /// What only `triage` needs (the prefilter's literals): loaded on first use.
    #[serde(skip)]
    bulk: OnceLock<Bulk>,
    /// Where to load `bulk` from, for a matcher compiled ahead of time.
    #[serde(skip)]
    bulk_src: &'static [u8],
    /// The second stage's tables, built from `bulk` on first use.
    #[serde(skip)]
    stage: OnceLock<Stage>,
    /// Signatures without literals: when any, every record goes to the full matcher.
    unfiltered: Vec<String>,
    /// Each code's destinations, as a bit set (see [`DESTINATIONS`]).
    dest: Vec<u8>,
    /// Chinese and Korean phrases without spaces, for the whole-phrase check in one pass;
    /// `cjk_phrases` maps each pattern to its phrase.
    cjk: PatternSet,
    cjk_phrases: Vec<u32>,
    /// Words that name a destination in a text.
    dest_keys: Vec<String>,
    #[serde(skip)]
    dest_ac: OnceLock<Option<AhoCorasick>>,
    /// Words that put a text in a lead destination's context: destinations, leads, the
    /// marketplace, Partner Center (see [`CONTEXT`]).
    context: PatternSet,
    dest_bits: Vec<u8>,
}

/// Lists of items in one vector: list `i` is `items[at[i]..at[i + 1]]`. One allocation for
/// them all, not one each: fewer pages to touch when the matcher is loaded (`explain` starts
/// cold), and one pointer less to follow for each word of a text.
#[derive(Debug, Serialize, Deserialize)]
struct Lists<T> {
    at: Vec<u32>,
    items: Vec<T>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            at: vec![0],
            items: Vec::new(),
        }
    }
}

impl<T> Lists<T> {
    fn new(lists: Vec<Vec<T>>) -> Lists<T> {
        let mut l = Lists::default();
        for list in lists {
            l.items.extend(list);
            l.at.push(l.items.len() as u32);
        }
        l
    }

    /// Lists by key, flattened: each key with the number of its list.
    fn by_key<K: std::hash::Hash + Eq + Ord>(
        map: FxHashMap<K, Vec<T>>,
    ) -> (FxHashMap<K, u32>, Lists<T>) {
        // In key order, so that the compiled matcher is the same from build to build.
        let mut pairs: Vec<(K, Vec<T>)> = map.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut index = FxHashMap::default();
        let mut lists = Vec::with_capacity(pairs.len());
        for (i, (k, list)) in pairs.into_iter().enumerate() {
            index.insert(k, i as u32);
            lists.push(list);
        }
        (index, Lists::new(lists))
    }

    fn get(&self, i: usize) -> &[T] {
        &self.items[self.at[i] as usize..self.at[i + 1] as usize]
    }

    /// How many lists.
    fn len(&self) -> usize {
        self.at.len() - 1
    }
}

/// A unit of a phrase (a content word, or a character bigram) as a text's word finds it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Unit {
    phrase: u32,
    slot: u16,
    /// Evidence from the phrase needs one of its trigger units in the text: a whole phrase
    /// holds them all, and a partial one the weighted share [`WEAK_SHARE`] of its units,
    /// which the units that do not trigger fall short of (see [`triggers`]). A phrase is
    /// looked at only when the text has one of its triggers.
    trigger: bool,
}

/// Which of `p`'s units trigger it (see [`Unit::trigger`]): its heaviest, until those left
/// out weigh less than a partial match needs (with a margin for sums of floats); when no
/// partial match is possible, the heaviest alone (a whole phrase holds every unit).
fn triggers(p: &Phrase) -> Vec<bool> {
    let mut order: Vec<usize> = (0..p.weights.len()).collect();
    order.sort_by(|&a, &b| p.weights[b].total_cmp(&p.weights[a]).then(a.cmp(&b)));
    let mut on = vec![false; p.weights.len()];
    let partial = !p.generic && p.total >= 1.0;
    let mut rest = p.total;
    for (k, &i) in order.iter().enumerate() {
        if k > 0 && (!partial || rest < WEAK_SHARE * p.total - 1e-3) {
            break;
        }
        on[i] = true;
        rest -= p.weights[i];
    }
    on
}

/// What [`Matcher::confirm`] needs: what each literal of the first stage proves, and the
/// literals of each rule's groups.
struct Stage {
    /// By literal of the first stage (`Bulk::literals`): its targets.
    targets: Vec<Vec<Confirm>>,
    /// By rule: (group, literal) for each alternative the prefilter can check.
    rule_lits: Vec<Vec<(u8, u32)>>,
    /// By phrase: the literals of its words (none for a phrase that is not looked for so).
    phrase_lits: Vec<Vec<u32>>,
    /// By literal of the second stage (`Bulk::confirm_strings`).
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Stage {
    fn new(m: &Matcher) -> Stage {
        let bulk = m.bulk();
        // The first stage's literals are second-stage literals too, with the same
        // targets (see `Matcher::build`); both lists are sorted.
        let targets = bulk
            .literals
            .iter()
            .map(|l| {
                bulk.confirm_strings
                    .binary_search(l)
                    .map_or_else(|_| vec![Confirm::Pass], |i| bulk.confirm_targets[i].clone())
            })
            .collect();
        let mut rule_lits = vec![Vec::new(); m.rules.len()];
        let mut phrase_lits = vec![Vec::new(); m.phrases.len()];
        for (i, ts) in bulk.confirm_targets.iter().enumerate() {
            for t in ts {
                match *t {
                    Confirm::Group { rule, group } => {
                        rule_lits[rule as usize].push((group, i as u32))
                    }
                    Confirm::Phrase { phrase } => phrase_lits[phrase as usize].push(i as u32),
                    Confirm::Pass => {}
                }
            }
        }
        let finders = bulk
            .confirm_strings
            .iter()
            .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
            .collect();
        Stage {
            targets,
            rule_lits,
            phrase_lits,
            finders,
        }
    }

    /// Whether every word of `phrase` is in `compact`.
    fn phrase_holds(&self, phrase: u32, compact: &[u8]) -> bool {
        self.phrase_lits[phrase as usize]
            .iter()
            .all(|&li| self.finders[li as usize].find(compact).is_some())
    }

    /// Whether every group of `rule` but `group` (found) has an alternative in `compact`,
    /// the groups the prefilter cannot check counting as present.
    fn rule_holds(&self, m: &Matcher, rule: u32, group: u8, compact: &[u8]) -> bool {
        let r = &m.rules[rule as usize];
        let lits = &self.rule_lits[rule as usize];
        (0..r.groups).all(|g| {
            g == group
                || r.free >> g & 1 == 1
                || lits
                    .iter()
                    .any(|&(lg, li)| lg == g && self.finders[li as usize].find(compact).is_some())
        })
    }
}

/// What only the prefilter needs, serialized apart from the rest so that `explain` does not
/// load it.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct Bulk {
    literals: Vec<String>,
    /// Where each literal's window starts (see [`GramFilter::choose`]).
    windows: Vec<u32>,
    /// The second stage of the prefilter: every literal of every signature, with what a hit
    /// proves (see [`Matcher::confirm`]).
    confirm_strings: Vec<String>,
    confirm_targets: Vec<Vec<Confirm>>,
    /// The decisive anchors.
    fragments: Vec<String>,
}

/// Destination names of the catalog, in bit order, and words naming each in a text.
const DESTINATIONS: [(&str, &[&str]); 6] = [
    (
        "dynamics",
        &["dynamics", "crm", "dataverse", "lastcrmerror"],
    ),
    ("salesforce", &["salesforce", "web-to-lead", "webtolead"]),
    (
        "marketo",
        &["marketo", "munchkin", "mktorest", "launchpoint"],
    ),
    (
        "azure-table",
        &[
            "azure table",
            "table storage",
            "storage account",
            "accountkey",
            "tabela azure",
            "tabeli azure",
            "azure 表",
            "azure 資料表",
            "azure 테이블",
            "tabela do azure",
        ],
    ),
    (
        "https",
        &[
            "https endpoint",
            "power automate",
            "logic app",
            "https 端點",
            "https 端点",
            "https 엔드포인트",
            "punkt koncowy https",
            "ponto de extremidade https",
        ],
    ),
    ("azure-blob", &["blob"]),
];

/// Besides the destinations' names: words that make a text about lead destinations. Weak
/// evidence (a partial phrase, a short or common phrase) counts only with one of them or a
/// destination in the same text, so "please retry" or "internal server error" alone is not
/// a lead-destination error.
#[rustfmt::skip]
const CONTEXT: &[&str] = &[
    // Not "lead" alone, nor "리드": a lead time, a team lead. Not Partner Center or the
    // marketplace alone either: a publisher's own sign-in, payouts and certification happen
    // there, and a ticket that pairs one of those with a generic "please retry" or "account
    // locked" is not about leads.
    "leads", "leada", "leadow", "leadów", "leady", "customer leads", "lead destination",
    "lead management", "test drive", "contact me", "get it now", "msft_test", "potencjaln",
    "cliente potencial", "clientes potenciais", "venda potencial", "vendas potenciais",
    "潛在客戶", "潜在客户", "線索", "线索", "리드를", "리드가", "리드는", "리드의", "리드 관리",
    "리드 대상", "잠재 고객",
];

static MATCHER: OnceLock<Matcher> = OnceLock::new();

fn stopword(w: &str) -> bool {
    const STOP: &[&str] = &[
        // en
        "the", "and", "for", "with", "was", "were", "are", "this", "that", "from", "has", "have",
        "had", "been", "you", "your", "our", "its", "into", "any", "all", "but", "when", "which",
        "what", "who", "how", "may", "than", "then", "they", "them", "there", "their", "these",
        "those", "also", "such", "per", "via", "does", "did", // pl (folded)
        "sie", "jest", "dla", "lub", "oraz", "przez", "jako", "tym", "tej", "tego", "jak", "czy",
        "ale", "aby", "moze", "byc", "ktory", "ktora", "ktore", "przy", "pod", "nad", "ten",
        "jego", "jej", "sa", "tak", // pt (folded)
        "que", "para", "com", "uma", "dos", "das", "por", "pelo", "pela", "como", "mais", "este",
        "esta", "isso", "seu", "sua", "ser", "ter", "foi", "sao", "nos", "nas", "aos", "voce",
        "ele", "ela", "mas", "quando",
    ];
    w.chars().count() < 3 || STOP.contains(&w)
}

/// Han, Hangul and Kana: matched by character bigrams, not words.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11ff | 0x3040..=0x30ff | 0x3130..=0x318f | 0x3400..=0x4dbf | 0x4e00..=0x9fff
        | 0xac00..=0xd7a3 | 0xf900..=0xfaff | 0x20000..=0x2fa1f)
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    is_placeholder(c) || (!is_cjk(c) && alnum(c))
}

/// A Latin token of a normalized text: a word or a placeholder.
#[derive(Debug, Clone, Copy)]
struct Tok {
    start: usize,
    end: usize,
}

fn tokenize(key: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    tokenize_into(key, &mut toks);
    toks
}

/// [`tokenize`] into a buffer that is reused.
fn tokenize_into(key: &str, toks: &mut Vec<Tok>) {
    toks.clear();
    let mut start = None;
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII, most of most keys: a byte is a character, a word character or not.
        let b = bytes[i];
        if b < 0x80 {
            if b.is_ascii_alphanumeric() {
                start.get_or_insert(i);
            } else if let Some(s) = start.take() {
                toks.push(Tok { start: s, end: i });
            }
            i += 1;
            continue;
        }
        let c = key[i..].chars().next().unwrap_or(' ');
        let at = i;
        i += c.len_utf8();
        if is_placeholder(c) {
            if let Some(s) = start.take() {
                toks.push(Tok { start: s, end: at });
            }
            toks.push(Tok { start: at, end: i });
        } else if is_word_char(c) {
            start.get_or_insert(at);
        } else if let Some(s) = start.take() {
            toks.push(Tok { start: s, end: at });
        }
    }
    if let Some(s) = start {
        toks.push(Tok {
            start: s,
            end: key.len(),
        });
    }
}

/// The tokens of a signature phrase: quoted or braced spans (`'{appId}'`) are variable
/// parts in a pattern and are left out.
fn pattern_tokens(key: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(key.len());
    let mut skip_until: Option<char> = None;
    for (i, c) in key.char_indices() {
        match skip_until {
            Some(end) if c == end => {
                skip_until = None;
                cleaned.push(' ');
            }
            Some(_) => {}
            // `{appId}`: a variable part; JSON braces stay.
            None if c == '{' && is_placeholder_name(&key[i + 1..]) => skip_until = Some('}'),
            None => cleaned.push(c),
        }
    }
    tokenize(&cleaned)
        .iter()
        .map(|t| cleaned[t.start..t.end].to_string())
        .collect()
}

/// `appId}`: up to 40 word characters, then a closing brace.
fn is_placeholder_name(rest: &str) -> bool {
    match rest.find('}') {
        Some(end) => {
            end > 0 && end <= 40 && rest[..end].chars().all(|c| c.is_alphanumeric() || c == '_')
        }
        None => false,
    }
}

/// Alphanumeric characters only (CJK included), with each one's byte offset in the key.
fn compact(key: &str) -> (Vec<char>, Vec<usize>) {
    let (mut chars, mut at) = (Vec::new(), Vec::new());
    compact_into(key, &mut chars, &mut at);
    (chars, at)
}

/// [`compact`] into buffers that are reused.
fn compact_into(key: &str, chars: &mut Vec<char>, at: &mut Vec<usize>) {
    chars.clear();
    at.clear();
    for (i, c) in key.char_indices() {
        if alnum(c) || is_placeholder(c) {
            chars.push(c);
            at.push(i);
        }
    }
}

fn bigrams_of(chars: &[char]) -> Vec<(char, char)> {
    chars
        .windows(2)
        .filter(|w| is_cjk(w[0]) || is_cjk(w[1]))
        .map(|w| (w[0], w[1]))
        .collect()
}

/// Where a signature message is split into sentences.
const SENTENCE: &[char] = &[
    '.', ':', ';', ',', '!', '?', '\u{3002}', '\u{3001}', '\u{ff0c}',
];

/// A sentence long enough to stand as a phrase: two words, or four CJK characters.
fn long_enough(s: &str) -> bool {
    if s.chars().any(is_cjk) {
        compact(s).0.len() >= 4
    } else {
        tokenize(s).len() >= 2
    }
}

/// Parses `"a|b + c|d"` into groups of alternatives.
fn parse_rule(rule: &str) -> Vec<Vec<String>> {
    rule.split('+')
        .map(|g| {
            g.split('|')
                .map(normalize::fold)
                .filter(|a| !a.trim().is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|g| !g.is_empty())
        .collect()
}

/// Words of ordinary tickets in every language (compact keys): poor literals for the
/// prefilter, which would send many ordinary records to the full matcher.
#[rustfmt::skip]
const COMMON: &[&str] = &[
    // en
    "error",
    "errors",
    "user",
    "users",
    "account",
    "access",
    "password",
    "email",
    "login",
    "sign",
    "server",
    "please",
    "thanks",
    "help",
    "problem",
    "issue",
    "cannot",
    "could",
    "would",
    "should",
    "data",
    "time",
    "name",
    "request",
    "requests",
    "invalid",
    "failed",
    "found",
    "check",
    "settings",
    "again",
    "message",
    "portal",
    "system",
    "connection",
    "network",
    "today",
    "yesterday",
    "update",
    "working",
    "report",
    "number",
    "service",
    "support",
    "because",
    "after",
    "before",
    "while",
    "visit",
    "create",
    "delete",
    "change",
    "office",
    "meeting",
    "invoice",
    "payment",
    "order",
    "customer",
    "company",
    "contact",
    "phone",
    "address",
    "website",
    "window",
    "windows",
    "laptop",
    "printer",
    "team",
    // pl
    "blad",
    "uzytkownik",
    "prosze",
    "konto",
    "haslo",
    "dane",
    "oferte",
    "oferta",
    "oferty",
    "dzien",
    "dobry",
    "dziekuje",
    "problem",
    "system",
    "polaczenie",
    "faktura",
    "faktury",
    "spotkanie",
    "zamowienie",
    "klient",
    "klienta",
    "firma",
    "strona",
    "jutro",
    "wczoraj",
    // pt
    "erro",
    "usuario",
    "conta",
    "senha",
    "favor",
    "dados",
    "problema",
    "podemos",
    "posso",
    "obrigado",
    "obrigada",
    "sistema",
    "conexao",
    "fatura",
    "pedido",
    "reuniao",
    "cliente",
    "empresa",
    "hoje",
    "ontem",
    "pagamento",
    "consigo",
    "preciso",
    // zh, ko
    "無法",
    "无法",
    "我們",
    "我们",
    "可以",
    "錯誤",
    "错误",
    "問題",
    "问题",
    "連線",
    "连接",
    "使用者",
    "用户",
    "系統",
    "系统",
    "請問",
    "请问",
    "帳戶",
    "账户",
    "密碼",
    "密码",
    "오류",
    "사용자",
    "연결",
    "문제",
    "계정",
    "비밀번호",
    "시스템",
    "확인",
    "lead", "리드", "retry", "later", "internal", "unavailable", "timeout",
    "denied", "forbidden", "unauthorized", "refused", "again", "reset", "upload", "download",
];

/// Whether a compact key is one of [`COMMON`] (a set: asked for every unit of the catalog).
fn is_common(w: &str) -> bool {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| COMMON.iter().copied().collect())
        .contains(w)
}

/// The names of the place every ticket of a marketplace publisher is about (compact keys):
/// no lead context any more (a publisher's own Partner Center sign-in is not a lead
/// problem), but in most tickets all the same. A keyword rule's group of these is a poor
/// first-stage literal: "marketplace" alone was the trigger of 67 rules, whose other groups
/// the second stage then searched for in every ticket that names it (three quarters of its
/// searches on the bench corpus).
#[rustfmt::skip]
const DOMAIN: &[&str] = &[
    "marketplace", "commercialmarketplace", "partnercenter", "azuremarketplace", "appsource",
    "centrumpartnerskie", "centrumpartnerskim", "centrumpartnerskiego",
    "partnercentre", "centrodeparceiros",
    "合作夥伴中心", "合作伙伴中心", "商業市集", "商业市场", "商业应用商店",
    "파트너센터", "마켓플레이스", "상업용마켓플레이스",
];

/// How much a literal is expected to cost the prefilter: short and common literals pass
/// many ordinary records to the full matcher.
fn literal_cost(lit: &str) -> f32 {
    let cjk = lit.chars().any(is_cjk);
    let base = if cjk {
        match lit.chars().count() {
            0 | 1 => 60.0,
            2 => 8.0,
            3 => 3.0,
            _ => 1.5,
        }
    } else {
        match lit.len() {
            0..=2 => 300.0,
            3 => 40.0,
            4 => 12.0,
            5 => 5.0,
            6 => 3.0,
            _ => 1.5,
        }
    };
    if is_common(lit) || DOMAIN.contains(&lit) {
        base * 10.0
    } else {
        base
    }
}

/// The prefilter literal of a phrase, if it needs one of its own. Only a whole,
/// distinctive phrase ([`WHOLE_STRONG`]) reports a code without a lead context in the text
/// (weak evidence is not even collected without one, see [`Matcher::in_context`]), and the
/// prefilter looks for every context cue anyway.
/// A whole Latin phrase holds each of its words, so its least common word is enough (none
/// when one of them holds a context cue); a whole Chinese or Korean phrase is found without
/// spaces in the compact key, so its longest run without placeholders is.
fn phrase_literal(p: &Phrase, units: &[String], covered: &dyn Fn(&str) -> bool) -> Option<String> {
    if !decides_alone(p) {
        return None;
    }
    if p.cjk {
        let run = p
            .compact
            .split(is_placeholder)
            .max_by_key(|r| r.chars().count())
            .unwrap_or("");
        let run = super::prefilter::compact_literal(run);
        return (!covered(&run) && !run.is_empty()).then_some(run);
    }
    if units.iter().any(|u| covered(u)) {
        return None;
    }
    (0..units.len())
        .filter(|&i| !units[i].is_empty())
        .min_by(|&a, &b| {
            let cost = |i: usize| literal_cost(&units[i]) / p.weights[i].max(0.05);
            cost(a).total_cmp(&cost(b))
        })
        .map(|i| units[i].clone())
}

/// Each prefilter literal's window (see [`GramFilter::choose`]), the rarest judged by how
/// often it occurs in ordinary prose: the catalog's own pages, in five languages, compacted
/// as records are.
fn prefilter_windows(literals: &[String]) -> Option<Vec<u32>> {
    let mut folder = Folder::new();
    let mut seen: FxHashMap<u32, u32> = FxHashMap::default();
    let mut buf = Vec::new();
    for (_, text) in super::embedded_files() {
        buf.clear();
        folder.compact(text, &mut buf);
        for w in buf.windows(4) {
            *seen
                .entry(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .or_default() += 1;
        }
    }
    GramFilter::choose(literals, &|w| seen.get(&w).copied().unwrap_or(0))
}

/// The literals of a keyword rule: every group must hit, so the alternatives of its
/// cheapest group. An alternative that holds a context literal costs nothing: the
/// prefilter looks for that one anyway. `None` when no group can be expressed as literals.
fn rule_literals(groups: &[Vec<String>], covered: &dyn Fn(&str) -> bool) -> Option<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|a| super::prefilter::compact_literal(a.trim()))
                .filter(|l| !covered(l))
                .collect::<Vec<_>>()
        })
        // Literals of three bytes at least: the prefilter finds them by 4-byte windows.
        .filter(|g| g.iter().all(|l| l.len() >= 3))
        .min_by(|a, b| {
            let cost = |g: &Vec<String>| g.iter().map(|l| literal_cost(l)).sum::<f32>();
            cost(a).total_cmp(&cost(b))
        })
}

impl Matcher {
    /// Compiled from the embedded catalog, once.
    pub fn get() -> &'static Matcher {
        MATCHER.get_or_init(|| {
            super::compiled::load().unwrap_or_else(|| Matcher::build(Catalog::get().entries()))
        })
    }

    pub fn build(entries: &[Entry]) -> Matcher {
        let codes: Vec<String> = entries.iter().map(|e| e.code.clone()).collect();

        // Anchors: decisive only when one code has them.
        // Ordered maps where the order reaches the matcher: it is serialized ahead of time,
        // and the same catalog must give the same bytes.
        let mut anchor_codes: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
        for (ci, e) in entries.iter().enumerate() {
            for a in &e.signatures.anchors {
                let k = normalize::fold(a);
                if k.chars().filter(|c| c.is_alphanumeric()).count() >= 3 {
                    anchor_codes.entry(k).or_default().insert(ci as u16);
                }
            }
        }

        // Phrases, with the codes that use each unit (for weights) and each whole phrase.
        struct RawPhrase {
            code: u16,
            lang: TextLang,
            key: String,
        }
        let mut raw = Vec::new();
        let mut phrase_codes: HashMap<String, HashSet<u16>> = HashMap::new();
        for (ci, e) in entries.iter().enumerate() {
            for (tag, list) in &e.signatures.phrases {
                let Some(lang) = TextLang::from_tag(tag) else {
                    continue;
                };
                for p in list {
                    let key = normalize::fold(p);
                    if key.is_empty() {
                        continue;
                    }
                    // A message is also matched sentence by sentence, so that its distinctive
                    // part decides even when the generic part around it differs.
                    let mut keys = vec![key.clone()];
                    let parts: Vec<&str> = key
                        .split(SENTENCE)
                        .map(str::trim)
                        .filter(|s| long_enough(s))
                        .collect();
                    if parts.len() > 1 {
                        keys.extend(parts.into_iter().map(str::to_string));
                    }
                    for key in keys {
                        if phrase_codes
                            .get(&key)
                            .is_some_and(|c| c.contains(&(ci as u16)))
                        {
                            continue; // the same phrase twice in one entry
                        }
                        phrase_codes
                            .entry(key.clone())
                            .or_default()
                            .insert(ci as u16);
                        raw.push(RawPhrase {
                            code: ci as u16,
                            lang,
                            key,
                        });
                    }
                }
            }
        }
        let mut word_df: HashMap<String, HashSet<u16>> = HashMap::new();
        let mut bigram_df: HashMap<(char, char), HashSet<u16>> = HashMap::new();
        for r in &raw {
            if r.key.chars().any(is_cjk) {
                for b in bigrams_of(&compact(&r.key).0) {
                    bigram_df.entry(b).or_default().insert(r.code);
                }
            } else {
                for w in pattern_tokens(&r.key) {
                    if !stopword(&w) && !w.chars().any(is_placeholder) {
                        word_df.entry(w).or_default().insert(r.code);
                    }
                }
            }
        }
        let weight = |df: usize| (df.max(1) as f32).powf(-0.7);

        let mut bulk = Bulk::default();
        let mut m = Matcher {
            codes,
            phrases: Vec::new(),
            gates: Vec::new(),
            rules: Vec::new(),
            keys: PatternSet::default(),
            key_pats: Lists::default(),
            rule_alts: Vec::new(),
            words: FxHashMap::default(),
            word_units: Lists::default(),
            bigrams: FxHashMap::default(),
            bigram_units: Lists::default(),
            pre_ac: OnceLock::new(),
            bulk: OnceLock::new(),
            bulk_src: &[],
            stage: OnceLock::new(),
            unfiltered: Vec::new(),
            dest: entries
                .iter()
                .map(|e| {
                    DESTINATIONS
                        .iter()
                        .enumerate()
                        .filter(|(_, d)| e.destinations.iter().any(|x| x == d.0))
                        .fold(0u8, |acc, (i, _)| acc | 1 << i)
                })
                .collect(),
            dest_keys: Vec::new(),
            dest_ac: OnceLock::new(),
            context: PatternSet::default(),
            cjk: PatternSet::default(),
            cjk_phrases: Vec::new(),
            dest_bits: Vec::new(),
        };
        let mut cues = Vec::new();
        for (i, (_, words)) in DESTINATIONS.iter().enumerate() {
            for w in *words {
                cues.push(normalize::fold(w));
                m.dest_bits.push(1 << i);
            }
        }
        m.dest_keys = cues;
        // The prefilter's literals; `unfiltered` when a signature has none (then every
        // record goes to the full matcher: correct, only slow; a test forbids it).
        let mut literals: HashSet<String> = HashSet::new();
        let mut unfiltered: Vec<String> = Vec::new();
        // Context cues: the matcher requires one for weak evidence, so the prefilter
        // looks for every one of them.
        // A bare "CRM" names a destination but is no context: "the CRM training website".
        let context_keys: Vec<String> = CONTEXT
            .iter()
            .chain(DESTINATIONS.iter().flat_map(|d| d.1.iter()))
            .filter(|w| **w != "crm")
            .map(|c| normalize::fold(c))
            .collect();
        let context: Vec<String> = context_keys
            .iter()
            .map(|c| super::prefilter::compact_literal(c))
            .filter(|c| !c.is_empty())
            .collect();
        literals.extend(context.iter().cloned());
        // Whether a literal holds a context cue (then the prefilter finds it through the cue).
        let context_lits = nfa(&context).ok();
        let covered = |l: &str| context_lits.as_ref().is_some_and(|ac| ac.is_match(l));
        // The second stage: every literal with what it proves (see [`Matcher::confirm`]).
        let mut confirm: Vec<(String, Confirm)> =
            context.iter().map(|c| (c.clone(), Confirm::Pass)).collect();
        m.context = PatternSet::new(context_keys.clone());

        let mut words: FxHashMap<Box<str>, Vec<(u32, u16)>> = FxHashMap::default();
        let mut bigrams: FxHashMap<(char, char), Vec<(u32, u16)>> = FxHashMap::default();
        for r in raw {
            let pi = m.phrases.len() as u32;
            let shared = phrase_codes.get(&r.key).map_or(0, |s| s.len()) >= 3;
            let mut p = Phrase {
                code: r.code,
                lang: r.lang,
                cjk: false,
                tokens: "".into(),
                compact: String::new(),
                weights: Vec::new(),
                total: 0.0,
                generic: shared,
                len: 0,
                distinctive: 0,
                faq: entries[r.code as usize].family() == 6,
            };
            // Each unit's compact key, by slot, for the prefilter.
            let mut units: Vec<String> = Vec::new();
            if r.key.chars().any(is_cjk) {
                let chars = compact(&r.key).0;
                let mut seen = HashSet::new();
                for b in bigrams_of(&chars) {
                    if seen.insert(b) {
                        let slot = p.weights.len() as u16;
                        p.weights
                            .push(weight(bigram_df.get(&b).map_or(1, |s| s.len())));
                        bigrams.entry(b).or_default().push((pi, slot));
                        units.push(format!("{}{}", b.0, b.1));
                    }
                }
                p.cjk = true;
                p.len = chars.len();
                p.compact = chars.into_iter().collect();
            } else {
                let toks = pattern_tokens(&r.key);
                let mut seen = HashSet::new();
                for w in &toks {
                    if stopword(w) || w.chars().any(is_placeholder) || !seen.insert(w.clone()) {
                        continue;
                    }
                    let slot = p.weights.len() as u16;
                    p.weights
                        .push(weight(word_df.get(w).map_or(1, |s| s.len())));
                    words.entry(w.as_str().into()).or_default().push((pi, slot));
                    units.push(super::prefilter::compact_literal(w));
                }
                p.len = toks.len();
                p.tokens = toks.join("\0").into();
            }
            p.total = p.weights.iter().sum();
            p.distinctive = units
                .iter()
                .filter(|u| !is_common(u) && (u.len() >= 5 || u.chars().any(is_cjk)))
                .count();
            if p.weights.is_empty() {
                continue; // nothing distinctive to look for
            }
            if let Some(l) = phrase_literal(&p, &units, &covered) {
                // The first stage finds the rarest word; the second checks the others.
                if p.cjk {
                    confirm.push((l.clone(), Confirm::Pass));
                } else {
                    for u in units.iter().filter(|u| !u.is_empty()) {
                        confirm.push((u.clone(), Confirm::Phrase { phrase: pi }));
                    }
                }
                literals.insert(l);
            }
            m.gates.push(gate(&p));
            m.phrases.push(p);
        }

        // Each unit is told whether it triggers its phrase (see [`Unit::trigger`]).
        let marks: Vec<Vec<bool>> = m.phrases.iter().map(triggers).collect();
        fn units<K: std::hash::Hash + Eq>(
            lists: FxHashMap<K, Vec<(u32, u16)>>,
            marks: &[Vec<bool>],
        ) -> FxHashMap<K, Vec<Unit>> {
            lists
                .into_iter()
                .map(|(k, list)| {
                    let list = list
                        .into_iter()
                        .map(|(phrase, slot)| Unit {
                            phrase,
                            slot,
                            trigger: marks[phrase as usize][slot as usize],
                        })
                        .collect();
                    (k, list)
                })
                .collect()
        }
        (m.words, m.word_units) = Lists::by_key(units(words, &marks));
        (m.bigrams, m.bigram_units) = Lists::by_key(units(bigrams, &marks));

        let cjk: Vec<(u32, &str)> = m
            .phrases
            .iter()
            .enumerate()
            .filter(|(_, p)| p.cjk)
            .map(|(i, p)| (i as u32, p.compact.as_str()))
            .collect();
        m.cjk = PatternSet::new(cjk.iter().map(|c| c.1.to_string()).collect());
        m.cjk_phrases = cjk.iter().map(|c| c.0).collect();

        // Key patterns: anchors and keyword alternatives.
        let mut key_strings: Vec<String> = Vec::new();
        // With, for a keyword alternative, its group and specificity.
        let mut flat_pats: Vec<(KeyPat, Option<(u8, f32)>)> = Vec::new();
        for (a, cs) in &anchor_codes {
            let decisive = cs.len() == 1;
            for &code in cs {
                let first = a.chars().next().unwrap_or(' ');
                let last = a.chars().next_back().unwrap_or(' ');
                key_strings.push(a.clone());
                flat_pats.push((
                    KeyPat::Anchor {
                        code,
                        decisive,
                        bound_start: first.is_alphanumeric(),
                        bound_end: last.is_alphanumeric(),
                    },
                    None,
                ));
                if decisive {
                    confirm.push((super::prefilter::compact_literal(a), Confirm::Pass));
                    literals.insert(super::prefilter::compact_literal(a));
                    bulk.fragments.push(a.clone());
                }
            }
        }
        let mut alt_codes: HashMap<String, HashSet<usize>> = HashMap::new();
        for (ci, e) in entries.iter().enumerate() {
            for rule in e.signatures.keywords.values().flatten() {
                for alt in parse_rule(rule).into_iter().flatten() {
                    alt_codes
                        .entry(alt.trim().to_string())
                        .or_default()
                        .insert(ci);
                }
            }
        }
        for (ci, e) in entries.iter().enumerate() {
            for (tag, list) in &e.signatures.keywords {
                let Some(lang) = TextLang::from_tag(tag) else {
                    continue;
                };
                for rule in list {
                    let groups = parse_rule(rule);
                    if groups.is_empty() || groups.len() > 8 {
                        continue;
                    }
                    match rule_literals(&groups, &covered) {
                        Some(lits) => literals.extend(lits),
                        None => unfiltered.push(rule.clone()),
                    }
                    let ri = m.rules.len() as u32;
                    let mut free = 0u8;
                    for (gi, group) in groups.iter().enumerate() {
                        for alt in group {
                            let l = super::prefilter::compact_literal(alt.trim());
                            // Too short for the prefilter's 4-byte windows (see
                            // `super::grams`): the group counts as present.
                            if l.len() < 3 {
                                free |= 1 << gi;
                            } else if !covered(&l) {
                                confirm.push((
                                    l,
                                    Confirm::Group {
                                        rule: ri,
                                        group: gi as u8,
                                    },
                                ));
                            }
                        }
                    }
                    // The range of `flat_pats` for now; of `rule_alts` once the patterns are
                    // known.
                    let first = flat_pats.len() as u32;
                    for (gi, group) in groups.iter().enumerate() {
                        for alt in group {
                            let alt = alt.trim().to_string();
                            key_strings.push(alt.clone());
                            let spec =
                                1.0 / alt_codes.get(&alt).map_or(1, |c| c.len()).max(1) as f32;
                            flat_pats.push((
                                KeyPat::Trigger {
                                    rule: ri,
                                    bound_end: alt.chars().count() <= 3 && !alt.chars().any(is_cjk),
                                },
                                Some((gi as u8, spec)),
                            ));
                        }
                    }
                    m.rules.push(Rule {
                        code: ci as u16,
                        lang,
                        groups: groups.len() as u8,
                        free,
                        alts: (first, flat_pats.len() as u32),
                    });
                }
            }
        }
        // One pattern per distinct string: rules share many alternatives.
        let mut order: Vec<usize> = (0..key_strings.len()).collect();
        order.sort_by(|&a, &b| key_strings[a].cmp(&key_strings[b]).then(a.cmp(&b)));
        let mut unique: Vec<String> = Vec::new();
        let mut pat_of = vec![0u32; key_strings.len()];
        for i in order {
            if unique.last() != Some(&key_strings[i]) {
                unique.push(key_strings[i].clone());
            }
            pat_of[i] = unique.len() as u32 - 1;
        }
        // A rule is looked at only when an alternative of its rarest group is in the text
        // (rarest: its alternatives are in the fewest rules): "dynamics" is in hundreds of
        // rules, and marking them all for every text that names the product was most of the
        // keyword rules' cost. Which group triggers changes nothing found: a rule needs every
        // group.
        let mut rules_with = vec![0u32; unique.len()];
        for (i, (_, alt)) in flat_pats.iter().enumerate() {
            if alt.is_some() {
                rules_with[pat_of[i] as usize] += 1;
            }
        }
        let mut trigger = vec![false; flat_pats.len()];
        for r in &mut m.rules {
            let (a, b) = (r.alts.0 as usize, r.alts.1 as usize);
            let group_of = |i: usize| flat_pats[i].1.map_or(u8::MAX, |a| a.0);
            let cost = |g: u8| -> u64 {
                (a..b)
                    .filter(|&i| group_of(i) == g)
                    .map(|i| u64::from(rules_with[pat_of[i] as usize]))
                    .sum()
            };
            let rarest = (0..r.groups).min_by_key(|&g| (cost(g), g)).unwrap_or(0);
            for i in (a..b).filter(|&i| group_of(i) == rarest) {
                trigger[i] = true;
            }
            let start = m.rule_alts.len() as u32;
            for i in a..b {
                if let (KeyPat::Trigger { bound_end, .. }, Some((group, spec))) = flat_pats[i] {
                    m.rule_alts.push(RuleAlt {
                        pat: pat_of[i],
                        group,
                        bound_end,
                        spec,
                    });
                }
            }
            r.alts = (start, m.rule_alts.len() as u32);
        }
        let mut targets: Vec<Vec<KeyPat>> = vec![Vec::new(); unique.len()];
        for i in 0..flat_pats.len() {
            if flat_pats[i].1.is_none() || trigger[i] {
                targets[pat_of[i] as usize].push(flat_pats[i].0);
            }
        }
        let key_strings = unique;
        m.key_pats = Lists::new(targets);
        m.keys = PatternSet::new(key_strings);
        // The keys' windows, the rarest in the catalog's own pages normalized as texts are
        // (spaces and punctuation included): counted once, when the matcher is compiled.
        let prose: String = super::embedded_files()
            .iter()
            .map(|(_, text)| normalize::fold(text) + "\n")
            .collect();
        m.keys.choose_windows(&prose);
        literals.remove("");
        let mut literals: Vec<String> = literals.into_iter().collect();
        literals.sort();
        bulk.windows = prefilter_windows(&literals).unwrap_or_default();
        bulk.literals = literals;
        m.unfiltered = unfiltered;
        confirm.retain(|c| !c.0.is_empty());
        confirm.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        confirm.dedup();
        for (l, t) in confirm {
            if bulk.confirm_strings.last() != Some(&l) {
                bulk.confirm_strings.push(l);
                bulk.confirm_targets.push(Vec::new());
            }
            if let Some(last) = bulk.confirm_targets.last_mut() {
                last.push(t);
            }
        }
        bulk.fragments.sort();
        bulk.fragments.dedup();
        let _ = m.bulk.set(bulk);
        debug_assert!(m.phrases.len() < 1 << 24, "phrase numbers must fit a Hit");
        debug_assert!(
            m.rules.len() < 1 << 24,
            "rule numbers must fit the sort key of hits"
        );
        m
    }

    /// A matcher compiled ahead of time: its serialized core, and the bytes of its [`Bulk`]
    /// to load when first asked for.
    pub(crate) fn with_bulk_from(mut self, bytes: &'static [u8]) -> Matcher {
        self.bulk_src = bytes;
        self
    }

    pub(crate) fn serialize_bulk(&self) -> Vec<u8> {
        bincode::serialize(self.bulk()).unwrap_or_default()
    }

    /// The part serialized apart (see [`Bulk`]).
    fn bulk(&self) -> &Bulk {
        // The file's hash says it was written by this very code, and a test loads it whole;
        // were it unreadable all the same, no literals means no prefilter (see `prefilter`).
        self.bulk
            .get_or_init(|| bincode::deserialize(self.bulk_src).unwrap_or_default())
    }

    /// The decisive anchors, normalized (for benchmarks comparing with `grep -F`).
    pub fn anchors(&self) -> &[String] {
        &self.bulk().fragments
    }

    /// Every code found in `text`, best first.
    pub fn match_text(&self, text: &str) -> Vec<Match> {
        // One text: normalizing it costs less than building the prefilter's automata.
        self.match_unfiltered(text)
    }

    /// [`Matcher::match_text`] without the prefilter, for a text that passed it.
    pub fn match_unfiltered(&self, text: &str) -> Vec<Match> {
        let n = normalize::normalize_mapped(text);
        self.match_normalized(text, &n)
    }

    /// The prefilter: false only when no signature can match `text` (see
    /// [`super::prefilter`] for why).
    pub fn might_match(&self, text: &str) -> bool {
        thread_local! {
            static SCRATCH: std::cell::RefCell<(Folder, Vec<u8>)> =
                std::cell::RefCell::new((Folder::new(), Vec::new()));
        }
        SCRATCH.with(|s| {
            let (folder, buf) = &mut *s.borrow_mut();
            buf.clear();
            if !folder.compact(text, buf) {
                return true;
            }
            // A record's compact key ends with its line feed, as in a triage batch.
            buf.push(b'\n');
            match self.prefilter() {
                Some(grams) => self.confirm(grams, buf),
                None => true,
            }
        })
    }

    /// The prefilter's second stage, for a record's compact key in which `grams` (the
    /// first stage, as [`Matcher::prefilter`] or [`Matcher::prefilter_for`] built it) found
    /// a literal: whether a signature can match. The first stage looks for one literal per
    /// signature, which for a keyword rule is the alternatives of one of its groups. Every
    /// literal of the first stage in the key is looked at: one that suffices alone (an
    /// anchor, a Chinese or Korean phrase's literal, a context cue) passes the text; a
    /// Latin phrase's rarest word passes it when its other words are in the key too (a
    /// whole phrase holds them all; a partial one needs a context cue); one of a rule's
    /// group passes it when each other group of that rule has an alternative in the
    /// key too (searched for directly). A rule matches only when each group has an
    /// alternative in the key, and each alternative in the key is, compacted, in the
    /// compact key (or holds a context cue, itself a literal that suffices): so this is
    /// sound too. `compact` ends with the record's line feed (a literal at its very end
    /// needs it).
    pub fn confirm(&self, grams: &GramFilter, compact: &[u8]) -> bool {
        let mut passed = false;
        grams.each(compact, |li| {
            passed = self.confirm_literal(li, compact);
            !passed
        });
        passed
    }

    /// [`Matcher::confirm`] for one first-stage literal found in a record's compact key
    /// (`compact`, ending with its line feed): whether it passes the record.
    #[inline]
    pub fn confirm_literal(&self, li: usize, compact: &[u8]) -> bool {
        let stage = self.stage.get_or_init(|| Stage::new(self));
        stage.targets[li].iter().any(|t| match *t {
            Confirm::Pass => true,
            Confirm::Group { rule, group } => stage.rule_holds(self, rule, group, compact),
            Confirm::Phrase { phrase } => stage.phrase_holds(phrase, compact),
        })
    }

    /// The prefilter's automaton, for scanning many records' compact keys at once; `None`
    /// when every record must be matched (see [`Matcher::unfiltered`]).
    pub(crate) fn prefilter(&self) -> Option<&GramFilter> {
        // No literals at all (a part that did not load): nothing can be ruled out.
        if !self.unfiltered.is_empty() || self.bulk().literals.is_empty() {
            return None;
        }
        self.pre_ac()
    }

    /// The prefilter with its windows chosen for an input whose records look like `sample`
    /// (see [`GramFilter::retune`]): same answers, fewer comparisons. `None` when every
    /// record must be matched.
    pub(crate) fn prefilter_for<'a>(
        &self,
        sample: impl Iterator<Item = &'a str>,
    ) -> Option<GramFilter> {
        self.prefilter()?;
        let mut folder = Folder::new();
        let mut buf = Vec::new();
        for text in sample {
            folder.compact(text, &mut buf);
            buf.push(b'\n');
        }
        let bulk = self.bulk();
        let offsets = GramFilter::retune(&bulk.literals, &bulk.windows, &buf);
        GramFilter::with_offsets(&bulk.literals, &offsets)
    }

    fn pre_ac(&self) -> Option<&GramFilter> {
        self.pre_ac
            .get_or_init(|| GramFilter::with_offsets(&self.bulk().literals, &self.bulk().windows))
            .as_ref()
    }

    /// Builds what matching many texts needs and one text does not (the prefilter, the
    /// automata of the full matcher), before the workers start. Called once by `triage`.
    pub fn prepare_bulk(&self) {
        let _ = self.pre_ac();
        super::prefilter::prepare_latin();
        // Searched in every candidate that has evidence for a code of some destination: a
        // DFA (a few dozen words), where one text is better served by an NFA.
        let _ = self.dest_ac.get_or_init(|| {
            AhoCorasickBuilder::new()
                .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                .build(&self.dest_keys)
                .ok()
        });
        // Windows stay in the cache where the automata's states do not (measured: the
        // context cues and the Chinese and Korean phrases too, ~5% of the full matcher).
        self.keys.warm_windows();
        self.cjk.warm_windows();
        self.context.warm_windows();
    }

    #[doc(hidden)]
    pub fn key_patterns(&self) -> &[String] {
        self.keys.strings()
    }

    /// The prefilter's literals.
    pub fn literals(&self) -> &[String] {
        &self.bulk().literals
    }

    /// Signatures the prefilter cannot express (should be none: a test checks).
    pub fn unfiltered(&self) -> &[String] {
        &self.unfiltered
    }

    /// Every piece of evidence found in `text`, for debugging the catalog's signatures.
    #[doc(hidden)]
    pub fn evidence(&self, text: &str) -> Vec<String> {
        let n = normalize::normalize_mapped(text);
        let ev = self.collect(&n);
        ev.iter()
            .map(|e| {
                format!(
                    "{} {:.2} {:?} {:?}",
                    self.codes[e.code as usize],
                    e.conf,
                    e.lang,
                    fragment(text, &n, e.span)
                )
            })
            .collect()
    }

    fn match_normalized(&self, text: &str, n: &Normalized) -> Vec<Match> {
        let ev = self.collect(n);
        self.decide(text, n, ev)
    }

    fn collect(&self, n: &Normalized) -> Vec<Evidence> {
        // A triage calls this for every candidate record: the buffers are the thread's, kept
        // from one call to the next (taken, so that a nested call would only start empty).
        thread_local! {
            static BUFS: std::cell::Cell<Bufs> = std::cell::Cell::new(Bufs::default());
        }
        let mut bufs = BUFS.with(|b| b.take());
        let ev = self.collect_with(n, &mut bufs);
        BUFS.with(|b| b.set(bufs));
        ev
    }

    fn collect_with(&self, n: &Normalized, bufs: &mut Bufs) -> Vec<Evidence> {
        let key = n.key.as_str();
        let mut ev: Vec<Evidence> = Vec::new();
        // Without a lead context, weak evidence counts for nothing: not even computed.
        let context = self.in_context(key);

        // Anchors and keyword alternatives. A keyword rule is looked at only when the text
        // holds an alternative of its trigger group (its rarest; see `Matcher::build`); it
        // matches only when every group has a hit (see `window_covering`).
        let occ = &mut bufs.occ;
        occ.clear();
        let triggered = &mut bufs.triggered;
        triggered.clear();
        self.keys.each(key, |pat, s, e| {
            let word = |c: Option<char>| c.is_some_and(|c| alnum(c) && !is_cjk(c));
            let before = word(key[..s].chars().next_back());
            let after = word(key[e..].chars().next());
            // Only an alternative that starts with a letter or digit must start a word:
            // ".edu" follows the host name in "jan@uczelnia.edu".
            let mid_word = before && word(key[s..].chars().next());
            occ.push(Occurrence {
                pat: pat as u32,
                start: s as u32,
                end: e as u32,
                mid_word,
                after,
            });
            // One pattern can stand for several anchors and triggers.
            for &kp in self.key_pats.get(pat) {
                match kp {
                    KeyPat::Anchor {
                        code,
                        decisive,
                        bound_start,
                        bound_end,
                    } => {
                        if (bound_start && before) || (bound_end && after) {
                            continue;
                        }
                        let conf = if decisive { ANCHOR } else { SUPPORT };
                        ev.push(Evidence {
                            code,
                            conf,
                            lang: None,
                            span: (s, e),
                        });
                    }
                    KeyPat::Trigger { rule, bound_end } => {
                        if !(mid_word || (bound_end && after)) {
                            triggered.push(rule);
                        }
                    }
                }
            }
            true
        });
        triggered.sort_unstable();
        triggered.dedup();
        // By pattern, for the rules' lookups: where each pattern's occurrences start in
        // `occ` (plus one; 0 when it has none), reset below through `occ` itself.
        occ.sort_unstable_by_key(|o| (o.pat, o.start, o.end));
        let first = &mut bufs.first;
        if !triggered.is_empty() {
            first.resize(self.key_pats.len(), 0);
            for (i, o) in occ.iter().enumerate().rev() {
                first[o.pat as usize] = i as u32 + 1;
            }
        }
        let hits = &mut bufs.hits;
        for &ri in triggered.iter() {
            let r = &self.rules[ri as usize];
            hits.clear();
            let mut groups = 0u8;
            for a in &self.rule_alts[r.alts.0 as usize..r.alts.1 as usize] {
                let from = match first[a.pat as usize] {
                    0 => continue,
                    f => f as usize - 1,
                };
                for o in occ[from..].iter().take_while(|o| o.pat == a.pat) {
                    if o.mid_word || (a.bound_end && o.after) {
                        continue;
                    }
                    groups |= 1 << a.group;
                    hits.push((o.start as usize, o.end as usize, a.group, a.spec));
                }
            }
            if groups.count_ones() != u32::from(r.groups) {
                continue;
            }
            // By (start, end, group, specificity): specificity is positive, so its bits
            // order as the number does.
            hits.sort_unstable_by_key(|h| (h.0, h.1, h.2, h.3.to_bits()));
            if let Some((span, spec)) = window_covering(hits, r.groups) {
                // Tighter, more demanding rules with rarer words are more specific.
                let spread = (span.1 - span.0) as f32 / KEYWORD_SPAN as f32;
                let conf = KEYWORD - 0.1 * spread.min(1.0)
                    + 0.02 * r.groups.saturating_sub(2) as f32
                    + 0.06 * spec;
                ev.push(Evidence {
                    code: r.code,
                    conf,
                    lang: Some(r.lang),
                    span,
                });
            }
        }
        if !triggered.is_empty() {
            for o in occ.iter() {
                first[o.pat as usize] = 0;
            }
        }

        // Latin phrases. Hits are (phrase, position, slot), sorted: each phrase's hits are
        // then one run in position order, with no map per text.
        let toks = &mut bufs.toks;
        tokenize_into(key, toks);
        let toks = &*toks;
        let unit_hits = &mut bufs.unit_hits;
        let found = &mut bufs.found;
        found.clear();
        for (ti, t) in toks.iter().enumerate() {
            if let Some(&w) = self.words.get(&key[t.start..t.end]) {
                found.push((ti, w));
            }
        }
        self.units_of(&self.word_units, found, &mut bufs.marks, unit_hits);
        gated(unit_hits, &mut bufs.gate, &self.gates, context);
        let pos_slots = &mut bufs.pos_slots;
        for run in unit_hits.chunk_by(|a, b| a.phrase() == b.phrase()) {
            let p = &self.phrases[run[0].phrase() as usize];
            let tok_span = |a: usize, b: usize| (toks[a].start, toks[b].end);
            let (present, covered) = coverage(run.iter().map(|h| h.slot()), &p.weights);
            let whole_counts = context || decides_alone(p);
            if whole_counts && present == p.weights.len() {
                if let Some((a, b)) = whole_phrase(key, toks, &p.tokens) {
                    ev.push(Evidence {
                        code: p.code,
                        conf: whole_conf(p),
                        lang: Some(p.lang),
                        span: tok_span(a, b),
                    });
                    continue;
                }
            }
            if !context || !partial_possible(p, covered) {
                continue;
            }
            pos_slots.clear();
            pos_slots.extend(run.iter().map(|h| (h.pos(), h.slot())));
            if let Some((share, a, b)) = best_window(pos_slots, &p.weights, p.len * 2 + 6) {
                if let Some(conf) = weak_conf(p, share) {
                    ev.push(Evidence {
                        code: p.code,
                        conf,
                        lang: Some(p.lang),
                        span: tok_span(a, b),
                    });
                }
            }
        }

        // Chinese and Korean phrases.
        // Every CJK character is three bytes or more, led by 0xe1 or above: most keys are
        // ruled out by a byte scan.
        if key.bytes().any(|b| b >= 0xe1) && key.chars().any(is_cjk) {
            // The key's letters and digits (see `compact`): each one's offset in the key
            // (`at`) and in their own string (`char_byte`, one more at the end).
            let Bufs {
                chars,
                at,
                char_byte,
                text_compact,
                cjk_hits,
                gate,
                whole,
                ..
            } = bufs;
            compact_into(key, chars, at);
            text_compact.clear();
            char_byte.clear();
            for &c in chars.iter() {
                char_byte.push(text_compact.len());
                text_compact.push(c);
            }
            char_byte.push(text_compact.len());
            let found = &mut bufs.found;
            found.clear();
            for (i, w) in chars.windows(2).enumerate() {
                if let Some(&b) = self.bigrams.get(&(w[0], w[1])) {
                    found.push((i, b));
                }
            }
            self.units_of(&self.bigram_units, found, &mut bufs.marks, cjk_hits);
            gated(cjk_hits, gate, &self.gates, context);
            // Whole phrases, all in one pass: the first (leftmost) byte offset of each.
            whole.clear();
            self.cjk.each(text_compact, |pat, start, _| {
                let pi = self.cjk_phrases[pat];
                match whole.iter_mut().find(|w| w.0 == pi) {
                    Some(w) => w.1 = w.1.min(start),
                    None => whole.push((pi, start)),
                }
                true
            });
            let key_span = |a: usize, b: usize| {
                let end_char = b.min(at.len() - 1);
                (
                    at[a],
                    at[end_char]
                        + key[at[end_char]..]
                            .chars()
                            .next()
                            .map_or(1, |c| c.len_utf8()),
                )
            };
            let pos_slots = &mut bufs.pos_slots;
            for run in cjk_hits.chunk_by(|a, b| a.phrase() == b.phrase()) {
                let pi = run[0].phrase();
                let p = &self.phrases[pi as usize];
                let whole_counts = context || decides_alone(p);
                if let Some(&(_, bi)) = whole.iter().find(|w| whole_counts && w.0 == pi) {
                    let a = char_byte.partition_point(|&x| x < bi);
                    let b = a + p.len.saturating_sub(1);
                    ev.push(Evidence {
                        code: p.code,
                        conf: whole_conf(p),
                        lang: Some(p.lang),
                        span: key_span(a, b),
                    });
                    continue;
                }
                if !context
                    || !partial_possible(p, coverage(run.iter().map(|h| h.slot()), &p.weights).1)
                {
                    continue;
                }
                pos_slots.clear();
                pos_slots.extend(run.iter().map(|h| (h.pos(), h.slot())));
                if let Some((share, a, b)) = best_window(pos_slots, &p.weights, p.len * 2 + 4) {
                    if let Some(conf) = weak_conf(p, share) {
                        ev.push(Evidence {
                            code: p.code,
                            conf,
                            lang: Some(p.lang),
                            span: key_span(a, b + 1),
                        });
                    }
                }
            }
        }
        ev
    }

    /// The hits of the phrases that `found` (position, list of `lists`, in position order)
    /// triggers, in position order: a phrase none of whose trigger units the text holds can
    /// give no evidence (see [`Unit::trigger`]), and most phrases a common word is in are not
    /// triggered, so their hits are never made.
    fn units_of(
        &self,
        lists: &Lists<Unit>,
        found: &[(usize, u32)],
        marks: &mut Vec<u64>,
        hits: &mut Vec<Hit>,
    ) {
        let words = self.phrases.len().div_ceil(64);
        if marks.len() < words {
            marks.resize(words, 0);
        }
        for &(_, l) in found {
            for u in lists.get(l as usize).iter().filter(|u| u.trigger) {
                marks[u.phrase as usize / 64] |= 1 << (u.phrase % 64);
            }
        }
        hits.clear();
        for &(pos, l) in found {
            for u in lists.get(l as usize) {
                if marks[u.phrase as usize / 64] >> (u.phrase % 64) & 1 != 0 {
                    hits.push(Hit::new(u.phrase, pos, u.slot));
                }
            }
        }
        // Every marked phrase has a hit (its trigger's own): clear through them.
        for h in hits.iter() {
            marks[h.phrase() as usize / 64] = 0;
        }
    }

    /// Whether the text is about lead destinations: it names one, or leads, the marketplace
    /// or Partner Center (a Latin cue must start a word: "mislead" is not "lead").
    fn in_context(&self, key: &str) -> bool {
        // `each` stops (false) at the first cue that counts.
        !self.context.each(key, |_, start, _| {
            let before = key[..start].chars().next_back();
            let first = key[start..].chars().next();
            let counts =
                is_cjk(first.unwrap_or(' ')) || !before.is_some_and(|c| alnum(c) && !is_cjk(c));
            !counts
        })
    }

    /// The matches [`Matcher::select`] keeps, rendered.
    fn decide(&self, text: &str, n: &Normalized, ev: Vec<Evidence>) -> Vec<Match> {
        let mut detected = None;
        self.select(n, ev)
            .into_iter()
            .map(|(code, conf, e)| {
                let language = e
                    .lang
                    .unwrap_or_else(|| *detected.get_or_insert_with(|| detect_lang(text, &n.key)));
                Match {
                    code: self.codes[code as usize].clone(),
                    confidence: (conf * 100.0).round() / 100.0,
                    language,
                    matched: fragment(text, n, e.span),
                }
            })
            .collect()
    }

    /// The codes [`Matcher::match_unfiltered`] reports for `text`, best first, without
    /// what only their rendering needs (language, the fragment as written): what a triage
    /// writes.
    pub fn codes_unfiltered(&self, text: &str) -> Vec<String> {
        // Nothing is shown: no origins to keep.
        let n = normalize::normalize_unmapped(text);
        let ev = self.collect(&n);
        self.select(&n, ev)
            .into_iter()
            .map(|(code, _, _)| self.codes[code as usize].clone())
            .collect()
    }

    /// Combines the evidence per code and drops weak matches that sit on a stronger match
    /// of another code: the codes kept, best first, with their confidence and deciding
    /// evidence.
    fn select(&self, n: &Normalized, ev: Vec<Evidence>) -> Vec<(u16, f32, Evidence)> {
        // Each code's evidence, one run per code (in the order found within a run).
        let mut ev = ev;
        ev.sort_by_key(|e| e.code);
        // Destinations the text names: weaker evidence for a code of another destination counts
        // less (a Marketo ticket saying "client secret is invalid" is not the Dynamics code).
        // Looked for only when a code with destinations has such evidence.
        let mut named: Option<u8> = None;
        let mut names = || {
            *named.get_or_insert_with(|| {
                match self.dest_ac.get_or_init(|| nfa(&self.dest_keys).ok()) {
                    Some(ac) => ac
                        .find_iter(&n.key)
                        .fold(0u8, |acc, m| acc | self.dest_bits[m.pattern().as_usize()]),
                    None => 0,
                }
            })
        };
        let mut best: Vec<(u16, f32, Evidence)> = Vec::new();
        for list in ev.chunk_by_mut(|a, b| a.code == b.code) {
            let code = list[0].code;
            let dest = self.dest[code as usize];
            if dest != 0 && list.iter().any(|e| e.conf < 0.85) && {
                let named = names();
                named != 0 && dest & named == 0
            } {
                for e in list.iter_mut().filter(|e| e.conf < 0.85) {
                    e.conf -= 0.08;
                }
            }
            // Full tie-breakers: the same text must give the same answer on every run.
            list.sort_by(|a, b| {
                b.conf
                    .total_cmp(&a.conf)
                    .then(a.span.0.cmp(&b.span.0))
                    .then(a.span.1.cmp(&b.span.1))
            });
            let top = list[0];
            if top.conf < THRESHOLD {
                continue;
            }
            let extra = list[1..]
                .iter()
                .filter(|e| {
                    e.conf >= THRESHOLD && (e.span.1 <= top.span.0 || e.span.0 >= top.span.1)
                })
                .count()
                .min(3) as f32;
            let conf = (top.conf + 0.02 * extra).min(0.99);
            best.push((code, conf, top));
        }
        // A symptom or question (LC6xx) yields to a root cause found in the same text.
        let family = |code: u16| self.codes[code as usize].as_bytes().get(2).copied();
        if best.iter().any(|b| family(b.0) != Some(b'6')) {
            for b in best.iter_mut().filter(|b| family(b.0) == Some(b'6')) {
                b.1 -= 0.03;
            }
        }
        best.sort_by(|a, b| {
            b.1.total_cmp(&a.1)
                .then(a.2.span.0.cmp(&b.2.span.0))
                .then(a.0.cmp(&b.0))
        });
        let mut kept: Vec<(u16, f32, Evidence)> = Vec::new();
        for cand in best {
            let near = |k: &(u16, f32, Evidence)| {
                let (a, b) = (k.2.span.0.saturating_sub(40), k.2.span.1 + 40);
                cand.2.span.0 < b && cand.2.span.1 > a && k.1 >= cand.1 + 0.04
            };
            if cand.1 < 0.85 && kept.iter().any(near) {
                continue;
            }
            kept.push(cand);
        }
        kept
    }
}

/// [`Matcher::collect`]'s buffers, kept per thread.
#[derive(Default)]
struct Bufs {
    occ: Vec<Occurrence>,
    triggered: Vec<u32>,
    /// By key pattern: where its occurrences start in `occ`, plus one (0: none).
    first: Vec<u32>,
    hits: Vec<(usize, usize, u8, f32)>,
    toks: Vec<Tok>,
    unit_hits: Vec<Hit>,
    /// (position, list of units) of the words or bigrams found in a text.
    found: Vec<(usize, u32)>,
    /// By phrase, a bit: triggered in the text (see [`Matcher::units_of`]); all 0 between.
    marks: Vec<u64>,
    pos_slots: Vec<(usize, u16)>,
    chars: Vec<char>,
    at: Vec<usize>,
    char_byte: Vec<usize>,
    text_compact: String,
    cjk_hits: Vec<Hit>,
    gate: Gate,
    whole: Vec<(u32, usize)>,
}

/// A key pattern found in a text, and what its neighbours say about it.
#[derive(Clone, Copy)]
struct Occurrence {
    pat: u32,
    start: u32,
    end: u32,
    /// It starts with a letter or digit that follows one: not an alternative.
    mid_word: bool,
    /// A letter or digit follows it: not an alternative that must end a word.
    after: bool,
}

/// A phrase unit found in a text, packed in one integer so that sorting the hits sorts plain
/// numbers: phrase (24 bits), position (24 bits), slot (16 bits), in that order of
/// significance, as a tuple of the three would sort. Texts are at most a MiB (fewer than
/// 2^20 tokens) and the catalog has far fewer than 2^24 phrases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Hit(u64);

impl Hit {
    fn new(phrase: u32, pos: usize, slot: u16) -> Hit {
        let pos = pos.min(0xff_ffff) as u64;
        Hit(((phrase & 0xff_ffff) as u64) << 40 | pos << 16 | slot as u64)
    }

    fn phrase(self) -> u32 {
        (self.0 >> 40) as u32
    }

    fn pos(self) -> usize {
        ((self.0 >> 16) & 0xff_ffff) as usize
    }

    fn slot(self) -> u16 {
        self.0 as u16
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Evidence {
    code: u16,
    conf: f32,
    lang: Option<TextLang>,
    /// Byte range in the normalized key.
    span: (usize, usize),
}

/// Whether the whole phrase reports its code without a lead context in the text: a
/// distinctive message, not an FAQ question (whose sentences are ordinary words; with a
/// context it is as strong as any).
fn decides_alone(p: &Phrase) -> bool {
    !p.faq && whole_conf(p) >= WHOLE_STRONG
}

fn whole_conf(p: &Phrase) -> f32 {
    if p.generic {
        SUPPORT
    } else if p.total >= 1.5 && (p.distinctive >= 2 || (p.distinctive >= 1 && p.weights.len() >= 3))
    {
        WHOLE_STRONG
    } else if p.total >= 0.45 {
        WHOLE_MEDIUM
    } else {
        // Only words every other code uses: support, not a decision.
        SUPPORT
    }
}

/// A partial match: most of a distinctive phrase, at least two of its words (three bigrams),
/// one of them rare in the catalog (common words such as "user" and "password" together
/// are not a message).
fn weak_conf(p: &Phrase, (share, distinct, rarest): (f32, usize, f32)) -> Option<f32> {
    let need = if p.cjk { 3 } else { 2 };
    (!p.generic && p.total >= 1.0 && share >= WEAK_SHARE && distinct >= need && rarest >= 0.6)
        .then_some(0.3 + 0.45 * share)
}

/// How many distinct units of a phrase a text holds, and their weight.
fn coverage(slots: impl Iterator<Item = u16>, weights: &[f32]) -> (usize, f32) {
    let mut seen = [0u64; 4];
    let (mut n, mut w) = (0, 0.0);
    for s in slots {
        let s = s as usize;
        if s >= 256 {
            // More units than the bit set holds: claim everything (only skips a shortcut).
            return (weights.len(), weights.iter().sum());
        }
        if seen[s / 64] & 1 << (s % 64) == 0 {
            seen[s / 64] |= 1 << (s % 64);
            n += 1;
            w += weights[s];
        }
    }
    (n, w)
}

/// [`gated`]'s buffers.
#[derive(Default)]
struct Gate {
    /// By phrase: its hits in the text, then where its run goes; all 0 between texts.
    counts: Vec<u32>,
    /// The phrases kept, in order.
    kept: Vec<u32>,
    out: Vec<Hit>,
}

/// A phrase listed in [`Gate::kept`] (a flag in its count).
const LISTED: u32 = 1 << 31;

/// Keeps the hits of the phrases that have at least as many as their gate (see [`gate`]),
/// in (phrase, position, slot) order: each phrase's hits are then one run, in position order.
/// Most of a text's hits are of phrases it holds one word of: they are dropped by a count.
/// The hits come in position order, and a phrase has at most one hit per position (a unit
/// has one slot), so placing each kept phrase's hits in a run of its own, in the order they
/// come, sorts them without comparing.
fn gated(hits: &mut Vec<Hit>, g: &mut Gate, gates: &[[u8; 2]], context: bool) {
    debug_assert!(hits.windows(2).all(|w| w[0].pos() <= w[1].pos()));
    if g.counts.len() < gates.len() {
        g.counts.resize(gates.len(), 0);
    }
    for h in hits.iter() {
        g.counts[h.phrase() as usize] += 1;
    }
    g.kept.clear();
    for h in hits.iter() {
        let p = h.phrase() as usize;
        let c = g.counts[p];
        // A gate is at least 1: a phrase reset to 0 here stays dropped.
        if c & LISTED == 0 && c != 0 {
            if c >= u32::from(gates[p][context as usize]) {
                g.counts[p] |= LISTED;
                g.kept.push(p as u32);
            } else {
                g.counts[p] = 0;
            }
        }
    }
    g.kept.sort_unstable();
    // Each kept phrase's count becomes where its run starts.
    let mut at = 0;
    for &p in &g.kept {
        let c = &mut g.counts[p as usize];
        let n = *c & !LISTED;
        *c = at | LISTED;
        at += n;
    }
    g.out.clear();
    g.out.resize(at as usize, Hit(0));
    for h in hits.iter() {
        let c = &mut g.counts[h.phrase() as usize];
        if *c & LISTED != 0 {
            g.out[(*c & !LISTED) as usize] = *h;
            *c += 1;
        }
    }
    for &p in &g.kept {
        g.counts[p as usize] = 0;
    }
    std::mem::swap(hits, &mut g.out);
    debug_assert!(hits.windows(2).all(|w| w[0] < w[1]), "not the sorted order");
}

/// The fewest hits (units found, counted with repeats) a text needs of `p` for any evidence,
/// without a lead context and with one: a whole phrase holds every unit, and counts without
/// a context only when it decides alone; a partial match needs a context and a few distinct
/// units (see [`weak_conf`]). Saturates at 255, still a lower bound.
fn gate(p: &Phrase) -> [u8; 2] {
    let units = p.weights.len().min(255) as u8;
    let alone = if decides_alone(p) { units } else { u8::MAX };
    let partial = if !p.generic && p.total >= 1.0 {
        if p.cjk {
            3
        } else {
            2
        }
    } else {
        u8::MAX
    };
    [alone, units.min(partial)]
}

/// Whether a partial match could pass [`weak_conf`] with the units present at all
/// (a window can only hold fewer): a shortcut that changes no result.
fn partial_possible(p: &Phrase, covered: f32) -> bool {
    !p.generic && p.total >= 1.0 && covered >= WEAK_SHARE * p.total - 1e-4
}

/// The whole phrase in order, allowing up to [`GAP`] extra tokens between its words:
/// the first and last token index.
fn whole_phrase(key: &str, toks: &[Tok], words: &str) -> Option<(usize, usize)> {
    if words.is_empty() {
        return None;
    }
    let mut split = words.split('\0');
    let first = split.next()?;
    'start: for i in 0..toks.len() {
        if &key[toks[i].start..toks[i].end] != first {
            continue;
        }
        let mut j = i;
        for w in words.split('\0').skip(1) {
            let found = (j + 1..(j + 2 + GAP).min(toks.len()))
                .find(|&k| &key[toks[k].start..toks[k].end] == w);
            match found {
                Some(k) => j = k,
                None => continue 'start,
            }
        }
        return Some((i, j));
    }
    None
}

/// The window of at most `width` positions holding the largest weighted share of distinct
/// units: ((share, distinct units, weight of the rarest unit), first position, last position).
fn best_window(
    hits: &[(usize, u16)],
    weights: &[f32],
    width: usize,
) -> Option<((f32, usize, f32), usize, usize)> {
    let total: f32 = weights.iter().sum();
    if hits.is_empty() || total <= 0.0 {
        return None;
    }
    // `hits` is in position order.
    // On the stack for the usual phrase: this runs for every phrase a text touches.
    let mut small = [0u32; 64];
    let mut large = Vec::new();
    let count: &mut [u32] = if weights.len() <= small.len() {
        &mut small[..weights.len()]
    } else {
        large.resize(weights.len(), 0);
        &mut large
    };
    let mut covered = 0.0f32;
    let mut distinct = 0;
    let mut best = (0.0f32, 0, 0, 0);
    let mut lo = 0;
    for hi in 0..hits.len() {
        let (pos, slot) = hits[hi];
        if count[slot as usize] == 0 {
            covered += weights[slot as usize];
            distinct += 1;
        }
        count[slot as usize] += 1;
        while pos - hits[lo].0 >= width {
            let s = hits[lo].1 as usize;
            count[s] -= 1;
            if count[s] == 0 {
                covered -= weights[s];
                distinct -= 1;
            }
            lo += 1;
        }
        if covered > best.0 + 1e-6 {
            best = (covered, distinct, hits[lo].0, pos);
        }
    }
    let rarest = hits
        .iter()
        .filter(|h| h.0 >= best.2 && h.0 <= best.3)
        .map(|h| weights[h.1 as usize])
        .fold(0.0f32, f32::max);
    Some(((best.0 / total, best.1, rarest), best.2, best.3))
}

/// The smallest span in which every keyword group hits, within [`KEYWORD_SPAN`].
/// Also the mean, over the groups, of the most specific alternative hit in that span.
fn window_covering(hits: &[(usize, usize, u8, f32)], groups: u8) -> Option<((usize, usize), f32)> {
    let mut count = [0u32; 8]; // rules have at most 8 groups
    let mut have = 0;
    let mut lo = 0;
    let mut best: Option<(usize, usize, usize, usize)> = None;
    for hi in 0..hits.len() {
        let g = hits[hi].2 as usize;
        if count[g] == 0 {
            have += 1;
        }
        count[g] += 1;
        while have == groups as usize {
            let span = (
                hits[lo].0,
                hits[lo..=hi]
                    .iter()
                    .map(|h| h.1)
                    .max()
                    .unwrap_or(hits[hi].1),
            );
            if span.1 - span.0 <= KEYWORD_SPAN && best.is_none_or(|b| span.1 - span.0 < b.1 - b.0) {
                best = Some((span.0, span.1, lo, hi));
            }
            let g0 = hits[lo].2 as usize;
            count[g0] -= 1;
            if count[g0] == 0 {
                have -= 1;
            }
            lo += 1;
        }
    }
    let (start, end, lo, hi) = best?;
    let mut spec = [0.0f32; 8];
    for h in &hits[lo..=hi] {
        spec[h.2 as usize] = spec[h.2 as usize].max(h.3);
    }
    Some((
        (start, end),
        spec[..groups as usize].iter().sum::<f32>() / groups.max(1) as f32,
    ))
}

/// The original text behind a span of the key, trimmed and shortened.
fn fragment(text: &str, n: &Normalized, span: (usize, usize)) -> String {
    let r = n.original_range(span.0..span.1);
    let s = text.get(r).unwrap_or("").trim();
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > FRAGMENT_CHARS {
        let cut: String = s.chars().take(FRAGMENT_CHARS).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Guesses the language of a text from its script and common words.
pub fn detect_lang(text: &str, key: &str) -> TextLang {
    let (mut hangul, mut han, mut trad, mut simp, mut pl, mut pt) = (0, 0, 0, 0, 0, 0);
    const TRAD: &str = "無們請戶說這會個為對時權錯誤設資訊與從後來關於開發應該體點網絡將處給認證";
    const SIMP: &str = "无们请户说这会个为对时权错误设资讯与从后来关于开发应该体点网络将处给认证";
    for c in text.chars() {
        match c {
            '\u{ac00}'..='\u{d7a3}' => hangul += 1,
            c if is_cjk(c) => {
                han += 1;
                if TRAD.contains(c) && !SIMP.contains(c) {
                    trad += 1;
                } else if SIMP.contains(c) && !TRAD.contains(c) {
                    simp += 1;
                }
            }
            'ą' | 'ć' | 'ę' | 'ł' | 'ń' | 'ś' | 'ź' | 'ż' | 'Ł' | 'Ż' | 'Ś' => pl += 2,
            'ã' | 'õ' | 'ç' | 'â' | 'ê' | 'ô' | 'à' | 'Ç' | 'Ã' => pt += 2,
            _ => {}
        }
    }
    if hangul > 0 && hangul >= han {
        return TextLang::KoKr;
    }
    if han > 0 {
        return if simp > trad {
            TextLang::ZhCn
        } else {
            TextLang::ZhTw
        };
    }
    for w in key.split(|c: char| !alnum(c)) {
        match w {
            "nie" | "sie" | "jest" | "mozna" | "uzytkownik" | "uzytkownika" | "blad" | "dla"
            | "oraz" | "prosze" | "nalezy" => pl += 1,
            "nao" | "voce" | "usuario" | "erro" | "uma" | "com" | "para" | "esta" | "obrigado"
            | "foi" => pt += 1,
            _ => {}
        }
    }
    if pl >= 2 && pl > pt {
        TextLang::Pl
    } else if pt >= 2 && pt > pl {
        TextLang::PtBr
    } else {
        TextLang::En
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str, anchors: &str, phrases: &str, keywords: &str) -> String {
        format!(
            r#"code = "{code}"
status = "active"
destinations = ["dynamics"]
[title]
en = "t"
[cause]
en = "c"
[remedy]
en = ["r"]
[signatures]
anchors = [{anchors}]
[signatures.phrases]
{phrases}
[signatures.keywords]
{keywords}
"#
        )
    }

    fn sample() -> Matcher {
        let files = [
            (
                "LC301.toml",
                entry(
                    "LC301",
                    r#""AADSTS50126", "LastCRMError""#,
                    r#"en = ["Could not save the lead to Dynamics CRM. Check the Dynamics CRM account settings. LastCRMError: Unable to sign in to Dynamics CRM", "Unable to Login to Dynamics CRM"]"#,
                    "",
                ),
            ),
            (
                "LC303.toml",
                entry(
                    "LC303",
                    r#""AADSTS700016""#,
                    r#"en = ["Could not save the lead to Dynamics CRM using AAD. Exception:: Application with identifier '{appId}' was not found in the directory"]
zh-TW = ["在目錄中找不到包含識別碼的應用程式"]"#,
                    "",
                ),
            ),
            (
                "LC402.toml",
                entry(
                    "LC402",
                    r#""SecLib::RetrievePrivilegeForUser", "0x80042f09", "LastCRMError""#,
                    r#"en = ["Could not save the lead to Dynamics CRM. LastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user"]
pl = ["żadne role nie są przypisane do użytkownika"]
ko-KR = ["사용자에게 할당된 역할이 없습니다"]"#,
                    "",
                ),
            ),
            (
                "LC201.toml",
                entry(
                    "LC201",
                    r#""LastCRMError""#,
                    r#"en = ["Could not save the lead to Dynamics CRM. LastCRMError: The request channel timed out while waiting for a reply after 00:02:00"]"#,
                    "",
                ),
            ),
            (
                "LC607.toml",
                entry(
                    "LC607",
                    "",
                    "",
                    r#"en = ["azure table|table storage + cost|price|how much"]"#,
                ),
            ),
        ];
        let cat = Catalog::parse(files.iter().map(|(n, t)| (*n, t.as_str()))).unwrap();
        Matcher::build(cat.entries())
    }

    fn codes(m: &Matcher, text: &str) -> Vec<String> {
        m.match_text(text).into_iter().map(|m| m.code).collect()
    }

    #[test]
    fn anchors_phrases_and_keywords() {
        let m = sample();
        assert_eq!(
            codes(&m, "LastCRMError: SecLib:: RetrievePrivilegeForUser failed"),
            ["LC402"]
        );
        let r = m.match_text("Hi, we get <b>SecLib::RetrievePrivilegeForUser</b> all day");
        assert_eq!(r[0].matched, "SecLib::RetrievePrivilegeForUser");
        assert_eq!(
            codes(&m, "żadne role nie są przypisane do użytkownika"),
            ["LC402"]
        );
        assert_eq!(
            m.match_text("zadne role nie sa przypisane do uzytkownika")[0].language,
            TextLang::Pl
        );
        assert_eq!(
            codes(&m, "오류: 사용자에게 할당된 역할이 없습니다."),
            ["LC402"]
        );
        assert_eq!(
            codes(&m, "오류: 사용자에게  할당 된 역할이 없 습니다."),
            ["LC402"]
        );
        assert_eq!(
            codes(
                &m,
                "The request channel timed out while waiting for a reply after 00:01:30."
            ),
            ["LC201"]
        );
        assert_eq!(codes(&m, "Exception:: Application with identifier 'contoso app' was not found in the directory"), ["LC303"]);
        assert_eq!(
            codes(&m, "例外狀況：在目錄中找不到包含識別碼的應用程式"),
            ["LC303"]
        );
        assert_eq!(
            codes(&m, "How much does an Azure Table cost per month?"),
            ["LC607"]
        );
        // An alternative must start a word: "multicost" holds no "cost".
        assert!(codes(&m, "The multicost report of our Azure Table").is_empty());
        assert_eq!(
            codes(&m, "The multicost report, and what our Azure Table costs"),
            ["LC607"]
        );
    }

    /// The words every marketplace ticket holds trigger no keyword rule in the first stage
    /// of the compiled catalog: each rule has a rarer group to be found by (the second stage
    /// would otherwise search for the rule's other groups in most tickets). Today none of
    /// them is a first-stage literal at all; without [`DOMAIN`] in `literal_cost`,
    /// "marketplace" is one, with 65 rules.
    #[test]
    fn domain_words_trigger_no_rule() {
        let m = Matcher::get();
        let stage = Stage::new(m);
        let bulk = m.bulk();
        for (li, lit) in bulk.literals.iter().enumerate() {
            if DOMAIN.contains(&lit.as_str()) {
                let rules = stage.targets[li]
                    .iter()
                    .filter(|t| matches!(t, Confirm::Group { .. }))
                    .count();
                assert_eq!(rules, 0, "{lit} triggers {rules} rules");
            }
        }
        assert!(DOMAIN
            .iter()
            .all(|w| *w == super::super::prefilter::compact_literal(w)));
    }

    #[test]
    fn generic_fragments_decide_nothing() {
        let m = sample();
        assert!(codes(&m, "Could not save the lead to Dynamics CRM.").is_empty());
        assert!(codes(&m, "LastCRMError").is_empty());
        assert!(codes(&m, "The lead time for delivery of the table is two weeks.").is_empty());
        assert!(codes(&m, "AADSTS501260 is not a code").is_empty());
    }

    /// The prefilter runs on windows for the real catalog: no literal is too short (a
    /// short one would silently send every record to the full matcher).
    #[test]
    fn the_catalog_prefilter_runs_on_windows() {
        let m = Matcher::build(Catalog::get().entries());
        assert!(m.prefilter().is_some(), "first stage");
    }

    #[test]
    fn several_errors_in_one_text() {
        let m = sample();
        let mut c = codes(&m, "First AADSTS50126 then later: no roles are assigned to user (SecLib::RetrievePrivilegeForUser).");
        c.sort();
        assert_eq!(c, ["LC301", "LC402"]);
    }

    /// What a triage writes is what `explain` finds: the same codes in the same order, on
    /// every line of the equivalence corpus (every fixture message, errors among tickets).
    #[test]
    fn codes_alone_are_the_codes_of_the_matches() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/equivalence/input.txt"
        );
        let corpus = std::fs::read_to_string(path).unwrap();
        let m = Matcher::get();
        let mut matched = 0;
        for line in corpus.lines() {
            let full: Vec<String> = m
                .match_unfiltered(line)
                .into_iter()
                .map(|x| x.code)
                .collect();
            assert_eq!(m.codes_unfiltered(line), full, "{line}");
            matched += !full.is_empty() as usize;
        }
        assert!(matched > 600, "{matched}");
    }

    /// In the compiled catalog, every phrase has a trigger unit, and the units that are not
    /// triggers weigh less than a partial match needs: a phrase a text has no trigger of
    /// could give no evidence (see [`Unit::trigger`]).
    #[test]
    fn what_evidence_needs_triggers_its_phrase() {
        let m = Matcher::get();
        let mut on: Vec<Vec<bool>> = m
            .phrases
            .iter()
            .map(|p| vec![false; p.weights.len()])
            .collect();
        for u in m.word_units.items.iter().chain(&m.bigram_units.items) {
            on[u.phrase as usize][u.slot as usize] |= u.trigger;
        }
        let mut partial = 0;
        for (i, (p, on)) in m.phrases.iter().zip(&on).enumerate() {
            assert!(on.contains(&true), "phrase {i} has no trigger");
            if !p.generic && p.total >= 1.0 {
                partial += 1;
                let rest: f32 = p
                    .weights
                    .iter()
                    .zip(on)
                    .filter(|(_, t)| !**t)
                    .map(|(w, _)| w)
                    .sum();
                assert!(
                    rest < WEAK_SHARE * p.total - 1e-4,
                    "phrase {i}: {rest} of {} without a trigger",
                    p.total
                );
            }
        }
        assert!(partial > 100, "{partial}");
    }

    /// The second stage passes a rule's literal only with every other group of the rule.
    #[test]
    fn a_rule_needs_all_its_groups_in_the_second_stage() {
        let file = entry("LC510", "", "", r#"en = ["quota + exceeded|throttled"]"#);
        let cat = Catalog::parse([("LC510.toml", file.as_str())].into_iter()).unwrap();
        let m = Matcher::build(cat.entries());
        let stages = |s: &str| {
            let mut b = Vec::new();
            Folder::new().compact(s, &mut b);
            b.push(b'\n');
            let g = m.prefilter().unwrap();
            (g.find(&b, 0).is_some(), m.confirm(g, &b))
        };
        assert_eq!(stages("The quota was exceeded"), (true, true));
        assert_eq!(stages("Requests are throttled"), (true, false));
        assert_eq!(stages("Throttled: quota"), (true, true));
        assert_eq!(stages("No quota"), (false, false));
    }

    #[test]
    fn prefilter_skips_ordinary_text() {
        let m = sample();
        assert!(!m.might_match("Please reset my password, the printer is broken"));
        assert!(m.might_match("seclib::retrieveprivilegeforuser"));
        assert!(m.might_match("SecLib::\u{200b}Retrieve\u{200b}PrivilegeForUser"));
        assert!(m.unfiltered().is_empty());
    }
}
