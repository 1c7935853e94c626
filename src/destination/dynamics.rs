//! Dynamics 365 (Dataverse) through Microsoft Entra ID, as the marketplace signs in:
//! probe the instance and the authority; find the tenant by OpenID discovery (no secret);
//! ask the instance for its tenant (its 401 challenge); get a token (client credentials,
//! or the password grant for `office-365`); WhoAmI; the application user's roles; create
//! the MSFT_TEST lead; read it back; delete it with `--cleanup`.
//!
//! Entra ID errors are mapped by `error_codes[0]`, never by their text (which changes);
//! Dataverse errors by their hexadecimal `error.code` first, then the HTTP status.
//! Evidence is the server's own text, sanitized and redacted.

use super::{probe, record_cleaned, record_created, BoxFuture, Ctx, Destination, Run, Step};
use crate::config::{self, DynamicsAuth};
use crate::net::{redact_url_str, NetError, Response};
use crate::report::{Finding, Severity};
use crate::secret::Secret;
use reqwest::Method;
use serde_json::Value;
use url::Url;

/// The client id of the password grant when `client_id` is not set: the multi-tenant
/// public client Microsoft documents for Dataverse development (the XRM tooling connection
/// string examples use it), which already holds the Dynamics CRM delegated permission, so
/// an Office 365 user can sign in with it in any tenant without an app registration, as
/// the marketplace's own connector does with only a user name and a password.
pub const DEFAULT_PUBLIC_CLIENT_ID: &str = "51f81489-12ee-4a9e-aaae-a2591f45987d";

/// The role the marketplace's managed solution creates.
pub const LEAD_WRITER_ROLE: &str = "Microsoft Marketplace Lead Writer";

pub(crate) const API: &str = "api/data/v9.2";

const STEPS: &[(&str, &str)] = &[
    ("url", "Read the instance URL"),
    ("dns", "Resolve host"),
    ("connect", "Connect"),
    ("tls", "TLS handshake"),
    ("authority-dns", "Resolve the sign-in host"),
    ("authority-connect", "Connect to the sign-in host"),
    ("authority-tls", "TLS handshake with the sign-in host"),
    ("tenant", "Find the tenant (OpenID discovery)"),
    ("challenge", "Ask the instance for its tenant"),
    ("token", "Sign in to Entra ID"),
    ("whoami", "WhoAmI"),
    ("roles", "Security roles of the user"),
    ("send", "Create the MSFT_TEST lead"),
    ("verify", "Read the lead back"),
    ("cleanup", "Delete the test lead"),
];

/// The `dynamics` destination.
pub struct Dynamics {
    dest: config::Destination,
}

impl Dynamics {
    pub fn new(dest: config::Destination) -> Dynamics {
        Dynamics { dest }
    }
}

impl Destination for Dynamics {
    fn kind(&self) -> &'static str {
        "dynamics"
    }

    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        STEPS
    }

    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if let config::Spec::Dynamics(spec) = &self.dest.spec {
                diagnose(spec, ctx, run).await;
            }
        })
    }
}

/// How the destination signs in, read from the config.
pub(crate) enum Credentials<'a> {
    App {
        directory: &'a str,
        app: &'a str,
        key: &'a Secret,
    },
    User {
        username: &'a str,
        password: &'a Secret,
        client_id: &'a str,
    },
}

/// The Entra ID tenant a sign-in names (a GUID or a domain) and, once discovered, its GUID.
pub(crate) struct TenantInfo {
    pub(crate) configured: String,
    pub(crate) guid: Option<String>,
}

impl TenantInfo {
    /// The tenant the credentials name: the app's directory, or the user's domain.
    pub(crate) fn of(creds: &Credentials) -> TenantInfo {
        TenantInfo {
            configured: match creds {
                Credentials::App { directory, .. } => directory.to_string(),
                Credentials::User { username, .. } => username
                    .rsplit_once('@')
                    .map(|(_, d)| d.to_string())
                    .unwrap_or_default(),
            },
            guid: None,
        }
    }
}

