//! IAM document analysis: statements with their actions expanded against the
//! vendored catalogue (NotAction included), resource scope, conditions that
//! constrain (`iam:PassedToService`) and ones that do not, unconditional
//! Deny subtracted, and the privilege-escalation paths a set of documents opens.

pub mod catalogue;
pub mod conditions;
pub mod escalation;
pub mod scope;

use std::collections::BTreeSet;

use crate::value::Value;
use catalogue::{catalogue, glob};

/// Allow or Deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Grants.
    Allow,
    /// Takes away, whatever else grants.
    Deny,
}

/// One statement of an IAM document.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// Allow or Deny.
    pub effect: Effect,
    /// `Action` patterns, or the `NotAction` patterns when `not_action` is set.
    pub actions: Vec<String>,
    /// Whether `actions` came from `NotAction`.
    pub not_action: bool,
    /// `Resource` patterns, or the `NotResource` patterns when `not_resource` is set.
    pub resources: Vec<String>,
    /// Whether `resources` came from `NotResource`.
    pub not_resource: bool,
    /// The condition keys, lower-cased (`iam:passedtoservice`).
    pub condition_keys: Vec<String>,
    /// The tests of its `Condition` block.
    pub conditions: Vec<conditions::Condition>,
    /// Whether its `Principal` is everyone: `*`, or an AWS principal with a wildcard.
    pub everyone: bool,
}

/// Why a document cannot be analysed.
#[derive(Debug, PartialEq)]
pub enum DocumentError {
    /// Some part is known only after apply.
    Unknown,
    /// Not an IAM document.
    Invalid(String),
}

/// The raw statements of a document given as JSON text or as a map: one
/// `Statement` map becomes a list of one.
pub fn raw_statements(document: &Value) -> Result<Vec<Value>, DocumentError> {
    let parsed;
    let document = match document {
        Value::String(text) => {
            let json: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| DocumentError::Invalid(format!("the policy document is not JSON: {e}")))?;
            parsed = Value::from_json(&json);
            &parsed
        }
        Value::Null => return Ok(Vec::new()),
        // References inside a document are fine (an ARN known after apply names
        // one resource); a document that is itself unknown is not.
        Value::Unknown | Value::Ref { .. } => return Err(DocumentError::Unknown),
        v => v,
    };
    match document.as_map().and_then(|m| m.get("Statement")) {
        Some(Value::List(l)) => Ok(l.clone()),
        Some(single @ Value::Map(_)) => Ok(vec![single.clone()]),
        Some(Value::Unknown | Value::Ref { .. }) => Err(DocumentError::Unknown),
        _ => Ok(Vec::new()),
    }
}

/// The statements of a document given as JSON text or as a map.
pub fn parse(document: &Value) -> Result<Vec<Statement>, DocumentError> {
    raw_statements(document)?.iter().map(statement).collect()
}

/// The strings of an Action or Resource value: one string or a list; a
/// reference names one resource known after apply.
pub(crate) fn strings(value: Option<&Value>) -> Result<Vec<String>, DocumentError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::List(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                // A reference (an ARN known after apply) names one resource: not a wildcard.
                Value::Ref { .. } => Ok(String::from(KNOWN_AFTER_APPLY)),
                Value::Unknown => Err(DocumentError::Unknown),
                _ => Err(DocumentError::Invalid("Action and Resource lists hold strings".into())),
            })
            .collect(),
        Some(Value::Ref { .. }) => Ok(vec![String::from(KNOWN_AFTER_APPLY)]),
        Some(Value::Unknown) => Err(DocumentError::Unknown),
        Some(_) => Err(DocumentError::Invalid("Action and Resource take a string or a list of strings".into())),
    }
}

/// What a reference to a resource's ARN reads as: one named resource.
pub const KNOWN_AFTER_APPLY: &str = "(an ARN known after apply)";

