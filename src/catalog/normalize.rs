//! Normalization of pasted text, applied alike to the catalog's signatures and to the text
//! being matched, so that what tickets and machine translation do to a message does not
//! matter: ANSI escapes, HTML tags and entities, `> ` reply prefixes, NFKC (full-width colons
//! and letters), case, curly quotes and dashes, zero-width characters, line breaks, spaces
//! around punctuation inside identifiers (`SecLib:: RetrievePrivilegeForUser`), and the
//! variable parts of a message (GUIDs, durations, timestamps, trace ids), which become
//! placeholder characters.
//!
//! Two keys exist: [`normalize`] keeps accents; [`fold`] also drops them (and maps `ł` to
//! `l`) for Polish and Portuguese typed without diacritics. The matcher uses the folded key,
//! through [`normalize_mapped`], which also remembers where each byte of the key came from in
//! the original text so a match can be shown as the user wrote it.

use regex::Regex;
use std::ops::Range;
use std::sync::OnceLock;
use unicode_normalization::char::{canonical_combining_class, compose, decompose_canonical};
use unicode_normalization::UnicodeNormalization;

/// Placeholder for a GUID.
pub const PH_GUID: char = '\u{E001}';
/// Placeholder for a duration or a time of day (`00:02:00`).
pub const PH_DURATION: char = '\u{E002}';
/// Placeholder for a timestamp (`2024-05-01 10:22:03Z`).
pub const PH_TIMESTAMP: char = '\u{E003}';
/// Placeholder for a long hexadecimal trace or correlation id.
pub const PH_ID: char = '\u{E004}';

/// True for the placeholder characters the normalizer writes.
pub fn is_placeholder(c: char) -> bool {
    ('\u{E001}'..='\u{E004}').contains(&c)
}

/// The normalized key with accents kept.
pub fn normalize(text: &str) -> String {
    run(text, false, true, false).key
}

/// The accent-free key: [`normalize`], then accents dropped (Polish `ł` becomes `l`).
/// Hangul is left whole.
pub fn fold(text: &str) -> String {
    run(text, true, true, false).key
}

/// The accent-free key, with the origin of each of its bytes in `text`.
pub fn normalize_mapped(text: &str) -> Normalized {
    run(text, true, true, true)
}

/// [`fold`] as a [`Normalized`] without origins (every original range is empty): for
/// callers that want only what matches, not where it was written.
pub fn normalize_unmapped(text: &str) -> Normalized {
    run(text, true, true, false)
}

/// A normalized key and, for each byte of it, the byte range of the original text it came
/// from.
#[derive(Debug, Clone)]
pub struct Normalized {
    pub key: String,
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    /// The range of the original text that produced `key[range]`.
    pub fn original_range(&self, range: Range<usize>) -> Range<usize> {
        if self.origin.is_empty() || range.start >= self.origin.len() {
            return 0..0;
        }
        let end = range.end.clamp(range.start + 1, self.origin.len());
        let start = self.origin[range.start].0 as usize;
        let stop = self.origin[range.start..end]
            .iter()
            .map(|o| o.1)
            .max()
            .unwrap_or(0) as usize;
        start..stop.max(start)
    }
}

/// Builds the key char by char, with origins when asked.
struct Builder {
    key: String,
    origin: Vec<(u32, u32)>,
    /// Whether `origin` is kept.
    track: bool,
    fold: bool,
    /// A space is owed before the next visible character.
    pending_space: bool,
}

impl Builder {
    fn last(&self) -> Option<char> {
        self.key.chars().next_back()
    }

    fn push_raw(&mut self, c: char, from: (u32, u32)) {
        if self.track {
            for _ in 0..c.len_utf8() {
                self.origin.push(from);
            }
        }
        self.key.push(c);
    }

    /// Writes the space owed before a character (a joiner or not), unless punctuation is
    /// on either side: `SecLib:: Retrieve` == `SecLib::Retrieve`.
    fn pay_space(&mut self, joiner: bool, from: (u32, u32)) {
        if self.pending_space {
            self.pending_space = false;
            if !joiner && self.last().is_some_and(|prev| !is_joiner(prev)) {
                self.push_raw(' ', from);
            }
        }
    }