async fn diagnose(spec: &config::Dynamics, ctx: &Ctx, run: &mut Run) {
    // url: the instance, the authority and the credentials.
    let step = run.step("url", "Read the instance URL");
    let Some((instance, authority, creds)) = read_config(spec, ctx, run, step) else {
        return;
    };

    if !probe(ctx, run, &instance).await {
        return;
    }
    if (authority.host_str(), authority.port_or_known_default())
        != (instance.host_str(), instance.port_or_known_default())
    {
        // The authority's network steps get their own ids, so each id names one step.
        let before = run.checks.len();
        let ok = probe(ctx, run, &authority).await;
        for c in &mut run.checks[before..] {
            c.id = format!("authority-{}", c.id);
        }
        if !ok {
            return;
        }
    }

    let mut tenant = TenantInfo::of(&creds);
    if !discover_tenant(ctx, run, &authority, &mut tenant).await {
        return;
    }
    let Some(resource) = challenge(ctx, run, &instance, &tenant).await else {
        return;
    };
    let Some(token) = sign_in(ctx, run, &authority, &tenant, &creds, &resource).await else {
        return;
    };
    let Some(user_id) = who_am_i(ctx, run, &instance, &token).await else {
        return;
    };
    if !roles(ctx, run, &instance, &token, &user_id).await {
        return;
    }
    let step = run.step("send", "Create the MSFT_TEST lead");
    if ctx.dry_run {
        run.skip(step, "dry run: the lead was not sent");
        return;
    }
    let Some(lead_id) = create_lead(ctx, run, step, &instance, &token).await else {
        return;
    };
    verify(ctx, run, &instance, &token, &lead_id).await;
    if ctx.cleanup {
        cleanup(ctx, run, &instance, &token, &lead_id).await;
    }
}

pub(crate) fn read_config<'a>(
    spec: &'a config::Dynamics,
    ctx: &Ctx,
    run: &mut Run,
    step: Step,
) -> Option<(Url, Url, Credentials<'a>)> {
    let missing = |run: &mut Run, step: Step, field: &str| {
        let why = format!("{field} is missing");
        run.fail(step, why.clone(), Finding::error("LC102", why));
    };
    let Some(raw) = spec
        .instance_url
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    else {
        missing(run, step, "instance_url");
        return None;
    };
    let instance = match ctx.net.check_url(raw) {
        // The Web API lives at the origin; a pasted path (`/main.aspx`) is dropped.
        Ok(mut u) => {
            u.set_path("");
            u.set_query(None);
            u.set_fragment(None);
            u
        }
        Err(e) => {
            super::fail(run, step, &e);
            return None;
        }
    };
    let raw_authority = spec
        .authority_host
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(config::model::DEFAULT_AUTHORITY);
    let authority = match ctx.net.check_url(raw_authority) {
        Ok(u) => u,
        Err(e) => {
            super::fail(run, step, &e);
            return None;
        }
    };
    let secret = |f: &'a Option<config::SecretField>| f.as_ref().and_then(|f| f.secret());
    let creds = match spec.authentication {
        None => {
            missing(run, step, "authentication");
            return None;
        }
        Some(DynamicsAuth::AzureAd) => {
            let (Some(directory), Some(app), Some(key)) = (
                spec.directory_id.as_deref(),
                spec.application_id.as_deref(),
                secret(&spec.application_key),
            ) else {
                let absent: Vec<&str> = [
                    ("directory_id", spec.directory_id.is_none()),
                    ("application_id", spec.application_id.is_none()),
                    ("application_key", secret(&spec.application_key).is_none()),
                ]
                .iter()
                .filter(|(_, m)| *m)
                .map(|(f, _)| *f)
                .collect();
                missing(run, step, &absent.join(", "));
                return None;
            };
            Credentials::App {
                directory: directory.trim(),
                app: app.trim(),
                key,
            }
        }
        Some(DynamicsAuth::Office365) => {
            let (Some(username), Some(password)) =
                (spec.username.as_deref(), secret(&spec.password))
            else {
                let field = if spec.username.is_none() {
                    "username"
                } else {
                    "password"
                };
                missing(run, step, field);
                return None;
            };
            let client_id = spec
                .client_id
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .unwrap_or(DEFAULT_PUBLIC_CLIENT_ID);
            Credentials::User {
                username: username.trim(),
                password,
                client_id,
            }
        }
    };
    let how = match &creds {
        Credentials::App { app, .. } => format!("application {app}"),
        Credentials::User { username, .. } => {
            format!("user {}", crate::term::sanitize(username, false))
        }
    };
    run.pass(
        step,
        format!(
            "{} (signing in at {} as {how})",
            instance.as_str().trim_end_matches('/'),
            authority.as_str().trim_end_matches('/')
        ),
    );
    Some((instance, authority, creds))
}

