//! A Microsoft Entra ID emulator: OpenID discovery and the v2.0 token endpoint (client
//! credentials and the password grant), answering with the error JSON Entra ID sends
//! (`error`, `error_description` with trace/correlation ids and timestamp, `error_codes`,
//! `timestamp`, `trace_id`, `correlation_id`, `error_uri`). Texts are those quoted in
//! research/protocols.md §1; HTTP 401 for `invalid_client`, 400 otherwise.

use super::{entra_timestamp, Emulator, Reply, Request};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A public client every tenant accepts for the password grant (see
/// `destination::dynamics::DEFAULT_PUBLIC_CLIENT_ID`).
pub const WELL_KNOWN_PUBLIC_CLIENT: &str = "51f81489-12ee-4a9e-aaae-a2591f45987d";

/// The world the Entra ID and Dataverse emulators share: tenants and issued tokens.
pub struct Directory {
    /// The emulator's own base URL (`http://127.0.0.1:PORT`), the "authority host".
    pub authority: String,
    pub tenants: Vec<Tenant>,
    tokens: Mutex<HashMap<String, Token>>,
}

pub struct Tenant {
    pub id: String,
    pub domain: String,
    /// The display name Entra ID puts in some messages.
    pub name: String,
    pub apps: Vec<AppReg>,
    pub users: Vec<User>,
    /// Resources (Dynamics instance URLs with a trailing `/`) the tenant can issue tokens for.
    /// In reality the check is whether the resource's service principal exists in the tenant.
    pub resources: Vec<String>,
}

pub struct AppReg {
    pub id: String,
    pub name: String,
    /// `None`: a public client (no secret).
    pub secret: Option<String>,
    pub secret_expired: bool,
    /// Whether users consented to it (the password grant checks).
    pub consented: bool,
}

pub struct User {
    pub upn: String,
    pub password: String,
    pub state: UserState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserState {
    Active,
    PasswordExpired,
    Disabled,
    Locked,
    MfaRequired,
    BlockedByConditionalAccess,
}

/// What an issued access token stands for.
#[derive(Debug, Clone)]
pub struct Token {
    pub tenant: String,
    /// With its trailing `/`.
    pub resource: String,
    /// The application id (client credentials) or the user's UPN (password grant).
    pub subject: String,
}

impl Directory {
    pub fn new(authority: String, tenants: Vec<Tenant>) -> Directory {
        Directory {
            authority,
            tenants,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// A tenant by GUID or domain, case-insensitively.
    pub fn tenant(&self, key: &str) -> Option<&Tenant> {
        self.tenants
            .iter()
            .find(|t| t.id.eq_ignore_ascii_case(key) || t.domain.eq_ignore_ascii_case(key))
    }

    /// What a bearer token stands for, if this directory issued it.
    pub fn token(&self, bearer: &str) -> Option<Token> {
        self.tokens.lock().ok()?.get(bearer).cloned()
    }

    /// Forgets every token issued so far: each is then refused as unknown.
    pub fn revoke_all(&self) {
        if let Ok(mut t) = self.tokens.lock() {
            t.clear();
        }
    }

    fn issue(&self, token: Token) -> String {
        use base64::Engine;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        // JWT-shaped, unsigned: only this sandbox reads it, through `token()`.
        let access = format!(
            "{}.{}.{}",
            b64(&json!({"typ": "JWT", "alg": "none"})),
            b64(
                &json!({"aud": token.resource, "tid": token.tenant, "sub": token.subject, "iss": "leadcheck sandbox"})
            ),
            uuid::Uuid::new_v4().simple()
        );
        if let Ok(mut t) = self.tokens.lock() {
            t.insert(access.clone(), token);
        }
        access
    }
}

/// The Entra ID emulator, over a shared [`Directory`].
pub struct EntraId {
    pub dir: Arc<Directory>,
}

/// A GUID, or something shaped like a DNS name: what Entra ID accepts as a tenant.
pub fn tenant_well_formed(t: &str) -> bool {
    if uuid::Uuid::try_parse(t).is_ok() {
        return true;
    }
    let labels: Vec<&str> = t.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|l| l.chars().any(|c| c.is_ascii_alphabetic()))
}

impl Emulator for EntraId {
    fn handle(&self, req: &Request) -> Reply {
        let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        let tenant_key =
            url::form_urlencoded::parse(segs.first().copied().unwrap_or("").as_bytes())
                .map(|(k, v)| {
                    if v.is_empty() {
                        k.into_owned()
                    } else {
                        format!("{k}={v}")
                    }
                })
                .collect::<String>();
        match &segs[1..] {
            ["v2.0", ".well-known", "openid-configuration"] => self.discovery(&tenant_key, true),
            [".well-known", "openid-configuration"] => self.discovery(&tenant_key, false),
            ["oauth2", "v2.0", "token"] => self.token(&tenant_key, req),
            ["oauth2", "authorize"] | ["oauth2", "v2.0", "authorize"] => Reply::text(
                200,
                "text/html; charset=utf-8",
                "<!DOCTYPE html><html><head><title>Sign in to your account</title></head><body>Sandbox sign-in page: leadcheck does not sign in interactively.</body></html>",
            ),
            _ => Reply::text(404, "text/html; charset=utf-8", "<html><body>404 Not Found</body></html>"),
        }
    }
}

impl EntraId {
    fn discovery(&self, key: &str, v2: bool) -> Reply {
        let a = &self.dir.authority;
        if !tenant_well_formed(key) {
            // Inferred (research: "probably AADSTS900023, not seen on this endpoint").
            return self.error(400, "invalid_tenant", 900023, &not_valid_tenant(key));
        }
        let Some(t) = self.dir.tenant(key) else {
            return self.error(400, "invalid_tenant", 90002, &tenant_not_found(key));
        };
        let tid = &t.id;
        let (issuer, v) = if v2 {
            (format!("{a}/{tid}/v2.0"), "v2.0/")
        } else {
            (format!("https://sts.windows.net/{tid}/"), "")
        };
        let token_endpoint = if v2 {
            format!("{a}/{tid}/oauth2/v2.0/token")
        } else {
            format!("{a}/{tid}/oauth2/token")
        };
        Reply::json(
            200,
            &json!({
                "token_endpoint": token_endpoint,
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": format!("{a}/{tid}/discovery/{v}keys"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer,
                "request_uri_parameter_supported": false,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": format!("{a}/{tid}/oauth2/{v}authorize"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{a}/{tid}/oauth2/{v}logout"),
                "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce", "tid", "ver", "oid"],
                "kerberos_endpoint": format!("{a}/{tid}/kerberos"),
                "tenant_region_scope": "WW",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net"
            }),
        )
    }

    fn token(&self, key: &str, req: &Request) -> Reply {
        if req.method != hyper::Method::POST {
            return self.error(
                400,
                "invalid_request",
                900561,
                "The endpoint only accepts POST requests. Received a GET request.",
            );
        }
        if !tenant_well_formed(key) {
            return self.error(400, "invalid_request", 900023, &not_valid_tenant(key));
        }
        let Some(tenant) = self.dir.tenant(key) else {
            return self.error(400, "invalid_request", 90002, &tenant_not_found(key));
        };
        let p = |k: &str| req.form_param(k).filter(|v| !v.is_empty());
        let Some(grant) = p("grant_type") else {
            return self.missing("grant_type");
        };
        let Some(client_id) = p("client_id") else {
            return self.missing("client_id");
        };
        let public = client_id.eq_ignore_ascii_case(WELL_KNOWN_PUBLIC_CLIENT);
        let app = tenant
            .apps
            .iter()
            .find(|a| a.id.eq_ignore_ascii_case(&client_id));
        if app.is_none() && !public {
            return self.error(400, "unauthorized_client", 700016, &format!(
                "Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
                tenant.name
            ));
        }
        let Some(scope) = p("scope") else {
            return self.missing("scope");
        };
        let subject = match grant.as_str() {
            "client_credentials" => {
                let Some(app) = app.filter(|a| a.secret.is_some()) else {
                    return self.error(401, "invalid_client", 7000218, SECRET_EXPECTED);
                };
                match p("client_secret") {
                    None => return self.error(401, "invalid_client", 7000218, SECRET_EXPECTED),
                    Some(s) if Some(&s) != app.secret.as_ref() => {
                        return self.error(401, "invalid_client", 7000215, &format!(
                            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{}'.",
                            app.id
                        ))
                    }
                    Some(_) if app.secret_expired => {
                        return self.error(401, "invalid_client", 7000222, &format!(
                            "The provided client secret keys for app '{}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.",
                            app.id
                        ))
                    }
                    Some(_) => {}
                }
                if !scope.ends_with("/.default") {
                    return self.error(400, "invalid_scope", 1002012, &format!(
                        "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                    ));
                }
                app.id.clone()
            }
            "password" => {
                if let Some(app) = app {
                    if app.secret.is_some() && p("client_secret").is_none() {
                        return self.error(401, "invalid_client", 7000218, SECRET_EXPECTED);
                    }
                }
                let Some(username) = p("username") else {
                    return self.missing("username");
                };
                let password = p("password").unwrap_or_default();
                let Some(user) = tenant
                    .users
                    .iter()
                    .find(|u| u.upn.eq_ignore_ascii_case(&username))
                else {
                    return self.error(400, "invalid_grant", 50034, &format!(
                        "The user account {{EmailHidden}} does not exist in the {} directory. To sign into this application, the account must be added to the directory.",
                        tenant.id
                    ));
                };
                if user.state == UserState::Locked {
                    return self.error(400, "invalid_grant", 50053, "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.");
                }
                if user.password != password {
                    return self.error(
                        400,
                        "invalid_grant",
                        50126,
                        "Error validating credentials due to invalid username or password.",
                    );
                }
                match user.state {
                    UserState::Disabled => return self.error(400, "invalid_grant", 50057, "The user account is disabled."),
                    UserState::PasswordExpired => return self.error(400, "invalid_grant", 50055, "The password is expired."),
                    UserState::BlockedByConditionalAccess => {
                        return self.error(400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.")
                    }
                    UserState::MfaRequired => {
                        return self.error(400, "invalid_grant", 50076, &format!(
                            "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '{}'.",
                            scope.trim_end_matches(".default")
                        ))
                    }
                    UserState::Active | UserState::Locked => {}
                }
                if let Some(app) = app.filter(|a| !a.consented) {
                    return self.error(400, "invalid_grant", 65001, &format!(
                        "The user or administrator has not consented to use the application with ID '{}' named '{}'. Send an interactive authorization request for this user and resource.",
                        app.id, app.name
                    ));
                }
                user.upn.clone()
            }
            other => {
                return self.error(
                    400,
                    "unsupported_grant_type",
                    70003,
                    &format!("The app requested an unsupported grant type '{other}'."),
                );
            }
        };
        // `https://org.crm.dynamics.com/.default` or `.../user_impersonation` -> the resource.
        let resource = match scope
            .split_whitespace()
            .next()
            .and_then(|s| s.rsplit_once('/'))
        {
            Some((r, _)) => format!("{}/", r.trim_end_matches('/')),
            None => scope.clone(),
        };
        if !tenant
            .resources
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&resource))
        {
            return self.error(400, "invalid_resource", 500011, &format!(
                "The resource principal named {} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                resource.trim_end_matches('/'), tenant.name
            ));
        }
        let access = self.dir.issue(Token {
            tenant: tenant.id.clone(),
            resource,
            subject,
        });
        Reply::json(
            200,
            &json!({"token_type": "Bearer", "scope": scope, "expires_in": 3599, "ext_expires_in": 3599, "access_token": access}),
        )
    }

    fn missing(&self, param: &str) -> Reply {
        self.error(
            400,
            "invalid_request",
            900144,
            &format!("The request body must contain the following parameter: '{param}'."),
        )
    }

    /// The error JSON Entra ID sends.
    fn error(&self, status: u16, error: &str, code: u32, text: &str) -> Reply {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let ts = entra_timestamp(std::time::SystemTime::now());
        let description = format!("AADSTS{code}: {text}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {ts}");
        Reply::json(
            status,
            &json!({
                "error": error,
                "error_description": description,
                "error_codes": [code],
                "timestamp": ts,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": format!("{}/error?code={code}", self.dir.authority),
            }),
        )
    }
}

const SECRET_EXPECTED: &str =
    "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";

fn tenant_not_found(key: &str) -> String {
    format!("Tenant '{key}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.")
}

fn not_valid_tenant(key: &str) -> String {
    format!("Specified tenant identifier '{key}' is neither a valid DNS name, nor a valid external domain.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_shapes() {
        assert!(tenant_well_formed("8a7e2f6c-3b1d-4c5e-9f20-6d4b1a0c7e91"));
        assert!(tenant_well_formed("contoso.onmicrosoft.com"));
        assert!(!tenant_well_formed("12345678-8af1-4asf-1234-12234d01db47"));
        assert!(!tenant_well_formed("contoso"));
        assert!(!tenant_well_formed(""));
    }
}
