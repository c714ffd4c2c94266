//! Graph queries for policies: the resources of a type, who refers to whom,
//! whether a subnet is public, the path from the internet (in `reach.rs`).

use drone_lang::{FunctionSig, Type};

use super::iam;
use super::resource_address;
use super::symbolic::Symbolic;
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
        sig("resources", &["type"], Type::list(Type::Any), "every resource of a type the workflow manages (not what `data` blocks read), e.g. resources(\"aws.ec2.subnet\")"),
        sig("address", &["resource"], Type::String, "a resource's address"),
        sig("link_local", &["host"], Type::Bool, "whether a host (`host`, `host:port`, `[v6]:port`) is a link-local address, where instance and task credentials are served (169.254.0.0/16, fe80::/10, fd00:ec2::254)"),
        sig("grants", &[], Type::list(Type::Any), "every grant the workflow's tasks, steps and hooks hold: `script`, `script_kind` (task, step, hook), `kind` (e.g. \"mysql\"), `targets` (addresses), `tables`, `ops` (every operation on some table), `table_ops` (each table's operations), `hosts`"),
        sig("target", &["reference"], Type::Any, "the resource a reference (a value known after apply) points at, or whose ARN a string is (a bucket's ARN is known before apply), or null"),
        sig("referrers", &["resource", "type"], Type::list(Type::Any), "the resources of a type whose configuration refers to this one (a reference in an attribute, resolved before apply or not, or `depends_on`)"),
        sig("having", &["resources", "attribute"], Type::list(Type::Any), "the resources of a list whose attribute is set to something: a non-empty string, list or map, a number, `true`, or a value known after apply"),
        sig("is_public_subnet", &["subnet"], Type::Bool, "whether a subnet assigns public IPs or routes 0.0.0.0/0 to an internet gateway"),
        sig("routes_to_internet", &["subnet"], Type::Bool, "whether a subnet's route table sends 0.0.0.0/0 or ::/0 to an internet gateway"),
        sig("load_balancer_ports", &["security_group"], Type::list(Type::Number), "the listener ports of the internet-facing load balancers that carry this security group"),
        sig("internet_path", &["resource", "port"], Type::list(Type::String), "the network path from the internet to a resource's port, hop by hop (internet gateway, route table, subnet, public address, security group rule), or [] when there is none"),
        sig("is_secret", &["value"], Type::Bool, "whether a value comes from secret(...)"),
        sig("secret_looking", &["name"], Type::Bool, "whether a name says it holds a secret: a word of it (split at `_`, `-`, `.` and case changes) is password, passwd, pwd, secret, token, credential(s), or a pair such as api key, access key, private key"),
        sig("statements", &["document"], Type::list(Type::Any), "an IAM document's statements: effect, actions, not_actions, resources, not_resources, principal, condition"),
        sig("environment", &[], Type::String, "the workflow header's `environment`, or null"),
        sig("condition_keys", &["statement"], Type::list(Type::String), "a statement's condition keys, lower-case, e.g. [\"sts:externalid\"]"),
        sig("iam_scoped_on_every_resource", &["document"], Type::list(Type::String), "actions an IAM document allows on every resource though they can be scoped to ARNs"),
        sig("iam_escalations", &["documents"], Type::list(Type::String), "the privilege-escalation paths a list of IAM documents opens together"),
        sig("iam_passes_any_role", &["document"], Type::Bool, "whether an IAM document allows iam:PassRole on wildcard resources or without iam:PassedToService"),
        sig("iam_denies_insecure_transport", &["document", "bucket"], Type::Bool, "whether a bucket policy denies every S3 action to everyone on the bucket and its objects when aws:SecureTransport is false, and only then"),
        sig("iam_unknown_actions", &["document"], Type::list(Type::String), "actions in an IAM document that the IAM action catalogue does not know"),
        sig("principals", &["statement", "kind"], Type::list(Type::String), "a statement's principals of a kind (\"AWS\", \"Service\", \"Federated\"); Principal \"*\" gives [\"*\"]; references to this workflow's resources are left out"),
        sig("covers_every_action", &["actions"], Type::Bool, "whether some action pattern matches every action of every service (`*`, `*:*`, `?*`)"),
        sig("whole_services", &["actions"], Type::list(Type::String), "the services every one of whose actions the patterns match together, e.g. [\"s3\"] for `s3:?*`"),
        sig("scopable", &["service"], Type::Bool, "whether some action of a service accepts resource ARNs (`ssmmessages`' do not: they are granted on `*` or not at all)"),
        sig("covers_every_resource", &["resources", "service"], Type::Bool, "whether some resource pattern matches every resource of some type of a service (`*`, `arn:*`, `arn:aws:s3:::*`)"),
        sig("web_identity", &["principal"], Type::Bool, "whether a Federated principal is a web-identity (OIDC) provider, such as GitHub Actions' `arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com`, rather than a SAML one"),
        sig("subject_pinned", &["statement", "principal"], Type::Bool, "whether a statement trusting a web-identity provider admits only tokens whose subject (`ISSUER:sub`) names specific repositories and refs (GitHub: `repo:OWNER/REPO:ref:...`), not only an audience"),
        sig("condition_pins", &["statement", "key"], Type::Bool, "whether a statement's conditions admit only specific values of a key (not `StringLike \"*\"`, `Null`, `IfExists`, `StringNotEquals` or `ForAllValues`)"),
        sig("limits_principals", &["statement"], Type::Bool, "whether a statement's conditions pin who may call: an organisation, account, principal, VPC endpoint, or a source range smaller than the internet"),
        sig("anyone", &["statement"], Type::Bool, "whether a statement's principals are everyone: `*`, an AWS principal with a wildcard, or an Allow with NotPrincipal"),
        sig("ingress_ports", &["rule"], Type::Any, "the traffic a security group rule really admits: { protocol, from, to, text }, every port for protocol \"all\" or protocols other than tcp, udp and icmp"),
        sig("internet_source", &["rule"], Type::Any, "the source range of a security group rule when it is the internet (wider than a /8 or an IPv6 /16, not private), or null"),
        sig("brief", &["list", "count"], Type::String, "the first `count` items joined with commas, and how many more"),
    ]
}