/// `authority/<segments...>` keeping any path the authority host has.
fn under(base: &Url, segments: &[&str]) -> Url {
    let mut u = base.clone();
    if let Ok(mut p) = u.path_segments_mut() {
        p.pop_if_empty();
        p.extend(segments);
    }
    u
}

pub(crate) fn api(instance: &Url, rest: &str) -> Option<Url> {
    Url::parse(&format!(
        "{}/{API}/{rest}",
        instance.as_str().trim_end_matches('/')
    ))
    .ok()
}

/// Sends a request; on a network error fails `step` (a timeout of the instance is LC201:
/// what the marketplace reports as "The request channel timed out ... after 00:02:00").
async fn send(
    ctx: &Ctx,
    run: &mut Run,
    step: Step,
    req: reqwest::RequestBuilder,
    instance: bool,
) -> Option<(Step, Response)> {
    let (step, req) = super::build(run, step, req)?;
    match ctx.net.send(req).await {
        Ok(resp) => Some((step, resp)),
        Err(e) if instance && e.code == "LC209" => {
            let evidence = format!(
                "{}; the marketplace waits 2 minutes and reports \"The request channel timed out while waiting for a reply after 00:02:00\"",
                e.evidence
            );
            run.fail(step, evidence.clone(), Finding::error("LC201", evidence));
            None
        }
        Err(e) => {
            super::fail(run, step, &e);
            None
        }
    }
}

pub(crate) fn dataverse(
    ctx: &Ctx,
    method: Method,
    url: Url,
    token: Option<&Secret>,
) -> reqwest::RequestBuilder {
    let mut r = ctx
        .net
        .request(method, url)
        .header("Accept", "application/json")
        .header("OData-MaxVersion", "4.0")
        .header("OData-Version", "4.0");
    if let Some(t) = token {
        r = r.header(
            "Authorization",
            crate::net::sensitive(&format!("Bearer {}", t.expose())),
        );
    }
    r
}

/// Cuts and cleans a server's text for the report: its first line, URLs redacted (a query
/// may hold a signature), a bearer token masked, control characters escaped.
pub(crate) fn clean(text: &str, max: usize) -> String {
    let one: String = text
        .split(['\r', '\n'])
        .next()
        .unwrap_or("")
        .chars()
        .take(max)
        .collect();
    let mut masked = Vec::new();
    let mut after_bearer = false;
    for w in one.split_whitespace() {
        masked.push(if after_bearer {
            crate::secret::REDACTED.to_string()
        } else if w.contains("://") {
            let t = w.trim_matches(|c| matches!(c, '(' | ')' | ',' | '\'' | '"'));
            w.replace(t, &redact_url_str(t, None))
        } else {
            w.to_string()
        });
        after_bearer = w.eq_ignore_ascii_case("bearer");
    }
    crate::term::sanitize(&masked.join(" "), false)
}

// ----- Entra ID -----

/// An Entra ID error body: (`error`, `error_codes[0]`, first line of the description,
/// trace id).
fn aad_error(resp: &Response) -> Option<(String, u64, String, String)> {
    let j = resp.json()?;
    let code = j.get("error_codes")?.as_array()?.first()?.as_u64()?;
    let s = |k: &str| j.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some((
        clean(&s("error"), 64),
        code,
        clean(&s("error_description"), 500),
        s("trace_id"),
    ))
}

/// The catalog code of an AADSTS error code.
pub fn aadsts_code(code: u64) -> &'static str {
    match code {
        90002 => "LC302",
        700016 => "LC303",
        900023 | 90013 => "LC304",
        7000215 => "LC305",
        7000222 => "LC306",
        50126 | 50034 => "LC301",
        50055 => "LC307",
        50057 => "LC308",
        50053 => "LC309",
        50076 | 50079 => "LC310",
        53003 => "LC311",
        500011 => "LC312",
        65001 => "LC313",
        7000218 => "LC320",
        // Anything else: the sign-in failed, as the marketplace's "Unable to sign in".
        _ => "LC301",
    }
}

