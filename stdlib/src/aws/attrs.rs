//! Reading configuration values for SDK calls, tags, and small shared types.

use std::collections::BTreeMap;

use drone_engine::provider::{Owner, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::error::invalid;

/// What an update call needs.
pub struct Update<'a> {
    /// The resource id.
    pub id: &'a str,
    /// Recorded attributes.
    pub prior: &'a Attributes,
    /// New configuration.
    pub config: &'a Attributes,
    /// Changed attribute names.
    pub changed: &'a [String],
    /// All tags to carry (user tags and drone's).
    pub tags: &'a BTreeMap<String, String>,
}

impl Update<'_> {
    /// Whether `name` changed.
    pub fn changed(&self, name: &str) -> bool {
        self.changed.iter().any(|c| c == name)
    }

    /// Whether anything changed besides the tags.
    pub fn changed_besides_tags(&self) -> bool {
        self.changed.iter().any(|c| c != "tags")
    }
}

/// A string attribute.
pub fn string<'a>(config: &'a Attributes, name: &str) -> Option<&'a str> {
    config.get(name).and_then(Value::as_str)
}

/// A required string attribute (the checker guarantees presence).
pub fn required<'a>(config: &'a Attributes, name: &str, operation: &str) -> Result<&'a str, ProviderError> {
    string(config, name).ok_or_else(|| invalid(operation, format!("`{name}` must be a string")))
}

/// A bool attribute.
pub fn boolean(config: &Attributes, name: &str) -> Option<bool> {
    config.get(name).and_then(Value::as_bool)
}

/// A whole-number attribute.
pub fn int(config: &Attributes, name: &str) -> Option<i32> {
    config.get(name).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok())
}

/// A list of strings.
pub fn strings(config: &Attributes, name: &str) -> Vec<String> {
    config
        .get(name)
        .and_then(Value::as_list)
        .map(|l| l.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// A list of maps.
pub fn objects<'a>(config: &'a Attributes, name: &str) -> Vec<&'a BTreeMap<String, Value>> {
    config.get(name).and_then(Value::as_list).map(|l| l.iter().filter_map(Value::as_map).collect()).unwrap_or_default()
}

/// A map of strings.
pub fn string_map(config: &Attributes, name: &str) -> BTreeMap<String, String> {
    config
        .get(name)
        .and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect())
        .unwrap_or_default()
}

/// A sensitive string: a resolved secret's plaintext, or a plain string.
pub fn secret(config: &Attributes, name: &str) -> Option<String> {
    match config.get(name) {
        Some(Value::Secret(s)) => s.expose().map(String::from),
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    }
}

/// The user's tags merged with drone's own.
pub fn merged_tags(config: &Attributes, system: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut tags = string_map(config, "tags");
    tags.extend(system.iter().map(|(k, v)| (k.clone(), v.clone())));
    tags
}

/// Whose a resource carrying `tags` is, against the drone tags `wanted`
/// (`drone:address` and `drone:lineage` must both match to be this state's).
pub fn owner<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, wanted: &BTreeMap<String, String>) -> Owner {
    let found: BTreeMap<&str, &str> = tags.into_iter().filter(|(k, _)| k.starts_with("drone:")).collect();
    if found.is_empty() {
        return Owner::Untagged;
    }
    let same = |key: &str| found.get(key).copied() == wanted.get(key).map(String::as_str);
    if same("drone:address") && same("drone:lineage") {
        return Owner::This;
    }
    let get = |key: &str| found.get(key).copied().unwrap_or("?");
    Owner::Other(format!(
        "`{}` of workflow `{}` (state lineage {})",
        get("drone:address"),
        get("drone:workflow"),
        get("drone:lineage")
    ))
}

/// Tag keys to remove and tags to set, going from the recorded user tags to `desired`.
pub fn tag_changes(prior: &Attributes, desired: &BTreeMap<String, String>) -> (Vec<String>, BTreeMap<String, String>) {
    let before = string_map(prior, "tags");
    let removed = before.keys().filter(|k| !desired.contains_key(*k)).cloned().collect();
    (removed, desired.clone())
}

/// A document attribute (IAM policy) as the JSON text AWS takes; none when unset or null.
pub fn document(config: &Attributes, name: &str) -> Option<String> {
    present(config, name).map(Value::to_document)
}

/// An attribute that is set to something other than `null` (`x = cond ? v : null` unsets it).
pub fn present<'a>(config: &'a Attributes, name: &str) -> Option<&'a Value> {
    config.get(name).filter(|v| !matches!(v, Value::Null))
}

/// Parses a policy document as returned by IAM (URL-encoded JSON) into a value.
pub fn parse_document(text: &str) -> Option<Value> {
    let decoded = if text.trim_start().starts_with('{') { text.to_string() } else { percent_decode(text)? };
    serde_json::from_str::<serde_json::Value>(&decoded).ok().map(|j| Value::from_json(&j))
}

/// `text` URL-decoded as AWS's query APIs encode documents (`%XX`, `+` for a space); none when malformed.
pub fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The user's tags from a resource's tags: drone's own (`drone:`) and AWS's
/// (`aws:`) are not the workflow's to set, so they never count as drift.
pub fn user_tags<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
    Value::map(
        pairs
            .into_iter()
            .filter(|(k, _)| !k.starts_with("drone:") && !k.starts_with("aws:"))
            .map(|(k, v)| (k.to_string(), Value::str(v)))
            .collect(),
    )
}

