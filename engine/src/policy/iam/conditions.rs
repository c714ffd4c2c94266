//! What a statement's `Condition` block really requires: which keys it pins
//! to specific values, as opposed to conditions that merely mention a key
//! (`StringLike = "*"`, `Null = false`, an `IfExists` that passes when the key
//! is absent, a `StringNotEquals` that admits everything else).

use crate::value::Value;

/// One test of a `Condition` block: `{ StringEquals = { "sts:ExternalId" = "x" } }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The operator without its set qualifier or `IfExists`, e.g. `StringEquals`.
    pub operator: String,
    /// `ForAnyValue` or `ForAllValues`, when the operator had one.
    pub qualifier: Option<String>,
    /// Whether the operator ended in `IfExists` (true when the key is absent).
    pub if_exists: bool,
    /// The key, as written.
    pub key: String,
    /// The values it compares with; a reference counts as one specific value.
    pub values: Vec<Value>,
}

/// The tests of a `Condition` block, in order.
pub fn parse(condition: Option<&Value>) -> Vec<Condition> {
    let Some(Value::Map(operators)) = condition else { return Vec::new() };
    let mut out = Vec::new();
    for (operator, keys) in operators.iter() {
        let Some(keys) = keys.as_map() else { continue };
        let (qualifier, rest) = match operator.split_once(':') {
            Some((q, rest)) => (Some(q.to_string()), rest),
            None => (None, operator.as_str()),
        };
        let (operator, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base.to_string(), true),
            None => (rest.to_string(), false),
        };
        for (key, values) in keys {
            let values = match values {
                Value::List(items) => items.clone(),
                single => vec![single.clone()],
            };
            out.push(Condition {
                operator: operator.clone(),
                qualifier: qualifier.clone(),
                if_exists,
                key: key.clone(),
                values,
            });
        }
    }
    out
}

/// Operators that admit only the values they list.
const EQUALITY: [&str; 6] = ["StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike", "Bool"];

impl Condition {
    /// Whether it tests `key` (IAM keys are case-insensitive).
    pub fn is_on(&self, key: &str) -> bool {
        self.key.eq_ignore_ascii_case(key)
    }

    /// Whether it admits only requests whose `key` has one of a few specific
    /// values: an equality operator, every value free of wildcards, and the
    /// key required to be there unless `absent_fails` says an absent key
    /// never reaches this statement anyway (the action always carries it).
    /// `ForAllValues` passes on an empty set, so it pins nothing.
    pub fn pins(&self, absent_fails: bool) -> bool {
        let equality = EQUALITY.contains(&self.operator.as_str());
        let like = self.operator.ends_with("Like");
        let specific = !self.values.is_empty()
            && self.values.iter().all(|v| match v {
                Value::String(s) => !(s.is_empty() || like && s.contains(['*', '?'])),
                Value::Ref { .. } | Value::Bool(_) | Value::Number(_) => true,
                _ => false,
            });
        equality && specific && self.qualifier.as_deref() != Some("ForAllValues") && (!self.if_exists || absent_fails)
    }

    /// Whether it holds only for `value` of its key: `Bool = { "aws:SecureTransport" = "false" }`
    /// is `requires("false")`. Booleans and strings compare alike.
    pub fn requires(&self, value: &str) -> bool {
        self.pins(false)
            && self.values.iter().all(|v| match v {
                Value::String(s) => s.eq_ignore_ascii_case(value),
                Value::Bool(b) => b.to_string() == value,
                _ => false,
            })
    }
}

/// Keys whose pinned value limits who can make the request: an organisation,
/// an account, a principal, a VPC endpoint or a network.
pub const IDENTITY_KEYS: [&str; 9] = [
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceVpce",
    "aws:SourceVpc",
    "aws:userid",
];

/// Whether some test limits who may make the request: an identity key pinned
/// to specific values, or `aws:SourceIp` limited to ranges smaller than the
/// internet.
pub fn limits_principals(conditions: &[Condition]) -> bool {
    conditions.iter().any(|c| {
        IDENTITY_KEYS.iter().any(|k| c.is_on(k)) && c.pins(false)
            || c.is_on("aws:SourceIp")
                && c.operator == "IpAddress"
                && !c.if_exists
                && !c.values.is_empty()
                && c.values.iter().all(|v| match v {
                    Value::String(s) => !crate::policy::exposure::is_internet_range(s),
                    _ => true,
                })
    })
}

/// The issuer a web-identity (OIDC) principal names: the host of
/// `arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com`,
/// or the principal itself when it is one (`cognito-identity.amazonaws.com`).
/// None for a SAML provider, which signs no `sub` claim into a condition key.
pub fn web_identity_issuer(principal: &str) -> Option<&str> {
    if principal == "*" {
        return None; // Everyone: `iam.trust_no_wildcard_principal`'s to judge.
    }
    match principal.split_once(":oidc-provider/") {
        Some((_, host)) => Some(host),
        None if principal.starts_with("arn:") => None,
        None => Some(principal),
    }
}

/// GitHub Actions' issuer, whose subjects are `repo:OWNER/REPO:...`.
pub const GITHUB_ACTIONS: &str = "token.actions.githubusercontent.com";

