//! The prefilter: one pass over a record's bytes that decides, soundly, whether any
//! signature of the catalog could match it, so that only those records are normalized and
//! scored.
//!
//! # Why it is sound
//!
//! Call P(t) the *compact key* of a text t: its normalized, folded key (see
//! [`super::normalize`]) keeping only alphanumeric and placeholder characters. Every piece of
//! evidence strong enough to report a code (at least [`super::matcher::THRESHOLD`]) implies
//! that some literal of its signature is a substring of P(t):
//! - an anchor or a keyword alternative found in the key is found, compacted, in P(t);
//! - a Latin phrase's words are tokens of the key (maximal alphanumeric runs), and each is a
//!   substring of P(t); a Chinese or Korean phrase's bigrams are taken from P(t) itself;
//! - the matcher chooses, per signature, a set of literals at least one of which every
//!   reportable match must contain (`Matcher::build` states the rule for each kind).
//!
//! [`Folder::compact`] computes F(t) in one pass over the bytes: ASCII letters lowercased,
//! other ASCII dropped, every other character replaced by the compact form of its own
//! normalization (a per-character table filled from [`super::normalize::fold`] itself, so the
//! two cannot drift apart). The normalizer works character by character except for ANSI
//! escapes, HTML tags and entities (which join or remove characters) and the placeholders
//! (which replace digits). Texts holding an escape, `&` or something that opens a tag are
//! reported as *not plain* and always go to the full matcher; for all others F(t) equals
//! P(t) with each placeholder spelled out, and since no literal holds a placeholder, a
//! literal in P(t) is a literal in F(t). Literals are themselves compact keys, so the
//! automaton needs no case folding.

use super::normalize::{fold, is_placeholder};

mod pack;

/// ASCII bytes in the compact key: letters lowercased, digits kept, everything else 0.
const ASCII: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        t[b] = if c.is_ascii_uppercase() {
            c.to_ascii_lowercase()
        } else if c.is_ascii_alphanumeric() {
            c
        } else {
            0
        };
        b += 1;
    }
    t
};

/// Computes compact keys, with a cache of each non-ASCII character's compact form. One per
/// thread: the cache fills with the characters a corpus uses.
pub struct Folder {
    /// The ASCII stretches, sixteen bytes at a time where the CPU allows.
    pack: pack::Packer,
    /// Per code point below U+10000: 0 = not computed yet; else `offset << 8 | len << 1 | 1`.
    cache: Vec<u32>,
    pool: Vec<u8>,
    /// The compact form of a character beyond U+FFFF (not cached).
    wide: Vec<u8>,
}

impl Default for Folder {
    fn default() -> Self {
        Folder::new()
    }
}

impl Folder {
    pub fn new() -> Folder {
        Folder {
            pack: pack::Packer::detect(),
            cache: Vec::new(),
            pool: Vec::new(),
            wide: Vec::new(),
        }
    }

    /// Appends F(`text`) to `out`. Returns false when the text is not plain (escapes, `&`,
    /// a tag): then F says nothing and the text must go to the full matcher.
    pub fn compact(&mut self, text: &str, out: &mut Vec<u8>) -> bool {
        let at = out.len();
        let (end, plain) = self.compact_at(text, out, at);
        out.truncate(end);
        plain
    }

    /// Writes F(`text`) at `at` in `out`, whose bytes from `at` on are scratch: returns
    /// where it ends, and whether the text is plain (as [`Folder::compact`]). `out` is
    /// only lengthened, so that a buffer reused for many records is not cleared for each;
    /// it is left with room for at least one byte after the end.
    pub fn compact_at(&mut self, text: &str, out: &mut Vec<u8>, at: usize) -> (usize, bool) {
        let bytes = text.as_bytes();
        if out.len() < at + bytes.len() + SLACK {
            out.resize(at + bytes.len() + SLACK, 0);
        }
        // Most records are all ASCII (a check that runs a word at a time): one pass.
        if bytes.is_ascii() {
            let dst = &mut out[at..];
            let (i, j) = self.pack.run(bytes, dst, 0, 0);
            let j = j + ascii_run(&bytes[i..], &mut dst[j..]);
            return (at + j, plain_ascii(bytes, None));
        }
        // One search of the whole record for markup: the bytes looked for are ASCII, which
        // never occur inside a multi-byte character, and a `<` before a non-ASCII character
        // opens no tag (as at the end of the text).
        let plain = plain_ascii(bytes, None);
        let (j, escape) = self.mixed(bytes, out, at);
        (j, plain && !escape)
    }

