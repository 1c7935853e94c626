//! `lint`: offline checks of a parsed config, one finding per wrong value (codes LC1xx, and
//! LC304 for a malformed directory ID). Nothing here touches the network. Evidence names the
//! field and what is wrong with it; secrets are never shown, URLs are shown redacted.

use super::connection_string;
use super::model::*;
use crate::app::App;
use crate::cli::{LintArgs, ReportFormat};
use crate::destination::Run;
use crate::exit::Exit;
use crate::net::{is_loopback_host, redact_url_str};
use crate::report::{DestinationReport, Finding, RunReport, Status};
use crate::secret::Secret;
use regex::Regex;
use std::net::IpAddr;
use std::sync::OnceLock;
use url::Url;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("constant regex"))
}

/// A GUID in its usual 8-4-4-4-12 hex form.
pub fn is_guid(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    )
    .is_match(s)
}

/// A DNS domain name with at least two labels (`contoso.onmicrosoft.com`).
pub fn is_domain(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    s.len() <= 253
        && re(
            &R,
            r"^(?i)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
        )
        .is_match(s.trim_end_matches('.'))
}

/// One plain e-mail address (no display name).
pub fn is_email(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[^@\s;,<>()]+@[^@\s;,<>()]+\.[^@\s;,<>().]{2,}$").is_match(s)
}

/// A Salesforce organization ID: `00D` and 12 or 15 more letters and digits.
pub fn is_salesforce_oid(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$").is_match(s)
}

/// A Marketo Munchkin ID: `123-ABC-456`.
pub fn is_munchkin_id(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[0-9]{3}-[A-Za-z]{3}-[0-9]{3}$").is_match(s)
}

/// Azure Table naming rules: 3 to 63 letters and digits, starting with a letter, not the
/// reserved `tables`. Returns what is wrong.
pub fn table_name_problem(s: &str) -> Option<&'static str> {
    if !(3..=63).contains(&s.chars().count()) {
        Some("must be 3 to 63 characters long")
    } else if !s.chars().all(|c| c.is_ascii_alphanumeric()) {
        Some("may hold only letters and digits")
    } else if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        Some("must start with a letter")
    } else if s.eq_ignore_ascii_case("tables") {
        Some("`tables` is reserved")
    } else {
        None
    }
}

/// A Dynamics 365 online host, in the commercial cloud (crm, crm2 ... crm21) or a sovereign
/// one.
pub fn is_dynamics_online_host(host: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let r = re(
        &R,
        r"^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+(crm([2-9]|1[0-9]|2[01])?\.dynamics\.com|crm\.microsoftdynamics\.us|crm\.appsplatform\.us|crm\.dynamics\.cn|crm\.microsoftdynamics\.de)$",
    );
    r.is_match(&host)
}

/// A Power Automate or Logic Apps "When a HTTP request is received" URL.
pub fn is_flow_url(url: &Url) -> bool {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let path = url.path().to_ascii_lowercase();
    let flow_host = [
        ".logic.azure.com",
        ".logic.azure.us",
        ".logic.azure.cn",
        ".powerplatform.com",
    ]
    .iter()
    .any(|s| host.ends_with(s));
    flow_host || (path.contains("/workflows/") && path.contains("/triggers/"))
}

