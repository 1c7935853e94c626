//! Dynamics 365 emulators: one shared Entra ID (the authority) and one Dataverse Web API
//! instance per behaviour, each at its own origin as real instances are.
//!
//! Dataverse (research/protocols.md §2): any call without a token is 401 with
//! `WWW-Authenticate: Bearer authorization_uri=<authority>/<tenant>/oauth2/authorize,
//! resource_id=<instance>/`; WhoAmI; `POST leads` -> 204 + `OData-EntityId`; errors as
//! `{"error":{"code":"0x...","message":"..."}}`. The research is silent on role queries:
//! the emulator answers only the two leadcheck makes, minimally:
//! `GET systemusers(<id>)?$expand=systemuserroles_association($select=name)` and
//! `GET roles?$select=name&$filter=name eq 'Microsoft Marketplace Lead Writer'`.
//!
//! Listing leads (`leadcheck leads`): `GET leads?$select=...&$filter=...&$orderby=...` with
//! `Prefer: odata.maxpagesize=N`, answered with `@odata.context`, `value` and, when more
//! remain, `@odata.nextLink` (the same query plus a `$skiptoken`). The research is silent
//! on queries and paging (protocols.md §2 has only single-record calls); this follows
//! OData 4.0 minimally: `$filter` takes `and`, `or`, `not`, parentheses,
//! `startswith`/`endswith`/`contains(attr,'text')` and `eq ne gt ge lt le` (strings compare
//! case-insensitively, as Dataverse's collation does; timestamps as times); `$orderby` one
//! attribute; the skip token is the emulator's own (the real one is an opaque paging
//! cookie). The Lead Writer-only instance refuses the query with the documented
//! "Principal user is missing prvReadLead privilege." (0x80040220). Tests pre-load records
//! with [`preload`]; a created lead gets `createdon` (now).

use super::entra::{AppReg, Directory, EntraId, Tenant, User, UserState};
use super::{
    entry_name, guid, made_up_secret, Builder, DestinationEntry, Emulator, Family, Reply, Request,
    Scenario,
};
use serde_json::{json, Map, Value};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

pub const LEAD_WRITER_ROLE: &str = "Microsoft Marketplace Lead Writer";

pub struct DynamicsFamily;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        code: "LC201",
        what: "the instance accepts the connection and never answers",
    },
    Scenario {
        code: "LC301",
        what: "office-365: wrong password (AADSTS50126)",
    },
    Scenario {
        code: "LC302",
        what: "the directory ID names no tenant (AADSTS90002)",
    },
    Scenario {
        code: "LC303",
        what: "the application ID is not in the directory (AADSTS700016)",
    },
    Scenario {
        code: "LC304",
        what: "the directory ID is malformed (AADSTS900023)",
    },
    Scenario {
        code: "LC305",
        what: "wrong client secret (AADSTS7000215)",
    },
    Scenario {
        code: "LC306",
        what: "the client secret has expired (AADSTS7000222)",
    },
    Scenario {
        code: "LC307",
        what: "office-365: the password has expired (AADSTS50055)",
    },
    Scenario {
        code: "LC308",
        what: "office-365: the account is disabled (AADSTS50057)",
    },
    Scenario {
        code: "LC309",
        what: "office-365: the account is locked (AADSTS50053)",
    },
    Scenario {
        code: "LC310",
        what: "office-365: multi-factor authentication required (AADSTS50076)",
    },
    Scenario {
        code: "LC311",
        what: "office-365: Conditional Access blocks the sign-in (AADSTS53003)",
    },
    Scenario {
        code: "LC312",
        what: "the instance's resource is not in the tenant (AADSTS500011)",
    },
    Scenario {
        code: "LC313",
        what: "office-365: the client application has no consent (AADSTS65001)",
    },
    Scenario {
        code: "LC314",
        what: "the instance belongs to another tenant (its 401 challenge says so)",
    },
    Scenario {
        code: "LC320",
        what: "office-365: a confidential client ID without its secret (AADSTS7000218)",
    },
    Scenario {
        code: "LC401",
        what: "lead write: no create permission on leadsourcecode (0x8004F502)",
    },
    Scenario {
        code: "LC402",
        what: "the application user has no roles (0x80042f09)",
    },
    Scenario {
        code: "LC403",
        what: "lead write: missing prvCreateLead (0x80040220)",
    },
    Scenario {
        code: "LC404",
        what: "the application user is not in the organization (0x80072560)",
    },
    Scenario {
        code: "LC405",
        what: "the user is disabled (0x80040225)",
    },
    Scenario {
        code: "LC406",
        what: "the user has no licence (0x8004D24C)",
    },
    Scenario {
        code: "LC407",
        what: "the Lead Writer role does not exist (solution not imported)",
    },
    Scenario {
        code: "LC504",
        what: "lead write: HTTP 500",
    },
    Scenario {
        code: "LC509",
        what: "lead write: HTTP 429 (service protection limits)",
    },
    Scenario {
        code: "LC515",
        what: "lead write: HTTP 400 from a plug-in",
    },
];

/// How one Dataverse instance behaves towards every caller holding a valid token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    /// The user holds the Lead Writer role and may also read and delete leads.
    Healthy,
    /// Exactly the documented Lead Writer rights: create leads, nothing else.
    WriterOnly,
    Hang,
    NoRoles,
    FieldSecurity,
    NoCreatePrivilege,
    NotMember,
    Disabled,
    Unlicensed,
    NoLeadWriterRole,
    PluginRejects,
    ServerError,
    Throttled,
}

const TENANT: &str = "contoso-sandbox";
const OTHER_TENANT: &str = "fabrikam-sandbox";