    /// Emits one already-mapped character (lowercase, NFKC).
    fn emit(&mut self, c: char, from: (u32, u32)) {
        if c == ' ' {
            self.pending_space = true;
            return;
        }
        // No ASCII character is a mark (and the table lookup is not free).
        let mark = !c.is_ascii() && canonical_combining_class(c) != 0;
        if mark && self.fold {
            return;
        }
        self.pay_space(is_joiner(c), from);
        if mark {
            // Compose with the previous character where Unicode can (NFC).
            if let Some(prev) = self.last() {
                if let Some(composed) = compose(prev, c) {
                    let start = self.key.len() - prev.len_utf8();
                    let prev_from = self.origin.get(start).copied().unwrap_or_default();
                    self.key.truncate(start);
                    self.origin.truncate(start);
                    self.push_raw(composed, (prev_from.0, from.1));
                    return;
                }
            }
        }
        self.push_raw(c, from);
    }

    /// Maps one character of the cleaned input (NFKC, case, quotes, dashes, accents).
    fn feed(&mut self, c: char, from: (u32, u32)) {
        if c.is_ascii() {
            let m = match c {
                'A'..='Z' => c.to_ascii_lowercase(),
                '<' | '>' | '&' => ' ',
                '`' => '\'',
                c if c.is_ascii_control() => ' ',
                c => c,
            };
            self.emit(m, from);
            return;
        }
        if is_invisible(c) {
            return;
        }
        if c.is_whitespace() || c.is_control() {
            self.emit(' ', from);
            return;
        }
        if is_hangul_syllable(c) {
            self.emit(c, from);
            return;
        }
        let mut buf = [char::default(); 8];
        let mut n = 0;
        for k in std::iter::once(c).nfkc() {
            for l in k.to_lowercase() {
                if n < buf.len() {
                    buf[n] = l;
                    n += 1;
                }
            }
        }
        for &k in &buf[..n] {
            let k = map_punct(k);
            if k.is_ascii() || is_invisible(k) || k.is_whitespace() || is_hangul_syllable(k) {
                if k != c {
                    // NFKC or lowercasing gave something plain: treat it as input.
                    self.feed(k, from);
                } else {
                    self.emit(k, from);
                }
                continue;
            }
            if self.fold {
                match k {
                    'ł' => self.emit('l', from),
                    'đ' => self.emit('d', from),
                    'ø' => self.emit('o', from),
                    _ => {
                        let mut parts = [char::default(); 4];
                        let mut m = 0;
                        decompose_canonical(k, |d| {
                            if canonical_combining_class(d) == 0 && m < parts.len() {
                                parts[m] = d;
                                m += 1;
                            }
                        });
                        // `≮` is `<` + a mark: without the mark it would be markup, which
                        // a second pass removes. Such a character stays whole.
                        if parts[..m]
                            .iter()
                            .any(|d| d.is_ascii() && !d.is_ascii_alphanumeric())
                        {
                            self.emit(k, from);
                            continue;
                        }
                        for &d in &parts[..m] {
                            // `ǿ` decomposes to `ø` + accent: fold the base letter too, so
                            // folding twice changes nothing.
                            let d = match d {
                                'ł' => 'l',
                                'đ' => 'd',
                                'ø' => 'o',
                                d => d,
                            };
                            self.emit(d, from);
                        }
                    }
                }
            } else {
                self.emit(k, from);
            }
        }
    }
}

/// Characters next to which spaces are dropped: punctuation and symbols (not quotes, which
/// delimit names, and not placeholders).
fn is_joiner(c: char) -> bool {
    !(alnum(c) || c == ' ' || c == '\'' || c == '"' || is_placeholder(c))
}