fn private_ip(host: &str) -> bool {
    match host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
    {
        Ok(IpAddr::V4(v4)) => v4.is_private() || v4.is_link_local() || v4.is_unspecified(),
        Ok(IpAddr::V6(v6)) => {
            (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
        Err(_) => false,
    }
}

/// Collects the findings of one destination.
struct Lint<'a> {
    dest: &'a Destination,
    findings: Vec<Finding>,
}

impl Lint<'_> {
    fn error(&mut self, code: &str, field: &str, evidence: String) {
        self.findings
            .push(Finding::error(code, evidence).at(self.dest.loc(field)));
    }

    fn warning(&mut self, code: &str, field: &str, evidence: String) {
        self.findings
            .push(Finding::warning(code, evidence).at(self.dest.loc(field)));
    }

    fn info(&mut self, code: &str, field: &str, evidence: String) {
        self.findings
            .push(Finding::info(code, evidence).at(self.dest.loc(field)));
    }

    fn missing(&mut self, field: &str, why: &str) {
        let code = "LC102";
        let ev = format!("`{field}` is missing{why}");
        // A missing field has no location of its own: point at the destination.
        self.findings
            .push(Finding::error(code, ev).at(self.dest.location.clone()));
    }

    fn required_str<'s>(
        &mut self,
        field: &str,
        v: &'s Option<String>,
        why: &str,
    ) -> Option<&'s str> {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(s),
            _ => {
                self.missing(field, why);
                None
            }
        }
    }

    /// A URL field: parsed, http(s), with a host; plain http only to loopback.
    fn url(&mut self, field: &str, raw: &str) -> Option<Url> {
        let shown = redact_url_str(raw, None);
        let url = match Url::parse(raw.trim()) {
            Ok(u) => u,
            Err(e) => {
                self.error(
                    "LC103",
                    field,
                    format!(
                        "`{field}` = \"{shown}\" is not a URL ({e}); expected https://host/..."
                    ),
                );
                return None;
            }
        };
        let host = url.host_str().unwrap_or("").to_string();
        if !matches!(url.scheme(), "http" | "https") || host.is_empty() {
            self.error(
                "LC103",
                field,
                format!("`{field}` = \"{shown}\" is not an https URL with a host"),
            );
            return None;
        }
        if url.scheme() == "http" && !is_loopback_host(&host) {
            self.error(
                "LC104",
                field,
                format!("`{field}` = \"{shown}\" uses plain http to {host}; use https"),
            );
        }
        if private_ip(&host) {
            self.warning(
                "LC118",
                field,
                format!("`{field}` points at the private address {host}, which the marketplace cannot reach"),
            );
        }
        Some(url)
    }

    fn optional_url(&mut self, field: &str, v: &Option<String>) -> Option<Url> {
        v.as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| self.url(field, s))
    }

    /// A secret field: where it comes from (LC105 for plain text) and whether it was read
    /// (LC106). `plain_is_secret` is false for a URL that carries no signature.
    fn secret<'s>(
        &mut self,
        field: &str,
        f: &'s Option<SecretField>,
        why: &str,
        plain_is_secret: bool,
    ) -> Option<&'s Secret> {
        let Some(f) = f else {
            if !why.is_empty() {
                self.missing(field, why);
            }
            return None;
        };
        // An empty string written in place is a value not filled in yet.
        if matches!(f.source, SecretSource::Plain | SecretSource::Flag)
            && f.value.as_ref().is_ok_and(|v| v.expose().trim().is_empty())
        {
            self.missing(field, why);
            return None;
        }
        match (&f.source, plain_is_secret) {
            (SecretSource::Plain, true) => self.warning(
                "LC105",
                field,
                format!("`{field}` is written in the config file; use {{ env = \"VAR\" }} or {{ file = \"PATH\" }}"),
            ),
            (SecretSource::Flag, true) => {
                let flag = field.replace('_', "-");
                self.warning(
                    "LC105",
                    field,
                    format!("--{flag} was given as a literal, which shows in `ps` and shell history; use env:VAR, file:PATH or -"),
                )
            }
            _ => {}
        }
        match &f.value {
            Err(reason) => {
                self.error("LC106", field, format!("`{field}`: {reason}"));
                None
            }
            Ok(s) if s.expose().trim().is_empty() => {
                let from = match &f.source {
                    SecretSource::Env(v) => format!(" (the environment variable {v} is empty)"),
                    SecretSource::File(p) => format!(" (the file {} is empty)", p.display()),
                    SecretSource::Stdin => " (standard input was empty)".into(),
                    _ => String::new(),
                };
                self.error("LC106", field, format!("`{field}` is empty{from}"));
                None
            }
            Ok(s) => Some(s),
        }
    }

    fn guid(&mut self, code: &str, field: &str, v: &str) {
        if !is_guid(v) {
            self.error(
                code,
                field,
                format!("`{field}` = \"{v}\" is not a GUID (8-4-4-4-12 hexadecimal digits)"),
            );
        }
    }
}