/// The graph the queries run over.
pub(super) struct Graph<'a, 'm> {
    pub(super) model: &'m Model,
    pub(super) symbolic: &'a Symbolic<'m>,
}

impl Graph<'_, '_> {
    pub(super) fn of_type(&self, type_name: &str) -> Vec<Value> {
        self.model
            .instances
            .values()
            .filter(|i| i.type_name == type_name && !i.read_only)
            .map(|i| self.symbolic.instance(&i.address))
            .collect()
    }

    /// The workflow's resource whose ARN, known before apply, is `arn`.
    fn with_arn(&self, arn: &str) -> Option<Value> {
        self.model
            .instances
            .values()
            .filter(|i| !i.read_only)
            .map(|i| self.symbolic.instance(&i.address))
            .find(|r| r.as_map().and_then(|m| m.get("arn")).and_then(Value::as_str) == Some(arn))
    }

    fn is_public_subnet(&self, subnet: &Value) -> Result<Value, FnError> {
        if subnet.as_map().and_then(|attrs| attrs.get("map_public_ip_on_launch")) == Some(&Value::Bool(true)) {
            return Ok(Value::Bool(true));
        }
        self.routes_to_internet(subnet)
    }

    fn load_balancer_ports(&self, security_group: &Value) -> Result<Value, FnError> {
        let sg = resource_address(security_group)
            .ok_or_else(|| FnError("load_balancer_ports takes a security group".into()))?;
        let mut ports = Vec::new();
        for lb in self.of_type("aws.elbv2.load_balancer") {
            let Some(attrs) = lb.as_map() else { continue };
            let carries = attrs.get("security_groups").is_some_and(|groups| refers_to(groups, &sg));
            if !carries || attrs.get("internal") == Some(&Value::Bool(true)) {
                continue;
            }
            let Some(lb) = resource_address(&lb) else { continue };
            for listener in self.of_type("aws.elbv2.listener") {
                let Some(l) = listener.as_map() else { continue };
                if !l.get("load_balancer_arn").is_some_and(|arn| refers_to(arn, &lb)) {
                    continue;
                }
                match l.get("port") {
                    Some(port @ Value::Number(_)) if !ports.contains(port) => ports.push(port.clone()),
                    Some(Value::Number(_)) => {}
                    _ => return Ok(Value::Unknown),
                }
            }
        }
        Ok(Value::List(ports))
    }