    /// [`Folder::compact_at`] of a text with non-ASCII characters: where the key ends, and
    /// whether the text holds a CSI (U+009B, an escape: not plain).
    fn mixed(&mut self, bytes: &[u8], out: &mut Vec<u8>, at: usize) -> (usize, bool) {
        #[cfg(target_arch = "x86_64")]
        if self.pack.avx512() {
            // SAFETY: the CPU has AVX-512 (F, BW, VBMI, VBMI2), SSSE3 and POPCNT, checked by
            // `Packer::detect`.
            return unsafe { self.mixed_avx512(bytes, out, at) };
        }
        #[cfg(target_arch = "x86_64")]
        if self.pack.ssse3() {
            // SAFETY: the CPU has SSSE3 and POPCNT, checked by `Packer::detect`.
            return unsafe { self.mixed_ssse3(bytes, out, at) };
        }
        self.mixed_with(bytes, out, at, |_, _, i, j| (i, j))
    }

    /// The loop compiled for SSSE3, so that it calls the block packer directly (the packer
    /// stays a function of its own: the compiler does not inline it).
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "ssse3,popcnt")]
    fn mixed_ssse3(&mut self, bytes: &[u8], out: &mut Vec<u8>, at: usize) -> (usize, bool) {
        // The closure has the function's target features: the call needs no `unsafe`.
        self.mixed_with(bytes, out, at, |src, dst, i, j| {
            pack::x86::run(src, dst, i, j)
        })
    }

    /// [`Folder::mixed_ssse3`] with blocks of sixty-four bytes first.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vbmi,avx512vbmi2,ssse3,popcnt")]
    fn mixed_avx512(&mut self, bytes: &[u8], out: &mut Vec<u8>, at: usize) -> (usize, bool) {
        self.mixed_with(bytes, out, at, |src, dst, i, j| {
            pack::x86::run_wide(src, dst, i, j)
        })
    }

    /// One pass, writing in place: `out` always has room for the rest of the text as it is
    /// and [`SLACK`] more (j + bytes left + SLACK <= out.len()), so an ASCII byte is a lookup
    /// and a store without a branch (a dropped byte is overwritten by the next one), and a
    /// form no longer than its character is one 4-byte store; a character whose compact form
    /// is longer than its UTF-8 makes room first. `block` packs blocks of ASCII, Han and
    /// Hangul (see [`pack::Packer::run`]).
    #[inline(always)]
    fn mixed_with(
        &mut self,
        bytes: &[u8],
        out: &mut Vec<u8>,
        at: usize,
        block: impl Fn(&[u8], &mut [u8], usize, usize) -> (usize, usize),
    ) -> (usize, bool) {
        let mut escape = false;
        let mut j = at;
        let mut i = 0;
        while i < bytes.len() {
            // Sixteen bytes at a time up to the next character that is neither ASCII nor Han
            // or Hangul, when the CPU can; the invariant gives the room for the block's stores.
            let b = bytes[i];
            // (A character of two or four bytes stops a block at once.)
            if bytes.len() - i >= 17 && (b < 0x80 || b & 0xf0 == 0xe0) {
                let (ni, nj) = block(bytes, out, i, j);
                if ni > i {
                    (i, j) = (ni, nj);
                    continue;
                }
            }
            if b < 0x80 {
                let m = ASCII[b as usize];
                out[j] = m;
                j += (m != 0) as usize;
                i += 1;
                continue;
            }
            // Han and Hangul syllables are their own compact key (no NFKC mapping, no case):
            // the common case of Chinese and Korean text, three bytes in, three out (no room
            // to make), without a lookup.
            if let [b0 @ 0xe0..=0xef, b1, b2, ..] = bytes[i..] {
                let cp = (b0 as u32 & 0x0f) << 12 | (b1 as u32 & 0x3f) << 6 | (b2 as u32 & 0x3f);
                if matches!(cp, 0x4e00..=0x9fff | 0xac00..=0xd7a3 | 0x3400..=0x4dbf) {
                    out[j..j + 3].copy_from_slice(&bytes[i..i + 3]);
                    i += 3;
                    j += 3;
                    continue;
                }
            }
            // `i` is on a character boundary: ASCII bytes are whole characters.
            let (c, len) = decode(&bytes[i..]);
            i += len;
            if c == '\u{9b}' {
                escape = true;
                continue;
            }
            let form: &[u8] = if (c as u32) < 0x10000 {
                let e = self.bmp(c);
                if e & 2 != 0 {
                    let n = (e >> 2 & 3) as usize;
                    // A short form (the common case: a letter without its accent, or
                    // nothing): stored whole, the invariant gives the room.
                    let form = (e >> 8).to_le_bytes();
                    if n <= len {
                        out[j..j + 4].copy_from_slice(&form);
                        j += n;
                        continue;
                    }
                    self.wide.clear();
                    self.wide.extend_from_slice(&form[..n]);
                    &self.wide
                } else {
                    let n = (e >> 2 & 0x7f) as usize;
                    let off = (e >> 9) as usize;
                    &self.pool[off..off + n]
                }
            } else {
                self.wide.clear();
                push_folded(c, &mut self.wide);
                &self.wide
            };
            let need = j + form.len() + (bytes.len() - i) + SLACK;
            if need > out.len() {
                out.resize(need, 0);
            }
            out[j..j + form.len()].copy_from_slice(form);
            j += form.len();
        }
        (j, escape)
    }

    /// The cache entry of `c`'s compact form (computed on first use): bit 0 set; bit 1 set
    /// when the form is held in the entry itself (three bytes or fewer: bits 2-3 its length,
    /// bits 8-31 the bytes); else bits 2-8 its length and bits 9-31 its offset in `pool`.
    fn bmp(&mut self, c: char) -> u32 {
        if self.cache.is_empty() {
            self.cache = vec![0; 0x10000];
        }
        let cp = c as usize;
        let mut e = self.cache[cp];
        if e == 0 {
            let start = self.pool.len();
            push_folded(c, &mut self.pool);
            let len = (self.pool.len() - start).min(127);
            self.pool.truncate(start + len);
            e = if len <= 3 {
                let mut b = [0u8; 4];
                b[..len].copy_from_slice(&self.pool[start..]);
                self.pool.truncate(start);
                u32::from_le_bytes(b) << 8 | (len as u32) << 2 | 3
            } else {
                // The pool holds at most 65,536 forms of 127 bytes: under 2^23.
                (start as u32) << 9 | (len as u32) << 2 | 1
            };
            self.cache[cp] = e;
        }
        e
    }
}

