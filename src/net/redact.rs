//! URLs as they may be shown: query values that are credentials (a Power Automate `sig`, an
//! OAuth `code` or token, a client secret) and any password in the user-info are replaced by
//! `<redacted>`.

use crate::secret::REDACTED;
use url::Url;

/// Query parameter names whose values are secrets (compared case-insensitively).
pub const SECRET_PARAMS: &[&str] = &[
    "sig",
    "signature",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "client_secret",
    "password",
    "pwd",
    "secret",
    "key",
    "api_key",
    "apikey",
    "accountkey",
    "x-ms-signature",
];

fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| p.eq_ignore_ascii_case(name))
}

/// The URL with secret query values and the user-info password redacted. The query is
/// rebuilt by hand so that `<redacted>` stays readable (not percent-encoded).
pub fn redact_url(url: &Url) -> String {
    let mut u = url.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("redacted"));
    }
    let query = u.query().map(|q| q.to_string());
    u.set_query(None);
    u.set_fragment(None);
    let mut out = u.to_string();
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(&percent_decode(k)) => format!("{k}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// Redacts a URL given as text; text that is not an absolute URL is resolved against `base`
/// when given (a relative `Location`), else returned with any `name=value` secrets masked.
pub fn redact_url_str(text: &str, base: Option<&Url>) -> String {
    let parsed = match base {
        Some(b) => b.join(text).ok(),
        None => Url::parse(text).ok(),
    };
    match parsed {
        Some(u) => redact_url(&u),
        None => {
            let text = &mask_userinfo(text);
            let mut out = String::new();
            for (i, pair) in text.split('&').enumerate() {
                if i > 0 {
                    out.push('&');
                }
                match pair.rsplit_once('=') {
                    Some((k, _)) if is_secret_param(k.rsplit(['?', '/']).next().unwrap_or(k)) => {
                        out.push_str(k);
                        out.push('=');
                        out.push_str(REDACTED);
                    }
                    _ => out.push_str(pair),
                }
            }
            crate::secret::redact(&out).into_owned()
        }
    }
}

/// In text that failed to parse as a URL, `scheme://user:password@` still shows a password:
/// everything between the first `:` after `://` and the last `@` before the query is cut
/// (over-redacting a strange URL beats showing a password).
fn mask_userinfo(text: &str) -> std::borrow::Cow<'_, str> {
    let Some(i) = text.find("://") else {
        return text.into();
    };
    let rest = &text[i + 3..];
    let end = rest.find(['?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..end].rfind('@') else {
        return text.into();
    };
    let Some(colon) = rest[..at].find(':') else {
        return text.into();
    };
    format!(
        "{}{}:redacted{}",
        &text[..i + 3],
        &rest[..colon],
        &rest[at..]
    )
    .into()
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("{s}=").as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_removed() {
        let u = Url::parse(
            "https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SECRETSIG",
        )
        .unwrap();
        let r = redact_url(&u);
        assert!(!r.contains("SECRETSIG"), "{r}");
        assert!(
            r.contains("sig=<redacted>")
                && r.contains("sv=1.0")
                && r.contains("api-version=2016-06-01"),
            "{r}"
        );
        let u =
            Url::parse("https://user:pw@h.example/x?Code=abc&client_secret=s3&Access_Token=t#frag")
                .unwrap();
        let r = redact_url(&u);
        assert!(
            !r.contains("pw") && !r.contains("abc") && !r.contains("s3") && !r.contains("=t"),
            "{r}"
        );
    }

    #[test]
    fn relative_location() {
        let base = Url::parse("https://a.example/p").unwrap();
        assert_eq!(
            redact_url_str("/q?sig=x", Some(&base)),
            "https://a.example/q?sig=<redacted>"
        );
        assert_eq!(
            redact_url_str("not a url?sig=x", None),
            "not a url?sig=<redacted>"
        );
        // Regression (props::no_secret_survives_lint_in_any_format): a password holding `/`
        // makes the URL unparsable; the password must still be cut.
        assert_eq!(
            redact_url_str("https://user:Zx9~AAa+a+-a_aa/~@example.com/hook?x=1", None),
            "https://user:redacted@example.com/hook?x=1"
        );
    }
}