fn statement(value: &Value) -> Result<Statement, DocumentError> {
    let m = match value {
        Value::Map(m) => m,
        Value::Unknown | Value::Ref { .. } => return Err(DocumentError::Unknown),
        _ => return Err(DocumentError::Invalid("a Statement is a map".into())),
    };
    let effect = match m.get("Effect") {
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::Unknown | Value::Ref { .. }) => return Err(DocumentError::Unknown),
        _ => return Err(DocumentError::Invalid("a Statement's Effect must be \"Allow\" or \"Deny\"".into())),
    };
    let (actions, not_action) = match m.get("NotAction") {
        Some(v) if !matches!(v, Value::Null) => (strings(Some(v))?, true),
        _ => (strings(m.get("Action"))?, false),
    };
    let (resources, not_resource) = match m.get("NotResource") {
        Some(v) if !matches!(v, Value::Null) => (strings(Some(v))?, true),
        _ => (strings(m.get("Resource"))?, false),
    };
    let condition_keys = condition_keys(m.get("Condition"));
    let conditions = conditions::parse(m.get("Condition"));
    let everyone = everyone(m.get("Principal"));
    Ok(Statement { effect, actions, not_action, resources, not_resource, condition_keys, conditions, everyone })
}

/// Whether a `Principal` is everyone: `*`, or an AWS principal with a
/// wildcard (`arn:aws:iam::*:root` is any account).
pub fn everyone(principal: Option<&Value>) -> bool {
    let wildcard = |v: &Value| match v {
        Value::String(s) => scope::is_wildcard(s),
        Value::List(items) => items.iter().any(|i| i.as_str().is_some_and(scope::is_wildcard)),
        _ => false,
    };
    match principal {
        Some(Value::String(p)) => p == "*",
        Some(Value::Map(p)) => p.get("AWS").is_some_and(wildcard),
        _ => false,
    }
}

/// The keys a `Condition` block tests, lower-cased, across all its operators:
/// `{ StringEquals = { "sts:ExternalId" = "x" } }` gives `["sts:externalid"]`.
pub fn condition_keys(condition: Option<&Value>) -> Vec<String> {
    match condition {
        Some(Value::Map(operators)) => operators
            .values()
            .filter_map(Value::as_map)
            .flat_map(|keys| keys.keys().map(|k| k.to_ascii_lowercase()))
            .collect(),
        _ => Vec::new(),
    }
}

impl Statement {
    /// The catalogue actions the statement covers: its patterns expanded, or
    /// for NotAction every catalogue action that no pattern matches. A
    /// pattern that matches nothing in the catalogue is kept as written.
    pub fn expanded_actions(&self) -> BTreeSet<String> {
        let c = catalogue();
        if self.not_action {
            return c
                .actions()
                .iter()
                .filter(|a| !self.actions.iter().any(|p| glob(p, a.name)))
                .map(|a| a.name.to_string())
                .collect();
        }
        let mut out = BTreeSet::new();
        for pattern in &self.actions {
            let matched: Vec<&str> = c.matching(pattern).map(|a| a.name).collect();
            if matched.is_empty() {
                out.insert(pattern.clone());
            }
            out.extend(matched.into_iter().map(String::from));
        }
        out
    }

    /// Patterns (or names) that no catalogue action matches: typos, or
    /// services the catalogue does not cover.
    pub fn unknown_actions(&self) -> Vec<String> {
        let c = catalogue();
        self.actions.iter().filter(|p| c.matching(p).next().is_none()).cloned().collect()
    }

    /// Whether the statement applies to every resource of every service:
    /// `Resource: "*"` or anything that matches as much (`arn:*`), or any
    /// `NotResource` (everything but a few).
    pub fn on_every_resource(&self) -> bool {
        self.not_resource || self.resources.iter().any(|r| scope::covers_anything(r))
    }

    /// Whether some resource pattern is a wildcard over many resources
    /// (`*`, `arn:aws:iam::*:role/*`, `role/app-????`), rather than named ARNs.
    pub fn on_wildcard_resources(&self) -> bool {
        self.not_resource || self.resources.iter().any(|r| scope::is_wildcard(r))
    }

