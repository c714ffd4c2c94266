//! Graph queries for policies: the resources of a type, who refers to whom,
//! whether a subnet is public.

use drone_lang::{FunctionSig, Type};

use super::resource_address;
use super::symbolic::{Symbolic, TYPE_KEY};
use crate::error::FnError;
use crate::eval::{Functions, Resolver};
use crate::model::Model;
use crate::value::Value;

/// Signatures of the policy-only functions, for the checker's catalog.
pub fn signatures() -> Vec<FunctionSig> {
    let sig = |name: &str, params: &[&str], returns: Type, doc: &str| FunctionSig {
        name: name.into(),
        params: params.iter().map(|p| p.to_string()).collect(),
        min_args: params.len(),
        max_args: Some(params.len()),
        returns,
        doc: doc.into(),
        policy_only: true,
    };
    vec![
        sig("resources", &["type"], Type::list(Type::Any), "every resource of a type, e.g. resources(\"aws.ec2.subnet\")"),
        sig("address", &["resource"], Type::String, "a resource's address"),
        sig("target", &["reference"], Type::Any, "the resource a reference (a value known after apply) points at, or null"),
        sig("referrers", &["resource", "type"], Type::list(Type::Any), "the resources of a type that refer to this one"),
        sig("is_public_subnet", &["subnet"], Type::Bool, "whether a subnet assigns public IPs or routes 0.0.0.0/0 to an internet gateway"),
        sig("routes_to_internet", &["subnet"], Type::Bool, "whether a subnet's route table sends 0.0.0.0/0 or ::/0 to an internet gateway"),
        sig("is_secret", &["value"], Type::Bool, "whether a value comes from secret(...)"),
        sig("statements", &["document"], Type::list(Type::Any), "an IAM document's statements: effect, actions, not_actions, resources, not_resources, principal, condition"),
        sig("environment", &[], Type::String, "the workflow header's `environment`, or null"),
    ]
}

/// The graph the queries run over.
pub(super) struct Graph<'a, 'm> {
    pub(super) model: &'m Model,
    pub(super) symbolic: &'a Symbolic<'m>,
}

impl Graph<'_, '_> {
    fn of_type(&self, type_name: &str) -> Vec<Value> {
        self.model
            .instances
            .values()
            .filter(|i| i.type_name == type_name)
            .map(|i| self.symbolic.instance(&i.address))
            .collect()
    }

    fn is_public_subnet(&self, subnet: &Value) -> Result<Value, FnError> {
        let attrs = subnet.as_map().cloned().unwrap_or_default();
        if attrs.get("map_public_ip_on_launch") == Some(&Value::Bool(true)) {
            return Ok(Value::Bool(true));
        }
        self.routes_to_internet(subnet)
    }

    fn routes_to_internet(&self, subnet: &Value) -> Result<Value, FnError> {
        let address = resource_address(subnet).ok_or_else(|| FnError("this function takes a subnet".into()))?;
        let id = Value::reference(&address, "id");
        let mut undecided = false;
        for table in self.of_type("aws.ec2.route_table") {
            let Some(t) = table.as_map() else { continue };
            let associated = match t.get("subnet_ids") {
                Some(Value::List(ids)) => ids.iter().any(|v| v == &id),
                Some(Value::Null) | None => false,
                Some(_) => {
                    undecided = true;
                    false
                }
            };
            if !associated {
                continue;
            }
            for route in t.get("routes").and_then(Value::as_list).unwrap_or_default() {
                let Some(r) = route.as_map() else { continue };
                let default = matches!(r.get("cidr").and_then(Value::as_str), Some("0.0.0.0/0" | "::/0"));
                if !default {
                    continue;
                }
                match r.get("gateway_id") {
                    Some(Value::Ref { address, .. }) => {
                        let kind = self.symbolic.instance(address);
                        if kind.as_map().and_then(|m| m.get(TYPE_KEY)).and_then(Value::as_str)
                            == Some("aws.ec2.internet_gateway")
                        {
                            return Ok(Value::Bool(true));
                        }
                    }
                    Some(Value::String(gw)) if gw.starts_with("igw-") => return Ok(Value::Bool(true)),
                    Some(Value::Null) | None => {}
                    Some(_) => undecided = true,
                }
            }
        }
        Ok(if undecided { Value::Unknown } else { Value::Bool(false) })
    }
}