/// The findings of one destination, each pointing at the field it is about.
pub fn lint_destination(dest: &Destination) -> Vec<Finding> {
    let mut l = Lint {
        dest,
        findings: Vec::new(),
    };
    for e in &dest.common.contact_email {
        if !is_email(e.trim()) {
            l.error(
                "LC108",
                "contact_email",
                format!("\"{e}\" is not an e-mail address"),
            );
        }
    }
    match &dest.spec {
        Spec::Dynamics(d) => dynamics(&mut l, d),
        Spec::Salesforce(s) => salesforce(&mut l, s),
        Spec::Marketo(m) => marketo(&mut l, m),
        Spec::AzureTable(t) => azure_table(&mut l, t),
        Spec::Https(h) => https(&mut l, h),
        Spec::AzureBlob(b) => {
            l.error(
                "LC101",
                "type",
                "the destination is Azure Blob storage, which the marketplace no longer delivers to".into(),
            );
            // Its secret still should not sit in a file.
            l.secret(
                "storage_account_connection_string",
                &b.storage_account_connection_string,
                "",
                true,
            );
        }
        Spec::Nothing { kind } => {
            let what = if kind == "email" {
                "e-mail only"
            } else {
                "none"
            };
            l.warning(
                "LC117",
                "type",
                format!("the lead destination is {what}: there is nothing to test"),
            );
        }
    }
    l.findings
}

fn dynamics(l: &mut Lint, d: &Dynamics) {
    if let Some(raw) = l.required_str("instance_url", &d.instance_url, "") {
        if let Some(url) = l.url("instance_url", raw) {
            let host = url.host_str().unwrap_or("");
            if !is_loopback_host(host)
                && (url.scheme() != "https" || !is_dynamics_online_host(host))
            {
                l.error(
                    "LC112",
                    "instance_url",
                    format!(
                        "`instance_url` host {host} is not a Dynamics 365 online host such as contoso.crm.dynamics.com"
                    ),
                );
            }
        }
    }
    // The mode, or the one the other fields imply.
    let auth = d.authentication.or(
        if d.application_id.is_some() || d.directory_id.is_some() || d.application_key.is_some() {
            Some(DynamicsAuth::AzureAd)
        } else if d.username.is_some() || d.password.is_some() {
            Some(DynamicsAuth::Office365)
        } else {
            None
        },
    );
    match auth {
        None => l.missing("authentication", " (\"azure-ad\" or \"office-365\")"),
        Some(DynamicsAuth::AzureAd) => {
            let why = " (needed with azure-ad authentication)";
            if let Some(v) = l.required_str("directory_id", &d.directory_id, why) {
                if !is_guid(v) && !is_domain(v) {
                    l.error(
                        "LC304",
                        "directory_id",
                        format!(
                            "`directory_id` = \"{v}\" is neither a GUID nor a domain such as contoso.onmicrosoft.com"
                        ),
                    );
                }
            }
            if let Some(v) = l.required_str("application_id", &d.application_id, why) {
                l.guid("LC107", "application_id", v);
            }
            l.secret("application_key", &d.application_key, why, true);
        }
        Some(DynamicsAuth::Office365) => {
            let why = " (needed with office-365 authentication)";
            l.required_str("username", &d.username, why);
            l.secret("password", &d.password, why, true);
            if let Some(v) = d.client_id.as_deref() {
                l.guid("LC107", "client_id", v);
            }
        }
    }
    l.optional_url("authority_host", &d.authority_host);
}

fn salesforce(l: &mut Lint, s: &Salesforce) {
    if let Some(v) = l.required_str("object_identifier", &s.object_identifier, "") {
        if !is_salesforce_oid(v) {
            l.error(
                "LC113",
                "object_identifier",
                format!("`object_identifier` = \"{v}\" is not an organization ID (00D and 12 or 15 more letters and digits)"),
            );
        }
    }
    l.optional_url("endpoint", &s.endpoint);
    l.optional_url("api_instance_url", &s.api_instance_url);
    let token = l.secret("api_access_token", &s.api_access_token, "", true);
    match (&s.api_instance_url, &s.api_access_token) {
        (Some(_), None) => l.warning(
            "LC102",
            "api_instance_url",
            "`api_access_token` is missing: arrival cannot be verified without it".into(),
        ),
        (None, Some(_)) if token.is_some() => l.warning(
            "LC102",
            "api_access_token",
            "`api_instance_url` is missing: arrival cannot be verified without it".into(),
        ),
        _ => {}
    }
}

