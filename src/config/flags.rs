//! A destination given on the command line: `--type TYPE` and one flag per field.

use super::fields::{self, FieldKind, FieldValue};
use super::model::Destination;
use super::secrets::Stdin;
use crate::cli::DestinationFlags;
use crate::exit::UserError;

/// Builds the one destination the flags describe (named after its type). A flag that the
/// type does not take is an error; secret flags are resolved with `read_stdin` for `-`.
pub fn destination(
    flags: &DestinationFlags,
    read_stdin: &mut dyn FnMut() -> std::io::Result<String>,
) -> Result<Destination, UserError> {
    let Some(kind) = flags.kind else {
        return Err(UserError::new("no destination type given").hint("pass --type TYPE"));
    };
    let kind = kind.as_str();
    let f = flags;
    let given: Vec<(&str, Option<&String>)> = vec![
        ("instance_url", f.instance_url.as_ref()),
        ("authentication", f.authentication.as_ref()),
        ("directory_id", f.directory_id.as_ref()),
        ("application_id", f.application_id.as_ref()),
        ("application_key", f.application_key.as_ref()),
        ("username", f.username.as_ref()),
        ("password", f.password.as_ref()),
        ("client_id", f.client_id.as_ref()),
        ("authority_host", f.authority_host.as_ref()),
        ("object_identifier", f.object_identifier.as_ref()),
        ("endpoint", f.endpoint.as_ref()),
        ("api_instance_url", f.api_instance_url.as_ref()),
        ("api_access_token", f.api_access_token.as_ref()),
        ("munchkin_id", f.munchkin_id.as_ref()),
        ("form_id", f.form_id.as_ref()),
        ("client_secret", f.client_secret.as_ref()),
        ("server_id", f.server_id.as_ref()),
        (
            "storage_account_connection_string",
            f.storage_account_connection_string.as_ref(),
        ),
        ("table", f.table.as_ref()),
        ("https_endpoint_url", f.https_endpoint_url.as_ref()),
        ("offer", f.offer.as_ref()),
        ("offer_title", f.offer_title.as_ref()),
    ];
    let mut stdin = Stdin::default();
    let mut values = Vec::new();
    for (field, value) in given {
        let Some(value) = value else { continue };
        let flag = field.replace('_', "-");
        let Some(fk) = fields::field_kind(kind, field) else {
            let takes: Vec<String> = fields::field_names(kind)[1..]
                .iter()
                .map(|n| format!("--{}", n.replace('_', "-")))
                .collect();
            return Err(
                UserError::new(format!("--{flag} does not apply to --type {kind}"))
                    .hint(format!("--type {kind} takes {}", takes.join(", "))),
            );
        };
        let v = match fk {
            FieldKind::Secret => FieldValue::Secret(stdin.flag(&flag, value, &mut *read_stdin)),
            _ => FieldValue::Str(value.clone()),
        };
        values.push((field.to_string(), v, None));
    }
    if !f.contact_email.is_empty() {
        let list = f
            .contact_email
            .iter()
            .flat_map(|e| fields::split_emails(e))
            .collect();
        values.push(("contact_email".to_string(), FieldValue::List(list), None));
    }
    fields::build(kind, kind, values, None)
        .map_err(|(msg, _)| UserError::new(msg).hint("--authentication azure-ad or office-365"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::DestinationType;
    use crate::config::model::{SecretSource, Spec};

    #[test]
    fn flags_make_one_destination() {
        let flags = DestinationFlags {
            kind: Some(DestinationType::Salesforce),
            object_identifier: Some("00D000000000001".into()),
            api_access_token: Some("-".into()),
            contact_email: vec!["a@x.com;b@x.com".into()],
            ..Default::default()
        };
        let d = destination(&flags, &mut || Ok("tok\n".into())).unwrap();
        assert_eq!(d.name, "salesforce");
        let Spec::Salesforce(s) = &d.spec else {
            panic!()
        };
        let tok = s.api_access_token.as_ref().unwrap();
        assert_eq!(tok.source, SecretSource::Stdin);
        assert_eq!(tok.value.as_ref().unwrap().expose(), "tok");
        assert_eq!(d.common.contact_email.len(), 2);
        let bad = DestinationFlags {
            kind: Some(DestinationType::Https),
            table: Some("x".into()),
            ..Default::default()
        };
        let e = destination(&bad, &mut || unreachable!()).unwrap_err();
        assert_eq!(e.message, "--table does not apply to --type https");
    }
}
