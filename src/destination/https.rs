//! HTTPS endpoint (Power Automate / Logic Apps trigger, an Azure Function, any receiver):
//! probe, POST the lead's `UserDetails` JSON, judge the status. Arrival cannot be verified
//! and nothing can be deleted: those steps are `skip` with the reason.

use super::{probe, record_created, send, BoxFuture, Ctx, Destination, Run};
use crate::config;
use crate::net::Response;
use crate::report::Finding;
use reqwest::header::CONTENT_TYPE;
use reqwest::Method;

const STEPS: &[(&str, &str)] = &[
    ("dns", "Resolve host"),
    ("connect", "Connect"),
    ("tls", "TLS handshake"),
    ("send", "POST the MSFT_TEST lead"),
    ("verify", "Verify arrival"),
    ("cleanup", "Delete the test lead"),
];

/// The `https` destination.
pub struct HttpsEndpoint {
    dest: config::Destination,
}

impl HttpsEndpoint {
    pub fn new(dest: config::Destination) -> HttpsEndpoint {
        HttpsEndpoint { dest }
    }
}

impl Destination for HttpsEndpoint {
    fn kind(&self) -> &'static str {
        "https"
    }

    fn steps(&self) -> &'static [(&'static str, &'static str)] {
        STEPS
    }

    fn diagnose<'a>(&'a self, ctx: &'a Ctx, run: &'a mut Run) -> BoxFuture<'a, ()> {
        Box::pin(self.run(ctx, run))
    }
}

impl HttpsEndpoint {
    async fn run(&self, ctx: &Ctx, run: &mut Run) {
        let config::Spec::Https(spec) = &self.dest.spec else {
            return;
        };
        let step = run.step("url", "Read the endpoint URL");
        let Some(raw) = spec.https_endpoint_url.as_ref().and_then(|f| f.secret()) else {
            run.fail(
                step,
                "https_endpoint_url is missing",
                Finding::error("LC102", "https_endpoint_url is missing"),
            );
            return;
        };
        let url = match ctx.net.check_url(raw.expose()) {
            Ok(u) => u,
            Err(e) => return super::fail(run, step, &e),
        };
        // The URL's own query holds the signature: never show it.
        run.pass(step, crate::net::redact_url(&url));

        if !probe(ctx, run, &url).await {
            return;
        }

        let step = run.step("send", "POST the MSFT_TEST lead");
        if ctx.dry_run {
            run.skip(step, "dry run: the lead was not sent");
        } else {
            let body = serde_json::to_vec(&ctx.lead.https_json()).unwrap_or_default();
            let Some((step, req)) = super::build(
                run,
                step,
                ctx.net
                    .request(Method::POST, url.clone())
                    .header(CONTENT_TYPE, "application/json")
                    .body(body),
            ) else {
                return;
            };
            let Some((step, resp)) = send(ctx, run, step, req).await else {
                return;
            };
            let status = resp.status;
            if status.is_success() {
                record_created(ctx, run, ctx.lead.marker());
                run.pass(
                    step,
                    format!(
                        "HTTP {} {} in {} ms",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or(""),
                        resp.elapsed.as_millis()
                    ),
                );
            } else {
                let finding = judge(&resp);
                run.fail(step, finding.evidence.clone(), finding);
                return;
            }
        }

        let step = run.step("verify", "Verify arrival");
        run.skip(
            step,
            format!(
                "an HTTPS endpoint gives no way to read the lead back; look for {} in what the receiver stores",
                ctx.lead.marker()
            ),
        );
        if ctx.cleanup {
            let step = run.step("cleanup", "Delete the test lead");
            run.skip(step, "an HTTPS endpoint gives no way to delete the lead; remove it where the receiver stores it");
        }
    }
}

/// The finding for a non-2xx answer of an HTTPS endpoint.
pub fn judge(resp: &Response) -> Finding {
    let status = resp.status.as_u16();
    let (code, message) = error_parts(resp);
    let server = match (&code, &message) {
        (Some(c), Some(m)) => format!(": {c}: {m}"),
        (Some(c), None) => format!(": {c}"),
        (None, _) if !resp.body.is_empty() => format!(": {}", resp.excerpt(200)),
        _ => String::new(),
    };
    let evidence = format!(
        "HTTP {status} {}{server}",
        resp.status.canonical_reason().unwrap_or("")
    );
    let evidence = crate::secret::redact(&crate::net::redact_url_str(&evidence, None)).into_owned();
    let lc = match (status, code.as_deref()) {
        (401 | 403, Some("AuthorizationFailed")) => "LC317",
        (400, Some("InvalidRequestContent" | "TriggerInputSchemaMismatch")) => "LC505",
        (404, _) => "LC516",
        (400..=499, _) => "LC503",
        _ => "LC504",
    };
    Finding::error(lc, evidence)
}

/// `{"error":{"code":..,"message":..}}` (Logic Apps / Azure Resource Manager shape).
fn error_parts(resp: &Response) -> (Option<String>, Option<String>) {
    let Some(json) = resp.json() else {
        return (None, None);
    };
    let err = json.get("error").unwrap_or(&json);
    let text = |k: &str| {
        err.get(k).and_then(|v| v.as_str()).map(|s| {
            let s: String = s.chars().take(300).collect();
            crate::term::sanitize(&s, false)
        })
    };
    (text("code"), text("message"))
}
