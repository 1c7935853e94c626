//! A set of patterns searched for every occurrence in a text, overlapping ones included.
//!
//! `explain` matches one short text: building an Aho-Corasick automaton over thousands of
//! patterns (milliseconds) costs far more than the search. So the set also keeps its patterns
//! by their first two bytes, an index that is part of the matcher compiled ahead of time
//! (see [`super::compiled`]): a short text is searched by looking up each of its positions.
//! Long texts, and `triage` (which asks for the automaton before its workers start), use the
//! automaton. Both give the same occurrences; only their order differs, and no caller
//! depends on it.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Texts up to this long are searched through the index unless the automaton exists.
const INDEX_MAX: usize = 16 * 1024;

#[derive(Default, Serialize, Deserialize)]
pub(crate) struct PatternSet {
    strings: Vec<String>,
    /// Pattern numbers by their first two bytes.
    by_prefix: FxHashMap<[u8; 2], Vec<u32>>,
    /// Patterns of one byte, checked at every position.
    single: Vec<u32>,
    #[serde(skip)]
    ac: OnceLock<Option<AhoCorasick>>,
}

impl PatternSet {
    pub(crate) fn new(strings: Vec<String>) -> PatternSet {
        let mut by_prefix: FxHashMap<[u8; 2], Vec<u32>> = FxHashMap::default();
        let mut single = Vec::new();
        for (i, s) in strings.iter().enumerate() {
            match s.as_bytes() {
                [] => {}
                [_] => single.push(i as u32),
                [a, b, ..] => by_prefix.entry([*a, *b]).or_default().push(i as u32),
            }
        }
        PatternSet {
            strings,
            by_prefix,
            single,
            ac: OnceLock::new(),
        }
    }

    pub(crate) fn strings(&self) -> &[String] {
        &self.strings
    }

    /// Builds the automaton now (for many texts to come).
    pub(crate) fn warm(&self) {
        let _ = self.automaton();
    }

    fn automaton(&self) -> Option<&AhoCorasick> {
        self.ac
            .get_or_init(|| {
                // A few hundred patterns: a DFA, small and the fastest to search. Thousands: a
                // contiguous NFA, quick to build and compact (a DFA would take tens of MiB),
                // quick enough for the few percent of a triage's records that get here.
                let kind = if self.strings.len() <= 256 {
                    AhoCorasickKind::DFA
                } else {
                    AhoCorasickKind::ContiguousNFA
                };
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .kind(Some(kind))
                    .build(&self.strings)
                    .ok()
            })
            .as_ref()
    }

    /// Calls `f(pattern, start, end)` for every occurrence of every pattern in `hay`, until
    /// `f` returns false. Returns false when stopped.
    pub(crate) fn each(&self, hay: &str, mut f: impl FnMut(usize, usize, usize) -> bool) -> bool {
        if self.strings.is_empty() {
            return true;
        }
        if hay.len() > INDEX_MAX || self.ac.get().is_some() {
            if let Some(ac) = self.automaton() {
                for m in ac.find_overlapping_iter(hay) {
                    if !f(m.pattern().as_usize(), m.start(), m.end()) {
                        return false;
                    }
                }
                return true;
            }
        }
        let b = hay.as_bytes();
        for i in 0..b.len() {
            for &p in &self.single {
                if b[i] == self.strings[p as usize].as_bytes()[0] && !f(p as usize, i, i + 1) {
                    return false;
                }
            }
            let Some(list) = b.get(i + 1).and_then(|&n| self.by_prefix.get(&[b[i], n])) else {
                continue;
            };
            for &p in list {
                let s = self.strings[p as usize].as_bytes();
                if b[i..].starts_with(s) && !f(p as usize, i, i + s.len()) {
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn occurrences(set: &PatternSet, hay: &str) -> Vec<(usize, usize, usize)> {
        let mut v = Vec::new();
        set.each(hay, |p, s, e| {
            v.push((p, s, e));
            true
        });
        v.sort();
        v
    }

    proptest! {
        /// The index and the automaton find the same occurrences.
        #[test]
        fn index_and_automaton_agree(
            pats in proptest::collection::vec("[ab가]{1,4}", 1..10),
            hay in "[ab가c]{0,60}",
        ) {
            let set = PatternSet::new(pats.clone());
            let by_index = occurrences(&set, &hay);
            set.warm();
            let by_automaton = occurrences(&set, &hay);
            prop_assert_eq!(&by_index, &by_automaton);
            let naive: usize = pats
                .iter()
                .map(|p| (0..=hay.len()).filter(|&i| hay.as_bytes()[i..].starts_with(p.as_bytes())).count())
                .sum();
            prop_assert_eq!(by_index.len(), naive);
        }
    }

    #[test]
    fn stops_when_asked() {
        let set = PatternSet::new(vec!["ab".into(), "b".into()]);
        let mut n = 0;
        assert!(!set.each("abab", |_, _, _| {
            n += 1;
            false
        }));
        assert_eq!(n, 1);
    }
}