/// `char::is_alphanumeric`, with the common scripts answered without the Unicode table (a
/// search that is slow for Hangul and Han, far into it).
pub(crate) fn alnum(c: char) -> bool {
    match c as u32 {
        0..=0x7f => c.is_ascii_alphanumeric(),
        // Han and Hangul syllables, all letters.
        0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7a3 => true,
        _ => c.is_alphanumeric(),
    }
}

/// Zero-width and bidi formatting characters, soft hyphen, byte-order mark.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}' | '\u{00ad}' | '\u{180e}')
}

fn is_hangul_syllable(c: char) -> bool {
    ('\u{ac00}'..='\u{d7a3}').contains(&c)
}

/// Curly quotes, primes and dashes to their ASCII forms.
fn map_punct(c: char) -> char {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' | '\u{00b4}' => '\'',
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{00ab}'
        | '\u{00bb}' | '\u{300c}' | '\u{300d}' => '"',
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' => '-',
        '\u{2026}' => '.',
        c => c,
    }
}

/// `fast`: take the shortcut for runs of ASCII letters and digits (always, but in the test
/// that proves it changes nothing).
fn run(text: &str, fold: bool, fast: bool, track: bool) -> Normalized {
    let mut b = Builder {
        key: String::with_capacity(text.len()),
        origin: Vec::with_capacity(if track { text.len() } else { 0 }),
        track,
        fold,
        pending_space: false,
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    // At the start of a line (only blanks, tags and escapes seen since): `>` is a reply prefix.
    let mut line_start = true;
    while i < text.len() {
        // A space owes one before the next visible character (what `feed` does for it).
        if fast && bytes[i] == b' ' {
            b.pending_space = true;
            i += 1;
            continue;
        }
        // A run of ASCII letters and digits, the bulk of most texts: what `feed` and `emit`
        // would do for them (lowercase, no mark, not a joiner), without their per-character
        // checks; the space owed is written first unless it follows punctuation.
        if fast && bytes[i].is_ascii_alphanumeric() {
            line_start = false;
            b.pay_space(false, (i as u32, i as u32 + 1));
            let end = bytes[i..]
                .iter()
                .position(|c| !c.is_ascii_alphanumeric())
                .map_or(bytes.len(), |n| i + n);
            let at = b.key.len();
            b.key.push_str(&text[i..end]);
            b.key[at..].make_ascii_lowercase();
            if track {
                b.origin.extend((i as u32..end as u32).map(|k| (k, k + 1)));
            }
            i = end;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        let from = (i as u32, (i + len) as u32);
        // Han ideographs and Hangul syllables, most of a Chinese or Korean text: no NFKC
        // mapping (Hangul is kept whole), no case, no accent, so what `feed` would emit
        // after its checks.
        if fast && matches!(c as u32, 0x4e00..=0x9fff | 0x3400..=0x4dbf | 0xac00..=0xd7a3) {
            line_start = false;
            // What `emit` does for a letter that is neither a mark nor a joiner.
            b.pay_space(false, from);
            b.push_raw(c, from);
            i += len;
            continue;
        }
        match c {
            '\u{1b}' => {
                i = skip_escape(bytes, i);
                continue;
            }
            '\u{9b}' => {
                i = skip_csi(bytes, i + len);
                continue;
            }
            '\n' => {
                line_start = true;
                b.emit(' ', from);
            }
            '<' => {
                if let Some(end) = html_tag_end(bytes, i) {
                    b.emit(' ', from);
                    i = end;
                    continue;
                }
                line_start = false;
                b.feed(c, from);
            }
            '&' => {
                if let Some((decoded, end)) = entity(text, i) {
                    let from = (i as u32, end as u32);
                    if decoded == '>' && line_start {
                        i = end;
                        continue;
                    }
                    if !decoded.is_whitespace() {
                        line_start = false;
                    }
                    b.feed(decoded, from);
                    i = end;
                    continue;
                }
                line_start = false;
                b.feed(c, from);
            }
            '>' if line_start => {}
            c if c == ' ' || c == '\t' || c == '\r' || is_invisible(c) => b.feed(c, from),
            c => {
                line_start = false;
                b.feed(c, from);
            }
        }
        i += len;
    }
    let mut n = Normalized {
        key: b.key,
        origin: b.origin,
    };
    placeholders(&mut n);
    n
}

/// Skips an escape sequence starting at `i` (ESC): CSI, OSC, or a two-character escape.
fn skip_escape(bytes: &[u8], i: usize) -> usize {
    match bytes.get(i + 1) {
        Some(b'[') => skip_csi(bytes, i + 2),
        Some(b']') | Some(b'P') | Some(b'_') | Some(b'^') => {
            // OSC/DCS/APC/PM: up to BEL or ESC \.
            let mut j = i + 2;
            while j < bytes.len() {
                if bytes[j] == 0x07 {
                    return j + 1;
                }
                if bytes[j] == 0x1b && bytes.get(j + 1) == Some(&b'\\') {
                    return j + 2;
                }
                j += 1;
            }
            j
        }
        Some(&b) if b.is_ascii() => i + 2,
        _ => i + 1,
    }
}

/// Skips CSI parameters and the final byte.
fn skip_csi(bytes: &[u8], mut j: usize) -> usize {
    while j < bytes.len() {
        let b = bytes[j];
        j += 1;
        if (0x40..=0x7e).contains(&b) {
            return j;
        }
        if !(0x20..=0x3f).contains(&b) {
            // Not a CSI after all; resume at the odd byte if it starts a character.
            return if b.is_ascii() { j } else { j - 1 };
        }
    }
    j
}

/// The end of an HTML tag, comment or doctype starting at `i` (`<`), if it is one.
fn html_tag_end(bytes: &[u8], i: usize) -> Option<usize> {
    let next = *bytes.get(i + 1)?;
    if !(next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?') {
        return None;
    }
    if bytes[i + 1..].starts_with(b"!--") {
        let rest = &bytes[i + 4..];
        let end = memchr::memmem::find(rest, b"-->")?;
        return Some(i + 4 + end + 3);
    }
    let limit = (i + 512).min(bytes.len());
    for (j, &b) in bytes.iter().enumerate().take(limit).skip(i + 1) {
        match b {
            b'>' => return Some(j + 1),
            b'<' => return None,
            _ => {}
        }
    }
    None
}

/// Decodes an HTML entity at `i` (`&`): the character and the end of the entity.
fn entity(text: &str, i: usize) -> Option<(char, usize)> {
    let rest = &text[i + 1..];
    let semi = rest.bytes().take(12).position(|b| b == b';')?;
    let name = &rest[..semi];
    let c = if let Some(num) = name.strip_prefix('#') {
        let n = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        char::from_u32(n).filter(|c| *c != '\0')?
    } else {
        match name {
            "amp" | "AMP" => '&',
            "lt" | "LT" => '<',
            "gt" | "GT" => '>',
            "quot" | "QUOT" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "ndash" => '-',
            "mdash" => '-',
            "lsquo" | "rsquo" => '\'',
            "ldquo" | "rdquo" => '"',
            "hellip" => '.',
            _ => return None,
        }
    };
    Some((c, i + 1 + semi + 1))
}

fn placeholder_regex() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // ASCII classes and word boundaries (`(?-u)`): the key is lowercase and its digits
        // are ASCII after NFKC, and a Unicode word boundary would force the slow PikeVM on
        // every text that holds a non-ASCII letter.
        Regex::new(concat!(
            r"(?-u)(?P<g>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)",
            r"|(?P<t>\b[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[t ]?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?(?:[.,][0-9]+)?z?)?)",
            r"|(?P<d>\b[0-9]{1,3}:[0-9]{2}(?::[0-9]{2})?(?:[.,][0-9]+)?\b)",
            r"|(?P<i>\b[0-9a-f]{16,}\b)",
        ))
        .expect("placeholder regex")
    })
}

