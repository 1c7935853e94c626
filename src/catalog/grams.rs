//! Stage one of the prefilter: finds the prefilter's literals in a buffer of compact keys by
//! two neighbouring 4-byte windows of each (the literal's rarest and the next), looking at
//! every other position of the buffer.
//!
//! A DFA over the ~1,000 literals (17 KiB of text) is 6 MiB of transitions: the scan of every
//! byte of a triage misses the cache and runs at ~4 ns a byte. Here each position looked at
//! costs a 4-byte load, two multiplies and two bits of one word of a 32 KiB table that stays in
//! the first-level cache (with AVX2, eight positions in one register and one gather); only
//! where both are set is the window looked up and the literals that hold it compared in place. The answer is the same as the automaton's (the literals found
//! are exact), so the soundness argument of [`super::prefilter`] is untouched: a literal in
//! the buffer holds its two windows at known, adjacent offsets; one of the two positions is
//! even, so the scan sees that window there and then compares the whole literal.

use rustc_hash::FxHashMap;

/// log2 of the bits in the window table: 32 KiB of 32-bit words, two bits per window (see
/// [`slot`]).
const BITS: u32 = 18;
const WORDS: usize = 1 << (BITS - 5);

pub struct GramFilter {
    /// A fixed size, so that indexing it needs no bounds check in the scan.
    bits: Box<[u32; WORDS]>,
    /// Whether the scan may test eight windows at a time (AVX2, see [`x86::scan`]).
    #[cfg(target_arch = "x86_64")]
    avx2: bool,
    /// Window -> range of `entries`: open addressing (see [`Slot`]), a power of two long.
    index: Vec<Slot>,
    /// The literals that hold each window, grouped by window.
    entries: Vec<Entry>,
    literals: Vec<Box<[u8]>>,
}

/// A window of the table and its range of [`GramFilter::entries`]; an empty slot has an empty
/// range. Where a window passes the bit test, its slot and then its entries (heads inline) are
/// two loads that may miss the cache; a hash map's control bytes and bucket, the ranges and
/// the heads were four.
#[derive(Clone, Copy, Default)]
struct Slot {
    window: u32,
    start: u32,
    end: u32,
}

/// A literal that holds a window, where, and its head.
#[derive(Clone, Copy)]
struct Entry {
    /// The literal's first eight bytes (fewer: zeros) and the mask of those it has: most
    /// window hits are told apart from the literal by one comparison, without `memcmp`.
    head: u64,
    mask: u64,
    literal: u32,
    /// Of the window in the literal.
    offset: i32,
}

/// Where a window's slot search starts in an index of `1 << bits` slots.
#[inline]
fn home(window: u32, bits: u32) -> usize {
    ((window as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93) >> (64 - bits)) as usize
}

/// A literal's head and mask (see [`Entry::head`]).
fn head(lit: &[u8]) -> (u64, u64) {
    let n = lit.len().min(8);
    let mut b = [0u8; 8];
    b[..n].copy_from_slice(&lit[..n]);
    let mask = if n == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    (u64::from_le_bytes(b), mask)
}

/// Multipliers of a window for its word of the table and for its two bits there. 32-bit
/// products, so that the vector scan computes eight at a time (see [`x86::scan`]); the top
/// bits of each, which depend on every bit of the window.
const WORD_MUL: u32 = 0x9E37_79B1;
const BIT_MUL: u32 = 0x85EB_CA77;

/// A window's word of the table and its two bits there (a blocked Bloom filter: one load;
/// on the bench corpus, windows not in the table pass 16k times in 16 MB where one bit let
/// 116k through, each a hash lookup).
#[inline]
fn slot(window: u32) -> (usize, u32) {
    let word = (window.wrapping_mul(WORD_MUL) >> (32 - (BITS - 5))) as usize;
    let g = (window ^ (window >> 15)).wrapping_mul(BIT_MUL);
    (word, 1u32 << (g >> 27) | 1u32 << (g >> 22 & 31))
}