/// The finding of an Entra ID error answer (public for the fuzz targets).
pub fn aad_finding(resp: &Response) -> Finding {
    match aad_error(resp) {
        Some((error, code, description, trace)) => {
            let trace = if trace.is_empty() {
                String::new()
            } else {
                format!(" (trace ID {})", clean(&trace, 64))
            };
            Finding::error(
                aadsts_code(code),
                format!(
                    "HTTP {} {error}: {description}{trace}",
                    resp.status.as_u16()
                ),
            )
        }
        None if resp.status.is_server_error() => Finding::error(
            "LC504",
            format!(
                "HTTP {} from Entra ID: {}",
                resp.status.as_u16(),
                clean(&resp.excerpt(200), 200)
            ),
        ),
        None => Finding::error(
            "LC103",
            format!(
                "HTTP {} without an Entra ID error: is authority_host an Entra ID sign-in host? {}",
                resp.status.as_u16(),
                clean(&resp.excerpt(200), 200)
            ),
        ),
    }
}

pub(crate) async fn discover_tenant(
    ctx: &Ctx,
    run: &mut Run,
    authority: &Url,
    tenant: &mut TenantInfo,
) -> bool {
    let step = run.step("tenant", "Find the tenant (OpenID discovery)");
    if tenant.configured.is_empty() {
        run.skip(
            step,
            "the user name has no @domain: the tenant is found at sign-in",
        );
        return true;
    }
    let url = under(
        authority,
        &[
            &tenant.configured,
            "v2.0",
            ".well-known",
            "openid-configuration",
        ],
    );
    let req = ctx
        .net
        .request(Method::GET, url)
        .header("Accept", "application/json");
    let Some((step, resp)) = send(ctx, run, step, req, false).await else {
        return false;
    };
    if resp.status.is_success() {
        let issuer = resp
            .json()
            .and_then(|j| j.get("issuer").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        // `https://login.microsoftonline.com/<tenant GUID>/v2.0`
        let guid = Url::parse(&issuer).ok().and_then(|u| {
            u.path_segments().and_then(|mut s| {
                s.find(|seg| uuid::Uuid::try_parse(seg).is_ok())
                    .map(str::to_string)
            })
        });
        let shown = crate::term::sanitize(&tenant.configured, false);
        match guid {
            Some(g) => {
                let detail = if g.eq_ignore_ascii_case(&tenant.configured) {
                    format!("tenant {g} exists")
                } else {
                    format!("{shown} is tenant {g}")
                };
                tenant.guid = Some(g.to_ascii_lowercase());
                run.pass(step, detail);
            }
            None => run.pass(step, format!("{shown} exists (no tenant ID in the issuer)")),
        }
        return true;
    }
    let finding = aad_finding(&resp);
    run.fail(step, finding.evidence.clone(), finding);
    false
}

/// The `WWW-Authenticate: Bearer k=v, k=v` parameters.
fn bearer_params(header: &str) -> Vec<(String, String)> {
    let rest = header.trim();
    let rest = rest
        .strip_prefix("Bearer")
        .or_else(|| rest.strip_prefix("bearer"))
        .unwrap_or(rest);
    rest.split(',')
        .filter_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            Some((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            ))
        })
        .collect()
}

/// The tenant in `authorization_uri=https://login.microsoftonline.com/<tenant>/oauth2/authorize`.
fn challenge_tenant(authorization_uri: &str) -> Option<String> {
    let u = Url::parse(authorization_uri).ok()?;
    let segs: Vec<&str> = u.path_segments()?.collect();
    let i = segs.iter().position(|s| *s == "oauth2")?;
    i.checked_sub(1).map(|j| segs[j].to_ascii_lowercase())
}