    /// Whether it reaches every resource of some type `action` can be scoped to.
    pub fn on_every_resource_of(&self, action: &catalogue::Action) -> bool {
        self.not_resource || scope::covers_every_resource_of(&self.resources, action)
    }

    /// Whether the statement has a condition on `key` (case-insensitive).
    pub fn has_condition(&self, key: &str) -> bool {
        self.condition_keys.iter().any(|k| k.eq_ignore_ascii_case(key))
    }

    /// Whether its conditions pin `key` to specific values (see
    /// `Condition::pins`); `always_present` when the statement's actions
    /// always carry the key, so that `IfExists` still pins it.
    pub fn pins(&self, key: &str, always_present: bool) -> bool {
        self.conditions.iter().any(|c| c.is_on(key) && c.pins(always_present))
    }

    /// Whether it grants `iam:PassRole` without limits: on wildcard resources,
    /// or without an `iam:PassedToService` condition that names services.
    /// Other conditions do not limit which service receives the role.
    pub fn passes_any_role(&self) -> bool {
        self.effect == Effect::Allow
            && self.expanded_actions().iter().any(|a| a.eq_ignore_ascii_case("iam:PassRole"))
            && (self.on_wildcard_resources() || !self.pins("iam:PassedToService", true))
    }
}

/// Actions on roles that escalate only when they reach any role (the holder's
/// own included); on named role ARNs they change just those roles, which is
/// what a deployer that manages roles needs.
const ON_NAMED_ROLES: [&str; 3] = ["iam:AttachRolePolicy", "iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy"];

/// What a set of documents grants together: every action some Allow covers,
/// minus what an unconditional Deny on every resource takes away, with
/// `iam:PassRole` kept only when some statement passes any role, and the
/// role-policy actions only when some statement reaches any role.
pub fn effective_actions(statements: &[Statement]) -> BTreeSet<String> {
    let mut allowed = BTreeSet::new();
    for s in statements.iter().filter(|s| s.effect == Effect::Allow) {
        for action in s.expanded_actions() {
            let counts = if action.eq_ignore_ascii_case("iam:PassRole") {
                s.passes_any_role()
            } else if ON_NAMED_ROLES.iter().any(|a| a.eq_ignore_ascii_case(&action)) {
                s.on_wildcard_resources()
            } else {
                true
            };
            if counts {
                allowed.insert(action.to_ascii_lowercase());
            }
        }
    }
    for s in statements.iter().filter(|s| s.effect == Effect::Deny) {
        // A conditional or resource-scoped Deny leaves the grant in place somewhere.
        if s.condition_keys.is_empty() && !s.not_resource && s.on_every_resource() {
            for action in s.expanded_actions() {
                allowed.remove(&action.to_ascii_lowercase());
            }
        }
    }
    allowed
}