    fn routes_to_internet(&self, subnet: &Value) -> Result<Value, FnError> {
        if resource_address(subnet).is_none() {
            return Err(FnError("this function takes a subnet".into()));
        }
        Ok(match self.internet_route(subnet) {
            Ok(route) => Value::Bool(route.is_some()),
            Err(super::reach::Undecided) => Value::Unknown,
        })
    }
}

/// An IAM document's statements, normalised: single values become lists,
/// keys become lower-case snake case. A document written as JSON text is parsed.
fn statements(doc: &Value) -> Result<Value, FnError> {
    let list = |v: Option<&Value>| match v {
        None | Some(Value::Null) => Value::List(Vec::new()),
        Some(Value::List(l)) => Value::List(l.clone()),
        Some(other) => Value::List(vec![other.clone()]),
    };
    let raw = match iam::raw_statements(doc) {
        Ok(raw) => raw,
        Err(e) => return instead_of_document(e),
    };
    let out = raw
        .iter()
        .map(|st| {
            let empty = std::collections::BTreeMap::new();
            let m = st.as_map().unwrap_or(&empty);
            let mut n = std::collections::BTreeMap::new();
            n.insert("effect".to_string(), m.get("Effect").cloned().unwrap_or(Value::Null));
            n.insert("actions".to_string(), list(m.get("Action")));
            n.insert("not_actions".to_string(), list(m.get("NotAction")));
            n.insert("resources".to_string(), list(m.get("Resource")));
            n.insert("not_resources".to_string(), list(m.get("NotResource")));
            n.insert("principal".to_string(), m.get("Principal").cloned().unwrap_or(Value::Null));
            n.insert("not_principal".to_string(), m.get("NotPrincipal").cloned().unwrap_or(Value::Null));
            n.insert("condition".to_string(), m.get("Condition").cloned().unwrap_or(Value::Null));
            Value::map(n)
        })
        .collect();
    Ok(Value::List(out))
}

/// What a function returns for a document it cannot read: unknown until
/// apply, or an error naming what is wrong.
fn instead_of_document(e: iam::DocumentError) -> Result<Value, FnError> {
    match e {
        iam::DocumentError::Unknown => Ok(Value::Unknown),
        iam::DocumentError::Invalid(message) => Err(FnError(message)),
    }
}

fn string_list(items: impl IntoIterator<Item = String>) -> Value {
    Value::List(items.into_iter().map(Value::String).collect())
}

/// Runs `f` over a document's statements; unknown documents stay unknown.
fn with_statements(document: &Value, f: impl FnOnce(&[iam::Statement]) -> Value) -> Result<Value, FnError> {
    match iam::parse(document) {
        Ok(statements) => Ok(f(&statements)),
        Err(e) => instead_of_document(e),
    }
}

/// The actions `statements` allow on every resource though they could be
/// scoped, the most dangerous first (permissions management, then writes),
/// so that a finding's first few names are the ones that matter.
fn scoped_on_every_resource(statements: &[iam::Statement]) -> Value {
    let catalogue = iam::catalogue::catalogue();
    let rank =
        |access: &str| ["Permissions management", "Write", "Tagging", "Read", "List"].iter().position(|a| *a == access);
    let mut actions = std::collections::BTreeSet::new();
    for s in statements.iter().filter(|s| s.effect == iam::Effect::Allow) {
        for name in s.expanded_actions() {
            if let Some(a) = catalogue.get(&name).filter(|a| a.resource_level() && s.on_every_resource_of(a)) {
                actions.insert((rank(a.access), name));
            }
        }
    }
    string_list(actions.into_iter().map(|(_, name)| name))
}

