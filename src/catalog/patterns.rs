//! A set of patterns searched for every occurrence in a text, overlapping ones included.
//!
//! `explain` matches one short text: building an Aho-Corasick automaton over thousands of
//! patterns (milliseconds) costs far more than the search. So the set also keeps its patterns
//! by their first two bytes, an index that is part of the matcher compiled ahead of time
//! (see [`super::compiled`]): a short text is searched by looking up each of its positions.
//! Long texts, and `triage` (which asks for the automaton before its workers start), use the
//! automaton. Both give the same occurrences; only their order differs, and no caller
//! depends on it.

use super::grams::GramFilter;
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
    /// Where each string's window is (see [`GramFilter::choose`]), chosen ahead of time;
    /// empty: chosen when the windows are built.
    #[serde(default)]
    windows: Vec<u32>,
    #[serde(skip)]
    ac: OnceLock<Option<AhoCorasick>>,
    /// The strings found by windows (see [`GramFilter`]) instead of the automaton, for a
    /// set of thousands searched in many texts: the automaton's states do not fit in the
    /// cache, windows do. `None` when a string is too short for windows.
    #[serde(skip)]
    grams: OnceLock<Option<GramFilter>>,
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
            windows: Vec::new(),
            ac: OnceLock::new(),
            grams: OnceLock::new(),
        }
    }

    pub(crate) fn strings(&self) -> &[String] {
        &self.strings
    }

    /// Builds the automaton now (for many texts to come).
    pub(crate) fn warm(&self) {
        let _ = self.automaton();
    }

    /// Chooses each string's window by how often it occurs in `prose` (normalized text
    /// like the texts searched), for [`PatternSet::warm_windows`].
    pub(crate) fn choose_windows(&mut self, prose: &str) {
        let mut seen: FxHashMap<u32, u32> = FxHashMap::default();
        for w in prose.as_bytes().windows(4) {
            *seen
                .entry(u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
                .or_default() += 1;
        }
        self.windows = GramFilter::choose(&self.strings, &|w| seen.get(&w).copied().unwrap_or(0))
            .unwrap_or_default();
    }

    /// Prepares the search by windows (and the automaton, for sets it cannot serve).
    pub(crate) fn warm_windows(&self) {
        let grams = self.grams.get_or_init(|| {
            GramFilter::with_offsets(&self.strings, &self.windows)
                .or_else(|| GramFilter::build(&self.strings, &|_| 0))
        });
        if grams.is_none() {
            self.warm();
        }
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
        if let Some(Some(g)) = self.grams.get() {
            return self.each_by_windows(g, hay, f);
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

impl PatternSet {
    /// [`PatternSet::each`] by windows: every occurrence of every string, once (in the
    /// order the scan meets them, not by position).
    fn each_by_windows(
        &self,
        g: &GramFilter,
        hay: &str,
        mut f: impl FnMut(usize, usize, usize) -> bool,
    ) -> bool {
        // The scan wants a line feed after the text (a string at its very end is seen by a
        // window that reaches one byte past it); no string or text holds one.
        thread_local! {
            static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut buf = BUF.with(|b| b.take());
        buf.clear();
        buf.extend_from_slice(hay.as_bytes());
        buf.push(b'\n');
        let mut go = true;
        g.each_at(&buf, |li, start| {
            go = f(li, start, start + self.strings[li].len());
            go
        });
        BUF.with(|b| b.set(buf));
        go
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

        /// Windows find what the automaton finds, in texts with spaces and punctuation as
        /// normalized keys have, strings at the very start and end included.
        #[test]
        fn windows_and_automaton_agree(
            pats in proptest::collection::vec("[ab가 .:]{1,3}[ab가]{1,5}", 1..12),
            hay in "[ab가c .:]{0,80}",
        ) {
            let set = PatternSet::new(pats.clone());
            // Also with a string at the very end, where a short one's windows reach past it.
            let hays = [hay.clone(), format!("{hay}{}", pats[0]), format!("{hay}c{}", pats[0])];
            let by_index: Vec<_> = hays.iter().map(|h| occurrences(&set, h)).collect();
            set.warm_windows();
            prop_assert!(set.grams.get().is_some_and(|g| g.is_some()) || pats.iter().any(|p| p.len() < 3));
            for (h, want) in hays.iter().zip(&by_index) {
                prop_assert_eq!(&occurrences(&set, h), want);
            }
        }
    }

    #[test]
    fn windows_stop_when_asked() {
        let set = PatternSet::new(vec!["abc".into(), "bcd".into()]);
        set.warm_windows();
        let mut n = 0;
        assert!(!set.each("abcd abcd", |_, _, _| {
            n += 1;
            false
        }));
        assert_eq!(n, 1);
        assert!(set.each("abcd", |_, _, _| true));
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
