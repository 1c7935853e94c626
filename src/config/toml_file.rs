//! `leadcheck.toml`: `[destination.NAME]` tables with a `type` and that type's fields.
//!
//! The file is read into a tree that keeps every key's and value's byte span (toml's
//! deserializer hands spans to anything that asks the way `toml::Spanned` does), so that
//! parse errors and lint findings can say file:line:col.

use super::fields::{self, FieldKind, FieldValue};
use super::model::{Config, Destination, SecretField};
use super::secrets;
use crate::report::Location;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::ops::Range;
use std::path::Path;

// The names by which toml's deserializer recognizes a request for spans (serde_spanned's
// private protocol, the one `toml::Spanned` uses); used here to get spans of keys as well as
// values without a further dependency.
const SPANNED: &str = "$__serde_spanned_private_Spanned";
const START: &str = "$__serde_spanned_private_start";
const END: &str = "$__serde_spanned_private_end";
const VALUE: &str = "$__serde_spanned_private_value";
const SPANNED_FIELDS: &[&str] = &[START, END, VALUE];

/// A value with the span of its text.
#[derive(Debug, Clone)]
pub struct Node {
    pub span: Range<usize>,
    pub value: V,
}

#[derive(Debug, Clone)]
pub enum V {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    Table(Vec<(Key, Node)>),
}