/// Returns the resource to ask a token for (the challenge's `resource_id`, else the
/// instance URL with `/`).
pub(crate) async fn challenge(
    ctx: &Ctx,
    run: &mut Run,
    instance: &Url,
    tenant: &TenantInfo,
) -> Option<String> {
    let step = run.step("challenge", "Ask the instance for its tenant");
    let fallback = format!("{}/", instance.as_str().trim_end_matches('/'));
    let url = api(instance, "WhoAmI")?;
    let (step, resp) = send(ctx, run, step, dataverse(ctx, Method::GET, url, None), true).await?;
    let header = resp.header("www-authenticate").map(str::to_string);
    let params = header.as_deref().map(bearer_params).unwrap_or_default();
    let get = |k: &str| {
        params
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if resp.status.as_u16() != 401 || get("authorization_uri").is_none() {
        let evidence = format!(
            "HTTP {} from {} without a Bearer challenge: not a Dataverse Web API; check the instance URL (https://<org>.crm<N>.dynamics.com)",
            resp.status.as_u16(),
            crate::net::redact_url(instance)
        );
        run.fail(step, evidence.clone(), Finding::error("LC201", evidence));
        return None;
    }
    let theirs = get("authorization_uri")
        .as_deref()
        .and_then(challenge_tenant);
    let resource = get("resource_id")
        .filter(|r| r.starts_with("http"))
        .unwrap_or(fallback);
    let ours = tenant
        .guid
        .clone()
        .unwrap_or_else(|| tenant.configured.to_ascii_lowercase());
    match theirs {
        Some(t) if !ours.is_empty() && t != ours && uuid::Uuid::try_parse(&t).is_ok() => {
            let evidence = format!(
                "the instance's 401 challenge names tenant {}, but the sign-in uses {} ({})",
                clean(&t, 64),
                crate::term::sanitize(&tenant.configured, false),
                ours
            );
            run.warn(step, evidence.clone(), Finding::warning("LC314", evidence));
        }
        Some(t) => run.pass(
            step,
            format!(
                "Dataverse at {} belongs to tenant {}",
                clean(&resource, 200),
                clean(&t, 64)
            ),
        ),
        None => run.pass(step, format!("Dataverse at {}", clean(&resource, 200))),
    }
    Some(resource)
}

pub(crate) async fn sign_in(
    ctx: &Ctx,
    run: &mut Run,
    authority: &Url,
    tenant: &TenantInfo,
    creds: &Credentials<'_>,
    resource: &str,
) -> Option<Secret> {
    let scope = format!("{}/.default", resource.trim_end_matches('/'));
    let (title, form): (&str, Vec<(&str, &str)>) = match creds {
        Credentials::App { app, key, .. } => (
            "Sign in to Entra ID (client credentials)",
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", app),
                ("client_secret", key.expose()),
                ("scope", &scope),
            ],
        ),
        Credentials::User {
            username,
            password,
            client_id,
        } => (
            "Sign in to Entra ID (Microsoft 365 user)",
            vec![
                ("grant_type", "password"),
                ("client_id", client_id),
                ("username", username),
                ("password", password.expose()),
                ("scope", &scope),
            ],
        ),
    };
    let step = run.step("token", title);
    let path_tenant = if tenant.configured.is_empty() {
        "organizations"
    } else {
        tenant.configured.as_str()
    };
    let url = under(authority, &[path_tenant, "oauth2", "v2.0", "token"]);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let req = ctx
        .net
        .request(Method::POST, url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    let (step, resp) = send(ctx, run, step, req, false).await?;
    if resp.status.is_success() {
        let j = resp.json().unwrap_or(Value::Null);
        if let Some(t) = j
            .get("access_token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        {
            let expires = j
                .get("expires_in")
                .map(|v| v.to_string().trim_matches('"').to_string())
                .unwrap_or_else(|| "?".into());
            run.pass(
                step,
                format!(
                    "a token for {} (expires in {expires} s)",
                    clean(&scope, 200)
                ),
            );
            return Some(Secret::new(t));
        }
        let evidence = format!("HTTP {} without an access_token", resp.status.as_u16());
        run.fail(step, evidence.clone(), Finding::error("LC301", evidence));
        return None;
    }
    let finding = aad_finding(&resp);
    run.fail(step, finding.evidence.clone(), finding);
    None
}

// ----- Dataverse -----

/// A Dataverse error body: (`error.code`, `error.message`).
pub(crate) fn dv_error(resp: &Response) -> (Option<String>, Option<String>) {
    let Some(j) = resp.json() else {
        return (None, None);
    };
    let e = j.get("error").unwrap_or(&j);
    let s = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
    (s("code"), s("message"))
}

/// The catalog code of a Dataverse error: its hexadecimal code first, then the status.
pub fn dataverse_code(status: u16, code: Option<&str>) -> &'static str {
    match code.map(str::to_ascii_lowercase).as_deref() {
        Some("0x80042f09") => "LC402",
        Some("0x8004f502") => "LC401",
        Some("0x80040220") | Some("0x80040231") => "LC403",
        Some("0x80072560") => "LC404",
        Some("0x80040225") => "LC405",
        Some("0x8004d24c") => "LC406",
        _ => match status {
            401 => "LC301",
            429 => "LC509",
            500..=599 => "LC504",
            _ => "LC515",
        },
    }
}

