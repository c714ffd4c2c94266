//! Runtime values. `Unknown` stands for a value known only after apply;
//! `Secret` holds plaintext in memory only and serialises as a salted
//! fingerprint, so secrets never reach plans, logs or state.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use sha2::{Digest, Sha256};

/// A value of the language at run time.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map with string keys, ordered. Shared, so that copying a resource's
    /// attributes (as every policy reading one does) copies no map.
    Map(Arc<BTreeMap<String, Value>>),
    /// Known only after apply.
    Unknown,
    /// Known only after apply, but known to be attribute `attribute` of the
    /// resource at `address`: policies follow it through the graph.
    Ref {
        /// The referenced resource's address.
        address: String,
        /// The attribute.
        attribute: String,
    },
    /// A secret: where it comes from, and its plaintext once resolved.
    Secret(Secret),
}

/// A secret value. Its `Debug` never shows the plaintext.
#[derive(Clone, PartialEq)]
pub struct Secret {
    /// Where it comes from, e.g. `env:DB_PASSWORD`.
    pub reference: String,
    /// The plaintext, when resolved (never when only checking).
    plaintext: Option<String>,
    /// A salted digest of the plaintext, as stored in state.
    pub fingerprint: Option<String>,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.reference)
    }
}

impl Secret {
    /// An unresolved secret reference.
    pub fn unresolved(reference: impl Into<String>) -> Self {
        Secret { reference: reference.into(), plaintext: None, fingerprint: None }
    }

    /// A resolved secret; `salt` makes the fingerprint useless across states.
    pub fn resolved(reference: impl Into<String>, plaintext: String, salt: &str) -> Self {
        let fingerprint = Some(fingerprint(salt, &plaintext));
        Secret { reference: reference.into(), plaintext: Some(plaintext), fingerprint }
    }

    /// The plaintext, for the provider call that needs it.
    pub fn expose(&self) -> Option<&str> {
        self.plaintext.as_deref()
    }
}

fn fingerprint(salt: &str, plaintext: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(salt.as_bytes());
    hasher.update([0u8]);
    hasher.update(plaintext.as_bytes());
    let digest = hasher.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// The JSON key that marks a stored secret fingerprint.
pub const SECRET_KEY: &str = "$sensitive";

impl Value {
    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// Whether this value, or anything inside it, is unknown.
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown | Value::Ref { .. } => false,
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(m) => m.values().all(Value::is_known),
            _ => true,
        }
    }

    /// A short name of the value's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown | Value::Ref { .. } => "unknown",
            Value::Secret(_) => "secret",
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool inside, if this is a bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number inside, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number inside as an integer, if it is a whole number.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_f64().filter(|n| n.fract() == 0.0).map(|n| n as i64)
    }

    /// The list inside, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// A map value.
    pub fn map(entries: BTreeMap<String, Value>) -> Value {
        Value::Map(Arc::new(entries))
    }

    /// The map inside, if this is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The value as JSON for state and plans: secrets become fingerprints,
    /// unknowns become `null` (callers render them separately).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown | Value::Ref { .. } => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Secret(s) => {
                let mut o = serde_json::Map::new();
                o.insert(
                    SECRET_KEY.into(),
                    s.fingerprint.clone().map_or(serde_json::Value::Null, serde_json::Value::String),
                );
                serde_json::Value::Object(o)
            }
        }
    }

    /// The value from JSON written by [`Value::to_json`].
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => {
                if o.len() == 1 {
                    if let Some(fp) = o.get(SECRET_KEY) {
                        return Value::Secret(Secret {
                            reference: String::new(),
                            plaintext: None,
                            fingerprint: fp.as_str().map(String::from),
                        });
                    }
                }
                Value::map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
            }
        }
    }

    /// The JSON text a provider sends for a document attribute (IAM policies).
    pub fn to_document(&self) -> String {
        match self {
            Value::String(s) => s.clone(),
            other => other.to_json().to_string(),
        }
    }

    /// A reference to `attribute` of the resource at `address`.
    pub fn reference(address: &str, attribute: &str) -> Value {
        Value::Ref { address: address.to_string(), attribute: attribute.to_string() }
    }

    /// Whether two values are the same for planning: secrets by fingerprint,
    /// documents by their JSON meaning.
    pub fn same(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Secret(a), Value::Secret(b)) => a.fingerprint.is_some() && a.fingerprint == b.fingerprint,
            (Value::String(s), Value::Map(_) | Value::List(_)) | (Value::Map(_) | Value::List(_), Value::String(s)) => {
                let (doc, structured) = if matches!(self, Value::String(_)) { (s, other) } else { (s, self) };
                serde_json::from_str::<serde_json::Value>(doc).is_ok_and(|j| Value::from_json(&j).same(structured))
            }
            (Value::List(a), Value::List(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.same(y)),
            (Value::Map(a), Value::Map(b)) => {
                a.len() == b.len() && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| ka == kb && va.same(vb))
            }
            (Value::Number(a), Value::Number(b)) => (a - b).abs() < 1e-9,
            (a, b) => a == b,
        }
    }
}

fn number_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

impl fmt::Display for Value {
    /// How values appear in plans: secrets and unknowns never show contents.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Unknown | Value::Ref { .. } => f.write_str("(known after apply)"),
            Value::Secret(_) => f.write_str("(sensitive)"),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{ ")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str(" }")
            }
            other => write!(f, "{}", other.to_json()),
        }
    }
}

/// Attribute values by name.
pub type Attributes = BTreeMap<String, Value>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_serialise_plaintext() {
        let v = Value::Secret(Secret::resolved("env:X", "hunter2".into(), "salt"));
        let json = v.to_json().to_string();
        assert!(!json.contains("hunter2"), "{json}");
        assert!(!format!("{v} {v:?}").contains("hunter2"));
        assert!(v.same(&Value::from_json(&v.to_json())));
    }

    #[test]
    fn documents_compare_by_meaning() {
        let doc = Value::str(r#"{"b": 1, "a": [true]}"#);
        let map = Value::map(BTreeMap::from([
            ("a".to_string(), Value::List(vec![Value::Bool(true)])),
            ("b".to_string(), Value::Number(1.0)),
        ]));
        assert!(doc.same(&map) && map.same(&doc));
        assert!(!Value::str("x").same(&map));
    }
}