impl V {
    fn describe(&self) -> &'static str {
        match self {
            V::Str(_) => "a string",
            V::Int(_) => "an integer",
            V::Float(_) => "a float",
            V::Bool(_) => "a boolean",
            V::Datetime(_) => "a date-time",
            V::Array(_) => "an array",
            V::Table(_) => "a table",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Key {
    pub span: Range<usize>,
    pub name: String,
}

/// Reads `{start, end, value}` the way toml hands out spans; a deserializer that knows no
/// spans gives the bare value (span 0..0).
struct SpannedVisitor<T>(std::marker::PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = (Range<usize>, T);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut start = 0;
        let mut end = 0;
        let mut value = None;
        while let Some(k) = map.next_key::<String>()? {
            match k.as_str() {
                START => start = map.next_value()?,
                END => end = map.next_value()?,
                VALUE => value = Some(map.next_value()?),
                _ => return Err(de::Error::custom("unexpected span field")),
            }
        }
        value
            .map(|v| (start..end, v))
            .ok_or_else(|| de::Error::custom("missing value"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        T::deserialize(de::value::StrDeserializer::<E>::new(v)).map(|t| (0..0, t))
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        let (span, name) = d.deserialize_struct(
            SPANNED,
            SPANNED_FIELDS,
            SpannedVisitor::<String>(Default::default()),
        )?;
        Ok(Key { span, name })
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, NodeVisitor)
    }
}

/// A value with its span when the deserializer has one; a table without a span (the implicit
/// parent of `[destination.NAME]`) comes as a plain map and gets `0..0`.
struct NodeVisitor;

fn bare(value: V) -> Node {
    Node { span: 0..0, value }
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(bare(V::Str(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(bare(V::Str(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(bare(V::Int(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        VVisitor.visit_u64(v).map(bare)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(bare(V::Float(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(bare(V::Bool(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        VVisitor.visit_seq(seq).map(bare)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let Some(first) = map.next_key::<Key>()? else {
            return Ok(bare(V::Table(Vec::new())));
        };
        if first.name == START {
            let start: usize = map.next_value()?;
            let mut end = start;
            let mut value = None;
            while let Some(k) = map.next_key::<String>()? {
                match k.as_str() {
                    END => end = map.next_value()?,
                    VALUE => value = Some(map.next_value::<V>()?),
                    _ => return Err(de::Error::custom("unexpected span field")),
                }
            }
            return value
                .map(|value| Node {
                    span: start..end,
                    value,
                })
                .ok_or_else(|| de::Error::custom("missing value"));
        }
        if first.name == DATETIME {
            return Ok(bare(V::Datetime(map.next_value()?)));
        }
        let mut entries = vec![(first, map.next_value::<Node>()?)];
        while let Some(k) = map.next_key::<Key>()? {
            let n: Node = map.next_value()?;
            entries.push((k, n));
        }
        Ok(bare(V::Table(entries)))
    }
}

const DATETIME: &str = "$__toml_private_datetime";

impl<'de> Deserialize<'de> for V {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<V, D::Error> {
        d.deserialize_any(VVisitor)
    }
}

struct VVisitor;

impl<'de> Visitor<'de> for VVisitor {
    type Value = V;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a TOML value")
    }
    fn visit_str<E>(self, v: &str) -> Result<V, E> {
        Ok(V::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<V, E> {
        Ok(V::Str(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<V, E> {
        Ok(V::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<V, E> {
        i64::try_from(v)
            .map(V::Int)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E>(self, v: f64) -> Result<V, E> {
        Ok(V::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<V, E> {
        Ok(V::Bool(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<V, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(V::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Key>()? {
            if k.name == DATETIME {
                let s: String = map.next_value()?;
                return Ok(V::Datetime(s));
            }
            let n: Node = map.next_value()?;
            entries.push((k, n));
        }
        Ok(V::Table(entries))
    }
}

/// Turns byte spans into locations in one file (line starts are indexed once: a config
/// with thousands of destinations has tens of thousands of locations).
pub struct Locator<'a> {
    pub file: String,
    pub text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Locator<'a> {
    pub fn new(file: &str, text: &'a str) -> Locator<'a> {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        Locator {
            file: file.to_string(),
            text,
            line_starts,
        }
    }

    pub fn at(&self, offset: usize) -> Location {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&s| s <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        Location {
            file: self.file.clone(),
            line,
            column,
        }
    }
}

/// A parse error: what is wrong and where, plus what is expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub location: Option<Location>,
    pub message: String,
    pub expected: Option<String>,
}

impl ParseError {
    fn at(
        loc: Location,
        message: impl Into<String>,
        expected: impl Into<Option<String>>,
    ) -> ParseError {
        ParseError {
            location: Some(loc),
            message: message.into(),
            expected: expected.into(),
        }
    }
}

/// Parses a leadcheck.toml. `file` is how the path is shown; `base` is the folder that
/// `{ file = "..." }` secrets are relative to.
pub fn parse(text: &str, file: &str, base: Option<&Path>) -> Result<Config, ParseError> {
    let loc = Locator::new(file, text);
    let root: V = ::toml::from_str(text).map_err(|e| {
        let at = e.span().map(|s| s.start).unwrap_or(0);
        let msg = e.message().trim().to_string();
        ParseError::at(loc.at(at), format!("invalid TOML: {msg}"), None)
    })?;
    let V::Table(top) = root else {
        unreachable!("a TOML document is a table")
    };
    let mut destinations = Vec::new();
    let mut saw_destination = false;
    for (k, n) in top {
        if k.name != "destination" {
            let hint = fields::did_you_mean(&k.name, ["destination"])
                .map(|s| format!("did you mean `{s}`?"));
            return Err(ParseError::at(
                loc.at(k.span.start),
                format!("unknown top-level key `{}`", k.name),
                Some(hint.unwrap_or_else(|| "expected `[destination.NAME]` tables".into())),
            ));
        }
        saw_destination = true;
        let V::Table(dests) = n.value else {
            return Err(ParseError::at(
                loc.at(n.span.start),
                format!("`destination` is {}", n.value.describe()),
                Some("expected `[destination.NAME]` tables".into()),
            ));
        };
        for (name, body) in dests {
            destinations.push(destination(&loc, name, body, base)?);
        }
    }
    if !saw_destination || destinations.is_empty() {
        return Err(ParseError {
            location: Some(loc.at(0)),
            message: "the config has no destination".into(),
            expected: Some(
                "add a `[destination.NAME]` table with a `type` (`leadcheck init` writes one)"
                    .into(),
            ),
        });
    }
    Ok(Config {
        path: None,
        destinations,
    })
}

fn destination(
    loc: &Locator,
    name: Key,
    body: Node,
    base: Option<&Path>,
) -> Result<Destination, ParseError> {
    let V::Table(entries) = body.value else {
        return Err(ParseError::at(
            loc.at(body.span.start),
            format!("`destination.{}` is {}", name.name, body.value.describe()),
            Some(
                "expected a table: `[destination.NAME]` with `type = \"...\"` and its fields"
                    .into(),
            ),
        ));
    };
    let kinds = fields::KINDS.join(", ");
    let Some((_, type_node)) = entries.iter().find(|(k, _)| k.name == "type") else {
        return Err(ParseError::at(
            loc.at(name.span.start),
            format!("destination `{}` has no `type`", name.name),
            Some(format!("add `type = \"...\"`, one of: {kinds}")),
        ));
    };
    let V::Str(t) = &type_node.value else {
        return Err(ParseError::at(
            loc.at(type_node.span.start),
            format!("`type` is {}", type_node.value.describe()),
            Some(format!("expected a string, one of: {kinds}")),
        ));
    };
    let Some(kind) = fields::canonical_kind(t) else {
        let hint = fields::did_you_mean(t, fields::KINDS.iter().copied())
            .map(|s| format!("did you mean \"{s}\"? "));
        return Err(ParseError::at(
            loc.at(type_node.span.start),
            format!("unknown destination type \"{t}\""),
            Some(format!(
                "{}expected one of: {kinds}",
                hint.unwrap_or_default()
            )),
        ));
    };
    let mut values = Vec::new();
    for (k, n) in &entries {
        if k.name == "type" {
            continue;
        }
        let at = loc.at(k.span.start);
        let Some(fk) = fields::field_kind(kind, &k.name) else {
            let known = fields::field_names(kind);
            let hint = match fields::did_you_mean(&k.name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? "),
                None => String::new(),
            };
            return Err(ParseError::at(
                at,
                format!(
                    "unknown field `{}` in destination `{}` (type {kind})",
                    k.name, name.name
                ),
                Some(format!("{hint}fields of {kind}: {}", known[1..].join(", "))),
            ));
        };
        let vloc = loc.at(n.span.start);
        let wrong = |what: &str| {
            ParseError::at(
                vloc.clone(),
                format!("`{}` is {}", k.name, n.value.describe()),
                Some(format!("expected {what}")),
            )
        };
        let value = match (fk, &n.value) {
            (_, V::Str(s)) if fk != FieldKind::Secret => FieldValue::Str(s.clone()),
            (FieldKind::Str, V::Int(i)) if k.name == "form_id" => FieldValue::Str(i.to_string()),
            (FieldKind::Str, _) => return Err(wrong("a string")),
            (FieldKind::List, V::Array(items)) => {
                let mut list = Vec::new();
                for it in items {
                    match &it.value {
                        V::Str(s) => list.push(s.clone()),
                        other => {
                            return Err(ParseError::at(
                                loc.at(it.span.start),
                                format!("an item of `{}` is {}", k.name, other.describe()),
                                Some("expected a string".into()),
                            ))
                        }
                    }
                }
                FieldValue::List(list)
            }
            (FieldKind::List, _) => return Err(wrong("a string or a list of strings")),
            (FieldKind::Secret, v) => FieldValue::Secret(secret(loc, &k.name, v, &vloc, base)?),
        };
        values.push((k.name.clone(), value, Some(vloc)));
    }
    let mut d = fields::build(&name.name, kind, values, Some(loc.at(name.span.start))).map_err(
        |(msg, l)| ParseError {
            location: l,
            message: msg,
            expected: None,
        },
    )?;
    d.locations
        .insert("type".into(), loc.at(type_node.span.start));
    Ok(d)
}

const SECRET_FORMS: &str = "a string, `{ env = \"VAR\" }` or `{ file = \"PATH\" }`";

fn secret(
    loc: &Locator,
    field: &str,
    v: &V,
    at: &Location,
    base: Option<&Path>,
) -> Result<SecretField, ParseError> {
    match v {
        V::Str(s) => Ok(SecretField::plain(s.clone())),
        V::Table(entries) => {
            let [(k, n)] = entries.as_slice() else {
                return Err(ParseError::at(
                    at.clone(),
                    format!("`{field}` must have exactly one key, `env` or `file`"),
                    Some(SECRET_FORMS.to_string()),
                ));
            };
            let V::Str(s) = &n.value else {
                return Err(ParseError::at(
                    loc.at(n.span.start),
                    format!("`{field}.{}` is {}", k.name, n.value.describe()),
                    Some("expected a string".to_string()),
                ));
            };
            match k.name.as_str() {
                "env" => Ok(secrets::from_env(s)),
                "file" => Ok(secrets::from_file(s, base)),
                other => {
                    let hint = fields::did_you_mean(other, ["env", "file"])
                        .map(|s| format!("did you mean `{s}`? "));
                    Err(ParseError::at(
                        loc.at(k.span.start),
                        format!("unknown key `{other}` in secret `{field}`"),
                        Some(format!(
                            "{}expected {SECRET_FORMS}",
                            hint.unwrap_or_default()
                        )),
                    ))
                }
            }
        }
        other => Err(ParseError::at(
            at.clone(),
            format!("`{field}` is {}", other.describe()),
            Some(format!("expected {SECRET_FORMS}")),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::model::{DynamicsAuth, SecretSource, Spec};

    #[test]
    fn reads_fields_with_locations() {
        let text = "# c\n[destination.crm]\ntype = \"dynamics\"\ninstance_url = \"https://x.crm.dynamics.com\"\nauthentication = \"azureAD\"\napplication_key = { env = \"LEADCHECK_SURELY_UNSET\" }\ncontact_email = [\"a@b.com\"]\n\n[destination.form]\ntype = \"marketo\"\nform_id = 1179\n";
        let c = parse(text, "lc.toml", None).unwrap();
        assert_eq!(c.destinations.len(), 2);
        let d = &c.destinations[0];
        assert_eq!(d.name, "crm");
        assert_eq!(d.location.as_ref().unwrap().to_string(), "lc.toml:2:14");
        assert_eq!(d.locations["instance_url"].to_string(), "lc.toml:4:16");
        let Spec::Dynamics(dy) = &d.spec else {
            panic!()
        };
        assert_eq!(dy.authentication, Some(DynamicsAuth::AzureAd));
        let key = dy.application_key.as_ref().unwrap();
        assert_eq!(
            key.source,
            SecretSource::Env("LEADCHECK_SURELY_UNSET".into())
        );
        assert!(key.value.is_err());
        assert_eq!(d.common.contact_email, vec!["a@b.com"]);
        let Spec::Marketo(m) = &c.destinations[1].spec else {
            panic!()
        };
        assert_eq!(m.form_id.as_deref(), Some("1179"));
    }

    #[test]
    fn locator_agrees_with_line_col() {
        let t = "a\nżółw\n\nxyz\n";
        let l = Locator::new("f", t);
        for o in 0..=t.len() + 2 {
            let x = l.at(o);
            assert_eq!((x.line, x.column), fields::line_col(t, o), "offset {o}");
        }
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = parse(
            "[destination.x]\ntype = \"https\"\nhttps_endpoint_uri = \"x\"\n",
            "f",
            None,
        )
        .unwrap_err();
        assert_eq!(e.location.unwrap().to_string(), "f:3:1");
        assert!(e
            .expected
            .unwrap()
            .contains("did you mean `https_endpoint_url`?"));
        let e = parse("[destination.x]\nurl = 1\n", "f", None).unwrap_err();
        assert!(e.message.contains("has no `type`"), "{}", e.message);
        let e = parse("[destination.x]\ntype = \"dynamic\"\n", "f", None).unwrap_err();
        assert!(e.expected.unwrap().contains("did you mean \"dynamics\"?"));
        let e = parse(
            "[destination.x]\ntype = \"salesforce\"\nobject_identifier = 5\n",
            "f",
            None,
        )
        .unwrap_err();
        assert_eq!(e.message, "`object_identifier` is an integer");
        assert_eq!(e.location.unwrap().to_string(), "f:3:21");
        let e = parse(
            "[destination.x]\ntype = \"https\"\nhttps_endpoint_url = \"a\n",
            "f",
            None,
        )
        .unwrap_err();
        assert!(e.message.starts_with("invalid TOML"), "{}", e.message);
        assert_eq!(e.location.unwrap().line, 3);
        let e = parse("[destinations.x]\n", "f", None).unwrap_err();
        assert!(e.expected.unwrap().contains("`destination`"));
        let e = parse("", "f", None).unwrap_err();
        assert!(e.message.contains("no destination"));
        let e = parse(
            "[destination.x]\ntype = \"dynamics\"\nauthentication = \"kerberos\"\n",
            "f",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("azure-ad"));
        let e = parse(
            "[destination.x]\ntype = \"dynamics\"\npassword = { vault = \"x\" }\n",
            "f",
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("unknown key `vault`"));
        let e = parse(
            "[destination.x]\ntype = \"dynamics\"\nusername = 2024-01-01\n",
            "f",
            None,
        )
        .unwrap_err();
        assert_eq!(e.message, "`username` is a date-time");
    }
}