pub(crate) fn dv_evidence(resp: &Response) -> String {
    let (code, message) = dv_error(resp);
    let server = match (code, message) {
        (Some(c), Some(m)) => format!(": {}: {}", clean(&c, 32), clean(&m, 400)),
        (Some(c), None) => format!(": {}", clean(&c, 32)),
        (None, Some(m)) => format!(": {}", clean(&m, 400)),
        (None, None) if !resp.body.is_empty() => format!(": {}", clean(&resp.excerpt(200), 200)),
        (None, None) => String::new(),
    };
    format!(
        "HTTP {} {}{server}",
        resp.status.as_u16(),
        resp.status.canonical_reason().unwrap_or("")
    )
}

/// The finding of a Dataverse error answer (public for the fuzz targets).
pub fn dv_finding(resp: &Response) -> Finding {
    let (code, _) = dv_error(resp);
    Finding::error(
        dataverse_code(resp.status.as_u16(), code.as_deref()),
        dv_evidence(resp),
    )
}

/// A refusal to read (privilege denied): skipped, never a failure.
pub(crate) fn is_refusal(resp: &Response) -> bool {
    let (code, _) = dv_error(resp);
    resp.status.as_u16() == 403
        && matches!(
            code.map(|c| c.to_ascii_lowercase()).as_deref(),
            Some("0x80040220") | Some("0x80040231") | None
        )
}

async fn who_am_i(ctx: &Ctx, run: &mut Run, instance: &Url, token: &Secret) -> Option<String> {
    let step = run.step("whoami", "WhoAmI");
    let (step, resp) = send(
        ctx,
        run,
        step,
        dataverse(ctx, Method::GET, api(instance, "WhoAmI")?, Some(token)),
        true,
    )
    .await?;
    if resp.status.is_success() {
        let id = resp
            .json()
            .and_then(|j| j.get("UserId").and_then(Value::as_str).map(str::to_string));
        if let Some(id) = id.filter(|i| uuid::Uuid::try_parse(i).is_ok()) {
            run.pass(step, format!("signed in to Dataverse as user {id}"));
            return Some(id);
        }
        let evidence = format!(
            "HTTP {} without a UserId: not a Dataverse Web API",
            resp.status.as_u16()
        );
        run.fail(step, evidence.clone(), Finding::error("LC201", evidence));
        return None;
    }
    let mut finding = dv_finding(&resp);
    if resp.status.as_u16() == 401 {
        let why = resp
            .header("www-authenticate")
            .map(bearer_params)
            .and_then(|p| {
                p.into_iter()
                    .find(|(k, _)| k == "error_description")
                    .map(|(_, v)| clean(&v, 200))
            })
            .unwrap_or_else(|| "no reason given".into());
        // A token from another tenant than the instance's: the warning was the cause.
        if let Some(i) = run
            .findings
            .iter()
            .position(|f| f.code == "LC314" && f.severity == Severity::Warning)
        {
            let warned = run.findings.remove(i);
            finding = Finding::error(
                "LC314",
                format!(
                    "{}; the instance refused the token: HTTP 401 ({why})",
                    warned.evidence
                ),
            );
        } else {
            finding = Finding::error(
                "LC301",
                format!("the instance refused the token: HTTP 401 ({why})"),
            );
        }
    }
    run.fail(step, finding.evidence.clone(), finding);
    None
}