/// Room kept in the output past what the rest of the text needs as it is: the line feed, and
/// a 4-byte store of a short form at the end of the text.
const SLACK: usize = 4;

/// Writes the compact form of a run of ASCII to `dst` (as long as the run), returning its
/// length: a table lookup per byte, without a branch (a dropped byte is overwritten by the
/// next one).
#[inline]
fn ascii_run(run: &[u8], dst: &mut [u8]) -> usize {
    let mut j = 0;
    for &b in run {
        let m = ASCII[b as usize & 0x7f];
        dst[j] = m;
        j += (m != 0) as usize;
    }
    j
}

/// Whether a run of ASCII holds nothing the normalizer treats in context: an escape, an
/// entity (`&`), a tag (`<` then a letter, `/`, `!` or `?`). `next` is the byte after the run.
fn plain_ascii(run: &[u8], next: Option<u8>) -> bool {
    for k in memchr::memchr3_iter(0x1b, b'&', b'<', run) {
        if run[k] != b'<' {
            return false;
        }
        let after = run.get(k + 1).copied().or(next);
        if after.is_some_and(|n| n.is_ascii_alphabetic() || b"/!?".contains(&n)) {
            return false;
        }
    }
    true
}

/// Fills [`pack::LATIN`] (a quarter of a millisecond: done before a triage, not for one
/// text).
pub fn prepare_latin() {
    pack::LATIN.get_or_init(|| {
        let mut t = [0u8; 256];
        let mut form = Vec::new();
        for (k, v) in t.iter_mut().enumerate() {
            let Some(c) = char::from_u32(0x80 + k as u32) else {
                continue;
            };
            form.clear();
            push_folded(c, &mut form);
            *v = match form[..] {
                // The escape is the byte loop's to see.
                _ if c == '\u{9b}' => 0,
                [] => pack::DROP,
                [b] if b.is_ascii_alphanumeric() => b,
                _ => 0,
            };
        }
        t
    });
}