fn domain(t: &str) -> String {
    format!("{t}.onmicrosoft.com")
}

impl Family for DynamicsFamily {
    fn name(&self) -> &'static str {
        "dynamics"
    }

    fn scenarios(&self) -> &'static [Scenario] {
        SCENARIOS
    }

    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()> {
        let authority_slot = sb.bind()?;
        let authority = authority_slot.url().to_string();
        let tid = guid(TENANT);
        let other_tid = guid(OTHER_TENANT);

        // Instances: the healthy ones, and one per scenario that lives in Dataverse.
        let mut instances: Vec<(String, super::Slot, Behaviour, String)> = Vec::new();
        let mut add = |sb: &mut Builder,
                       label: String,
                       b: Behaviour,
                       tenant: &str|
         -> std::io::Result<String> {
            let slot = sb.bind()?;
            let url = slot.url().to_string();
            instances.push((label, slot, b, tenant.to_string()));
            Ok(url)
        };
        let healthy = add(sb, "dynamics".into(), Behaviour::Healthy, &tid)?;
        let writer = add(
            sb,
            "dynamics-lead-writer".into(),
            Behaviour::WriterOnly,
            &tid,
        )?;
        let mut scenario_instance: BTreeMap<&str, String> = BTreeMap::new();
        for code in wanted {
            let (b, t) = match *code {
                "LC201" => (Behaviour::Hang, &tid),
                "LC312" => (Behaviour::Healthy, &tid),
                "LC314" => (Behaviour::Healthy, &other_tid),
                "LC401" => (Behaviour::FieldSecurity, &tid),
                "LC402" => (Behaviour::NoRoles, &tid),
                "LC403" => (Behaviour::NoCreatePrivilege, &tid),
                "LC404" => (Behaviour::NotMember, &tid),
                "LC405" => (Behaviour::Disabled, &tid),
                "LC406" => (Behaviour::Unlicensed, &tid),
                "LC407" => (Behaviour::NoLeadWriterRole, &tid),
                "LC504" => (Behaviour::ServerError, &tid),
                "LC509" => (Behaviour::Throttled, &tid),
                "LC515" => (Behaviour::PluginRejects, &tid),
                _ => continue,
            };
            let url = add(sb, entry_name("dynamics", Some(code)), b, t)?;
            scenario_instance.insert(code, url);
        }

        // The directory: the partner's tenant holds the apps and users; the Dynamics
        // resource of every instance but LC312's.
        let app_id = guid("app/lead-writer");
        let secret = made_up_secret("app/lead-writer");
        let expired_app = guid("app/expired-secret");
        let confidential_app = guid("app/confidential");
        let unconsented_app = guid("app/unconsented");
        let password = made_up_secret("user/password");
        let user = |name: &str, state| User {
            upn: format!("{name}@{}", domain(TENANT)),
            password: password.clone(),
            state,
        };
        let mut resources: Vec<String> = instances
            .iter()
            .map(|(_, s, _, _)| format!("{}/", s.url()))
            .collect();
        if let Some(u) = scenario_instance.get("LC312") {
            resources.retain(|r| r != &format!("{u}/"));
        }
        let tenants = vec![
            Tenant {
                id: tid.clone(),
                domain: domain(TENANT),
                name: "Contoso Sandbox".into(),
                apps: vec![
                    AppReg {
                        id: app_id.clone(),
                        name: "Marketplace leads".into(),
                        secret: Some(secret.clone()),
                        secret_expired: false,
                        consented: true,
                    },
                    AppReg {
                        id: expired_app.clone(),
                        name: "Old leads app".into(),
                        secret: Some(made_up_secret("app/expired-secret")),
                        secret_expired: true,
                        consented: true,
                    },
                    AppReg {
                        id: confidential_app.clone(),
                        name: "Web app".into(),
                        secret: Some(made_up_secret("app/confidential")),
                        secret_expired: false,
                        consented: true,
                    },
                    AppReg {
                        id: unconsented_app.clone(),
                        name: "Leads client".into(),
                        secret: None,
                        secret_expired: false,
                        consented: false,
                    },
                ],
                users: vec![
                    user("leads", UserState::Active),
                    user("expired", UserState::PasswordExpired),
                    user("disabled", UserState::Disabled),
                    user("locked", UserState::Locked),
                    user("mfa", UserState::MfaRequired),
                    user("blocked", UserState::BlockedByConditionalAccess),
                ],
                resources: resources.clone(),
            },
            Tenant {
                id: other_tid.clone(),
                domain: domain(OTHER_TENANT),
                name: "Fabrikam Sandbox".into(),
                apps: vec![],
                users: vec![],
                resources,
            },
        ];
        let dir = Arc::new(Directory::new(authority.clone(), tenants));
        sb.serve(authority_slot, "entra-id", EntraId { dir: dir.clone() });
        // The demo leads (when asked for) in the healthy instance, which
        // `dynamics-office-365` shares, and in the Lead Writer's (whose read is refused).
        let demo: Vec<Value> = sb
            .demo_leads()
            .iter()
            .enumerate()
            .map(|(k, l)| l.dynamics_record(&guid(&format!("demo-lead/{k}"))))
            .collect();
        for (label, slot, behaviour, tenant) in instances {
            let url = slot.url().to_string();
            let instance = Dataverse::new(url, tenant, behaviour, dir.clone());
            if label == "dynamics" || label == "dynamics-lead-writer" {
                instance.preload(demo.iter().cloned());
            }
            sb.serve(slot, &label, instance);
        }

        // The config entries.
        let azure = |name: String, instance: &str, directory: &str, app: &str, key: &str| {
            DestinationEntry::new(name, "dynamics")
                .field("instance_url", instance)
                .field("authority_host", authority.as_str())
                .field("authentication", "azure-ad")
                .field("directory_id", directory)
                .field("application_id", app)
                .secret("application_key", key)
        };
        let office = |name: String, instance: &str, username: &str, pw: &str| {
            DestinationEntry::new(name, "dynamics")
                .field("instance_url", instance)
                .field("authority_host", authority.as_str())
                .field("authentication", "office-365")
                .field("username", format!("{username}@{}", domain(TENANT)))
                .secret("password", pw)
        };
        sb.destination(azure("dynamics".into(), &healthy, &tid, &app_id, &secret).note("Dynamics 365 with an application user holding the Lead Writer role and read/delete rights"));
        sb.destination(
            azure("dynamics-lead-writer".into(), &writer, &tid, &app_id, &secret)
                .note("Dynamics 365 with exactly the Lead Writer rights: the lead is written, reading it back and deleting it are skipped"),
        );
        sb.destination(
            office("dynamics-office-365".into(), &healthy, "leads", &password)
                .note("Dynamics 365 signed in as a Microsoft 365 user (password grant)"),
        );
        for code in wanted {
            let name = entry_name("dynamics", Some(code));
            let what = SCENARIOS
                .iter()
                .find(|s| s.code == *code)
                .map_or("", |s| s.what);
            let entry = match *code {
                "LC301" => office(name, &healthy, "leads", "not-the-password"),
                "LC302" => azure(name, &healthy, &guid("tenant/nowhere"), &app_id, &secret),
                "LC303" => azure(name, &healthy, &tid, &guid("app/unknown"), &secret),
                // The example Directory ID of Microsoft's own documentation: not hexadecimal.
                "LC304" => azure(
                    name,
                    &healthy,
                    "12345678-8af1-4asf-1234-12234d01db47",
                    &app_id,
                    &secret,
                ),
                "LC305" => azure(
                    name,
                    &healthy,
                    &tid,
                    &app_id,
                    &made_up_secret("app/old-secret"),
                ),
                "LC306" => azure(
                    name,
                    &healthy,
                    &tid,
                    &expired_app,
                    &made_up_secret("app/expired-secret"),
                ),
                "LC307" => office(name, &healthy, "expired", &password),
                "LC308" => office(name, &healthy, "disabled", &password),
                "LC309" => office(name, &healthy, "locked", &password),
                "LC310" => office(name, &healthy, "mfa", &password),
                "LC311" => office(name, &healthy, "blocked", &password),
                "LC313" => office(name, &healthy, "leads", &password)
                    .field("client_id", unconsented_app.as_str()),
                "LC320" => office(name, &healthy, "leads", &password)
                    .field("client_id", confidential_app.as_str()),
                // The domain, resolved to the tenant GUID through discovery before comparing.
                "LC314" => azure(
                    name,
                    &scenario_instance[code],
                    &domain(TENANT),
                    &app_id,
                    &secret,
                ),
                _ => match scenario_instance.get(code) {
                    Some(url) => azure(name, url, &tid, &app_id, &secret),
                    None => continue,
                },
            };
            sb.destination(entry.note(what).expect(Some(code)));
        }
        Ok(())
    }
}