/// The user's roles; `false` stops the chain.
async fn roles(ctx: &Ctx, run: &mut Run, instance: &Url, token: &Secret, user_id: &str) -> bool {
    let step = run.step("roles", "Security roles of the user");
    let Some(url) = api(instance, &format!("systemusers({user_id})?$select=fullname,isdisabled&$expand=systemuserroles_association($select=name)")) else {
        run.skip(step, "cannot build the query");
        return true;
    };
    let Some((step, resp)) = send(
        ctx,
        run,
        step,
        dataverse(ctx, Method::GET, url, Some(token)),
        true,
    )
    .await
    else {
        return false;
    };
    if !resp.status.is_success() {
        if is_refusal(&resp) || resp.status.as_u16() == 404 {
            run.skip(step, format!("the credentials may not read users ({}); normal for the Lead Writer role alone: the write will tell", dv_evidence(&resp)));
            return true;
        }
        let f = dv_finding(&resp);
        run.fail(step, f.evidence.clone(), f);
        return false;
    }
    let j = resp.json().unwrap_or(Value::Null);
    if j.get("isdisabled").and_then(Value::as_bool) == Some(true) {
        let e = format!("the user {user_id} is disabled");
        run.fail(step, e.clone(), Finding::error("LC405", e));
        return false;
    }
    let held: Vec<String> = j
        .get("systemuserroles_association")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("name").and_then(Value::as_str))
                .map(|n| clean(n, 100))
                .collect()
        })
        .unwrap_or_default();
    if held.is_empty() {
        let e = format!("the user {user_id} holds no security role; assign \"{LEAD_WRITER_ROLE}\"");
        run.fail(step, e.clone(), Finding::error("LC402", e));
        return false;
    }
    let list = held.join(", ");
    if held
        .iter()
        .any(|r| r.eq_ignore_ascii_case(LEAD_WRITER_ROLE))
    {
        run.pass(step, format!("roles: {list}"));
        return true;
    }
    // Does the organization have the role at all (is the solution imported)?
    let filter = format!("roles?$select=name&$filter=name eq '{LEAD_WRITER_ROLE}'");
    let query = api(instance, &filter)
        .and_then(|u| dataverse(ctx, Method::GET, u, Some(token)).build().ok());
    let exists = match query {
        Some(req) => match ctx.net.send(req).await {
            Ok(r) if r.status.is_success() => Some(
                r.json()
                    .and_then(|j| {
                        j.get("value")
                            .and_then(Value::as_array)
                            .map(|v| !v.is_empty())
                    })
                    .unwrap_or(false),
            ),
            _ => None,
        },
        None => None,
    };
    match exists {
        Some(false) => {
            let e = format!("the organization has no \"{LEAD_WRITER_ROLE}\" role (the marketplace's solution is not imported); the user holds: {list}");
            run.warn(step, e.clone(), Finding::warning("LC407", e));
        }
        _ => run.pass(step, format!("roles: {list} (not \"{LEAD_WRITER_ROLE}\"; the write will tell whether they suffice)")),
    }
    true
}

async fn create_lead(
    ctx: &Ctx,
    run: &mut Run,
    step: Step,
    instance: &Url,
    token: &Secret,
) -> Option<String> {
    let body = serde_json::to_vec(&ctx.lead.dynamics_record()).unwrap_or_default();
    let req = dataverse(ctx, Method::POST, api(instance, "leads")?, Some(token))
        .header("Content-Type", "application/json")
        .body(body);
    let (step, resp) = send(ctx, run, step, req, true).await?;
    if !resp.status.is_success() {
        let f = dv_finding(&resp);
        run.fail(step, f.evidence.clone(), f);
        return None;
    }
    // `OData-EntityId: <org>/api/data/v9.2/leads(<guid>)`; 201 carries `leadid` too.
    let id = resp
        .header("odata-entityid")
        .and_then(|h| {
            h.rsplit_once("leads(")
                .and_then(|(_, r)| r.split_once(')'))
                .map(|(id, _)| id.to_string())
        })
        .or_else(|| {
            resp.json()
                .and_then(|j| j.get("leadid").and_then(Value::as_str).map(str::to_string))
        })
        .filter(|id| uuid::Uuid::try_parse(id).is_ok());
    match id {
        Some(id) => {
            record_created(ctx, run, id.clone());
            run.pass(
                step,
                format!(
                    "lead {id} created (HTTP {}), subject {}",
                    resp.status.as_u16(),
                    ctx.lead.combined_lead_source()
                ),
            );
            Some(id)
        }
        None => {
            run.test_lead.sent = true;
            run.pass(
                step,
                format!(
                    "HTTP {} but no OData-EntityId: the lead cannot be read back; search for {}",
                    resp.status.as_u16(),
                    ctx.lead.marker()
                ),
            );
            None
        }
    }
}

