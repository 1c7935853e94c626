//! Azure Table storage: probe the table endpoint, sign in with the account key (SharedKey,
//! signed here: HMAC-SHA256 over the table service's StringToSign), make sure the table
//! exists (the marketplace creates `MarketplaceLeads` itself; leadcheck does the same when
//! it is missing), insert the lead entity, read it back, and delete it with `--cleanup`.
//!
//! Wire facts (protocols.md §5): `x-ms-version`, `x-ms-date`, JSON with
//! `odata=nometadata`; errors as `{"odata.error":{"code","message":{"value"}}}` plus the
//! `x-ms-error-code` header.

use super::{probe, record_cleaned, record_created, send, BoxFuture, Ctx, Destination, Run, Step};
use crate::config;
use crate::net::{sensitive, Net, Response};
use crate::report::Finding;
use crate::secret::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use sha2::Sha256;
use url::Url;

/// The REST version leadcheck speaks (supported by Azure and Azurite).
pub const API_VERSION: &str = "2019-02-02";
/// Azure refuses requests whose date is further than this from its clock.
const SKEW_LIMIT_SECS: u64 = 15 * 60;

const STEPS: &[(&str, &str)] = &[
    ("connection", "Read the connection string"),
    ("dns", "Resolve host"),
    ("connect", "Connect"),
    ("tls", "TLS handshake"),
    ("auth", "Sign in with the account key"),
    ("table", "Find or create the table"),
    ("send", "Insert the MSFT_TEST lead entity"),
    ("verify", "Read the lead back"),
    ("cleanup", "Delete the test lead"),
];

/// The `azure-table` destination.
pub struct AzureTable {
    dest: config::Destination,
}

impl AzureTable {
    pub fn new(dest: config::Destination) -> AzureTable {
        AzureTable { dest }
    }
}

impl Destination for AzureTable {
    fn kind(&self) -> &'static str {
        "azure-table"
    }

    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        STEPS
    }

    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()> {
        Box::pin(self.run(ctx, run))
    }
}

/// What the signer needs from a connection string.
#[derive(Debug, Clone)]
pub struct Account {
    pub name: String,
    pub key: Secret,
    /// The table service's base URL, ending without `/` (path-style for the emulator:
    /// `http://127.0.0.1:10002/devstoreaccount1`).
    pub endpoint: Url,
}

impl Account {
    /// `{endpoint}/{rest}`.
    fn url(&self, rest: &str) -> Result<Url, String> {
        let base = self.endpoint.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{rest}"))
            .map_err(|e| format!("cannot build the URL for {rest}: {e}"))
    }

    /// The `Authorization` value for a request (SharedKey for the table service):
    /// `VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedResource`, where
    /// CanonicalizedResource is `/account` + the URL path (+ `?comp=` when present).
    pub fn authorization(
        &self,
        method: &Method,
        content_type: &str,
        date: &str,
        url: &Url,
    ) -> Result<String, String> {
        let mut resource = format!("/{}{}", self.name, url.path());
        if let Some((_, comp)) = url.query_pairs().find(|(k, _)| k == "comp") {
            resource.push_str("?comp=");
            resource.push_str(&comp);
        }
        let to_sign = format!("{method}\n\n{content_type}\n{date}\n{resource}");
        let key = base64::engine::general_purpose::STANDARD
            .decode(self.key.expose().trim())
            .map_err(|_| "the AccountKey is not valid base64".to_string())?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|_| "the AccountKey cannot be used".to_string())?;
        mac.update(to_sign.as_bytes());
        let sig = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        Ok(format!("SharedKey {}:{sig}", self.name))
    }
}

/// An error answer of the table service.
#[derive(Debug, Clone, Default)]
struct ServiceError {
    code: String,
    message: String,
}