/// The escalation paths that `statements` open, by name.
pub fn escalations(statements: &[Statement]) -> Vec<&'static escalation::Path> {
    let granted = effective_actions(statements);
    escalation::PATHS.iter().filter(|p| p.actions.iter().all(|a| granted.contains(&a.to_ascii_lowercase()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Vec<Statement> {
        parse(&Value::String(json.into())).expect("document")
    }

    fn paths(json: &str) -> Vec<&'static str> {
        escalations(&doc(json)).iter().map(|p| p.name).collect()
    }

    #[test]
    fn wildcards_and_not_action_expand_against_the_catalogue() {
        let s = &doc(r#"{"Statement": {"Effect": "Allow", "Action": "ecs:*Service", "Resource": "*"}}"#)[0];
        let actions: Vec<_> = s.expanded_actions().into_iter().collect();
        assert_eq!(
            actions,
            [
                "ecs:CreateExpressGatewayService",
                "ecs:CreateService",
                "ecs:DeleteExpressGatewayService",
                "ecs:DeleteService",
                "ecs:DescribeExpressGatewayService",
                "ecs:UpdateExpressGatewayService",
                "ecs:UpdateService"
            ]
        );
        let s = &doc(r#"{"Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "s3:*"], "Resource": "*"}]}"#)[0];
        let actions = s.expanded_actions();
        assert!(actions.contains("ec2:RunInstances") && !actions.iter().any(|a| a.starts_with("iam:")));
        let s = &doc(
            r#"{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObjects", "s3:GetObject"], "Resource": "*"}]}"#,
        )[0];
        assert_eq!(s.unknown_actions(), ["s3:GetObjects"]);
    }

    #[test]
    fn the_ecs_passrole_path_that_checkov_misses() {
        let open = r#"{"Statement": [{"Effect": "Allow",
            "Action": ["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:CreateService"], "Resource": "*"}]}"#;
        assert_eq!(paths(open), ["ECS service with a passed task role"]);
        let scoped = r#"{"Statement": [
            {"Effect": "Allow", "Action": ["ecs:RegisterTaskDefinition", "ecs:CreateService"], "Resource": "*"},
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::123456789012:role/app-task",
             "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}]}"#;
        assert!(paths(scoped).is_empty(), "a named role passed only to ECS tasks is not an escalation");
        let unrelated = r#"{"Statement": [{"Effect": "Allow",
            "Action": ["iam:PassRole", "ecs:RegisterTaskDefinition", "ecs:RunTask"],
            "Resource": "arn:aws:iam::123456789012:role/app-task",
            "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}"#;
        assert_eq!(paths(unrelated), ["ECS task with a passed task role"], "an unrelated condition does not constrain");
    }

    #[test]
    fn an_unconditional_deny_closes_a_path_and_a_conditional_one_does_not() {
        let base = r#"{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}"#;
        assert!(paths(&format!(r#"{{"Statement": [{base}]}}"#)).contains(&"new policy version"));
        let denied = format!(
            r#"{{"Statement": [{base}, {{"Effect": "Deny", "Action": ["iam:Create*", "iam:Set*", "iam:Attach*", "iam:Put*", "iam:Update*", "iam:AddUserToGroup", "iam:PassRole"], "Resource": "*"}}]}}"#
        );
        assert_eq!(paths(&denied), Vec::<&str>::new());
        let conditional = format!(
            r#"{{"Statement": [{base}, {{"Effect": "Deny", "Action": "iam:*", "Resource": "*", "Condition": {{"Bool": {{"aws:MultiFactorAuthPresent": "false"}}}}}}]}}"#
        );
        assert!(paths(&conditional).contains(&"new policy version"));
    }

    #[test]
    fn role_policy_actions_escalate_only_on_any_role() {
        let on = |resource: &str| {
            format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Action": ["iam:PutRolePolicy", "iam:AttachRolePolicy"], "Resource": "{resource}"}}]}}"#
            )
        };
        assert_eq!(paths(&on("*")), ["attach a policy to a role", "inline policy on a role"]);
        assert_eq!(paths(&on("arn:aws:iam::*:role/*")).len(), 2);
        assert!(paths(&on("arn:aws:iam::123456789012:role/app-task")).is_empty());
    }

    #[test]
    fn values_known_after_apply() {
        assert_eq!(parse(&Value::Unknown), Err(DocumentError::Unknown));
        let with_ref =
            Value::from_json(&serde_json::json!({"Statement": [{"Effect": "Allow", "Action": "iam:PassRole"}]}));
        let mut map = with_ref.as_map().cloned().expect("map");
        let mut st = map["Statement"].as_list().expect("list")[0].as_map().cloned().expect("map");
        st.insert("Resource".into(), Value::reference("aws.iam.role.task", "arn"));
        st.insert(
            "Condition".into(),
            Value::from_json(&serde_json::json!({"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})),
        );
        map.insert("Statement".into(), Value::List(vec![Value::map(st)]));
        let statements = parse(&Value::map(map)).expect("parses");
        assert!(!statements[0].passes_any_role(), "a reference names one role");
    }
}