/// Whether a bucket policy denies every S3 action to everyone on the bucket
/// and all its objects whenever the request is not over TLS, and on nothing
/// else: a Deny that names other actions, some objects, some principals, or
/// adds conditions that narrow it, leaves plain HTTP open somewhere.
fn denies_insecure_transport(statements: &[iam::Statement], bucket: &Value) -> Value {
    let name = bucket.as_map().and_then(|m| m.get("name"));
    let mut undecided = false;
    for st in statements.iter().filter(|st| st.effect == iam::Effect::Deny && !st.not_action) {
        let tls = st.conditions.len() == 1
            && st.conditions[0].is_on("aws:SecureTransport")
            && st.conditions[0].requires("false");
        let every_action =
            iam::scope::covers_every_action(&st.actions) || iam::scope::whole_services(&st.actions).contains(&"s3");
        if !(tls && every_action && st.everyone) {
            continue;
        }
        if st.on_every_resource() {
            return Value::Bool(true);
        }
        let Some(Value::String(name)) = name else {
            undecided = true;
            continue;
        };
        let reaches = |arn: &str| st.resources.iter().any(|p| iam::catalogue::glob(p, arn));
        let every_object = format!("arn:${{Partition}}:s3:::{name}/${{ObjectName}}");
        let objects = st.resources.iter().any(|p| iam::scope::covers_every_arn(p, &every_object));
        if reaches(&format!("arn:aws:s3:::{name}")) && objects {
            return Value::Bool(true);
        }
    }
    if undecided {
        Value::Unknown
    } else {
        Value::Bool(false)
    }
}

/// A list of strings from a policy value (one string, or a list), as a
/// document's Action and Resource are read; `None` when unknown.
fn patterns(value: &Value) -> Option<Vec<String>> {
    iam::strings(Some(value)).ok()
}

/// The tests of a normalised statement's condition; `None` when unknown.
fn statement_conditions(statement: &Value) -> Option<Vec<iam::conditions::Condition>> {
    match statement.as_map().and_then(|m| m.get("condition")) {
        Some(Value::Unknown | Value::Ref { .. }) => None,
        condition => Some(iam::conditions::parse(condition)),
    }
}

/// Whether a normalised statement's principals are everyone, an Allow with
/// NotPrincipal (everyone but a few) included.
fn anyone(statement: &Value) -> Value {
    let Some(m) = statement.as_map() else { return Value::Unknown };
    if matches!(m.get("principal"), Some(Value::Unknown | Value::Ref { .. })) {
        return Value::Unknown;
    }
    let allow_all_but =
        m.get("effect") == Some(&Value::str("Allow")) && !matches!(m.get("not_principal"), None | Some(Value::Null));
    Value::Bool(allow_all_but || iam::everyone(m.get("principal")))
}

fn escalations(documents: &Value) -> Result<Value, FnError> {
    let documents = match documents {
        Value::List(items) => items.clone(),
        Value::Map(m) => m.values().cloned().collect(),
        Value::Null => Vec::new(),
        _ => return Ok(Value::Unknown),
    };
    let mut all = Vec::new();
    for document in &documents {
        match iam::parse(document) {
            Ok(statements) => all.extend(statements),
            Err(e) => return instead_of_document(e),
        }
    }
    Ok(string_list(iam::escalations(&all).iter().map(|p| format!("{} ({})", p.name, p.actions.join(" + ")))))
}