fn service_error(resp: &Response) -> ServiceError {
    let mut err = ServiceError {
        code: resp.header("x-ms-error-code").unwrap_or("").to_string(),
        message: String::new(),
    };
    if let Some(json) = resp.json() {
        if let Some(e) = json.get("odata.error") {
            if err.code.is_empty() {
                err.code = e
                    .get("code")
                    .and_then(|c| c.as_str())
                    .unwrap_or("")
                    .to_string();
            }
            let m = e.get("message").map(|m| m.get("value").unwrap_or(m));
            // The first line only: the rest is RequestId and Time.
            err.message = m
                .and_then(|m| m.as_str())
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
        }
    }
    if err.message.is_empty() {
        // Some answers (and Azurite's) are XML: <Error><Code>..</Code><Message>..</Message>.
        let text = resp.text();
        let tag = |name: &str| {
            let open = format!("<{name}>");
            let start = text.find(&open)? + open.len();
            let end = text[start..].find(&format!("</{name}>"))? + start;
            Some(text[start..end].to_string())
        };
        if err.code.is_empty() {
            err.code = tag("Code").unwrap_or_default();
        }
        err.message = tag("Message")
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
    }
    err.code = crate::term::sanitize(&err.code.chars().take(100).collect::<String>(), false);
    err.message = crate::secret::redact(&err.message).into_owned();
    err.message = crate::term::sanitize(&err.message.chars().take(300).collect::<String>(), false);
    err
}

/// The evidence of a table service error answer (public for the fuzz targets).
pub fn evidence(resp: &Response, what: &str) -> String {
    let e = service_error(resp);
    let mut s = format!(
        "{what}: HTTP {} {}",
        resp.status.as_u16(),
        resp.status.canonical_reason().unwrap_or("")
    );
    if !e.code.is_empty() {
        s.push_str(&format!(": {}", e.code));
    }
    if !e.message.is_empty() {
        s.push_str(&format!(" ({})", e.message));
    }
    s
}

/// The server's clock is this many seconds away from ours, when it says.
fn clock_skew(resp: &Response) -> Option<u64> {
    let server = httpdate::parse_http_date(resp.header("date")?).ok()?;
    let now = std::time::SystemTime::now();
    Some(match server.duration_since(now) {
        Ok(d) => d.as_secs(),
        Err(e) => e.duration().as_secs(),
    })
}

/// Maps an authentication or permission refusal: LC316 (clock), LC315 (key), LC409
/// (permission, disabled account), LC110 (the service refuses the table name).
pub fn auth_finding(resp: &Response, what: &str) -> Option<Finding> {
    let e = service_error(resp);
    let ev = evidence(resp, what);
    let skew = clock_skew(resp).filter(|s| *s > SKEW_LIMIT_SECS);
    let message = e.message.to_ascii_lowercase();
    // Azure says AuthenticationFailed, Azurite AuthorizationFailure, both with this text.
    let bad_signature = message.contains("failed to authenticate");
    let too_old =
        message.contains("request date header too old") || message.contains("request time");
    match e.code.as_str() {
        _ if skew.is_some() && (bad_signature || e.code == "AuthenticationFailed" || too_old)
            || too_old =>
        {
            let by = skew
                .map(|s| {
                    format!(
                        "; the server's clock differs from this machine's by {} min",
                        s / 60
                    )
                })
                .unwrap_or_default();
            Some(Finding::error("LC316", format!("{ev}{by}")))
        }
        "AuthenticationFailed" | "InvalidAuthenticationInfo" => Some(Finding::error("LC315", ev)),
        _ if bad_signature => Some(Finding::error("LC315", ev)),
        "AuthorizationPermissionMismatch"
        | "AuthorizationFailure"
        | "AccountIsDisabled"
        | "AuthorizationResourceTypeMismatch"
        | "InsufficientAccountPermissions" => Some(Finding::error("LC409", ev)),
        "InvalidResourceName" => Some(Finding::error("LC110", ev)),
        _ if resp.status.as_u16() == 400 && message.contains("resource name") => {
            Some(Finding::error("LC110", ev))
        }
        _ if resp.status.as_u16() == 403 => Some(Finding::error("LC315", ev)),
        _ => None,
    }
}

