//! An HTTPS endpoint emulator shaped like a Power Automate / Logic Apps "When a HTTP request
//! is received" trigger (research/protocols.md §6, ms-lead-docs.md §3.5):
//! `POST /workflows/<id>/triggers/manual/paths/invoke?api-version=2016-06-01&sp=...&sv=1.0&sig=...`,
//! the signature checked, the body checked against the flow's Request Body JSON Schema,
//! 202 Accepted when the flow has no Response action.

use super::{
    entry_name, guid, Builder, DestinationEntry, Emulator, Family, Reply, Request, Scenario,
};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

pub struct HttpsFamily;

const SCENARIOS: &[Scenario] = &[
    Scenario {
        code: "LC211",
        what: "the endpoint redirects elsewhere (302)",
    },
    Scenario {
        code: "LC317",
        what: "the URL's signature is refused (AuthorizationFailed)",
    },
    Scenario {
        code: "LC503",
        what: "the receiver rejects the lead (400)",
    },
    Scenario {
        code: "LC504",
        what: "the receiver fails (500)",
    },
    Scenario {
        code: "LC505",
        what: "the flow's JSON schema rejects the lead (Phone typed as integer)",
    },
    Scenario {
        code: "LC509",
        what: "the receiver throttles (429)",
    },
    Scenario {
        code: "LC516",
        what: "the flow was deleted (404)",
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Healthy,
    Redirect,
    Rejects,
    ServerError,
    StrictSchema,
    Throttled,
}

/// `sp` of a manual trigger URL.
const SP: &str = "/triggers/manual/run";

impl Family for HttpsFamily {
    fn name(&self) -> &'static str {
        "https"
    }

    fn scenarios(&self) -> &'static [Scenario] {
        SCENARIOS
    }

    fn build(&self, wanted: &[&'static str], sb: &mut Builder) -> std::io::Result<()> {
        for code in std::iter::once(None).chain(wanted.iter().copied().map(Some)) {
            let name = entry_name("https", code);
            let behaviour = match code {
                None | Some("LC317") | Some("LC516") => Behaviour::Healthy,
                Some("LC211") => Behaviour::Redirect,
                Some("LC503") => Behaviour::Rejects,
                Some("LC504") => Behaviour::ServerError,
                Some("LC505") => Behaviour::StrictSchema,
                Some("LC509") => Behaviour::Throttled,
                Some(_) => continue,
            };
            let slot = sb.bind()?;
            let flow = PowerAutomate {
                workflow: guid(&format!("workflow/{name}")).replace('-', ""),
                key: guid(&format!("key/{name}")),
                behaviour,
            };
            let mut workflow = flow.workflow.clone();
            let mut sig = flow.sign(&flow.workflow);
            match code {
                Some("LC317") => sig = flow.sign("another workflow"),
                Some("LC516") => {
                    workflow = guid("workflow/deleted").replace('-', "");
                    sig = flow.sign(&workflow);
                }
                _ => {}
            }
            let url = format!(
                "{}/workflows/{workflow}/triggers/manual/paths/invoke?api-version=2016-06-01&sp={}&sv=1.0&sig={sig}",
                slot.url(),
                url::form_urlencoded::byte_serialize(SP.as_bytes()).collect::<String>()
            );
            sb.serve(slot, &name, flow);
            let what = code
                .and_then(|c| SCENARIOS.iter().find(|s| s.code == c))
                .map_or(
                    "an HTTPS endpoint (Power Automate flow) that accepts the lead",
                    |s| s.what,
                );
            sb.destination(
                DestinationEntry::new(name, "https")
                    .secret("https_endpoint_url", url)
                    .note(what)
                    .expect(code),
            );
        }
        Ok(())
    }
}

struct PowerAutomate {
    /// 32 hex digits, as Logic Apps workflow ids are.
    workflow: String,
    key: String,
    behaviour: Behaviour,
}

impl PowerAutomate {
    /// The `sig` of a URL: an HMAC over the workflow, `sp` and `sv` (the real scheme is not
    /// public; the shape, 43 base64url characters, is).
    fn sign(&self, workflow: &str) -> String {
        use base64::Engine;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.key.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(format!("{workflow}\n{SP}\n1.0").as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    fn error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": code, "message": message}}),
        )
    }

    fn schema(&self) -> Value {
        // The schema of the documentation; the strict flow typed Phone from a sample
        // payload that held a number.
        let phone = if self.behaviour == Behaviour::StrictSchema {
            "integer"
        } else {
            "string"
        };
        let s = |id: &str| json!({"id": id, "type": "string"});
        json!({
            "type": "object",
            "properties": {
                "ActionCode": s("/properties/ActionCode"),
                "OfferTitle": s("/properties/OfferTitle"),
                "LeadSource": s("/properties/LeadSource"),
                "Description": s("/properties/Description"),
                "UserDetails": {
                    "id": "/properties/UserDetails",
                    "type": "object",
                    "properties": {
                        "Company": s("/properties/UserDetails/properties/Company"),
                        "Country": s("/properties/UserDetails/properties/Country"),
                        "Email": s("/properties/UserDetails/properties/Email"),
                        "FirstName": s("/properties/UserDetails/properties/FirstName"),
                        "LastName": s("/properties/UserDetails/properties/LastName"),
                        "Phone": {"id": "/properties/UserDetails/properties/Phone", "type": phone},
                        "Title": s("/properties/UserDetails/properties/Title")
                    }
                }
            }
        })
    }
}