/// The second window of a literal of `n` bytes (five or more) whose first is at `off`: the
/// next one, or the one before at the literal's end.
fn neighbour(off: usize, n: usize) -> usize {
    if off + 5 <= n {
        off + 1
    } else {
        off - 1
    }
}

#[inline]
fn window(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

/// How often a byte is expected in a compact key, roughly (percent, for mixed English,
/// Polish and Portuguese tickets): a window of rare bytes is hit less often.
fn byte_weight(b: u8) -> f64 {
    match b {
        b'e' => 10.0,
        b'a' => 9.0,
        b'o' => 8.0,
        b'i' => 7.5,
        b'n' => 6.5,
        b'r' | b's' | b't' => 6.0,
        b'd' | b'c' | b'l' => 3.5,
        b'm' | b'u' => 3.0,
        b'p' | b'z' => 2.5,
        b'w' | b'y' | b'k' | b'h' => 2.0,
        b'g' | b'b' => 1.5,
        b'f' | b'v' => 1.0,
        b'j' => 0.7,
        b'q' | b'x' => 0.2,
        // Ticket numbers, dates and amounts: digits are everywhere.
        b'0'..=b'9' => 12.0,
        // In normalized keys (the matcher's patterns): a space between any two words.
        b' ' => 15.0,
        b'.' | b',' | b':' | b'-' | b'/' | b'\'' | b'"' | b'(' | b')' => 2.0,
        // Bytes of Chinese and Korean characters.
        _ => 3.0,
    }
}

impl GramFilter {
    /// `None` when a literal is shorter than three bytes (it cannot be expressed by a window;
    /// the caller then sends every record to the full matcher). `seen` counts how often each
    /// window occurs in text like the tickets' (the catalog's own prose): it breaks the
    /// choice between windows of equally rare bytes.
    pub fn build(literals: &[String], seen: &dyn Fn(u32) -> u32) -> Option<GramFilter> {
        GramFilter::with_offsets(literals, &GramFilter::choose(literals, seen)?)
    }

    /// Where each literal's window starts (its rarest): what [`GramFilter::build`] decides,
    /// computed ahead of time for the catalog (counting the windows of its prose takes tens
    /// of milliseconds). `None` when a literal is shorter than three bytes.
    pub fn choose(literals: &[String], seen: &dyn Fn(u32) -> u32) -> Option<Vec<u32>> {
        literals
            .iter()
            .map(|lit| {
                let b = lit.as_bytes();
                match b.len() {
                    0..=2 => None,
                    // No window of its own (see `with_offsets`).
                    3 => Some(0),
                    n => {
                        let score = |i: usize| {
                            let p: f64 = b[i..i + 4]
                                .iter()
                                .map(|&x| byte_weight(x) / 100.0)
                                .product();
                            p * (1.0 + seen(window(b, i)) as f64)
                        };
                        (0..=n - 4)
                            .min_by(|&x, &y| score(x).total_cmp(&score(y)))
                            .map(|i| i as u32)
                    }
                }
            })
            .collect()
    }

    /// Offsets for the same literals, chosen for one input: a literal keeps its pair of
    /// windows unless `sample` (compact keys of the input's first records, each ending with
    /// its line feed) holds that pair, and another pair of the literal less often. What the
    /// filter finds does not depend on the windows (any pair finds every occurrence), only
    /// how many window hits must be compared: "tloo" chosen in "redirectloop" hits every
    /// "Outlook" of an IT helpdesk's export.
    pub fn retune(literals: &[String], offsets: &[u32], sample: &[u8]) -> Vec<u32> {
        // Every window a literal of five bytes or more could use, counted in the sample.
        let mut count: FxHashMap<u32, u32> = FxHashMap::default();
        for lit in literals
            .iter()
            .map(|l| l.as_bytes())
            .filter(|b| b.len() >= 5)
        {
            for i in 0..=lit.len() - 4 {
                count.insert(window(lit, i), 0);
            }
        }
        // The sample is a MiB: a bit per window slot (8 KiB) rules out most of its windows
        // before the map is looked at.
        let mut seen = vec![0u64; 1 << 10];
        let bit = |w: u32| {
            let s = (w.wrapping_mul(0x9E37_79B1) >> 16) as usize;
            (s >> 6, 1u64 << (s & 63))
        };
        for &w in count.keys() {
            let (i, b) = bit(w);
            seen[i] |= b;
        }
        for w in sample.windows(4) {
            let w = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            let (i, b) = bit(w);
            if seen[i] & b != 0 {
                if let Some(c) = count.get_mut(&w) {
                    *c += 1;
                }
            }
        }
        literals
            .iter()
            .zip(offsets)
            .map(|(lit, &off)| {
                let b = lit.as_bytes();
                let n = b.len();
                if n < 5 || off as usize + 4 > n {
                    return off;
                }
                let seen = |i: usize| count.get(&window(b, i)).copied().unwrap_or(0);
                let pair = |o: usize| seen(o) + seen(neighbour(o, n));
                if pair(off as usize) == 0 {
                    return off;
                }
                // The rarest pair; on a tie, the catalog's choice, then the first.
                (0..=n - 4)
                    .min_by_key(|&o| (pair(o), o != off as usize, o))
                    .map_or(off, |o| o as u32)
            })
            .collect()
    }

    /// The filter for `literals` with their windows at `offsets` (from [`GramFilter::choose`]).
    /// `None` when a literal is shorter than three bytes or an offset does not fit it.
    pub fn with_offsets(literals: &[String], offsets: &[u32]) -> Option<GramFilter> {
        if offsets.len() != literals.len() {
            return None;
        }
        // Each literal is given two windows, at adjacent offsets, so that the scan needs to
        // look only at every other position: of the two positions where an occurrence puts
        // them, one is even. Offsets are relative to the literal's start and may be -1.
        // (window, literal, offset), grouped by window below with one sort: a map of lists
        // would cost an allocation per window (tens of thousands, before a triage starts).
        let mut all: Vec<(u32, u32, i32)> = Vec::new();
        let mut add = |w: u32, li: usize, off: i32| all.push((w, li as u32, off));
        for (li, (lit, &off)) in literals.iter().zip(offsets).enumerate() {
            let b = lit.as_bytes();
            match b.len() {
                0..=2 => return None,
                // A three-byte literal: every window that starts with it (the byte after it
                // is another character's or the record's line feed), and every window that
                // ends with it (at the record's start, the first kind is at an even place).
                3 => {
                    for x in 0..=255u8 {
                        add(u32::from_le_bytes([b[0], b[1], b[2], x]), li, 0);
                        add(u32::from_le_bytes([x, b[0], b[1], b[2]]), li, -1);
                    }
                }
                // Four bytes: the literal, and its last three with any byte after them.
                4 => {
                    add(window(b, 0), li, 0);
                    for x in 0..=255u8 {
                        add(u32::from_le_bytes([b[1], b[2], b[3], x]), li, 1);
                    }
                }
                n => {
                    let off = off as usize;
                    if off + 4 > n {
                        return None;
                    }
                    // The chosen window and its neighbour inside the literal.
                    let other = neighbour(off, n);
                    add(window(b, off), li, off as i32);
                    add(window(b, other), li, other as i32);
                }
            }
        }
        // Stable: each window's entries stay in literal order, as they were added.
        all.sort_by_key(|e| e.0);
        let windows = all.chunk_by(|a, b| a.0 == b.0).count();
        // At most half full: a search rarely looks past the next slot.
        let index_bits = (2 * windows).next_power_of_two().trailing_zeros().max(4);
        let heads: Vec<(u64, u64)> = literals.iter().map(|l| head(l.as_bytes())).collect();
        let mut f = GramFilter {
            bits: Box::new([0; WORDS]),
            #[cfg(target_arch = "x86_64")]
            avx2: std::arch::is_x86_feature_detected!("avx2"),
            index: vec![Slot::default(); 1 << index_bits],
            entries: Vec::with_capacity(all.len()),
            literals: literals.iter().map(|l| l.as_bytes().into()).collect(),
        };
        for run in all.chunk_by(|a, b| a.0 == b.0) {
            let w = run[0].0;
            let (word, mask) = slot(w);
            f.bits[word] |= mask;
            let start = f.entries.len() as u32;
            f.entries.extend(run.iter().map(|&(_, li, offset)| {
                let (head, mask) = heads[li as usize];
                Entry {
                    head,
                    mask,
                    literal: li,
                    offset,
                }
            }));
            let n = f.index.len();
            let mut k = home(w, index_bits);
            while f.index[k].end != 0 {
                k = (k + 1) & (n - 1);
            }
            f.index[k] = Slot {
                window: w,
                start,
                end: f.entries.len() as u32,
            };
        }
        Some(f)
    }

    /// The same filter with the scalar scan only, whatever the CPU (to test one against
    /// the other).
    #[cfg(test)]
    fn scalar(mut self) -> GramFilter {
        #[cfg(target_arch = "x86_64")]
        {
            self.avx2 = false;
        }
        self
    }

    /// The windows looked up, sorted (for tests).
    #[cfg(test)]
    pub(crate) fn windows(&self) -> Vec<u32> {
        let mut w: Vec<u32> = self
            .index
            .iter()
            .filter(|s| s.end != 0)
            .map(|s| s.window)
            .collect();
        w.sort_unstable();
        w
    }

    /// The start of a literal in `from..` of `buf` (the first whose window the scan meets;
    /// `None` when there is none). `buf` ends with a line feed and `from` follows one or is 0:
    /// no literal holds a line feed, so none runs past either.
    pub fn find(&self, buf: &[u8], from: usize) -> Option<usize> {
        let mut found = None;
        self.scan(buf, from, |_, start| {
            found = Some(start);
            false
        });
        found
    }

    /// Calls `f(literal, start)` for every occurrence of every literal in `buf` (which ends
    /// with a line feed, as for [`GramFilter::find`]), in the order the scan meets their
    /// windows, until `f` returns false.
    pub fn each_at(&self, buf: &[u8], f: impl FnMut(usize, usize) -> bool) {
        self.scan(buf, 0, f);
    }

    /// [`GramFilter::each_at`] for the literals in `from..` of `buf` (`from` follows a line
    /// feed or is 0).
    pub fn each_from(&self, buf: &[u8], from: usize, f: impl FnMut(usize, usize) -> bool) {
        self.scan(buf, from, f);
    }

    /// Calls `f(literal)` for every occurrence of every literal in `buf` (which ends with a
    /// line feed, as for [`GramFilter::find`]), until `f` returns false.
    pub fn each(&self, buf: &[u8], mut f: impl FnMut(usize) -> bool) {
        self.scan(buf, 0, |li, _| f(li));
    }

    /// Calls `f(literal, start)` for each literal found in `from..` of `buf`, in the order
    /// the scan meets their windows, until `f` returns false.
    #[inline]
    fn scan(&self, buf: &[u8], from: usize, mut f: impl FnMut(usize, usize) -> bool) {
        let Some(rest) = buf.get(from..) else {
            return;
        };
        // A literal starting at i holds its window at i + offset; a window can only be seen
        // at positions where four bytes remain.
        let bits: &[u32; WORDS] = &self.bits;
        // Every other position (see `with_offsets`); eight at a time where the CPU can, else
        // two at a time from one 8-byte load where the bytes are there.
        let mut k = 0;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // SAFETY: the CPU has AVX2, checked when the filter was built.
            match unsafe { x86::scan(self, buf, from, &mut f) } {
                Some(next) => k = next,
                None => return,
            }
        }
        let test = |w: u32| {
            let (word, mask) = slot(w);
            bits[word & (WORDS - 1)] & mask == mask
        };
        while k + 12 <= rest.len() {
            let x = u64::from_le_bytes(rest[k..k + 8].try_into().unwrap_or_default());
            let y = u64::from_le_bytes(rest[k + 4..k + 12].try_into().unwrap_or_default());
            let ws = [x as u32, (x >> 16) as u32, y as u32, (y >> 16) as u32];
            for (d, w) in ws.into_iter().enumerate() {
                if test(w) && !self.verify(buf, from, from + k + 2 * d, w, &mut f) {
                    return;
                }
            }
            k += 8;
        }
        while k + 4 <= rest.len() {
            let w = u32::from_le_bytes([rest[k], rest[k + 1], rest[k + 2], rest[k + 3]]);
            if test(w) && !self.verify(buf, from, from + k, w, &mut f) {
                return;
            }
            k += 2;
        }
    }

    /// The literals whose window `w` is at `i`, compared in place; false when `f` says stop.
    /// `from`: no literal starts before it (it follows a line feed or is 0).
    #[cold]
    fn verify(
        &self,
        buf: &[u8],
        from: usize,
        i: usize,
        w: u32,
        f: &mut impl FnMut(usize, usize) -> bool,
    ) -> bool {
        let n = self.index.len();
        let mut k = home(w, n.trailing_zeros());
        let (a, b) = loop {
            let s = self.index[k];
            if s.end == 0 {
                return true;
            }
            if s.window == w {
                break (s.start, s.end);
            }
            k = (k + 1) & (n - 1);
        };
        for e in &self.entries[a as usize..b as usize] {
            let (li, off) = (e.literal, e.offset);
            let start = i as isize - off as isize;
            if start < from as isize {
                continue;
            }
            let start = start as usize;
            // The head first, where eight bytes remain (else the whole comparison).
            if let Some(b) = buf.get(start..start + 8) {
                let at = u64::from_le_bytes(b.try_into().unwrap_or_default());
                if at & e.mask != e.head {
                    continue;
                }
            }
            if buf[start..].starts_with(&self.literals[li as usize]) && !f(li as usize, start) {
                return false;
            }
        }
        true
    }
}