/// An OData key literal: single quotes doubled, then percent-encoded for the path.
fn key_literal(value: &str) -> String {
    let quoted = value.replace('\'', "''");
    url::form_urlencoded::byte_serialize(quoted.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A SharedKey-signed request to the table service: JSON with `odata=nometadata`, the
/// signature's date now; the `Authorization` header is marked sensitive (never logged).
pub fn signed_request(
    net: &Net,
    account: &Account,
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
) -> Result<reqwest::Request, String> {
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let content_type = if body.is_some() {
        "application/json"
    } else {
        ""
    };
    let auth = account.authorization(&method, content_type, &date, &url)?;
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-ms-date",
        HeaderValue::from_str(&date).map_err(|e| e.to_string())?,
    );
    headers.insert("x-ms-version", HeaderValue::from_static(API_VERSION));
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/json;odata=nometadata"),
    );
    headers.insert("DataServiceVersion", HeaderValue::from_static("3.0;NetFx"));
    headers.insert(
        "MaxDataServiceVersion",
        HeaderValue::from_static("3.0;NetFx"),
    );
    headers.insert("Authorization", sensitive(&auth));
    let mut b = net.request(method, url).headers(headers);
    if let Some(body) = body {
        b = b
            .header(CONTENT_TYPE, content_type)
            .header("Prefer", "return-no-content")
            .body(body);
    }
    b.build()
        .map_err(|e| format!("cannot build the request: {e}"))
}

