//! Resource values as policies see them before anything exists: each
//! instance's configuration, with every value known only after apply kept as
//! a reference (`Value::Ref`) to the attribute it will come from, and every
//! computed value the configuration determines (a bucket's ARN) filled in.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use drone_lang::Catalog;

use crate::eval::Resolver;
use crate::functions::CallContext;
use crate::model::Model;
use crate::plan::evaluate_config;
use crate::value::Value;

/// The key under which a resource value carries its own address.
pub const ADDRESS_KEY: &str = "@address";
/// The key under which a resource value carries its type.
pub const TYPE_KEY: &str = "@type";

/// Resolves references to symbolic resource values, memoised.
pub struct Symbolic<'m> {
    model: &'m Model,
    catalog: &'m Catalog,
    cx: &'m CallContext<'m>,
    memo: RefCell<BTreeMap<String, Value>>,
    active: RefCell<BTreeSet<String>>,
}

impl<'m> Symbolic<'m> {
    /// The catalog the model was checked against.
    pub fn catalog(&self) -> &'m Catalog {
        self.catalog
    }

    /// A resolver over `model`.
    pub fn new(model: &'m Model, catalog: &'m Catalog, cx: &'m CallContext<'m>) -> Self {
        Symbolic { model, catalog, cx, memo: RefCell::new(BTreeMap::new()), active: RefCell::new(BTreeSet::new()) }
    }
}

impl Resolver for Symbolic<'_> {
    fn instance(&self, address: &str) -> Value {
        if let Some(v) = self.memo.borrow().get(address) {
            return v.clone();
        }
        let Some(instance) = self.model.instances.get(address) else { return Value::Unknown };
        // The checker rejects cycles; this guard only keeps a bug from recursing forever.
        if !self.active.borrow_mut().insert(address.to_string()) {
            return Value::Unknown;
        }
        let mut attrs = evaluate_config(self.model, self.catalog, self.cx, self, instance).unwrap_or_default();
        if let Some(schema) = self.catalog.resource(&instance.type_name) {
            for a in schema.attributes.iter().filter(|a| a.computed()) {
                let derived = a.derived.as_deref().and_then(|template| derive(template, &attrs));
                attrs
                    .entry(a.name.clone())
                    .or_insert_with(|| derived.unwrap_or_else(|| Value::reference(address, &a.name)));
            }
            for a in &schema.attributes {
                attrs.entry(a.name.clone()).or_insert(Value::Null);
            }
        }
        attrs.insert(ADDRESS_KEY.into(), Value::str(address));
        attrs.insert(TYPE_KEY.into(), Value::str(&instance.type_name));
        self.active.borrow_mut().remove(address);
        let value = Value::map(attrs);
        self.memo.borrow_mut().insert(address.to_string(), value.clone());
        value
    }
}

/// A derived attribute's value: `template` with each `{attribute}` replaced by
/// that attribute's configured string; `None` while any of them is unknown.
fn derive(template: &str, attrs: &BTreeMap<String, Value>) -> Option<Value> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let end = start + rest[start..].find('}')?;
        out.push_str(&rest[..start]);
        out.push_str(attrs.get(&rest[start + 1..end])?.as_str()?);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Some(Value::String(out))
}