/// The `lead` records of one instance, by lower-case `leadid`.
type Store = Mutex<BTreeMap<String, Map<String, Value>>>;

/// A running instance, as the test hooks find it by its URL.
struct Live {
    url: String,
    leads: Weak<Store>,
    dir: Weak<Directory>,
}

/// Every instance started: what [`preload`] fills and [`revoke_tokens`] empties.
static STORES: Mutex<Vec<Live>> = Mutex::new(Vec::new());

/// What `pick` takes of each live instance at `instance_url`.
fn live<T>(instance_url: &str, pick: impl Fn(&Live) -> Option<Arc<T>>) -> Vec<Arc<T>> {
    let url = instance_url.trim_end_matches('/');
    match STORES.lock() {
        Ok(s) => s.iter().filter(|l| l.url == url).filter_map(pick).collect(),
        Err(_) => Vec::new(),
    }
}

/// Stores `records` as `lead` records in the running instance(s) at `instance_url` (a test
/// hook: a sandbox's `instance_url` field), as if they had been created there. A record
/// without a `leadid` gets one, without a `createdon` gets now; anything but a JSON object
/// is left out. Returns how many records were stored (0 when no instance has that URL).
pub fn preload(instance_url: &str, records: impl IntoIterator<Item = Value>) -> usize {
    store_records(&live(instance_url, |l| l.leads.upgrade()), records)
}

/// Revokes every access token the Entra ID emulator of the instance at `instance_url` has
/// issued (a test hook, as when an administrator revokes the app's sessions): the next call
/// with one of them is answered with the 401 challenge. Returns whether such an instance runs.
pub fn revoke_tokens(instance_url: &str) -> bool {
    let dirs = live(instance_url, |l| l.dir.upgrade());
    dirs.iter().for_each(|d| d.revoke_all());
    !dirs.is_empty()
}

/// Stores `records` in every one of `stores`, as [`preload`] describes.
fn store_records(stores: &[Arc<Store>], records: impl IntoIterator<Item = Value>) -> usize {
    if stores.is_empty() {
        return 0;
    }
    let mut n = 0;
    for r in records {
        let Value::Object(mut r) = r else { continue };
        let id = match r.get("leadid").and_then(Value::as_str) {
            Some(id) => id.to_ascii_lowercase(),
            None => uuid::Uuid::new_v4().to_string(),
        };
        r.insert("leadid".into(), Value::String(id.clone()));
        if !r.get("createdon").is_some_and(Value::is_string) {
            r.insert("createdon".into(), Value::String(now()));
        }
        for store in stores {
            if let Ok(mut leads) = store.lock() {
                leads.insert(id.clone(), r.clone());
            }
        }
        n += 1;
    }
    n
}

