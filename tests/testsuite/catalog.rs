//! The catalog's data and the matcher, against the fixture messages: every code is
//! recognized from every line of `fixtures/messages/LCnnn.txt`, ordinary tickets match
//! nothing, every page exists in every language, and the fixed codes keep their meaning.

use crate::support::fixture;
use leadcheck::catalog::matcher::match_text;
use leadcheck::catalog::Catalog;
use leadcheck::lang::{Lang, TextLang};

/// `lang: text` lines of a fixture file, with their line numbers; `#` starts a comment.
fn fixture_lines(rel: &str) -> Vec<(usize, TextLang, String)> {
    let path = fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let (tag, body) = line
            .split_once(": ")
            .unwrap_or_else(|| panic!("{rel}:{}: expected `lang: text`", i + 1));
        let lang = TextLang::from_tag(tag)
            .unwrap_or_else(|| panic!("{rel}:{}: unknown language {tag}", i + 1));
        out.push((i + 1, lang, body.to_string()));
    }
    out
}

#[test]
fn every_code_is_recognized_from_its_messages() {
    let catalog = Catalog::get();
    let mut failures = Vec::new();
    let mut not_first = Vec::new();
    let mut checked = 0;
    for e in catalog.entries() {
        let rel = format!("messages/{}.txt", e.code);
        if !fixture(&rel).exists() {
            continue;
        }
        for (line, _lang, text) in fixture_lines(&rel) {
            checked += 1;
            let found = match_text(&text);
            let codes: Vec<&str> = found.iter().map(|m| m.code.as_str()).collect();
            if !codes.contains(&e.code.as_str()) {
                failures.push(format!(
                    "fixtures/{rel}:{line}: expected {}, got {codes:?}",
                    e.code
                ));
            } else if codes[0] != e.code {
                not_first.push(format!(
                    "fixtures/{rel}:{line}: {} found but ranked after {codes:?}",
                    e.code
                ));
            }
        }
    }
    assert!(checked > 0, "no fixture messages found");
    assert!(
        failures.is_empty(),
        "{} of {checked} messages not recognized:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // An ambiguous ticket may list a neighbour first; that must stay rare.
    eprintln!("{}", not_first.join("\n"));
    assert!(
        not_first.len() * 50 <= checked,
        "{} of {checked} messages ranked another code first:\n{}",
        not_first.len(),
        not_first.join("\n")
    );
}

#[test]
fn every_active_code_has_fixture_messages() {
    let missing: Vec<&str> = Catalog::get()
        .entries()
        .iter()
        .filter(|e| e.status.as_str() == "active")
        .filter(|e| !fixture(&format!("messages/{}.txt", e.code)).exists())
        .map(|e| e.code.as_str())
        .collect();
    // Reported, not failed: the catalog is written in parallel with the matcher.
    if !missing.is_empty() {
        eprintln!("codes without fixtures/messages: {missing:?}");
    }
}

#[test]
fn ordinary_tickets_match_nothing() {
    let mut failures = Vec::new();
    let lines = fixture_lines("messages/ordinary.txt");
    for (line, _lang, text) in &lines {
        let found = match_text(text);
        if !found.is_empty() {
            let what: Vec<String> = found
                .iter()
                .map(|m| format!("{} ({:.2}, {:?})", m.code, m.confidence, m.matched))
                .collect();
            failures.push(format!(
                "fixtures/messages/ordinary.txt:{line}: matched {}",
                what.join(", ")
            ));
        }
    }
    for lang in ["en", "pl", "pt-BR", "zh-TW", "ko-KR", "zh-CN"] {
        let n = lines.iter().filter(|l| l.1.tag() == lang).count();
        assert!(
            n >= 10,
            "ordinary.txt has {n} {lang} tickets, want 10 or more"
        );
    }
    assert!(
        failures.is_empty(),
        "{} ordinary tickets matched:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_page_exists_in_every_language() {
    let mut missing = Vec::new();
    for e in Catalog::get().entries() {
        for lang in Lang::ALL {
            let tag = lang.tag();
            if e.title.get(tag).is_none_or(|s| s.trim().is_empty()) {
                missing.push(format!("{} title.{tag}", e.code));
            }
            if e.cause.get(tag).is_none_or(|s| s.trim().is_empty()) {
                missing.push(format!("{} cause.{tag}", e.code));
            }
            if e.remedy
                .get(tag)
                .is_none_or(|r| r.is_empty() || r.iter().any(|s| s.trim().is_empty()))
            {
                missing.push(format!("{} remedy.{tag}", e.code));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "pages missing text:\n{}",
        missing.join("\n")
    );
}

/// The fixed codes of PRODUCT.md keep their meaning: each documented message is recognized
/// as its code, and each title still says what the code is about.
#[test]
fn fixed_codes_keep_their_meaning() {
    let messages = [
        ("LC201", "Could not save the lead to Dynamics CRM. LastCRMError: The request channel timed out while waiting for a reply after 00:02:00. Increase the timeout value passed to the call to Request or increase the SendTimeout value on the Binding."),
        ("LC301", "Could not save the lead to Dynamics CRM. Check the Dynamics CRM account settings. LastCRMError: Unable to sign in to Dynamics CRM, LastCRMException:"),
        ("LC301", "AADSTS50126: Error validating credentials due to invalid username or password."),
        ("LC301", "AADSTS50034: The user account does not exist in the contoso.com directory."),
        ("LC302", "Could not save the lead to Dynamics CRM using AAD. Exception:: Tenant not found. This instance may happen if there are no active subscriptions for the tenant."),
        ("LC302", "AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found."),
        ("LC303", "Could not save the lead to Dynamics CRM using AAD. Exception:: Application with identifier was not found in the directory"),
        ("LC303", "AADSTS700016: Application with identifier '6731de76-14a6-49ae-97bc-6eba6914391e' was not found in the directory 'contoso'."),
        ("LC304", "Could not save the lead to Dynamics CRM using AAD. Exception:: Requested tenant identifier is not valid and not valid external domain format"),
        ("LC304", "AADSTS900023: Specified tenant identifier 'not-a-guid' is neither a valid DNS name, nor a valid external domain."),
        ("LC305", "Could not save the lead to Dynamics CRM using AAD. Exception:: Error validating credentials.: Invalid client secret is provided."),
        ("LC305", "AADSTS7000215: Invalid client secret provided."),
        ("LC401", "Could not save the lead to Dynamics CRM. User does not have create permissions for the leadsourcecode attribute in the lead entity"),
        ("LC402", "Could not save the lead to Dynamics CRM. LastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user."),
        ("LC402", "Dataverse error 0x80042f09"),
    ];
    for (code, text) in messages {
        let found: Vec<String> = match_text(text).into_iter().map(|m| m.code).collect();
        assert_eq!(
            found.first().map(String::as_str),
            Some(code),
            "{text}\n-> {found:?}"
        );
    }
    let titles = [
        ("LC101", "blob"),
        ("LC201", "timed out"),
        ("LC301", "sign in"),
        ("LC302", "tenant not found"),
        ("LC303", "application"),
        ("LC304", "not valid"),
        ("LC305", "client secret"),
        ("LC401", "leadsourcecode"),
        ("LC402", "no security roles"),
        ("LC501", "picklist"),
        ("LC601", "no leads"),
        ("LC602", ".edu"),
        ("LC603", "msft_test"),
        ("LC604", "e-mail"),
        ("LC605", "azure table"),
        ("LC606", "notified"),
        ("LC607", "cost"),
        ("LC608", "notification"),
        ("LC609", "lead destination"),
        ("LC610", "help"),
    ];
    let catalog = Catalog::get();
    for (code, needle) in titles {
        let e = catalog
            .entry(code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert!(
            e.title(Lang::En).to_lowercase().contains(needle),
            "{code}: {:?} should be about {needle:?}",
            e.title(Lang::En)
        );
    }
    assert!(catalog
        .entry("LC101")
        .is_some_and(|e| e.destinations.iter().any(|d| d == "azure-blob")));
}

/// What tickets and the machine-translated seeds do to a message does not matter.
#[test]
fn normalization_survives_pasting() {
    let cases = [
        ("LC402", "\x1b[31mLastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.\x1b[0m"),
        ("LC402", "<div><b>LastCRMError</b>: SecLib::RetrievePrivilegeForUser failed &ndash; no roles are assigned to user.</div>"),
        ("LC402", "LastCRMError：SecLib:: RetrievePrivilegeForUser 失敗 - 沒有指派任何角色給使用者。"),
        ("LC402", "Nie mozna zapisac potencjalnego klienta w programie Dynamics CRM. LastCRMError: SecLib:: RetrievePrivilegeForUser nie powiodla sie - zadne role nie sa przypisane do uzytkownika."),
        ("LC402", "> > On Monday you wrote:\n> > Could not save the lead to Dynamics CRM. LastCRMError: SecLib::Retrieve\u{200b}PrivilegeForUser failed -\n> > no roles are assigned to user."),
        ("LC302", "Could not save the lead to Dynamics CRM using AAD. Exception:: \u{201c}Tenant not found\u{201d}. This instance may happen if there are no active subscriptions for the tenant."),
        ("LC201", "LastCRMError: The request channel timed out while waiting for a reply after 00:01:30. Increase the timeout value"),
        ("LC303", "Exception:: Application with identifier '0f9d2b6c-1e4a-4c3b-9d2e-7a8b9c0d1e2f' was not found in the directory 'Contoso Ltd'"),
        ("LC305", "ＡＡＤＳＴＳ７０００２１５：Invalid client secret provided. Trace ID: 0f9d2b6c-1e4a-4c3b-9d2e-7a8b9c0d1e2f Correlation ID: 12345678-aaaa-bbbb-cccc-1234567890ab Timestamp: 2024-05-01 10:22:03Z"),
    ];
    for (code, text) in cases {
        let found: Vec<String> = match_text(text).into_iter().map(|m| m.code).collect();
        assert_eq!(
            found.first().map(String::as_str),
            Some(code),
            "{text:?}\n-> {found:?}"
        );
    }
    let m = &match_text("Nie mozna zapisac: zadne role nie sa przypisane do uzytkownika.")[0];
    assert_eq!((m.code.as_str(), m.language), ("LC402", TextLang::Pl));
}

#[test]
fn several_errors_in_one_text() {
    let text = "Two problems this week. First: AADSTS7000215: Invalid client secret provided.\n\
                After fixing it: Could not save the lead to Dynamics CRM. LastCRMError: SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user.";
    let mut found: Vec<String> = match_text(text).into_iter().map(|m| m.code).collect();
    found.sort();
    assert_eq!(found, ["LC305", "LC402"]);
}

#[test]
fn matches_carry_the_original_fragment() {
    let text = "Hi! We see <b>SecLib:: RetrievePrivilegeForUser</b> failing.";
    let m = &match_text(text)[0];
    assert_eq!(m.code, "LC402");
    assert!(
        text.contains(&m.matched),
        "{:?} is not from the original text",
        m.matched
    );
    assert!(m.confidence >= leadcheck::catalog::matcher::THRESHOLD && m.confidence <= 1.0);
}

#[test]
fn the_build_time_index_agrees_with_the_pages() {
    use leadcheck::catalog::{summaries, Catalog};
    use leadcheck::lang::Lang;
    let entries = Catalog::get().entries();
    let index: Vec<_> = summaries().collect();
    assert_eq!(index.len(), entries.len(), "every page is in the index");
    for (s, e) in index.iter().zip(entries) {
        assert_eq!(s.code, e.code);
        assert_eq!(s.status, e.status.as_str());
        assert_eq!(s.destinations, e.destinations.as_slice());
        for lang in [Lang::En, Lang::Pl, Lang::PtBr, Lang::ZhTw, Lang::KoKr] {
            assert_eq!(s.title(lang), e.title(lang), "{} in {lang:?}", e.code);
        }
        let page = leadcheck::catalog::page(&e.code).expect("page parses alone");
        assert_eq!(page.title, e.title);
    }
}

/// What tickets do to a message: case, accents typed or not, decomposed accents, full-width
/// letters, zero-width characters, odd spacing, HTML, line breaks.
fn variants(text: &str) -> Vec<String> {
    use unicode_normalization::UnicodeNormalization;
    let full_width: String = text
        .chars()
        .map(|c| match c {
            '!'..='~' => char::from_u32(c as u32 - 0x21 + 0xff01).unwrap_or(c),
            c => c,
        })
        .collect();
    vec![
        text.to_string(),
        text.to_uppercase(),
        text.to_lowercase(),
        text.nfd()
            .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
            .collect(),
        text.nfd().collect(),
        full_width,
        text.replace(' ', "\u{200b} "),
        text.replace(' ', "  \n> "),
        format!("<p>{}</p>", text.replace(' ', "&nbsp;")),
        text.split_whitespace().collect::<Vec<_>>().join(""),
    ]
}

/// The prefilter is sound: whatever the full matcher recognizes, the prefilter lets through
/// (see `src/catalog/prefilter.rs` for the argument). Checked on every fixture message and
/// the equivalence corpus, each in the variants tickets produce.
#[test]
fn the_prefilter_passes_every_text_that_matches() {
    use leadcheck::catalog::matcher::Matcher;
    let m = Matcher::get();
    assert!(
        m.unfiltered().is_empty(),
        "signatures the prefilter cannot express: {:?}",
        m.unfiltered()
    );
    let mut texts: Vec<String> = Vec::new();
    for f in std::fs::read_dir(fixture("messages")).expect("fixtures/messages") {
        let name = f.expect("entry").file_name().to_string_lossy().to_string();
        texts.extend(
            fixture_lines(&format!("messages/{name}"))
                .into_iter()
                .map(|l| l.2),
        );
    }
    let corpus = std::fs::read_to_string(fixture("equivalence/input.txt")).expect("corpus");
    texts.extend(corpus.lines().map(str::to_string));
    let (mut matched, mut missed) = (0, Vec::new());
    for t in &texts {
        for v in variants(t) {
            if !m.match_text(&v).is_empty() {
                matched += 1;
                if !m.might_match(&v) {
                    missed.push(v);
                }
            }
        }
    }
    assert!(matched > 1000, "only {matched} matching texts checked");
    assert!(
        missed.is_empty(),
        "the prefilter rejected {} of {matched} texts that match, e.g. {:?}",
        missed.len(),
        missed.iter().take(3).collect::<Vec<_>>()
    );
}

/// And it is selective: an ordinary ticket reaches the full matcher only when it names
/// something of the lead world (Partner Center, the marketplace, a CRM), whose weak
/// evidence the matcher must then weigh.
#[test]
fn the_prefilter_rejects_ordinary_tickets() {
    use leadcheck::catalog::matcher::Matcher;
    let m = Matcher::get();
    const CUES: &[&str] = &[
        "partner center",
        "centrum partnerski",
        "marketplace",
        "crm",
        "合作夥伴中心",
        "合作伙伴中心",
        "商業市集",
        "商业市场",
        "파트너 센터",
        "마켓플레이스",
    ];
    let passed: Vec<String> = fixture_lines("messages/ordinary.txt")
        .into_iter()
        .map(|l| l.2)
        .filter(|t| m.might_match(t))
        .filter(|t| !CUES.iter().any(|c| t.to_lowercase().contains(c)))
        .collect();
    assert!(
        passed.is_empty(),
        "ordinary tickets the prefilter passes without a cue: {passed:?}"
    );
}

/// `catalog/matcher.bin` is the matcher built from this checkout's catalog and code (see
/// src/catalog/compiled.rs). When stale, leadcheck still works (it builds the matcher at run
/// time) but starts slowly; this test then fails. `LEADCHECK_BLESS=1` writes the file.
#[test]
fn compiled_matcher_is_current() {
    use leadcheck::catalog::compiled;
    use leadcheck::catalog::matcher::Matcher;
    let fresh = compiled::serialize(&Matcher::build(Catalog::get().entries()));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/matcher.bin");
    let on_disk = std::fs::read(&path).unwrap_or_default();
    if on_disk != fresh && std::env::var_os("LEADCHECK_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    assert!(
        on_disk == fresh,
        "catalog/matcher.bin is stale (the catalog or the matcher changed): run \
         `LEADCHECK_BLESS=1 cargo test --test testsuite compiled_matcher` and commit the file"
    );
    // What this build embeds is what is on disk (a rebuild follows a blessed file).
    assert_eq!(compiled::embedded(), on_disk.as_slice());
    assert!(compiled::is_current());
    // And it loads into a matcher that answers as the built one does.
    let loaded = compiled::load().expect("the embedded matcher deserializes");
    let built = Matcher::build(Catalog::get().entries());
    assert_eq!(
        loaded.literals(),
        built.literals(),
        "the part only triage loads"
    );
    for (_, _, text) in fixture_lines("messages/LC402.txt")
        .into_iter()
        .chain(fixture_lines("messages/ordinary.txt"))
    {
        assert_eq!(loaded.match_text(&text), built.match_text(&text), "{text}");
        assert_eq!(
            loaded.might_match(&text),
            built.might_match(&text),
            "{text}"
        );
    }
}