fn marketo(l: &mut Lint, m: &Marketo) {
    if let Some(v) = l.required_str("munchkin_id", &m.munchkin_id, "") {
        if !is_munchkin_id(v) {
            l.error(
                "LC114",
                "munchkin_id",
                format!("`munchkin_id` = \"{v}\" is not a Munchkin ID such as 123-ABC-456"),
            );
        }
    }
    if let Some(v) = l.required_str("form_id", &m.form_id, "") {
        if v.is_empty() || !v.chars().all(|c| c.is_ascii_digit()) {
            l.error(
                "LC115",
                "form_id",
                format!("`form_id` = \"{v}\" is not a number (the form's id, e.g. 1179)"),
            );
        }
    }
    let why = " (Partner Center asks for the LaunchPoint service's client ID and secret)";
    l.required_str("client_id", &m.client_id, why);
    l.secret("client_secret", &m.client_secret, why, true);
    if let Some(v) = m.server_id.as_deref().filter(|v| !v.is_empty()) {
        l.info(
            "LC116",
            "server_id",
            format!("`server_id` = \"{v}\" is no longer used by Partner Center; it can be removed"),
        );
    }
    l.optional_url("endpoint", &m.endpoint);
}

fn azure_table(l: &mut Lint, t: &AzureTable) {
    if let Some(cs) = l.secret(
        "storage_account_connection_string",
        &t.storage_account_connection_string,
        "",
        true,
    ) {
        match connection_string::parse(cs.expose()) {
            Err(why) => l.error(
                "LC109",
                "storage_account_connection_string",
                format!("the connection string: {why}"),
            ),
            Ok(acct) => {
                let host = acct.table_endpoint.host_str().unwrap_or("").to_string();
                if acct.is_development() {
                    l.warning(
                        "LC119",
                        "storage_account_connection_string",
                        "the connection string uses the local storage emulator (devstoreaccount1), which the marketplace cannot reach".into(),
                    );
                } else if acct.table_endpoint.scheme() == "http" && !is_loopback_host(&host) {
                    l.error(
                        "LC104",
                        "storage_account_connection_string",
                        format!(
                            "the connection string sends to {host} over plain http; use DefaultEndpointsProtocol=https"
                        ),
                    );
                }
            }
        }
    } else if t.storage_account_connection_string.is_none() {
        l.missing("storage_account_connection_string", "");
    }
    if let Some(name) = t.table.as_deref() {
        if let Some(why) = table_name_problem(name) {
            l.error(
                "LC110",
                "table",
                format!("`table` = \"{name}\": a table name {why}"),
            );
        }
    }
}

fn https(l: &mut Lint, h: &Https) {
    let Some(field) = &h.https_endpoint_url else {
        l.missing("https_endpoint_url", "");
        return;
    };
    // A URL without a signature is not a secret: no plain-text warning for it.
    let signed = field
        .value
        .as_ref()
        .ok()
        .and_then(|v| Url::parse(v.expose()).ok())
        .is_some_and(|u| u.query_pairs().any(|(k, _)| k.eq_ignore_ascii_case("sig")));
    let Some(raw) = l.secret("https_endpoint_url", &h.https_endpoint_url, "", signed) else {
        return;
    };
    let raw = raw.expose().to_string();
    if let Some(url) = l.url("https_endpoint_url", &raw) {
        if is_flow_url(&url) {
            let has = |p: &str| url.query_pairs().any(|(k, v)| k == p && !v.is_empty());
            let missing: Vec<&str> = ["sp", "sv", "sig"]
                .into_iter()
                .filter(|p| !has(p))
                .collect();
            if !missing.is_empty() {
                l.error(
                    "LC111",
                    "https_endpoint_url",
                    format!(
                        "the flow URL lacks {}: copy the whole HTTP POST URL from the trigger",
                        missing.join(", ")
                    ),
                );
            }
        }
    }
}