/// Now as Dataverse writes `createdon`: `YYYY-MM-DDTHH:MM:SSZ`.
fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    crate::leads::rfc3339(secs)
}

/// A Dataverse Web API instance.
pub struct Dataverse {
    url: String,
    tenant: String,
    behaviour: Behaviour,
    dir: Arc<Directory>,
    leads: Arc<Store>,
}

/// Columns of the standard `lead` table the emulator accepts (the research names these;
/// the table has many more).
const LEAD_COLUMNS: &[&str] = &[
    "subject",
    "firstname",
    "lastname",
    "fullname",
    "middlename",
    "emailaddress1",
    "emailaddress2",
    "companyname",
    "jobtitle",
    "telephone1",
    "telephone2",
    "mobilephone",
    "address1_country",
    "address1_city",
    "address1_line1",
    "address1_postalcode",
    "address1_stateorprovince",
    "description",
    "leadsourcecode",
    "websiteurl",
    "industrycode",
    "leadqualitycode",
    "prioritycode",
    "donotemail",
    "donotphone",
];

impl Dataverse {
    pub fn new(
        url: String,
        tenant: String,
        behaviour: Behaviour,
        dir: Arc<Directory>,
    ) -> Dataverse {
        let leads = Arc::new(Mutex::new(BTreeMap::new()));
        if let Ok(mut stores) = STORES.lock() {
            stores.retain(|l| l.leads.strong_count() > 0);
            stores.push(Live {
                url: url.trim_end_matches('/').to_string(),
                leads: Arc::downgrade(&leads),
                dir: Arc::downgrade(&dir),
            });
        }
        Dataverse {
            url,
            tenant,
            behaviour,
            dir,
            leads,
        }
    }

    /// Stores `records` as `lead` records of this instance, as [`preload`] does.
    pub fn preload(&self, records: impl IntoIterator<Item = Value>) -> usize {
        store_records(std::slice::from_ref(&self.leads), records)
    }

    fn challenge(&self, invalid: bool) -> Reply {
        let base = format!(
            "authorization_uri={}/{}/oauth2/authorize, resource_id={}/",
            self.dir.authority, self.tenant, self.url
        );
        let value = if invalid {
            format!("Bearer error=invalid_token, error_description=\"Error during token validation!\", {base}")
        } else {
            format!("Bearer {base}")
        };
        Reply::empty(401).header("WWW-Authenticate", value)
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        )
        .header("OData-Version", "4.0")
    }

    fn ok(&self, status: u16, body: Value) -> Reply {
        Reply::json(status, &body).header("OData-Version", "4.0")
    }

    fn user_id(&self, subject: &str) -> String {
        guid(&format!(
            "systemuser/{}/{}",
            self.url,
            subject.to_ascii_lowercase()
        ))
    }

    fn roles(&self) -> Vec<&'static str> {
        match self.behaviour {
            Behaviour::NoRoles => vec![],
            Behaviour::FieldSecurity | Behaviour::NoLeadWriterRole => vec!["Salesperson"],
            Behaviour::NoCreatePrivilege => vec!["Support Reader"],
            _ => vec![LEAD_WRITER_ROLE],
        }
    }

    fn org_roles(&self) -> Vec<&'static str> {
        let mut r = vec![
            "System Administrator",
            "Salesperson",
            "Support Reader",
            "Basic User",
        ];
        if self.behaviour != Behaviour::NoLeadWriterRole {
            r.push(LEAD_WRITER_ROLE);
        }
        r
    }

    fn no_roles(user_id: &str) -> Reply {
        Dataverse::error(
            403,
            "0x80042f09",
            &format!("SecLib::RetrievePrivilegeForUser failed - no roles are assigned to user. Returned hr = -2147209463, User: {user_id}"),
        )
    }

    fn missing_privilege(privilege: &str) -> Reply {
        // research/protocols.md §2: "Principal user is missing prvReadLead privilege."
        Dataverse::error(
            403,
            "0x80040220",
            &format!("Principal user is missing {privilege} privilege."),
        )
    }

    fn create_lead(&self, req: &Request, user_id: &str) -> Reply {
        let Some(Value::Object(body)) = req.json() else {
            return Dataverse::error(400, "0x80060891", "The request body is not valid JSON for an entity of type 'Microsoft.Dynamics.CRM.lead'.");
        };
        for key in body.keys() {
            if !LEAD_COLUMNS.contains(&key.as_str()) && !key.contains('@') {
                return Dataverse::error(400, "0x80060888", &format!(
                    "The property '{key}' does not exist on type 'Microsoft.Dynamics.CRM.lead'. Make sure to only use property names that are defined by the type or mark the type as open type."
                ));
            }
        }
        if let Some(v) = body.get("leadsourcecode") {
            match v.as_i64() {
                Some(n) if (1..=10).contains(&n) => {}
                _ => {
                    return Dataverse::error(400, "0x8004431A", &format!(
                        "A validation error occurred. The value {v} of 'leadsourcecode' on record of type 'lead' is outside the valid range. Accepted Values: 1,2,3,4,5,6,7,8,9,10"
                    ))
                }
            }
        }
        match self.behaviour {
            Behaviour::NoRoles => return Dataverse::no_roles(user_id),
            Behaviour::FieldSecurity | Behaviour::NoLeadWriterRole if body.contains_key("leadsourcecode") => {
                return Dataverse::error(403, "0x8004F502", &format!(
                    "Caller user with ID {user_id} does not have Create permissions for the leadsourcecode attribute in the lead entity. Count secured attributes in entity 11. user has 0 secured attribute privileges."
                ))
            }
            Behaviour::NoCreatePrivilege => return Dataverse::missing_privilege("prvCreateLead"),
            Behaviour::PluginRejects => {
                return Dataverse::error(400, "0x80040265", "Leads need a business phone in +country format. (Sandbox plug-in: Contoso.LeadValidation)")
            }
            Behaviour::ServerError => return Dataverse::error(500, "0x80040216", "An unexpected error occurred."),
            Behaviour::Throttled => {
                return Dataverse::error(429, "0x80072322", "Number of requests exceeded the limit of 6000 over time window of 300 seconds.")
                    .header("Retry-After", "1")
            }
            _ => {}
        }
        let id = uuid::Uuid::new_v4().to_string();
        let mut record = body;
        record.insert("leadid".into(), Value::String(id.clone()));
        record.insert("createdon".into(), Value::String(now()));
        if let Ok(mut leads) = self.leads.lock() {
            leads.insert(id.clone(), record.clone());
        }
        let entity = format!("{}/api/data/v9.2/leads({id})", self.url);
        if req
            .header("Prefer")
            .is_some_and(|p| p.contains("return=representation"))
        {
            record.insert(
                "@odata.context".into(),
                Value::String(format!(
                    "{}/api/data/v9.2/$metadata#leads/$entity",
                    self.url
                )),
            );
            return self
                .ok(201, Value::Object(record))
                .header("OData-EntityId", entity);
        }
        Reply::empty(204)
            .header("OData-Version", "4.0")
            .header("OData-EntityId", entity)
    }

    fn lead(&self, req: &Request, id: &str) -> Reply {
        let id = id.to_ascii_lowercase();
        let deleting = req.method == hyper::Method::DELETE;
        if self.behaviour == Behaviour::WriterOnly {
            return Dataverse::missing_privilege(if deleting {
                "prvDeleteLead"
            } else {
                "prvReadLead"
            });
        }
        let Ok(mut leads) = self.leads.lock() else {
            return Dataverse::error(500, "0x80040216", "An unexpected error occurred.");
        };
        let found = if deleting {
            leads.remove(&id)
        } else {
            leads.get(&id).cloned()
        };
        match (found, deleting) {
            (None, _) => Dataverse::error(
                404,
                "0x80040217",
                &format!("Entity 'lead' With Id = {id} Does Not Exist"),
            ),
            (Some(_), true) => Reply::empty(204).header("OData-Version", "4.0"),
            (Some(mut record), false) => {
                record.insert(
                    "@odata.context".into(),
                    Value::String(format!(
                        "{}/api/data/v9.2/$metadata#leads/$entity",
                        self.url
                    )),
                );
                self.ok(200, Value::Object(record))
            }
        }
    }
}

