//! Reading configuration values for SDK calls, tags, and small shared types.

use std::collections::BTreeMap;

use drone_engine::provider::ProviderError;
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

/// Observed attributes from pairs.
pub fn observed(pairs: impl IntoIterator<Item = (&'static str, Value)>) -> Attributes {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode() {
        let v = parse_document("%7B%22Version%22%3A%222012-10-17%22%7D").expect("decoded");
        assert_eq!(v.as_map().and_then(|m| m.get("Version")).and_then(Value::as_str), Some("2012-10-17"));
        assert!(parse_document("{\"a\": 1}").is_some());
        assert!(parse_document("%zz").is_none());
    }
}