/// An IAM document's statements, normalised: single values become lists,
/// keys become lower-case snake case. A document written as JSON text is parsed.
fn statements(doc: &Value) -> Result<Value, FnError> {
    let parsed;
    let doc = match doc {
        Value::String(text) => {
            let json: serde_json::Value =
                serde_json::from_str(text).map_err(|e| FnError(format!("the policy document is not JSON: {e}")))?;
            parsed = Value::from_json(&json);
            &parsed
        }
        Value::Null => return Ok(Value::List(Vec::new())),
        v if !v.is_known() => return Ok(Value::Unknown),
        v => v,
    };
    let list = |v: Option<&Value>| match v {
        None | Some(Value::Null) => Value::List(Vec::new()),
        Some(Value::List(l)) => Value::List(l.clone()),
        Some(other) => Value::List(vec![other.clone()]),
    };
    let raw = match doc.as_map().and_then(|m| m.get("Statement")) {
        Some(Value::List(l)) => l.clone(),
        Some(single @ Value::Map(_)) => vec![single.clone()],
        Some(v) if !v.is_known() => return Ok(Value::Unknown),
        _ => Vec::new(),
    };
    let out = raw
        .iter()
        .map(|st| {
            let m = st.as_map().cloned().unwrap_or_default();
            let mut n = std::collections::BTreeMap::new();
            n.insert("effect".to_string(), m.get("Effect").cloned().unwrap_or(Value::Null));
            n.insert("actions".to_string(), list(m.get("Action")));
            n.insert("not_actions".to_string(), list(m.get("NotAction")));
            n.insert("resources".to_string(), list(m.get("Resource")));
            n.insert("not_resources".to_string(), list(m.get("NotResource")));
            n.insert("principal".to_string(), m.get("Principal").cloned().unwrap_or(Value::Null));
            n.insert("condition".to_string(), m.get("Condition").cloned().unwrap_or(Value::Null));
            Value::Map(n)
        })
        .collect();
    Ok(Value::List(out))
}

fn refers_to(value: &Value, address: &str) -> bool {
    match value {
        Value::Ref { address: a, .. } => a == address,
        Value::List(items) => items.iter().any(|v| refers_to(v, address)),
        Value::Map(m) => m.iter().any(|(k, v)| !k.starts_with('@') && refers_to(v, address)),
        _ => false,
    }
}

impl Functions for Graph<'_, '_> {
    fn call(&self, name: &str, args: &[Value]) -> Option<Result<Value, FnError>> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Value::Null);
        Some(match name {
            "resources" => match arg(0) {
                Value::String(t) => Ok(Value::List(self.of_type(&t))),
                _ => Err(FnError("resources takes a type name such as \"aws.s3.bucket\"".into())),
            },
            "address" => Ok(resource_address(&arg(0)).map_or(Value::Null, Value::String)),
            "target" => Ok(match arg(0) {
                Value::Ref { address, .. } => self.symbolic.instance(&address),
                _ => Value::Null,
            }),
            "referrers" => {
                let Some(address) = resource_address(&arg(0)) else {
                    return Some(Err(FnError("referrers takes a resource".into())));
                };
                let kind = arg(1).as_str().unwrap_or_default().to_string();
                Ok(Value::List(self.of_type(&kind).into_iter().filter(|r| refers_to(r, &address)).collect()))
            }
            "is_public_subnet" => self.is_public_subnet(&arg(0)),
            "routes_to_internet" => self.routes_to_internet(&arg(0)),
            "is_secret" => Ok(Value::Bool(matches!(arg(0), Value::Secret(_)))),
            "statements" => statements(&arg(0)),
            "environment" => Ok(self.model.environment.clone().map_or(Value::Null, Value::String)),
            _ => return None,
        })
    }
}