/// Whether the conditions admit only tokens whose subject (`ISSUER:sub`) is
/// one of a few specific ones: a test on the key that pins (equality, every
/// value free of wildcards, the key required), or a `StringLike` whose every
/// pattern names its repository exactly and a ref, environment or event
/// after it (GitHub's `repo:OWNER/REPO:ref:refs/heads/*` still names one
/// repository; `repo:OWNER/*` admits every repository of the owner). Only
/// the audience (`:aud`) pins nothing about who the caller is.
pub fn pins_subject(conditions: &[Condition], issuer: &str) -> bool {
    let key = format!("{issuer}:sub");
    conditions.iter().any(|c| {
        if !c.is_on(&key) || c.if_exists || c.qualifier.as_deref() == Some("ForAllValues") || c.values.is_empty() {
            return false;
        }
        if c.pins(false) {
            return true;
        }
        c.operator == "StringLike"
            && c.values.iter().all(|v| match v {
                Value::String(s) => names_one_subject(s, issuer),
                _ => false,
            })
    })
}

/// Whether a subject pattern names one repository (GitHub) or, for another
/// issuer, begins with a literal part before any wildcard past its first
/// `:`-separated field.
fn names_one_subject(pattern: &str, issuer: &str) -> bool {
    let wild = |s: &str| s.contains(['*', '?']);
    if issuer.eq_ignore_ascii_case(GITHUB_ACTIONS) {
        let Some(rest) = pattern.strip_prefix("repo:") else { return false };
        let Some((repository, context)) = rest.split_once(':') else { return false };
        let Some((owner, name)) = repository.split_once('/') else { return false };
        return !owner.is_empty()
            && !name.is_empty()
            && !wild(repository)
            && !context.is_empty()
            && !context.starts_with(['*', '?']);
    }
    match pattern.split_once(':') {
        Some((first, rest)) => !first.is_empty() && !wild(first) && !rest.is_empty() && !rest.starts_with(['*', '?']),
        None => !pattern.is_empty() && !wild(pattern),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subject_is_pinned_to_repositories_and_refs_not_only_the_audience() {
        let github = |json| pins_subject(&conditions(json), GITHUB_ACTIONS);
        let aud = serde_json::json!({"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}});
        assert!(!github(aud), "the audience says nothing of the caller");
        assert!(github(serde_json::json!({"StringEquals": {
            "token.actions.githubusercontent.com:sub": "repo:shuttle/platform:ref:refs/heads/main"}})));
        assert!(github(serde_json::json!({"StringLike": {
            "token.actions.githubusercontent.com:sub": ["repo:shuttle/platform:ref:refs/heads/*", "repo:shuttle/ghost:environment:prod"]}})));
        assert!(
            !github(serde_json::json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:shuttle/*"}})),
            "every repository of the owner"
        );
        assert!(
            !github(
                serde_json::json!({"StringLike": {"token.actions.githubusercontent.com:sub": "repo:shuttle/platform:*"}})
            ),
            "any ref, any pull request"
        );
        assert!(!github(serde_json::json!({"StringLike": {"token.actions.githubusercontent.com:sub": "*"}})));
        assert!(!github(
            serde_json::json!({"StringEqualsIfExists": {"token.actions.githubusercontent.com:sub": "repo:a/b:ref:refs/heads/main"}})
        ));
        assert!(!github(
            serde_json::json!({"StringNotEquals": {"token.actions.githubusercontent.com:sub": "repo:a/b:ref:refs/heads/main"}})
        ));
        assert_eq!(
            web_identity_issuer("arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"),
            Some(GITHUB_ACTIONS)
        );
        assert_eq!(web_identity_issuer("arn:aws:iam::123456789012:saml-provider/okta"), None);
    }

    fn conditions(json: serde_json::Value) -> Vec<Condition> {
        parse(Some(&Value::from_json(&json)))
    }

    #[test]
    fn pinned_keys_and_mere_mentions() {
        let pinned = |json| conditions(json).iter().any(|c| c.is_on("sts:ExternalId") && c.pins(false));
        assert!(pinned(serde_json::json!({"StringEquals": {"sts:ExternalId": "a1b2"}})));
        assert!(pinned(serde_json::json!({"StringLike": {"sts:externalid": ["a1b2", "c3d4"]}})));
        assert!(!pinned(serde_json::json!({"StringLike": {"sts:ExternalId": "*"}})), "a wildcard admits every id");
        assert!(!pinned(serde_json::json!({"Null": {"sts:ExternalId": "false"}})), "present, any value");
        assert!(!pinned(serde_json::json!({"StringNotEquals": {"sts:ExternalId": "x"}})), "everything else");
        assert!(!pinned(serde_json::json!({"StringEqualsIfExists": {"sts:ExternalId": "x"}})), "absent passes");
        assert!(!pinned(serde_json::json!({"ForAllValues:StringEquals": {"sts:ExternalId": "x"}})));
        assert!(!pinned(serde_json::json!({"StringEquals": {"sts:ExternalId": []}})));
        let if_exists = &conditions(
            serde_json::json!({"StringEqualsIfExists": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        )[0];
        assert!(if_exists.pins(true), "an action that always carries the key");
    }

    #[test]
    fn required_values_and_principal_limits() {
        let tls = &conditions(serde_json::json!({"Bool": {"aws:SecureTransport": "false"}}))[0];
        assert!(tls.requires("false") && !tls.requires("true"));
        let boolean = &conditions(serde_json::json!({"Bool": {"aws:SecureTransport": false}}))[0];
        assert!(boolean.requires("false"));
        let limited = |json| limits_principals(&conditions(json));
        assert!(limited(serde_json::json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b"}})));
        assert!(limited(serde_json::json!({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})));
        assert!(!limited(serde_json::json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}})), "half the internet");
        assert!(!limited(serde_json::json!({"StringLike": {"aws:UserAgent": "*"}})), "not about who");
        assert!(!limited(serde_json::json!({"StringLike": {"aws:PrincipalOrgID": "o-*"}})));
    }
}