impl AzureTable {
    /// A signed request to the table service.
    fn request(
        &self,
        ctx: &Ctx,
        account: &Account,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<reqwest::Request, String> {
        signed_request(&ctx.net, account, method, url, body)
    }

    /// Builds and sends a signed request as part of `step`; `None` when it failed (the step
    /// is then finished).
    async fn call(
        &self,
        ctx: &Ctx,
        run: &mut Run,
        step: Step,
        account: &Account,
        (method, url, body): (Method, Url, Option<Vec<u8>>),
    ) -> Option<(Step, Response)> {
        match self.request(ctx, account, method, url, body) {
            Ok(req) => send(ctx, run, step, req).await,
            Err(e) => {
                run.fail(step, e.clone(), Finding::error("LC109", e));
                None
            }
        }
    }

    async fn run(&self, ctx: &Ctx, run: &mut Run) {
        let config::Spec::AzureTable(spec) = &self.dest.spec else {
            return;
        };
        let table = spec
            .table
            .clone()
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| config::DEFAULT_TABLE.to_string());

        let step = run.step("connection", "Read the connection string");
        let Some(raw) = spec
            .storage_account_connection_string
            .as_ref()
            .and_then(|f| f.secret())
        else {
            let msg = "storage_account_connection_string is missing";
            run.fail(step, msg, Finding::error("LC102", msg));
            return;
        };
        let account = match account_from(raw) {
            Ok(a) => a,
            Err(e) => {
                run.fail(step, e.clone(), Finding::error("LC109", e));
                return;
            }
        };
        if let Err(e) = ctx.net.check_url(account.endpoint.as_str()) {
            return super::fail(run, step, &e);
        }
        run.pass(
            step,
            format!(
                "account {}, table endpoint {}",
                account.name, account.endpoint
            ),
        );

        if !probe(ctx, run, &account.endpoint).await {
            return;
        }

        // auth: a cheap signed read of the table's own row in the Tables list.
        let step = run.step("auth", "Sign in with the account key");
        let Ok(url) = account.url(&format!("Tables('{}')", key_literal(&table))) else {
            return;
        };
        let Some((step, resp)) = self
            .call(ctx, run, step, &account, (Method::GET, url, None))
            .await
        else {
            return;
        };
        let exists = match resp.status.as_u16() {
            200 => true,
            404 => false,
            _ => {
                let finding = auth_finding(&resp, "reading the table list").unwrap_or_else(|| {
                    let code = if resp.status.is_server_error() {
                        "LC504"
                    } else {
                        "LC315"
                    };
                    Finding::error(code, evidence(&resp, "reading the table list"))
                });
                run.fail(step, finding.evidence.clone(), finding);
                return;
            }
        };
        run.pass(
            step,
            format!(
                "SharedKey accepted by {}",
                account.endpoint.host_str().unwrap_or("")
            ),
        );

        let step = run.step("table", format!("Find or create the table {table}"));
        if exists {
            run.pass(step, format!("table {table} exists"));
        } else if ctx.dry_run {
            run.skip(step, format!("table {table} does not exist; dry run: not created (the marketplace creates it on the first lead)"));
        } else {
            let Ok(url) = account.url("Tables") else {
                return;
            };
            let body =
                serde_json::to_vec(&serde_json::json!({ "TableName": table })).unwrap_or_default();
            let Some((step, resp)) = self
                .call(ctx, run, step, &account, (Method::POST, url, Some(body)))
                .await
            else {
                return;
            };
            match resp.status.as_u16() {
                201 | 204 => run.pass(step, format!("table {table} did not exist and was created")),
                409 if service_error(&resp).code == "TableAlreadyExists" => {
                    run.pass(step, format!("table {table} exists"))
                }
                _ => {
                    let finding = auth_finding(&resp, &format!("creating table {table}"))
                        .unwrap_or_else(|| {
                            Finding::error(
                                "LC506",
                                evidence(
                                    &resp,
                                    &format!("table {table} does not exist and creating it failed"),
                                ),
                            )
                        });
                    run.fail(step, finding.evidence.clone(), finding);
                    return;
                }
            }
        }

        let entity = ctx.lead.table_entity();
        let pk = entity
            .get("PartitionKey")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let rk = entity
            .get("RowKey")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let id = format!("{table}(PartitionKey='{pk}',RowKey='{rk}')");
        let entity_path = format!(
            "{table}(PartitionKey='{}',RowKey='{}')",
            key_literal(&pk),
            key_literal(&rk)
        );

        let step = run.step("send", "Insert the MSFT_TEST lead entity");
        if ctx.dry_run {
            run.skip(step, "dry run: the lead was not sent");
            let step = run.step("verify", "Read the lead back");
            run.skip(step, "dry run: nothing to read back");
            return;
        }
        let Ok(url) = account.url(&table) else { return };
        let body = serde_json::to_vec(&entity).unwrap_or_default();
        let Some((step, resp)) = self
            .call(ctx, run, step, &account, (Method::POST, url, Some(body)))
            .await
        else {
            return;
        };
        match resp.status.as_u16() {
            201 | 204 => {
                record_created(ctx, run, id.clone());
                run.pass(
                    step,
                    format!("inserted {id} (HTTP {})", resp.status.as_u16()),
                );
            }
            s => {
                let what = format!("inserting {id}");
                let finding = auth_finding(&resp, &what).unwrap_or_else(|| {
                    let code = match s {
                        404 => "LC506",
                        500..=599 => "LC504",
                        _ => "LC507",
                    };
                    Finding::error(code, evidence(&resp, &what))
                });
                run.fail(step, finding.evidence.clone(), finding);
                return;
            }
        }

        let step = run.step("verify", "Read the lead back");
        let Ok(url) = account.url(&entity_path) else {
            return;
        };
        if let Some((step, resp)) = self
            .call(ctx, run, step, &account, (Method::GET, url, None))
            .await
        {
            let found_rk = resp
                .json()
                .and_then(|j| j.get("RowKey").and_then(|v| v.as_str()).map(str::to_string));
            match resp.status.as_u16() {
                200 if found_rk.as_deref() == Some(rk.as_str()) => {
                    run.test_lead.verified = Some(true);
                    run.pass(step, format!("read back {id}"));
                }
                200 | 404 => {
                    run.test_lead.verified = Some(false);
                    let ev = evidence(&resp, &format!("reading back {id}"));
                    run.fail(step, ev.clone(), Finding::error("LC508", ev));
                }
                401 | 403 => {
                    run.skip(
                        step,
                        format!(
                            "the credentials may not read the entity back: {}",
                            evidence(&resp, "read")
                        ),
                    );
                }
                _ => {
                    run.test_lead.verified = Some(false);
                    let ev = evidence(&resp, &format!("reading back {id}"));
                    run.fail(step, ev.clone(), Finding::error("LC508", ev));
                }
            }
        }
        // Cleanup runs even when verification failed: the entity was created.
        if ctx.cleanup {
            let step = run.step("cleanup", "Delete the test lead");
            let Ok(url) = account.url(&entity_path) else {
                return;
            };
            let req = self
                .request(ctx, &account, Method::DELETE, url, None)
                .map(|mut r| {
                    r.headers_mut()
                        .insert("If-Match", HeaderValue::from_static("*"));
                    r
                });
            let req = match req {
                Ok(r) => r,
                Err(e) => {
                    run.skip(step, format!("not deleted: {e}"));
                    return;
                }
            };
            match ctx.net.send(req).await {
                Ok(resp) if resp.status.as_u16() == 204 => {
                    record_cleaned(ctx, run, true);
                    run.pass(step, format!("deleted {id}"));
                }
                Ok(resp) => {
                    record_cleaned(ctx, run, false);
                    run.skip(
                        step,
                        format!(
                            "not deleted; remove {id} by hand: {}",
                            evidence(&resp, "delete")
                        ),
                    );
                }
                Err(e) => {
                    record_cleaned(ctx, run, false);
                    run.skip(
                        step,
                        format!("not deleted; remove {id} by hand: {}", e.evidence),
                    );
                }
            }
        }
    }
}