fn principals(statement: &Value, kind: &str) -> Value {
    let strings = |v: &Value| match v {
        Value::String(s) => vec![s.clone()],
        Value::List(items) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
        _ => Vec::new(),
    };
    match statement.as_map().and_then(|m| m.get("principal")) {
        Some(Value::String(s)) if s == "*" => string_list([s.clone()]),
        Some(Value::Map(m)) => string_list(m.get(kind).map(strings).unwrap_or_default()),
        Some(Value::Unknown) => Value::Unknown,
        _ => Value::List(Vec::new()),
    }
}

fn brief(list: &Value, count: &Value) -> Value {
    let (Some(items), Some(n)) = (list.as_list(), count.as_f64()) else { return Value::Unknown };
    let n = n.max(1.0) as usize;
    let shown: Vec<String> =
        items.iter().take(n).map(|v| v.as_str().map_or_else(|| v.to_string(), String::from)).collect();
    let more = items.len().saturating_sub(n);
    Value::String(if more == 0 { shown.join(", ") } else { format!("{} and {more} more", shown.join(", ")) })
}

/// Whether `host` (`host`, `host:port`, `[v6]`, `[v6]:port`) is a link-local address.
fn link_local(host: &str) -> bool {
    let address = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        // A bare IPv6 address has colons of its own.
        None if host.parse::<std::net::IpAddr>().is_ok() => host,
        None => host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(h, _)| h),
    };
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(v4)) => v4.is_link_local(),
        Ok(std::net::IpAddr::V6(v6)) => {
            (v6.segments()[0] & 0xffc0) == 0xfe80 || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
        }
        Err(_) => false,
    }
}

/// A grant as policies see it; `flag` on it points at the grant in its script.
fn grant_value(site: &crate::model::GrantSite) -> Value {
    let strings = |items: &[String]| Value::List(items.iter().map(Value::str).collect());
    let mut map = std::collections::BTreeMap::new();
    map.insert(super::symbolic::ADDRESS_KEY.to_string(), Value::String(format!("{}{}", super::GRANT_PREFIX, site.id)));
    map.insert("script".into(), Value::str(&site.script));
    map.insert("script_kind".into(), Value::str(site.script_kind));
    map.insert("kind".into(), Value::str(&site.grant.kind));
    map.insert("targets".into(), strings(&site.grant.targets));
    let tables: Vec<String> = site.grant.tables.keys().cloned().collect();
    map.insert("tables".into(), strings(&tables));
    map.insert("ops".into(), strings(&site.grant.ops));
    let per_table = site.grant.tables.iter().map(|(t, ops)| (t.clone(), strings(ops))).collect();
    map.insert("table_ops".into(), Value::map(per_table));
    map.insert("hosts".into(), strings(&site.grant.hosts));
    Value::map(map)
}