impl Emulator for Dataverse {
    fn handle(&self, req: &Request) -> Reply {
        if self.behaviour == Behaviour::Hang {
            return Reply::Hang;
        }
        let Some(rest) = req
            .path
            .strip_prefix("/api/data/")
            .and_then(|r| r.split_once('/'))
            .filter(|(v, _)| v.starts_with("v9."))
            .map(|(_, r)| r)
        else {
            return Reply::text(
                404,
                "text/html; charset=utf-8",
                "<html><body><h1>404 - Not Found</h1></body></html>",
            );
        };
        let bearer = req.header("Authorization").and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        });
        let Some(bearer) = bearer else {
            return self.challenge(false);
        };
        let token = match self.dir.token(bearer.trim()) {
            Some(t)
                if t.tenant == self.tenant
                    && t.resource.eq_ignore_ascii_case(&format!("{}/", self.url)) =>
            {
                t
            }
            _ => return self.challenge(true),
        };
        match self.behaviour {
            Behaviour::NotMember => {
                return Dataverse::error(
                    403,
                    "0x80072560",
                    "The user is not a member of the organization.",
                )
            }
            Behaviour::Disabled => return Dataverse::error(
                403,
                "0x80040225",
                "The specified user is either disabled or is not a member of any business unit.",
            ),
            Behaviour::Unlicensed => {
                return Dataverse::error(403, "0x8004D24C", "Cannot enable an unlicensed user")
            }
            _ => {}
        }
        let user_id = self.user_id(&token.subject);
        let org_id = guid(&format!("org/{}", self.url));
        let context = |what: &str| format!("{}/api/data/v9.2/$metadata#{what}", self.url);
        let get = req.method == hyper::Method::GET;
        if rest == "WhoAmI" && get {
            return self.ok(
                200,
                json!({
                    "@odata.context": context("Microsoft.Dynamics.CRM.WhoAmIResponse"),
                    "BusinessUnitId": guid(&format!("bu/{}", self.url)),
                    "UserId": user_id,
                    "OrganizationId": org_id,
                }),
            );
        }
        // A user without roles fails every privilege check with the documented 0x80042f09
        // (the research is silent on WhoAmI, which answers here).
        if self.behaviour == Behaviour::NoRoles
            && (rest.starts_with("systemusers(") || rest == "roles")
        {
            return Dataverse::no_roles(&user_id);
        }
        if rest == "leads" {
            return match req.method {
                hyper::Method::POST => self.create_lead(req, &user_id),
                hyper::Method::GET => self.list_leads(req, &user_id),
                _ => Dataverse::error(
                    405,
                    "0x80060888",
                    &format!(
                        "The requested resource does not support http method '{}'.",
                        req.method
                    ),
                ),
            };
        }
        if let Some(id) = rest
            .strip_prefix("leads(")
            .and_then(|r| r.strip_suffix(')'))
        {
            if get || req.method == hyper::Method::DELETE {
                return self.lead(req, id);
            }
        }
        if let Some(id) = rest
            .strip_prefix("systemusers(")
            .and_then(|r| r.strip_suffix(')'))
        {
            if get {
                if self.behaviour == Behaviour::WriterOnly {
                    return Dataverse::missing_privilege("prvReadUser");
                }
                if !id.eq_ignore_ascii_case(&user_id) {
                    return Dataverse::error(
                        404,
                        "0x80040217",
                        &format!("Entity 'systemuser' With Id = {id} Does Not Exist"),
                    );
                }
                let roles: Vec<Value> = self
                    .roles()
                    .iter()
                    .map(|r| json!({"name": r, "roleid": guid(&format!("role/{}/{r}", self.url))}))
                    .collect();
                return self.ok(
                    200,
                    json!({
                        "@odata.context": context("systemusers(systemuserid,fullname,isdisabled,systemuserroles_association(name))/$entity"),
                        "systemuserid": user_id,
                        "fullname": format!("# {}", token.subject),
                        "isdisabled": false,
                        "systemuserroles_association": roles,
                    }),
                );
            }
        }
        if rest == "roles" && get {
            if self.behaviour == Behaviour::WriterOnly {
                return Dataverse::missing_privilege("prvReadRole");
            }
            let filter = req.query_param("$filter").unwrap_or_default();
            let value: Vec<Value> = self
                .org_roles()
                .into_iter()
                .filter(|r| filter.is_empty() || filter.contains(&format!("'{r}'")))
                .map(|r| json!({"name": r, "roleid": guid(&format!("role/{}/{r}", self.url))}))
                .collect();
            return self.ok(
                200,
                json!({"@odata.context": context("roles(name)"), "value": value}),
            );
        }
        let segment = rest.split(['(', '?']).next().unwrap_or(rest);
        Dataverse::error(
            404,
            "0x80060888",
            &format!("Resource not found for the segment '{segment}'."),
        )
    }
}