async fn verify(ctx: &Ctx, run: &mut Run, instance: &Url, token: &Secret, id: &str) {
    let step = run.step("verify", "Read the lead back");
    let Some(url) = api(
        instance,
        &format!("leads({id})?$select=subject,emailaddress1,lastname"),
    ) else {
        run.skip(step, "cannot build the query");
        return;
    };
    let req = dataverse(ctx, Method::GET, url, Some(token)).header("If-None-Match", "null");
    let Ok(req) = req.build() else {
        run.skip(step, "cannot build the query");
        return;
    };
    // A refusal or a failure here is a skip: the marketplace only needs to create.
    match ctx.net.send(req).await {
        Ok(resp) if resp.status.is_success() => {
            let email = resp.json().and_then(|j| {
                j.get("emailaddress1")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            if email.as_deref() == Some(ctx.lead.email().as_str()) {
                run.test_lead.verified = Some(true);
                run.pass(
                    step,
                    format!("lead {id} reads back with {}", ctx.lead.email()),
                );
            } else {
                run.test_lead.verified = Some(false);
                let e = format!(
                    "lead {id} reads back without the test e-mail {}",
                    ctx.lead.email()
                );
                run.fail(step, e.clone(), Finding::error("LC508", e));
            }
        }
        Ok(resp) if resp.status.as_u16() == 404 => {
            run.test_lead.verified = Some(false);
            let e = format!(
                "lead {id} was accepted but is not there: {}",
                dv_evidence(&resp)
            );
            run.fail(step, e.clone(), Finding::error("LC508", e));
        }
        Ok(resp) => run.skip(
            step,
            format!(
                "the credentials may not read leads ({}); expected with the Lead Writer role alone",
                dv_evidence(&resp)
            ),
        ),
        Err(e) => run.skip(
            step,
            format!("could not read the lead back: {}", e.evidence),
        ),
    }
}

async fn cleanup(ctx: &Ctx, run: &mut Run, instance: &Url, token: &Secret, id: &str) {
    let step = run.step("cleanup", "Delete the test lead");
    let Some(req) = api(instance, &format!("leads({id})"))
        .and_then(|u| dataverse(ctx, Method::DELETE, u, Some(token)).build().ok())
    else {
        run.skip(step, "cannot build the request");
        return;
    };
    match ctx.net.send(req).await {
        Ok(resp) if resp.status.is_success() || resp.status.as_u16() == 404 => {
            record_cleaned(ctx, run, true);
            run.pass(step, format!("lead {id} deleted"));
        }
        Ok(resp) => {
            record_cleaned(ctx, run, false);
            run.skip(
                step,
                format!(
                    "the credentials may not delete leads ({}); delete lead {id} by hand",
                    dv_evidence(&resp)
                ),
            );
        }
        Err(e) => {
            record_cleaned(ctx, run, false);
            run.skip(
                step,
                format!(
                    "could not delete the lead ({}); delete lead {id} by hand",
                    NetError::to_string(&e)
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_header_parses() {
        let h = "Bearer authorization_uri=https://login.microsoftonline.com/8a7e2f6c-3b1d-4c5e-9f20-6d4b1a0c7e91/oauth2/authorize, resource_id=https://org.crm11.dynamics.com/";
        let p = bearer_params(h);
        assert_eq!(
            p[1],
            (
                "resource_id".into(),
                "https://org.crm11.dynamics.com/".into()
            )
        );
        assert_eq!(
            challenge_tenant(&p[0].1).as_deref(),
            Some("8a7e2f6c-3b1d-4c5e-9f20-6d4b1a0c7e91")
        );
        let h = r#"Bearer error=invalid_token, error_description="Error during token validation!", authorization_uri=http://127.0.0.1:1/abc/oauth2/authorize, resource_id=http://127.0.0.1:2/"#;
        let p = bearer_params(h);
        assert_eq!(p[1].1, "Error during token validation!");
        assert_eq!(challenge_tenant(&p[2].1).as_deref(), Some("abc"));
    }

    #[test]
    fn codes_map() {
        assert_eq!(aadsts_code(90002), "LC302");
        assert_eq!(aadsts_code(7000215), "LC305");
        assert_eq!(aadsts_code(1), "LC301");
        assert_eq!(dataverse_code(403, Some("0x80042F09")), "LC402");
        assert_eq!(dataverse_code(403, Some("0x8004F502")), "LC401");
        assert_eq!(dataverse_code(400, Some("0x80040265")), "LC515");
        assert_eq!(dataverse_code(503, None), "LC504");
    }

    #[test]
    fn authority_paths_keep_a_prefix() {
        let a = Url::parse("https://login.microsoftonline.us").unwrap();
        assert_eq!(
            under(&a, &["t", "oauth2"]).as_str(),
            "https://login.microsoftonline.us/t/oauth2"
        );
        let a = Url::parse("http://127.0.0.1:9/prefix/").unwrap();
        assert_eq!(under(&a, &["t"]).as_str(), "http://127.0.0.1:9/prefix/t");
    }
}