/// The scan eight windows at a time, on a CPU with AVX2.
#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{GramFilter, BITS, BIT_MUL, WORDS, WORD_MUL};
    use std::arch::x86_64::*;

    /// Tests the windows at the even positions of `buf[from..]` sixteen bytes at a time
    /// (eight windows: each 32-bit lane of one register, hashed by two multiplies, its word
    /// gathered from the table), calling [`GramFilter::verify`] in position order where
    /// both bits are set. Returns where the scalar loop goes on (even, relative to `from`),
    /// or `None` when `f` said stop.
    #[target_feature(enable = "avx2")]
    pub(super) fn scan<F: FnMut(usize, usize) -> bool>(
        g: &GramFilter,
        buf: &[u8],
        from: usize,
        f: &mut F,
    ) -> Option<usize> {
        let rest = &buf[from..];
        let bits: &[u32; WORDS] = &g.bits;
        // Each lane of 16 bytes gives four windows, at offsets 0, 2, 4 and 6.
        let spread = _mm256_setr_epi8(
            0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6, 7, 8, 9, 0, 1, 2, 3, 2, 3, 4, 5, 4, 5, 6, 7, 6,
            7, 8, 9,
        );
        let word_mul = _mm256_set1_epi32(WORD_MUL as i32);
        let bit_mul = _mm256_set1_epi32(BIT_MUL as i32);
        let one = _mm256_set1_epi32(1);
        let low5 = _mm256_set1_epi32(31);
        let mut k = 0;
        // The second lane reads 16 bytes from k + 8.
        while k + 24 <= rest.len() {
            // SAFETY: both loads are inside `rest` (k + 24 <= its length); unaligned loads.
            let (lo, hi) = unsafe {
                (
                    _mm_loadu_si128(rest.as_ptr().add(k).cast()),
                    _mm_loadu_si128(rest.as_ptr().add(k + 8).cast()),
                )
            };
            let w = _mm256_shuffle_epi8(_mm256_set_m128i(hi, lo), spread);
            let word =
                _mm256_srli_epi32::<{ 32 - (BITS as i32 - 5) }>(_mm256_mullo_epi32(w, word_mul));
            let h = _mm256_mullo_epi32(_mm256_xor_si256(w, _mm256_srli_epi32::<15>(w)), bit_mul);
            let mask = _mm256_or_si256(
                _mm256_sllv_epi32(one, _mm256_srli_epi32::<27>(h)),
                _mm256_sllv_epi32(one, _mm256_and_si256(_mm256_srli_epi32::<22>(h), low5)),
            );
            // SAFETY: each index is a product's top `BITS - 5` bits: below `WORDS`, the
            // table's length.
            let words = unsafe { _mm256_i32gather_epi32::<4>(bits.as_ptr().cast(), word) };
            let pass = _mm256_cmpeq_epi32(_mm256_and_si256(words, mask), mask);
            let mut m = _mm256_movemask_ps(_mm256_castsi256_ps(pass)) as u32;
            while m != 0 {
                let i = from + k + 2 * m.trailing_zeros() as usize;
                if !g.verify(buf, from, i, super::window(buf, i), f) {
                    return None;
                }
                m &= m - 1;
            }
            k += 16;
        }
        Some(k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lits(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finds_literals_of_every_length() {
        let f =
            GramFilter::build(&lits(&["crm", "leads", "aadsts7000215", "역할이"]), &|_| 0).unwrap();
        assert_eq!(f.find(b"xxcrm\n", 0), Some(2));
        assert_eq!(f.find(b"crm\n", 0), Some(0));
        assert_eq!(f.find(b"cr\nm\n", 0), None);
        assert_eq!(f.find(b"errorAADSTS\n", 0), None);
        assert_eq!(f.find(b"erroraadsts7000215x\n", 0), Some(5));
        assert_eq!(f.find("사용자역할이\n".as_bytes(), 0), Some(9));
        assert_eq!(f.find(b"noleadhere\nleads\n", 0), Some(11));
        assert_eq!(f.find(b"noleadhere\nleads\n", 12), None);
    }

    #[test]
    fn each_occurrence_once() {
        let f = GramFilter::build(&lits(&["abc", "bcd", "abcdef"]), &|_| 0).unwrap();
        let mut seen = Vec::new();
        f.each(b"xabcdefabc\n", |l| {
            seen.push(l);
            true
        });
        seen.sort();
        assert_eq!(seen, [0, 0, 1, 2]);
    }

    #[test]
    fn too_short_a_literal_disables_the_filter() {
        assert!(GramFilter::build(&lits(&["ab", "leads"]), &|_| 0).is_none());
    }

    proptest! {
        /// Finds a literal from every record on that holds one, as a plain search does, and
        /// what it finds is one.
        #[test]
        fn agrees_with_a_plain_search(
            ls in proptest::collection::vec("[a-d]{3,7}", 1..12),
            text in "[a-e\n]{0,200}",
        ) {
            let f = GramFilter::build(&ls, &|_| 0).unwrap();
            let mut buf = text.into_bytes();
            buf.push(b'\n');
            let at = |i: usize| ls.iter().any(|l| buf[i..].starts_with(l.as_bytes()));
            for from in std::iter::once(0).chain(memchr::memchr_iter(b'\n', &buf).map(|i| i + 1)) {
                let naive = (from..buf.len()).find(|&i| at(i));
                let found = f.find(&buf, from);
                prop_assert_eq!(found.is_some(), naive.is_some());
                if let Some(p) = found {
                    prop_assert!(p >= from && at(p));
                }
            }
        }

        /// Reports every occurrence of every literal exactly once (windows at two offsets,
        /// every other position scanned).
        #[test]
        fn each_counts_like_a_plain_search(
            ls in proptest::collection::btree_set("[a-c]{3,6}", 1..10),
            text in "[a-d\n]{0,200}",
        ) {
            let ls: Vec<String> = ls.into_iter().collect();
            let f = GramFilter::build(&ls, &|_| 0).unwrap();
            let mut buf = text.into_bytes();
            buf.push(b'\n');
            let mut naive = vec![0usize; ls.len()];
            for i in 0..buf.len() {
                for (li, l) in ls.iter().enumerate() {
                    naive[li] += buf[i..].starts_with(l.as_bytes()) as usize;
                }
            }
            let mut found = vec![0usize; ls.len()];
            f.each(&buf, |li| {
                found[li] += 1;
                true
            });
            prop_assert_eq!(found, naive);
        }

        /// Any choice of windows finds the same occurrences: offsets picked at random, and
        /// those `retune` picks for a sample.
        #[test]
        fn any_windows_find_the_same(
            ls in proptest::collection::btree_set("[a-c]{3,9}", 1..10),
            picks in proptest::collection::vec(0usize..100, 10),
            text in "[a-d\n]{0,200}",
        ) {
            let ls: Vec<String> = ls.into_iter().collect();
            let mut buf = text.into_bytes();
            buf.push(b'\n');
            let all = |f: &GramFilter| {
                let mut v = Vec::new();
                f.scan(&buf, 0, |li, start| {
                    v.push((start, li));
                    true
                });
                v.sort();
                v
            };
            let first = GramFilter::build(&ls, &|_| 0).unwrap();
            let random: Vec<u32> = ls
                .iter()
                .zip(&picks)
                .map(|(l, p)| if l.len() < 5 { 0 } else { (p % (l.len() - 3)) as u32 })
                .collect();
            let tuned = GramFilter::retune(&ls, &random, &buf);
            for offsets in [random, tuned] {
                let other = GramFilter::with_offsets(&ls, &offsets).unwrap();
                prop_assert_eq!(all(&other), all(&first));
            }
        }
    }

    proptest! {
        /// Eight windows at a time or two, the same occurrences in the same order: long
        /// records of few letters (many window hits), with literals of every length.
        #[test]
        fn the_vector_scan_equals_the_scalar_one(
            ls in proptest::collection::btree_set("[a-d]{3,9}", 1..16),
            text in "[a-e\n]{0,600}",
            from in 0usize..40,
        ) {
            let ls: Vec<String> = ls.into_iter().collect();
            let mut buf = text.into_bytes();
            buf.push(b'\n');
            // `from` must follow a line feed or be 0.
            let from = memchr::memchr_iter(b'\n', &buf).map(|i| i + 1).find(|&i| i >= from).filter(|&i| i < buf.len()).unwrap_or(0);
            let all = |f: &GramFilter| {
                let mut v = Vec::new();
                f.scan(&buf, from, |li, start| {
                    v.push((start, li));
                    true
                });
                v
            };
            let vector = GramFilter::build(&ls, &|_| 0).unwrap();
            let scalar = GramFilter::build(&ls, &|_| 0).unwrap().scalar();
            prop_assert_eq!(all(&vector), all(&scalar));
        }
    }

    #[test]
    fn retune_leaves_windows_the_sample_lacks() {
        let ls = lits(&["redirectloop", "abcdefg"]);
        let offsets = [7, 0];
        // "tloo" and its neighbour "loop" are common here: another pair is chosen.
        let tuned = GramFilter::retune(&ls, &offsets, b"outlook loop\noutlook\n");
        assert_ne!(tuned[0], 7);
        assert_eq!(tuned[1], 0);
        assert_eq!(GramFilter::retune(&ls, &offsets, b"nothing\n"), offsets);
    }
}