// ----- Listing leads (OData query; the research is silent, see the module's comment) -----

/// Dataverse's default and largest page (`Prefer: odata.maxpagesize` may ask for fewer).
const MAX_PAGE: usize = 5000;
/// Nesting allowed in `$filter`, so that no input can exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Attributes a query may name: the accepted columns and the ones the service sets.
fn known_attribute(a: &str) -> bool {
    LEAD_COLUMNS.contains(&a) || matches!(a, "leadid" | "createdon")
}

fn no_property(a: &str) -> Reply {
    Dataverse::error(
        400,
        "0x80060888",
        &format!(
            "Could not find a property named '{}' on type 'Microsoft.Dynamics.CRM.lead'.",
            a.chars().take(100).collect::<String>()
        ),
    )
}

fn bad_query(why: &str) -> Reply {
    Dataverse::error(400, "0x80060888", why)
}

impl Dataverse {
    /// `GET leads?...`: the records the filter selects, ordered, one page at a time.
    fn list_leads(&self, req: &Request, user_id: &str) -> Reply {
        match self.behaviour {
            Behaviour::WriterOnly => return Dataverse::missing_privilege("prvReadLead"),
            Behaviour::NoRoles => return Dataverse::no_roles(user_id),
            _ => {}
        }
        let pairs = req.query_pairs();
        let param = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        let select: Option<Vec<String>> = param("$select").map(|s| {
            s.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect()
        });
        if let Some(bad) = select.iter().flatten().find(|a| !known_attribute(a)) {
            return no_property(bad);
        }
        let filter = match param("$filter").map(Filter::parse).transpose() {
            Ok(f) => f,
            Err(why) => return bad_query(&why),
        };
        if let Some(bad) = filter.as_ref().and_then(|f| f.unknown_attribute()) {
            return no_property(&bad);
        }
        let (order_by, descending) = match param("$orderby").map(str::trim) {
            None | Some("") => ("leadid".to_string(), false),
            Some(o) => {
                let mut words = o.split_whitespace();
                let attr = words.next().unwrap_or("").to_string();
                let desc = match words.next() {
                    None => false,
                    Some(d) if d.eq_ignore_ascii_case("asc") => false,
                    Some(d) if d.eq_ignore_ascii_case("desc") => true,
                    Some(_) => return bad_query(&format!("Syntax error in $orderby '{o}'.")),
                };
                if words.next().is_some() || attr.contains(',') {
                    return bad_query("The sandbox orders by one attribute only.");
                }
                if !known_attribute(&attr) {
                    return no_property(&attr);
                }
                (attr, desc)
            }
        };
        let page = req
            .header("Prefer")
            .and_then(|p| {
                p.split(',')
                    .filter_map(|x| x.trim().strip_prefix("odata.maxpagesize="))
                    .find_map(|n| n.trim().parse::<usize>().ok())
            })
            .filter(|n| *n > 0);
        let size = page.unwrap_or(MAX_PAGE).min(MAX_PAGE);

        // The sort key of a record: (the ordered attribute, leadid).
        let key = |r: &Map<String, Value>| {
            let text = |k: &str| attribute(r, k).unwrap_or_default();
            (text(&order_by), text("leadid"))
        };
        let order = |a: &(String, String), b: &(String, String)| {
            let o = compare(&a.0, &b.0).then_with(|| a.1.cmp(&b.1));
            if descending {
                o.reverse()
            } else {
                o
            }
        };
        let after = match param("$skiptoken") {
            None => None,
            Some(t) => match t.rsplit_once('|') {
                Some((v, id)) => Some((v.to_string(), id.to_string())),
                None => return bad_query("The $skiptoken is not one this instance issued."),
            },
        };
        let mut rows: Vec<((String, String), Map<String, Value>)> = match self.leads.lock() {
            Ok(leads) => leads
                .values()
                .filter(|r| filter.as_ref().is_none_or(|f| f.matches(r)))
                .map(|r| (key(r), r.clone()))
                .collect(),
            Err(_) => return Dataverse::error(500, "0x80040216", "An unexpected error occurred."),
        };
        rows.sort_by(|a, b| order(&a.0, &b.0));
        if let Some(after) = &after {
            rows.retain(|(k, _)| order(k, after) == Ordering::Greater);
        }
        let more = rows.len() > size;
        rows.truncate(size);
        let value: Vec<Value> = rows
            .iter()
            .map(|(_, r)| match &select {
                None => Value::Object(r.clone()),
                Some(cols) => {
                    let mut o = Map::new();
                    for c in cols.iter().map(String::as_str).chain(["leadid"]) {
                        o.insert(c.to_string(), r.get(c).cloned().unwrap_or(Value::Null));
                    }
                    Value::Object(o)
                }
            })
            .collect();
        let shape = select
            .as_ref()
            .map(|c| format!("({})", c.join(",")))
            .unwrap_or_default();
        let mut body = json!({
            "@odata.context": format!("{}/api/data/v9.2/$metadata#leads{shape}", self.url),
            "value": value,
        });
        if let (true, Some((k, _))) = (more, rows.last()) {
            let enc = |v: &str| {
                url::form_urlencoded::byte_serialize(v.as_bytes())
                    .collect::<String>()
                    .replace('+', "%20")
            };
            let mut q: Vec<String> = pairs
                .iter()
                .filter(|(k, _)| k != "$skiptoken")
                .map(|(k, v)| format!("{}={}", enc(k).replace("%24", "$"), enc(v)))
                .collect();
            q.push(format!("$skiptoken={}", enc(&format!("{}|{}", k.0, k.1))));
            body["@odata.nextLink"] =
                Value::String(format!("{}/api/data/v9.2/leads?{}", self.url, q.join("&")));
        }
        let mut reply = self.ok(200, body);
        if let Some(n) = page {
            reply = reply.header("Preference-Applied", format!("odata.maxpagesize={n}"));
        }
        reply
    }
}