/// Whether an attribute says something: `having`'s test.
fn set(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::String(s) => !s.is_empty(),
        Value::List(items) => !items.is_empty(),
        Value::Map(map) => !map.is_empty(),
        Value::Bool(true) | Value::Number(_) | Value::Unknown | Value::Ref { .. } | Value::Secret(_) => true,
    }
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
                // A misspelled type would select nothing, and the rule pass silently.
                Value::String(t) if self.symbolic.catalog().resource(&t).is_none() => {
                    let types = self.symbolic.catalog().resources().map(|r| r.type_name.as_str());
                    let hint = drone_lang::suggest::closest(&t, types)
                        .map_or_else(String::new, |c| format!("; did you mean \"{c}\"?"));
                    Err(FnError(format!("there is no resource type \"{t}\"{hint}")))
                }
                Value::String(t) => Ok(Value::List(self.of_type(&t))),
                _ => Err(FnError("resources takes a type name such as \"aws.s3.bucket\"".into())),
            },
            "address" => Ok(resource_address(&arg(0)).map_or(Value::Null, Value::String)),
            "grants" => Ok(Value::List(self.model.grants.iter().map(grant_value).collect())),
            "link_local" => Ok(Value::Bool(arg(0).as_str().is_some_and(link_local))),
            "target" => Ok(match arg(0) {
                Value::Ref { address, .. } => self.symbolic.instance(&address),
                Value::String(arn) if arn.starts_with("arn:") => self.with_arn(&arn).unwrap_or(Value::Null),
                _ => Value::Null,
            }),
            "referrers" => {
                let Some(address) = resource_address(&arg(0)) else {
                    return Some(Err(FnError("referrers takes a resource".into())));
                };
                let kind = arg(1).as_str().unwrap_or_default().to_string();
                // A reference the checker could resolve (`aws.rds.cluster.db.identifier`, set in the
                // workflow) left no `Ref` in the value: the model's dependencies still record it.
                let configured = |r: &Value| {
                    resource_address(r)
                        .and_then(|a| self.model.instances.get(&a))
                        .is_some_and(|i| i.deps.contains(&address))
                };
                Ok(Value::List(
                    self.of_type(&kind).into_iter().filter(|r| refers_to(r, &address) || configured(r)).collect(),
                ))
            }
            "having" => {
                let (Some(resources), Some(attribute)) =
                    (arg(0).as_list().map(<[Value]>::to_vec), arg(1).as_str().map(String::from))
                else {
                    return Some(Err(FnError("having takes a list of resources and an attribute name".into())));
                };
                Ok(Value::List(
                    resources
                        .into_iter()
                        .filter(|r| r.as_map().and_then(|m| m.get(&attribute)).is_some_and(set))
                        .collect(),
                ))
            }
            "is_public_subnet" => self.is_public_subnet(&arg(0)),
            "routes_to_internet" => self.routes_to_internet(&arg(0)),
            "internet_path" => Ok(self.internet_path(&arg(0), &arg(1))),
            "load_balancer_ports" => self.load_balancer_ports(&arg(0)),
            "is_secret" => Ok(Value::Bool(matches!(arg(0), Value::Secret(_)))),
            "secret_looking" => Ok(Value::Bool(arg(0).as_str().is_some_and(secret_looking))),
            "statements" => statements(&arg(0)),
            "environment" => Ok(self.model.environment.clone().map_or(Value::Null, Value::String)),
            "condition_keys" => Ok(match arg(0).as_map().and_then(|m| m.get("condition")) {
                Some(Value::Unknown | Value::Ref { .. }) => Value::Unknown,
                condition => string_list(iam::condition_keys(condition)),
            }),
            "iam_scoped_on_every_resource" => with_statements(&arg(0), scoped_on_every_resource),
            "iam_escalations" => escalations(&arg(0)),
            "iam_passes_any_role" => {
                with_statements(&arg(0), |s| Value::Bool(s.iter().any(iam::Statement::passes_any_role)))
            }
            "iam_denies_insecure_transport" => {
                let bucket = arg(1);
                with_statements(&arg(0), |s| denies_insecure_transport(s, &bucket))
            }
            "covers_every_action" => {
                Ok(patterns(&arg(0)).map_or(Value::Unknown, |p| Value::Bool(iam::scope::covers_every_action(&p))))
            }
            "whole_services" => Ok(patterns(&arg(0))
                .map_or(Value::Unknown, |p| string_list(iam::scope::whole_services(&p).into_iter().map(String::from)))),
            "scopable" => Ok(match arg(0).as_str() {
                Some(service) => {
                    Value::Bool(iam::catalogue::catalogue().service(service).iter().any(|a| a.resource_level()))
                }
                None => Value::Unknown,
            }),
            "covers_every_resource" => Ok(match (patterns(&arg(0)), arg(1).as_str()) {
                (Some(p), Some(service)) => Value::Bool(iam::scope::covers_every_resource_of_service(&p, service)),
                _ => Value::Unknown,
            }),
            "condition_pins" => Ok(match (statement_conditions(&arg(0)), arg(1).as_str()) {
                (Some(c), Some(key)) => Value::Bool(c.iter().any(|c| c.is_on(key) && c.pins(false))),
                _ => Value::Unknown,
            }),
            "limits_principals" => Ok(statement_conditions(&arg(0))
                .map_or(Value::Unknown, |c| Value::Bool(iam::conditions::limits_principals(&c)))),
            "anyone" => Ok(anyone(&arg(0))),
            "ingress_ports" => Ok(super::exposure::Admission::of(&arg(0)).map_or(Value::Unknown, |a| {
                let mut m = std::collections::BTreeMap::new();
                m.insert("text".to_string(), Value::String(a.describe()));
                m.insert("from".to_string(), Value::Number(a.from as f64));
                m.insert("to".to_string(), Value::Number(a.to as f64));
                m.insert("protocol".to_string(), Value::String(a.protocol));
                Value::map(m)
            })),
            "internet_source" => Ok(super::exposure::internet_source(&arg(0))
                .map_or(Value::Unknown, |s| s.map_or(Value::Null, Value::String))),
            "iam_unknown_actions" => {
                with_statements(&arg(0), |s| string_list(s.iter().flat_map(iam::Statement::unknown_actions)))
            }
            "brief" => Ok(brief(&arg(0), &arg(1))),
            "principals" => Ok(principals(&arg(0), arg(1).as_str().unwrap_or_default())),
            "web_identity" => Ok(match arg(0).as_str() {
                Some(p) => Value::Bool(iam::conditions::web_identity_issuer(p).is_some()),
                None => Value::Unknown,
            }),
            "subject_pinned" => Ok(match (statement_conditions(&arg(0)), arg(1).as_str()) {
                (Some(c), Some(principal)) => Value::Bool(
                    iam::conditions::web_identity_issuer(principal)
                        .is_some_and(|issuer| iam::conditions::pins_subject(&c, issuer)),
                ),
                _ => Value::Unknown,
            }),
            _ => return None,
        })
    }
}