/// Reads the connection string with the config's parser (every documented form).
/// Errors never echo the key.
pub fn account_from(raw: &Secret) -> Result<Account, String> {
    let a = config::connection_string::parse(raw.expose())?;
    Ok(Account {
        name: a.name,
        key: a.key,
        endpoint: a.table_endpoint,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_paths() {
        let a = account_from(&Secret::new(
            "AccountName=xyz;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/x/",
        ))
        .unwrap();
        assert_eq!(a.url("T").unwrap().as_str(), "http://127.0.0.1:1/x/T");
        let a = account_from(&Secret::new("AccountName=xyz;AccountKey=a2V5")).unwrap();
        assert_eq!(
            a.url("Tables").unwrap().as_str(),
            "https://xyz.table.core.windows.net/Tables"
        );
        let e = account_from(&Secret::new("AccountName=xyz;AccountKey=@@notbase64@@")).unwrap_err();
        assert!(!e.contains("@@notbase64@@"), "{e}");
    }

    #[test]
    fn shared_key_string_to_sign() {
        // Known answer computed independently: HMAC-SHA256 with the emulator key over
        // "GET\n\n\nMon, 01 Jan 2024 00:00:00 GMT\n/devstoreaccount1/devstoreaccount1/Tables".
        let a = account_from(&Secret::new("UseDevelopmentStorage=true")).unwrap();
        let url = a.url("Tables").unwrap();
        let auth = a
            .authorization(&Method::GET, "", "Mon, 01 Jan 2024 00:00:00 GMT", &url)
            .unwrap();
        let key = base64::engine::general_purpose::STANDARD
            .decode(config::connection_string::DEV_KEY)
            .unwrap();
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(
            b"GET\n\n\nMon, 01 Jan 2024 00:00:00 GMT\n/devstoreaccount1/devstoreaccount1/Tables",
        );
        let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(auth, format!("SharedKey devstoreaccount1:{want}"));
    }
}