/// A record's attribute as text (`None` when absent or null).
fn attribute(r: &Map<String, Value>, k: &str) -> Option<String> {
    match r.get(k)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        v => Some(v.to_string()),
    }
}

/// Two values as Dataverse compares them: timestamps as times, numbers as numbers, text
/// case-insensitively.
fn compare(a: &str, b: &str) -> Ordering {
    use crate::leads::parse_time;
    if let (Some(x), Some(y)) = (parse_time(a), parse_time(b)) {
        return x.cmp(&y);
    }
    if let (Ok(x), Ok(y)) = (a.parse::<f64>(), b.parse::<f64>()) {
        return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Str(String),
    Word(String),
}

/// An OData `$filter`, as far as the emulator reads one.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Vec<Filter>),
    And(Vec<Filter>),
    Not(Box<Filter>),
    /// `startswith|endswith|contains(attr,'text')`
    Text {
        func: String,
        attr: String,
        text: String,
    },
    /// `attr op literal`; `None` is `null`.
    Cmp {
        attr: String,
        op: String,
        value: Option<String>,
    },
}

fn tokens(s: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    _ => Token::Comma,
                });
            }
            '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        None => {
                            return Err(
                                "Syntax error: an unterminated string literal in $filter.".into()
                            )
                        }
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                            text.push('\'');
                        }
                        Some('\'') => break,
                        Some(c) => text.push(c),
                    }
                }
                out.push(Token::Str(text));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | ',' | '\'') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.at).cloned();
        self.at += 1;
        t
    }

    fn keyword(&self, k: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(k))
    }

    fn expect(&mut self, t: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(got) if got == t => Ok(()),
            _ => Err(format!("Syntax error in $filter: {what} expected.")),
        }
    }

    fn or(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err("The $filter is nested too deeply.".into());
        }
        let mut parts = vec![self.and(depth)?];
        while self.keyword("or") {
            self.at += 1;
            parts.push(self.and(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Or(parts)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, String> {
        let mut parts = vec![self.unary(depth)?];
        while self.keyword("and") {
            self.at += 1;
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Filter, String> {
        if depth > MAX_DEPTH {
            return Err("The $filter is nested too deeply.".into());
        }
        if self.keyword("not") {
            self.at += 1;
            return Ok(Filter::Not(Box::new(self.unary(depth + 1)?)));
        }
        match self.next() {
            Some(Token::Open) => {
                let f = self.or(depth + 1)?;
                self.expect(Token::Close, "')'")?;
                Ok(f)
            }
            Some(Token::Word(w)) if self.peek() == Some(&Token::Open) => {
                let func = w.to_ascii_lowercase();
                if !matches!(func.as_str(), "startswith" | "endswith" | "contains") {
                    return Err(format!("Unknown function '{w}' in $filter."));
                }
                self.at += 1;
                let Some(Token::Word(attr)) = self.next() else {
                    return Err(format!(
                        "Syntax error in $filter: an attribute expected in {w}()."
                    ));
                };
                self.expect(Token::Comma, "','")?;
                let Some(Token::Str(text)) = self.next() else {
                    return Err(format!(
                        "Syntax error in $filter: a string expected in {w}()."
                    ));
                };
                self.expect(Token::Close, "')'")?;
                Ok(Filter::Text { func, attr, text })
            }
            Some(Token::Word(attr)) => {
                let op = match self.next() {
                    Some(Token::Word(op))
                        if ["eq", "ne", "gt", "ge", "lt", "le"]
                            .contains(&op.to_ascii_lowercase().as_str()) =>
                    {
                        op.to_ascii_lowercase()
                    }
                    _ => {
                        return Err(format!(
                            "Syntax error in $filter after '{attr}': an operator expected."
                        ))
                    }
                };
                let value = match self.next() {
                    Some(Token::Str(s)) => Some(s),
                    Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => None,
                    Some(Token::Word(w)) => Some(w),
                    _ => {
                        return Err(format!(
                            "Syntax error in $filter: a value expected after '{attr} {op}'."
                        ))
                    }
                };
                Ok(Filter::Cmp { attr, op, value })
            }
            _ => Err("Syntax error in $filter.".into()),
        }
    }
}

impl Filter {
    fn parse(s: &str) -> Result<Filter, String> {
        if s.len() > 8 * 1024 {
            return Err("The $filter is too long.".into());
        }
        let mut p = Parser {
            tokens: tokens(s)?,
            at: 0,
        };
        let f = p.or(0)?;
        if p.at < p.tokens.len() {
            return Err("Syntax error in $filter: unexpected text after the expression.".into());
        }
        Ok(f)
    }

    /// The first attribute the filter names that a lead does not have.
    fn unknown_attribute(&self) -> Option<String> {
        match self {
            Filter::Or(v) | Filter::And(v) => v.iter().find_map(Filter::unknown_attribute),
            Filter::Not(f) => f.unknown_attribute(),
            Filter::Text { attr, .. } | Filter::Cmp { attr, .. } => {
                (!known_attribute(attr)).then(|| attr.clone())
            }
        }
    }

    fn matches(&self, r: &Map<String, Value>) -> bool {
        match self {
            Filter::Or(v) => v.iter().any(|f| f.matches(r)),
            Filter::And(v) => v.iter().all(|f| f.matches(r)),
            Filter::Not(f) => !f.matches(r),
            Filter::Text { func, attr, text } => {
                let Some(v) = attribute(r, attr) else {
                    return false;
                };
                let (v, text) = (v.to_lowercase(), text.to_lowercase());
                match func.as_str() {
                    "startswith" => v.starts_with(&text),
                    "endswith" => v.ends_with(&text),
                    _ => v.contains(&text),
                }
            }
            Filter::Cmp { attr, op, value } => {
                let v = attribute(r, attr);
                let (v, value) = match (v, value) {
                    (None, None) => return op == "eq" || op == "ge" || op == "le",
                    (Some(_), None) | (None, Some(_)) => return op == "ne",
                    (Some(v), Some(value)) => (v, value),
                };
                let o = compare(&v, value);
                match op.as_str() {
                    "eq" => o == Ordering::Equal,
                    "ne" => o != Ordering::Equal,
                    "gt" => o == Ordering::Greater,
                    "ge" => o != Ordering::Less,
                    "lt" => o == Ordering::Less,
                    _ => o != Ordering::Greater,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn filters_read_as_odata_does() {
        let r = rec(
            json!({"subject": "AzureMarketplace-INS|a.b", "createdon": "2026-11-02T10:00:00Z", "leadsourcecode": 8}),
        );
        let yes = [
            "startswith(subject,'azuremarketplace-')",
            "(startswith(subject,'X') or startswith(subject,'AzureMarketplace-')) and createdon ge 2026-11-01T00:00:00Z",
            "createdon lt 2026-11-03T00:00:00Z and leadsourcecode eq 8",
            "not contains(subject,'zzz') and companyname eq null",
            "subject eq 'AZUREMARKETPLACE-INS|A.B'",
        ];
        for f in yes {
            assert!(Filter::parse(f).unwrap().matches(&r), "{f}");
        }
        let no = [
            "startswith(subject,'MSFT_TEST_')",
            "createdon ge 2026-11-03T00:00:00Z",
            "leadsourcecode gt 8",
            "companyname ne null",
        ];
        for f in no {
            assert!(!Filter::parse(f).unwrap().matches(&r), "{f}");
        }
    }

    #[test]
    fn bad_filters_are_errors_never_panics() {
        let deep = format!("{}subject eq 'x'{}", "(".repeat(100), ")".repeat(100));
        let nots = format!("{}subject eq 'x'", "not ".repeat(100));
        for f in [
            "",
            "(",
            ")",
            "startswith(",
            "startswith(subject,'x'",
            "subject eq",
            "subject",
            "subject eq 'x' and",
            "'unterminated",
            "frobnicate(subject,'x')",
            "subject ~ 'x'",
            ",,,",
            "é",
            &deep,
            &nots,
        ] {
            assert!(Filter::parse(f).is_err(), "{f}");
        }
        assert_eq!(
            Filter::parse("startswith(bogus,'x')")
                .unwrap()
                .unknown_attribute()
                .as_deref(),
            Some("bogus")
        );
        assert_eq!(
            Filter::parse("startswith(subject,'it''s')").unwrap(),
            Filter::Text {
                func: "startswith".into(),
                attr: "subject".into(),
                text: "it's".into()
            }
        );
    }
}