/// Whether a name (an environment variable's, say) says it holds a secret.
fn secret_looking(name: &str) -> bool {
    const WORDS: &[&str] = &["password", "passwd", "pwd", "secret", "secrets", "token", "credential", "credentials"];
    const PAIRS: &[(&str, &str)] = &[("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key")];
    // Words split at separators and at a lower-to-upper change (`dbPassword`, `DB_PASSWORD`, `db.password`).
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = !c.is_alphanumeric() || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    words.push(word);
    const JOINED: &[&str] = &["apikey", "accesskey", "privatekey", "secretkey"];
    words.iter().any(|w| WORDS.contains(&w.as_str()) || JOINED.contains(&w.as_str()))
        || PAIRS.iter().any(|(a, b)| words.windows(2).any(|p| p[0] == *a && p[1] == *b))
}

#[cfg(test)]
mod name_tests {
    use super::{link_local, secret_looking};

    #[test]
    fn secret_looking_names_are_told_from_ordinary_ones() {
        for name in [
            "database__connection__password",
            "DB_PASSWORD",
            "dbPassword",
            "mail.options.auth.pass_token",
            "STRIPE_SECRET_KEY",
            "API_KEY",
            "apiKey",
            "APIKEY",
            "AWS_ACCESS_KEY_ID",
            "GITHUB_TOKEN",
            "mysql_pwd",
            "credentials",
        ] {
            assert!(secret_looking(name), "{name}");
        }
        for name in [
            "url",
            "database__connection__host",
            "database__connection__user",
            "NODE_ENV",
            "KEYCLOAK_URL",
            "tokenizer_model",
            "PASSWORDLESS_LOGIN_URL",
        ] {
            assert!(!secret_looking(name), "{name}");
        }
    }

    #[test]
    fn link_local_hosts_are_recognised_in_every_spelling() {
        for host in ["169.254.169.254", "169.254.170.2:80", "[fe80::1]", "[fd00:ec2::254]:80", "fe80::1"] {
            assert!(link_local(host), "{host}");
        }
        for host in ["api.example.com", "169.254.example.com", "10.0.0.1:443", "[2001:db8::1]", "127.0.0.1"] {
            assert!(!link_local(host), "{host}");
        }
    }
}