/// Whether [`placeholder_regex`] can match `key`: each of its alternatives starts, at a word
/// boundary, with a word of a shape checked here (a word being a maximal run of ASCII
/// letters, digits and `_`, as `\b` under `(?-u)` sees it): 8 hex digits then `-` (a GUID),
/// 4 digits then `-` (a date), 1 to 3 digits then `:` (a time), or 16 hex digits or more
/// (an id). Most texts have none, and then the regex is neither compiled nor run.
fn may_hold_placeholder(key: &[u8]) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < key.len() {
        if !word(key[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < key.len() && word(key[i]) {
            i += 1;
        }
        let w = &key[start..i];
        let next = key.get(i).copied();
        let hex = w.iter().all(u8::is_ascii_hexdigit);
        let digits = w.iter().all(u8::is_ascii_digit);
        if (hex && w.len() >= 16)
            || (hex && w.len() == 8 && next == Some(b'-'))
            || (digits && w.len() == 4 && next == Some(b'-'))
            || (digits && w.len() <= 3 && next == Some(b':'))
        {
            return true;
        }
    }
    false
}

/// Replaces the variable parts of a message by placeholder characters.
fn placeholders(n: &mut Normalized) {
    // Cheap check first (and no regex to compile for most texts, see `may_hold_placeholder`).
    if !may_hold_placeholder(n.key.as_bytes()) {
        return;
    }
    let re = placeholder_regex();
    if !re.is_match(&n.key) {
        return;
    }
    let mut key = String::with_capacity(n.key.len());
    let mut origin = Vec::with_capacity(n.origin.len());
    let mut last = 0;
    for caps in re.captures_iter(&n.key) {
        let m = caps.get(0).expect("whole match");
        let ph = if caps.name("g").is_some() {
            PH_GUID
        } else if caps.name("t").is_some() {
            PH_TIMESTAMP
        } else if caps.name("d").is_some() {
            PH_DURATION
        } else {
            PH_ID
        };
        key.push_str(&n.key[last..m.start()]);
        key.push(ph);
        if !n.origin.is_empty() {
            origin.extend_from_slice(&n.origin[last..m.start()]);
            let from = (n.origin[m.start()].0, n.origin[m.end() - 1].1);
            origin.extend(std::iter::repeat_n(from, ph.len_utf8()));
        }
        last = m.end();
    }
    key.push_str(&n.key[last..]);
    if !n.origin.is_empty() {
        origin.extend_from_slice(&n.origin[last..]);
    }
    n.key = key;
    n.origin = origin;
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The shortcut never skips a text the regex would change.
        #[test]
        fn the_placeholder_shortcut_is_sound(key in "[0-9a-fz_:. t-]{0,50}") {
            if placeholder_regex().is_match(&key) {
                prop_assert!(may_hold_placeholder(key.as_bytes()), "{key}");
            }
        }
    }

    #[test]
    fn the_placeholder_shortcut_sees_each_shape() {
        for key in [
            "id 0f8fad5b-d9cb-469f-a165-70867728950e",
            "at 2024-05-01 10:22",
            "after 00:02:00",
            "trace 9f3c2a7b4e1d0c8a9f3c",
        ] {
            assert!(may_hold_placeholder(key.as_bytes()), "{key}");
            assert!(placeholder_regex().is_match(key), "{key}");
        }
        assert!(!may_hold_placeholder(
            b"aadsts7000215: invalid client secret"
        ));
        assert!(!may_hold_placeholder(b"ticket t-00154416 and 0x80040220"));
    }

    #[test]
    fn the_alphanumeric_shortcut_agrees_with_unicode() {
        for c in (0..=0x10ffff).filter_map(char::from_u32) {
            assert_eq!(alnum(c), c.is_alphanumeric(), "{:x}", c as u32);
        }
    }

    #[test]
    fn survives_what_tickets_do() {
        assert_eq!(fold("\x1b[31mLastCRMError\x1b[0m: x"), "lastcrmerror:x");
        assert_eq!(
            fold("<p>No <b>roles</b> are&nbsp;assigned</p>"),
            "no roles are assigned"
        );
        assert_eq!(fold("LastCRMError：Unable"), "lastcrmerror:unable");
        assert_eq!(
            fold("SecLib:: RetrievePrivilegeForUser"),
            "seclib::retrieveprivilegeforuser"
        );
        assert_eq!(
            fold("SecLib::RetrievePrivilegeForUser"),
            "seclib::retrieveprivilegeforuser"
        );
        assert_eq!(
            fold("“Tenant not found” — really"),
            "\"tenant not found\"-really"
        );
        assert_eq!(fold("no\u{200b} roles\u{feff}"), "no roles");
        assert_eq!(
            fold("> > first line\n>second\r\n  > third"),
            "first line second third"
        );
        assert_eq!(fold("&gt; quoted &amp; more"), "quoted more");
        assert_eq!(
            fold("Użytkownik nie ma uprawnień"),
            fold("Uzytkownik nie ma uprawnien")
        );
        assert_eq!(fold("Błąd łączenia"), "blad laczenia");
        // A mark on markup stays (folding twice must change nothing).
        for t in ["≮", "a≮b", "x ≯ y", "≠"] {
            assert_eq!(fold(&fold(t)), fold(t), "{t}");
        }
        assert_eq!(fold("não há usuário"), "nao ha usuario");
        assert_eq!(normalize("não"), "não");
        assert_eq!(normalize("na\u{303}o"), "não");
        assert_eq!(fold("ＡＡＤＳＴＳ７０００２１５"), "aadsts7000215");
        assert_eq!(fold("사용자에게 할당된 역할이"), "사용자에게 할당된 역할이");
        assert_eq!(fold("after 00:02:00."), fold("after 00:01:30."));
        assert_eq!(
            fold("Trace ID: 0f9d2b6c-1e4a-4c3b-9d2e-7a8b9c0d1e2f"),
            fold("Trace ID: 12345678-aaaa-bbbb-cccc-1234567890ab")
        );
        assert_eq!(
            fold("Timestamp: 2024-05-01 10:22:03Z"),
            fold("Timestamp: 2019-12-31T23:59:59.1234567Z")
        );
    }

    #[test]
    fn maps_back_to_the_original() {
        let text = "Hi <b>SecLib:: RetrievePrivilegeForUser</b> failed";
        let n = normalize_mapped(text);
        let at = n.key.find("seclib").unwrap();
        let end = n.key.find("foruser").unwrap() + "foruser".len();
        assert_eq!(
            &text[n.original_range(at..end)],
            "SecLib:: RetrievePrivilegeForUser"
        );
    }

    proptest! {
        #[test]
        fn idempotent_and_clean(s in "\\PC{0,80}") {
            let once = normalize(&s);
            prop_assert_eq!(normalize(&once), once.clone());
            let folded = fold(&s);
            prop_assert_eq!(fold(&folded), folded.clone());
            prop_assert!(!once.chars().any(|c| c.is_control()));
            prop_assert!(!folded.chars().any(|c| c.is_control()));
        }

        #[test]
        fn the_ascii_shortcut_changes_nothing(
            s in r#"([A-Za-z0-9]{1,6}|[ \t\n<>&;#:.'"`\x1b\[\]-]|[字中文㐀鿿한\u{301}\u{302}\u{3099}]|\PC){0,40}"#,
            fold in any::<bool>(),
        ) {
            let (a, b) = (run(&s, fold, true, true), run(&s, fold, false, true));
            prop_assert_eq!(&a.key, &b.key);
            prop_assert_eq!(&a.origin, &b.origin);
            // Without origins: the same key, and no origin.
            let c = run(&s, fold, true, false);
            prop_assert_eq!(&c.key, &a.key);
            prop_assert!(c.origin.is_empty());
        }

        #[test]
        fn never_panics_on_markup(s in "[<>&;#x0-9a-z\x1b\\[\\] :'\"\n\u{200b}-]{0,60}") {
            let n = normalize_mapped(&s);
            prop_assert_eq!(fold(&n.key), n.key.clone());
            let r = n.original_range(0..n.key.len());
            prop_assert!(r.end <= s.len());
        }
    }
}