/// `observed` as a list in the order, and the spelling, of the elements of
/// `prior` that mean the same (`same`); elements `prior` lacks come last. AWS
/// answers lists in its own order and form; the workflow's stays comparable.
pub fn like_prior(prior: Option<&Value>, observed: Vec<Value>, same: impl Fn(&Value, &Value) -> bool) -> Value {
    let mut rest = observed;
    let mut out = Vec::with_capacity(rest.len());
    for p in prior.and_then(Value::as_list).into_iter().flatten() {
        if let Some(i) = rest.iter().position(|o| same(p, o)) {
            rest.remove(i);
            out.push(p.clone());
        }
    }
    out.extend(rest);
    Value::List(out)
}

/// The recorded value when `observed` means the same, so the workflow's
/// spelling survives a refresh; otherwise what AWS has.
pub fn prior_if_same(prior: Option<&Value>, observed: Value, same: impl Fn(&Value, &Value) -> bool) -> Value {
    match prior {
        Some(p) if same(p, &observed) => p.clone(),
        _ => observed,
    }
}

/// Whether two objects say the same once each field left out takes its
/// value from `defaults` (and `null` counts as left out).
pub fn same_fields(a: &Value, b: &Value, defaults: &[(&str, Value)]) -> bool {
    let filled = |v: &Value| -> Option<BTreeMap<String, Value>> {
        let mut m: BTreeMap<String, Value> = v
            .as_map()?
            .iter()
            .filter(|(_, v)| !matches!(v, Value::Null))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for (k, d) in defaults {
            m.entry(k.to_string()).or_insert_with(|| d.clone());
        }
        Some(m)
    };
    match (filled(a), filled(b)) {
        (Some(a), Some(b)) => Value::map(a).same(&Value::map(b)),
        _ => false,
    }
}

/// Whether two policy documents (maps, or their JSON text) say the same to
/// IAM: a single value is a one-element list, lists are sets, and scalars
/// compare as text (`true` and `"true"` in a condition are one value).
pub fn same_document(a: &Value, b: &Value) -> bool {
    let json = |v: &Value| match v {
        Value::String(s) => serde_json::from_str::<serde_json::Value>(s).unwrap_or_else(|_| v.to_json()),
        other => other.to_json(),
    };
    document_set(&json(a)) == document_set(&json(b))
}

/// A document as a sorted set of canonical items (see [`same_document`]).
fn document_set(v: &serde_json::Value) -> Vec<serde_json::Value> {
    use serde_json::Value as J;
    let mut items: Vec<J> = match v {
        J::Array(elements) => elements.iter().flat_map(document_set).collect(),
        J::Object(fields) => {
            vec![J::Object(fields.iter().map(|(k, v)| (k.clone(), J::Array(document_set(v)))).collect())]
        }
        J::String(s) => vec![J::String(s.clone())],
        J::Null => Vec::new(),
        scalar => vec![J::String(scalar.to_string())],
    };
    items.sort_by_key(|a| a.to_string());
    items.dedup();
    items
}

/// Removes from `observed` each attribute the workflow left out (`prior` lacks it) whose value
/// is the default AWS filled in, so it reads back as unset rather than as drift.
pub fn drop_defaults(observed: &mut Attributes, prior: &Attributes, defaults: &[(&str, Value)]) {
    for (key, default) in defaults {
        if !prior.contains_key(*key) && observed.get(*key) == Some(default) {
            observed.remove(*key);
        }
    }
}

/// A number attribute's value from an SDK integer.
pub fn number(n: Option<i32>) -> Value {
    n.map_or(Value::Null, |n| Value::Number(f64::from(n)))
}

/// A string attribute's value, `null` when AWS has none.
pub fn text(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::str)
}

/// Observed attributes from pairs.
pub fn observed(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_compare_by_meaning() {
        let doc = |s: &str| Value::from_json(&serde_json::from_str::<serde_json::Value>(s).expect("json"));
        let written = doc(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false}}}]}"#,
        );
        let answered = Value::str(
            r#"{"Statement":{"Resource":["*"],"Action":"s3:GetObject","Effect":"Allow","Condition":{"Bool":{"aws:SecureTransport":"false"}}},"Version":"2012-10-17"}"#,
        );
        assert!(same_document(&written, &answered));
        let wider = doc(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#);
        assert!(!same_document(&written, &wider));
    }

    #[test]
    fn lists_follow_the_prior_order_and_spelling() {
        let prior = Value::List(vec![Value::str("b"), Value::str("a")]);
        let observed = vec![Value::str("a"), Value::str("c"), Value::str("b")];
        let out = like_prior(Some(&prior), observed, |x, y| x == y);
        assert_eq!(out, Value::List(vec![Value::str("b"), Value::str("a"), Value::str("c")]));
        assert_eq!(
            user_tags([("drone:address", "x"), ("team", "a")]),
            Value::map([("team".to_string(), Value::str("a"))].into())
        );
    }

    #[test]
    fn documents_decode() {
        let v = parse_document("%7B%22Version%22%3A%222012-10-17%22%7D").expect("decoded");
        assert_eq!(v.as_map().and_then(|m| m.get("Version")).and_then(Value::as_str), Some("2012-10-17"));
        assert!(parse_document("{\"a\": 1}").is_some());
        assert!(parse_document("%zz").is_none());
    }
}