/// The `lint` command.
pub fn run(args: LintArgs, app: &mut App) -> anyhow::Result<Exit> {
    let stdin = &mut *app.stdin;
    let config = super::load_with_stdin(&args, &mut || {
        let mut s = String::new();
        std::io::Read::read_to_string(stdin, &mut s)?;
        Ok(s)
    })?;
    let format = crate::app::output_format("lint", args.format, args.json)?;
    let report = lint_config(&config, args.strict);
    let color = app.term.color && format == ReportFormat::Human;
    let style = crate::report::human::Style::for_stdout(
        &app.term,
        crate::report::human::Next::Rerun {
            cmd: "leadcheck lint",
            then: Some("run `leadcheck diagnose` to try the destinations for real"),
        },
    );
    crate::report::render_styled(&report, format, app.lang, color, &style, app.out)?;
    Ok(if report.status == Status::Fail {
        Exit::Findings
    } else {
        Exit::Ok
    })
}

/// A whole config's lint as a report: one destination each, with one `lint` check.
pub fn lint_config(config: &Config, strict: bool) -> RunReport {
    RunReport::new(
        config
            .destinations
            .iter()
            .map(|d| lint_report(d, strict))
            .collect(),
    )
}

/// One destination's lint as a report.
pub fn lint_report(dest: &Destination, strict: bool) -> DestinationReport {
    let mut run = Run::new();
    let step = run.step("lint", "Check the configuration");
    let findings = lint_destination(dest);
    let errors = findings
        .iter()
        .filter(|f| f.severity == crate::report::Severity::Error)
        .count();
    let warnings = findings
        .iter()
        .filter(|f| f.severity == crate::report::Severity::Warning)
        .count();
    let detail = match (errors, warnings) {
        (0, 0) => "the configuration is well-formed".to_string(),
        (e, w) => format!("{e} error(s), {w} warning(s)"),
    };
    let mut findings = findings.into_iter();
    if errors > 0 {
        let first = findings.next().expect("counted");
        run.fail(step, detail, first);
    } else if warnings > 0 {
        let first = findings.next().expect("counted");
        run.warn(step, detail, first);
    } else {
        run.pass(step, detail);
    }
    for f in findings {
        run.finding(f);
    }
    run.into_report(&dest.name, dest.kind(), strict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(toml: &str) -> Vec<String> {
        let c = crate::config::toml_file::parse(toml, "t.toml", None).unwrap();
        let mut v: Vec<String> = lint_destination(&c.destinations[0])
            .into_iter()
            .map(|f| f.code)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn formats() {
        assert!(is_guid("23456052-aaaa-bbbb-8662-1234df56788f"));
        assert!(!is_guid("12345678-8af1-4asf-1234-12234d01db47"));
        assert!(
            is_domain("contoso.onmicrosoft.com") && !is_domain("contoso") && !is_domain("a b.com")
        );
        assert!(is_email("a.b@contoso.com") && !is_email("a@b") && !is_email("a@@b.com"));
        assert!(
            is_salesforce_oid("00Do0000000ZHog")
                && is_salesforce_oid("00D36000000qRhaEAE")
                && !is_salesforce_oid("00Xo0000000ZHog")
        );
        assert!(is_munchkin_id("123-PQR-789") && !is_munchkin_id("123PQR789"));
        assert_eq!(table_name_problem("MarketplaceLeads"), None);
        assert!(
            table_name_problem("1abc").is_some()
                && table_name_problem("ab").is_some()
                && table_name_problem("Tables").is_some()
        );
        assert!(table_name_problem("my-leads").is_some());
        for h in [
            "contoso.crm.dynamics.com",
            "contoso.crm4.dynamics.com",
            "contoso.crm21.dynamics.com",
            "x.crm.microsoftdynamics.us",
            "x.crm.dynamics.cn",
        ] {
            assert!(is_dynamics_online_host(h), "{h}");
        }
        for h in [
            "crm.contoso.com",
            "contoso.crm22.dynamics.com",
            "contoso.dynamics.com",
            "contoso.crm.dynamics.com.evil.io",
        ] {
            assert!(!is_dynamics_online_host(h), "{h}");
        }
    }

    #[test]
    fn each_rule() {
        let dy = "[destination.d]\ntype = \"dynamics\"\n";
        assert_eq!(
            codes(&format!("{dy}instance_url = \"https://contoso.crm4.dynamics.com\"\nauthentication = \"azure-ad\"\ndirectory_id = \"contoso.onmicrosoft.com\"\napplication_id = \"23456052-aaaa-bbbb-8662-1234df56788f\"\napplication_key = {{ env = \"HOME\" }}\n")),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(&format!("{dy}instance_url = \"http://crm.contoso.com\"\nauthentication = \"azure-ad\"\ndirectory_id = \"not valid\"\napplication_id = \"x\"\napplication_key = \"k\"\n")),
            ["LC104", "LC105", "LC107", "LC112", "LC304"]
        );
        assert_eq!(
            codes(&format!("{dy}instance_url = \"contoso\"\n")),
            ["LC102", "LC103"]
        );
        assert_eq!(
            codes(&format!(
                "{dy}authentication = \"office365\"\ninstance_url = \"http://127.0.0.1:8080\"\n"
            )),
            ["LC102", "LC102"]
        );
        assert_eq!(
            codes("[destination.s]\ntype = \"salesforce\"\nobject_identifier = \"00X\"\n"),
            ["LC113"]
        );
        assert_eq!(codes("[destination.m]\ntype = \"marketo\"\nmunchkin_id = \"123\"\nform_id = \"a\"\nclient_id = \"c\"\nclient_secret = { file = \"/nonexistent/x\" }\nserver_id = \"ys12\"\n"), ["LC106", "LC114", "LC115", "LC116"]);
        assert_eq!(codes("[destination.t]\ntype = \"azure-table\"\nstorage_account_connection_string = \"UseDevelopmentStorage=true\"\ntable = \"tables\"\n"), ["LC105", "LC110", "LC119"]);
        assert_eq!(
            codes("[destination.t]\ntype = \"azure-table\"\nstorage_account_connection_string = { env = \"HOME\" }\n"),
            ["LC109"]
        );
        assert_eq!(codes("[destination.h]\ntype = \"https\"\nhttps_endpoint_url = \"https://prod-19.westcentralus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01\"\n"), ["LC111"]);
        assert_eq!(codes("[destination.h]\ntype = \"https\"\nhttps_endpoint_url = \"https://x.logic.azure.com/workflows/a/triggers/manual/paths/invoke?sp=1&sv=1.0&sig=abc\"\ncontact_email = \"nope\"\n"), ["LC105", "LC108"]);
        assert_eq!(
            codes("[destination.h]\ntype = \"https\"\nhttps_endpoint_url = \"https://10.0.0.5/leads\"\n"),
            ["LC118"]
        );
        assert_eq!(codes("[destination.h]\ntype = \"https\"\n"), ["LC102"]);
        assert_eq!(
            codes("[destination.h]\ntype = \"https\"\nhttps_endpoint_url = \"\"\n"),
            ["LC102"]
        );
        assert_eq!(codes("[destination.b]\ntype = \"azure-blob\"\n"), ["LC101"]);
        assert_eq!(codes("[destination.n]\ntype = \"none\"\n"), ["LC117"]);
    }

    #[test]
    fn evidence_hides_secrets() {
        let c = crate::config::toml_file::parse(
            "[destination.h]\ntype = \"https\"\nhttps_endpoint_url = \"http://x.logic.azure.com/workflows/a/triggers/m?sig=CANARYSIG\"\n",
            "t.toml",
            None,
        )
        .unwrap();
        let f = lint_destination(&c.destinations[0]);
        assert!(f.iter().any(|f| f.code == "LC104"));
        for x in &f {
            assert!(!x.evidence.contains("CANARYSIG"), "{}", x.evidence);
        }
        assert_eq!(f[0].location.as_ref().unwrap().to_string(), "t.toml:3:22");
    }
}
