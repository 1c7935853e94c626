//! Secrets (client secrets, passwords, account keys, URL signatures, tokens) live in
//! [`Secret`], which has no `Display` and whose `Debug` prints `<redacted>`: printing one by
//! accident shows nothing. [`redact`] scrubs secret-shaped text out of anything echoed.

use std::fmt;

/// A secret value. Read it only with [`Secret::expose`], at the point where it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value itself; call this only to put it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The text put in place of a redacted value.
pub const REDACTED: &str = "<redacted>";

fn redact_regex() -> &'static regex::Regex {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    RE.get_or_init(|| {
        regex::Regex::new(concat!(
            // `Authorization: <anything to the end of the line>`
            r"(?i)(?P<hk>\bauthorization\s*[:=]\s*)(?P<hv>[^\r\n]+)",
            // `Bearer <token>`
            r"|(?P<bk>\bbearer\s+)(?P<bv>[A-Za-z0-9\-._~+/]{8,}=*)",
            // key=value and key: value pairs whose key names a secret
            r#"|(?P<kk>\b(?:accountkey|sharedaccesskey|sharedaccesssignature|client_?secret|application_?key|app_?key|api_?key|apikey|access_?token|refresh_?token|id_?token|password|passwd|pwd|secret|sig|token)["']?\s*[=:]\s*)(?P<kv>"[^"\r\n]*"|'[^'\r\n]*'|[^\s;&,"'<>]+)"#,
            // `SharedAccessSignature sr=...&sig=...` (Service Bus style)
            r"|(?P<sk>\bsharedaccesssignature\s+)(?P<sv>\S+)",
            // JSON Web Tokens
            r"|(?P<jwt>\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*)",
        ))
        .expect("redaction regex")
    })
}

/// Whether [`redact_regex`] can match `text`: each of its alternatives holds one of these
/// words, in any case. Most echoed texts hold none, and then the regex (a millisecond to
/// compile) is not needed. Non-ASCII text always goes to the regex: Unicode case folding
/// makes `ſ` an `s` and `K` (Kelvin) a `k`.
fn may_hold_secret(text: &str) -> bool {
    const WORDS: [&str; 9] = [
        "authorization",
        "bearer",
        "key",
        "secret",
        "token",
        "pwd",
        "pass",
        "sig",
        "eyj",
    ];
    if !text.is_ascii() {
        return true;
    }
    let lower = text.to_ascii_lowercase();
    WORDS.iter().any(|w| lower.contains(w))
}

/// Replaces secret-shaped parts of `text` (account keys, URL signatures, client secrets,
/// passwords, bearer tokens, `Authorization` headers, JWTs) with [`REDACTED`], keeping the
/// name so the reader still sees what was there. Use on every echo of outside text.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if !may_hold_secret(text) {
        return std::borrow::Cow::Borrowed(text);
    }
    redact_regex().replace_all(text, |c: &regex::Captures| {
        for (k, v) in [("hk", "hv"), ("bk", "bv"), ("kk", "kv"), ("sk", "sv")] {
            if let (Some(k), Some(_)) = (c.name(k), c.name(v)) {
                return format!("{}{REDACTED}", k.as_str());
            }
        }
        REDACTED.to_string()
    })
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn scrubs_secret_shaped_text() {
        let cases = [
            ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=abc123+/==;EndpointSuffix=core.windows.net", "abc123"),
            ("https://x.blob.core.windows.net/c?sv=2020&sig=AbC%2Fdef&se=1", "AbC%2Fdef"),
            ("client_secret=s3cr3t-Value&grant_type=client_credentials", "s3cr3t-Value"),
            ("password: \"P@ss word\"", "P@ss word"),
            ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig", "eyJhbGciOi"),
            ("token is Bearer abcdefghijklmnop", "abcdefghijklmnop"),
            ("Endpoint=sb://x/;SharedAccessKeyName=k;SharedAccessKey=KEYVALUE=", "KEYVALUE"),
            ("SharedAccessSignature sr=x&sig=y&se=1", "sr=x"),
        ];
        for (text, secret) in cases {
            let r = redact(text);
            assert!(!r.contains(secret), "{text} -> {r}");
            assert!(r.contains("<redacted>"), "{text} -> {r}");
        }
        assert_eq!(
            redact("no roles are assigned to user"),
            "no roles are assigned to user"
        );
        assert!(matches!(redact("plain"), std::borrow::Cow::Borrowed(_)));
        // Unicode case folding reaches the regex: the shortcut leaves such text to it.
        assert!(!redact("ſecret=hunter2").contains("hunter2"));
    }

    proptest::proptest! {
        /// The shortcut never lets through a text the regex would scrub.
        #[test]
        fn the_shortcut_skips_nothing_secret(
            text in "((AccountKey|Bearer|Authorization|client_secret|PWD|sig|eyJ|token|x|=|:| |a1b2c3d4e5|\\.)){0,8}",
        ) {
            if super::redact_regex().is_match(&text) {
                proptest::prop_assert!(super::may_hold_secret(&text), "{}", text);
            }
        }
    }
}