/// The compact form of one character, through the normalizer itself.
fn push_folded(c: char, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4];
    for k in fold(c.encode_utf8(&mut buf)).chars() {
        if k.is_alphanumeric() || is_placeholder(k) {
            let mut b = [0u8; 4];
            out.extend_from_slice(k.encode_utf8(&mut b).as_bytes());
        }
    }
}

/// Decodes the character at the start of `b`, which starts a valid UTF-8 character (it is
/// taken from a `str`, so no validation is needed).
#[inline]
fn decode(b: &[u8]) -> (char, usize) {
    let cont = |i: usize| (b.get(i).copied().unwrap_or(0x80) & 0x3f) as u32;
    let (cp, len) = match b[0] {
        x @ 0xc0..=0xdf => (((x & 0x1f) as u32) << 6 | cont(1), 2),
        x @ 0xe0..=0xef => (((x & 0x0f) as u32) << 12 | cont(1) << 6 | cont(2), 3),
        x => (
            ((x & 0x07) as u32) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3),
            4,
        ),
    };
    (char::from_u32(cp).unwrap_or('\u{fffd}'), len)
}

/// The compact key of a signature literal (already folded): its alphanumeric characters.
pub fn compact_literal(folded: &str) -> String {
    folded
        .chars()
        .filter(|c| c.is_alphanumeric() || is_placeholder(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::normalize::normalize_mapped;
    use proptest::prelude::*;

    fn f(text: &str) -> (String, bool) {
        let mut out = Vec::new();
        let plain = Folder::new().compact(text, &mut out);
        (String::from_utf8(out).unwrap(), plain)
    }

    /// F computed by the byte loop alone, whatever the CPU.
    fn f_scalar(text: &str) -> (String, bool) {
        let mut folder = Folder::new();
        folder.pack = pack::Packer::scalar();
        let mut out = Vec::new();
        let plain = folder.compact(text, &mut out);
        (String::from_utf8(out).unwrap(), plain)
    }

    /// P(t): the normalizer's key, compacted (placeholder characters kept: without digits,
    /// the only ones are those the text itself holds).
    fn p(text: &str) -> String {
        normalize_mapped(text)
            .key
            .chars()
            .filter(|c| c.is_alphanumeric() || is_placeholder(*c))
            .collect()
    }

    #[test]
    fn compact_keys() {
        assert_eq!(
            f("SecLib:: RetrievePrivilegeForUser").0,
            "seclibretrieveprivilegeforuser"
        );
        assert_eq!(f("Użytkownik NIE MA ról").0, "uzytkownikniemarol");
        assert_eq!(f("ＡＡＤＳＴＳ７０００２１５").0, "aadsts7000215");
        assert_eq!(f("사용자에게 할당된, 역할이").0, "사용자에게할당된역할이");
        assert_eq!(f("ﬁle ½").0, "file12");
        assert!(!f("a &amp; b").1);
        assert!(!f("x <b>y</b>").1);
        assert!(!f("\x1b[31mred").1);
        assert!(f("a < b and c > d").1);
        // A placeholder character typed in the text stays, as in the key.
        assert_eq!(f("x\u{e001}y").0, p("x\u{e001}y"));
        // Compact forms longer than the character's UTF-8 (3 bytes to 33), then more text.
        for t in ["aﷺb ﷺﷺ end", "ﷺ", "x㎒y", "😀 ok", "ǅ𝐀𝐁 x"] {
            assert_eq!(f(t), (p(t), true), "{t}");
        }
        assert!(!f("żó\u{9b}31m").1);
        // Blocks of sixteen: a block cut by a non-ASCII character, a block of nothing kept,
        // every ASCII byte, the byte loop's tail.
        let every: String = (0u8..128).map(char::from).collect();
        for t in [
            "SecLib::RetrievePrivilegeForUser failed - no roles ża",
            "Zażółć gęślą jaźń: 0x80040220 AADSTS7000215, Invalid client secret",
            "................................x",
            every.as_str(),
            "ab",
        ] {
            assert_eq!(f(t), f_scalar(t), "{t:?}");
        }
        assert_eq!(
            f("SecLib::RetrievePrivilegeForUser failed, żółw!").0,
            "seclibretrieveprivilegeforuserfailedzolw"
        );
    }

    /// F of a text called plain is its compact key.
    fn plain_is_the_compact_key(s: &str) -> Result<(), TestCaseError> {
        let (fs, plain) = f(s);
        if plain {
            prop_assert_eq!(fs, p(s));
        }
        Ok(())
    }

    /// Room for the line feed after the key, even when every byte is kept.
    #[test]
    fn room_after_the_key() {
        for text in ["abc", "zażółć", "字字"] {
            let mut buf = Vec::new();
            let (end, _) = Folder::new().compact_at(text, &mut buf, 0);
            assert!(buf.len() > end, "{text}");
        }
    }

    proptest! {
        /// For plain text without digits (no placeholders), F is exactly the compact key.
        #[test]
        fn equals_the_compact_key(s in "[^0-9０-９]{0,60}") {
            plain_is_the_compact_key(&s)?;
        }

        /// The same on text that mixes markup, escapes, ASCII runs and the characters that
        /// end them (diacritics, CJK, full-width, ligatures, emoji, marks).
        #[test]
        fn equals_the_compact_key_around_markup(
            s in r"([a-zA-Z ]{1,8}|[<>&;/!?\x1b\[#]|[żóçãÓ역字ＡﬁﷺÅ😀\u{301}\u{9b}\u{e001}]){0,30}"
        ) {
            plain_is_the_compact_key(&s)?;
        }

        /// Sixteen bytes at a time or one at a time, the same key: long ASCII stretches of
        /// every kind of byte, cut by characters of one to four bytes at any place.
        #[test]
        fn blocks_equal_the_byte_loop(
            s in r"([\x00-\x7f]{0,40}|[a-zA-Z0-9]{10,40}|[żóçãÓ역字ＡﬁﷺÅ😀\u{301}\u{9b}\u{e001}]|[가깋퀴힝힣\u{d7a4}丂䶵䷀㐀㏿、ㄱ龥 ]{1,20}){0,12}"
        ) {
            prop_assert_eq!(f(&s), f_scalar(&s));
        }

        /// Sixty-four bytes at a time or sixteen, the same key (on a CPU without AVX-512
        /// VBMI2 both are sixteen): long ASCII stretches, Han and Hangul runs, and the
        /// characters that stop a block, at any place of a block of 64.
        #[test]
        fn wide_blocks_equal_narrow_ones(
            s in r"([\x00-\x7f]{0,90}|[a-zA-Z0-9]{30,90}|[żóçãÓ역字ＡﬁﷺÅ😀\u{301}\u{9b}\u{e001}]|[가깋퀴힝힣\u{d7a4}丂䶵䷀㐀㏿、ㄱ龥 a]{1,40}|[a-z ąćęłńóśźżÀ-ſ\u{80}-\u{bf}]{1,70}){0,10}"
        ) {
            // Blocks of 64 fold Latin letters in place once the table is there (as in a
            // triage); the narrow blocks never do.
            prepare_latin();
            let mut narrow = Folder::new();
            narrow.pack = pack::Packer::narrow();
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let pa = Folder::new().compact(&s, &mut a);
            let pb = narrow.compact(&s, &mut b);
            prop_assert_eq!((a, pa), (b, pb));
        }

        /// Written into a reused buffer (old bytes after the place written at, more or fewer
        /// than the text needs), the same key and answer as appended to an empty one.
        #[test]
        fn a_reused_buffer_changes_nothing(
            s in r"([\x00-\x7f]{0,40}|[żóçãÓ역字ＡﬁﷺÅ😀\u{301}\u{9b}]){0,8}",
            at in 0usize..20,
            old in 0usize..300,
        ) {
            let mut buf = vec![b'#'; at + old];
            let (end, plain) = Folder::new().compact_at(&s, &mut buf, at);
            prop_assert!(buf.len() > end);
            prop_assert!(buf[..at].iter().all(|&b| b == b'#'));
            let (want, want_plain) = f(&s);
            prop_assert_eq!(&buf[at..end], want.as_bytes());
            prop_assert_eq!(plain, want_plain);
        }
    }
}