/// The JSON type names Logic Apps uses in its schema errors.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "Null",
        Value::Bool(_) => "Boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Float",
        Value::String(_) => "String",
        Value::Array(_) => "Array",
        Value::Object(_) => "Object",
    }
}

/// The first mismatch between `v` and a draft-04 schema's `type`/`properties`, as
/// "Invalid type. Expected X but got Y." with its path.
fn mismatch(schema: &Value, v: &Value, path: &str) -> Option<(String, String)> {
    if let Some(want) = schema.get("type").and_then(Value::as_str) {
        let got = type_name(v);
        let ok = match want {
            "integer" => got == "Integer",
            "number" => got == "Integer" || got == "Float",
            other => other.eq_ignore_ascii_case(got),
        };
        if !ok {
            // Capitalized by character: a schema's type name is outside input.
            let mut chars = want.chars();
            let w: String = chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect())
                .unwrap_or_default();
            return Some((
                format!("Invalid type. Expected {w} but got {got}."),
                path.to_string(),
            ));
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, sub) in props {
            if let Some(child) = obj.get(k) {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if let Some(m) = mismatch(sub, child, &p) {
                    return Some(m);
                }
            }
        }
    }
    None
}

impl Emulator for PowerAutomate {
    fn handle(&self, req: &Request) -> Reply {
        let segs: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
        let ["workflows", workflow, "triggers", "manual", "paths", "invoke"] = segs[..] else {
            return PowerAutomate::error(
                404,
                "InvalidRoute",
                "The request URL does not match a workflow trigger route.",
            );
        };
        let q = |k: &str| req.query_param(k);
        if q("api-version").is_none() {
            return PowerAutomate::error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            );
        }
        let (Some(sp), Some(sv), Some(sig)) = (q("sp"), q("sv"), q("sig")) else {
            // Quoted from Azure/logicapps issue #169 (research §6).
            return PowerAutomate::error(
                401,
                "AuthorizationFailed",
                "Required parameters for shared access URL are permissions ('sp'), version ('sv'), and signature ('sig').",
            );
        };
        if sp != SP || sv != "1.0" || sig != self.sign(workflow) {
            // The research names the code for a wrong signature, not the message.
            return PowerAutomate::error(
                401,
                "AuthorizationFailed",
                "The authentication credentials are not valid.",
            );
        }
        if workflow != self.workflow {
            // The research is silent on the body for a deleted flow: minimal.
            return PowerAutomate::error(
                404,
                "WorkflowNotFound",
                &format!("The workflow '{workflow}' could not be found."),
            );
        }
        if req.method != hyper::Method::POST {
            return PowerAutomate::error(
                400,
                "TriggerRequestMethodNotValid",
                &format!("The HTTP method for this request is not valid: expected 'Post' and actual '{}'.", req.method),
            );
        }
        match self.behaviour {
            Behaviour::Redirect => {
                return Reply::empty(302).header("Location", "https://prod-00.westus.logic.azure.com/workflows/moved/triggers/manual/paths/invoke")
            }
            Behaviour::Rejects => return Reply::text(400, "text/plain; charset=utf-8", "Bad Request: lead rejected by the receiving function"),
            Behaviour::ServerError => {
                return PowerAutomate::error(500, "InternalServerError", &format!("Encountered internal server error. The tracking Id is '{}'.", uuid::Uuid::new_v4()))
            }
            Behaviour::Throttled => {
                return PowerAutomate::error(429, "WorkflowRequestsThrottled", "The workflow has exceeded the maximum number of requests allowed.").header("Retry-After", "1")
            }
            Behaviour::Healthy | Behaviour::StrictSchema => {}
        }
        let is_json = req
            .header("Content-Type")
            .is_some_and(|c| c.to_ascii_lowercase().starts_with("application/json"));
        let body: Value = match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) if is_json => {
                return PowerAutomate::error(
                    400,
                    "InvalidRequestContent",
                    &format!(
                        "The request content is not valid and could not be deserialized: '{e}'."
                    ),
                )
            }
            // Not JSON: the trigger sees a string, which the object schema refuses.
            Err(_) => Value::String(String::from_utf8_lossy(&req.body).into_owned()),
        };
        if let Some((detail, path)) = mismatch(&self.schema(), &body, "") {
            let at = if path.is_empty() {
                String::new()
            } else {
                format!(" Path '{path}'")
            };
            return PowerAutomate::error(
                400,
                "TriggerInputSchemaMismatch",
                &format!("The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: '{detail}{at}'."),
            );
        }
        Reply::empty(202)
            .header(
                "x-ms-workflow-run-id",
                format!(
                    "08584{}",
                    &guid(&uuid::Uuid::new_v4().to_string()).replace('-', "")[..21]
                ),
            )
            .header("x-ms-correlation-id", uuid::Uuid::new_v4().to_string())
            .header("x-ms-workflow-version", "08584000000000000000")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_mismatch_names_type_and_path() {
        let flow = PowerAutomate {
            workflow: "w".into(),
            key: "k".into(),
            behaviour: Behaviour::StrictSchema,
        };
        let lead =
            json!({"UserDetails": {"Phone": "1234567890"}, "LeadSource": "AzureMarketplace"});
        let (detail, path) = mismatch(&flow.schema(), &lead, "").unwrap();
        assert_eq!(detail, "Invalid type. Expected Integer but got String.");
        assert_eq!(path, "UserDetails.Phone");
        let healthy = PowerAutomate {
            behaviour: Behaviour::Healthy,
            ..flow
        };
        assert!(mismatch(&healthy.schema(), &lead, "").is_none());
    }
}
