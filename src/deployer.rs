//! `drone iam`: the least-privilege policy for the identity that runs a
//! workflow, from the resources it manages and what the provider calls for
//! each type.

use drone_engine::eval::NothingKnown;
use drone_engine::functions::CallContext;
use drone_engine::value::Value;
use drone_lang::Catalog;
use drone_stdlib::permissions::{deployer_policy, Granted, Managed};

use crate::error::CliError;
use crate::pipeline::Loaded;
use crate::render::diagnostics;

/// The policy JSON for `loaded`'s resources, those of `phase` only when given.
pub fn policy(
    loaded: &Loaded,
    catalog: &Catalog,
    phase: Option<&str>,
    account: &str,
) -> Result<serde_json::Value, CliError> {
    let model = &loaded.model;
    if let Some(phase) = phase {
        if !model.phases.iter().any(|p| p == phase) {
            let help = format!("the workflow's phases: {}", model.phases.join(", "));
            return Err(CliError::usage(format!("the workflow has no phase `{phase}`"), Some(help)));
        }
    }
    let names = resource_names(loaded, catalog, phase)?;
    let managed: Vec<Managed<'_>> = names.iter().map(managed).collect();
    // What the workflow's tasks, steps and hooks call, each on exactly its grants' resources.
    let granted = grants_of(&loaded.scripts, &names);
    let mut policy = deployer_policy(&managed, &granted, account).map_err(|e| CliError::usage(e.to_string(), None))?;
    if let (Some(s3), Some(statements)) = (&model.state_s3, policy["Statement"].as_array_mut()) {
        statements.extend(state_statements(s3));
    }

    Ok(policy)
}

/// What reading and writing an S3 state needs: the state object and its
/// lock objects, and listing the bucket for those keys only (without it, S3
/// answers a missing state with 403 instead of 404).
pub(crate) fn state_statements(s3: &drone_engine::state::S3Location) -> [serde_json::Value; 2] {
    let (bucket, key) = (&s3.bucket, &s3.key);
    [
        serde_json::json!({
            "Sid": "DroneState",
            "Effect": "Allow",
            "Action": ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            "Resource": [
                format!("arn:aws:s3:::{bucket}/{key}"),
                format!("arn:aws:s3:::{bucket}/{key}.lock"),
                format!("arn:aws:s3:::{bucket}/{key}.lock.unlocked"),
            ],
        }),
        serde_json::json!({
            "Sid": "DroneStateList",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [format!("arn:aws:s3:::{bucket}")],
            "Condition": { "StringLike": { "s3:prefix": [key, format!("{key}.lock*")] } },
        }),
    ]
}

/// IAM's size limits, in characters without whitespace.
const MANAGED_POLICY_LIMIT: usize = 6_144;
const INLINE_ROLE_POLICY_LIMIT: usize = 10_240;

/// A note when `policy` is too large for a managed policy, saying where it fits.
pub fn size_note(policy: &serde_json::Value) -> Option<String> {
    let size = iam_size(policy);
    if size <= MANAGED_POLICY_LIMIT {
        return None;
    }
    let fits = if size <= INLINE_ROLE_POLICY_LIMIT {
        "attach it to the deployer's role as an inline policy, or as managed policies with --managed"
    } else {
        "attach it as managed policies with --managed (or split it with --phase)"
    };
    Some(format!(
        "note: the policy is {size} characters without whitespace; a managed policy holds {MANAGED_POLICY_LIMIT} and an inline role policy {INLINE_ROLE_POLICY_LIMIT}: {fits}"
    ))
}

/// IAM's size of a policy document: its JSON without whitespace, which IAM does not count.
fn iam_size(document: &serde_json::Value) -> usize {
    document.to_string().chars().filter(|c| !c.is_whitespace()).count()
}

/// Why a policy cannot be split into managed policies.
#[derive(Debug, thiserror::Error)]
#[error("statement {sid} alone is {size} characters with a single resource, more than a managed policy's {MANAGED_POLICY_LIMIT}")]
pub struct TooLarge {
    sid: String,
    size: usize,
}

/// `policy`'s statements packed into managed policy documents of at most
/// `MANAGED_POLICY_LIMIT` characters each, together granting exactly what it
/// grants: statements go whole, in order, into the first document with room,
/// and a statement too large for any document is cut by its resources into
/// statements that fit.
pub fn managed_documents(policy: &serde_json::Value) -> Result<Vec<serde_json::Value>, TooLarge> {
    let version = policy["Version"].clone();
    let document =
        |statements: Vec<serde_json::Value>| serde_json::json!({ "Version": version, "Statement": statements });
    let empty = iam_size(&document(Vec::new()));
    // A statement costs its own size and a separating comma.
    let room = MANAGED_POLICY_LIMIT - empty;
    let mut pieces = Vec::new();
    for statement in policy["Statement"].as_array().into_iter().flatten() {
        pieces.extend(cut(statement, room)?);
    }
    let mut bins: Vec<(usize, Vec<serde_json::Value>)> = Vec::new();
    for piece in pieces {
        let cost = iam_size(&piece) + 1;
        match bins.iter_mut().find(|(used, _)| used + cost <= room + 1) {
            Some((used, statements)) => {
                *used += cost;
                statements.push(piece);
            }
            None => bins.push((cost, vec![piece])),
        }
    }
    Ok(bins.into_iter().map(|(_, statements)| document(statements)).collect())
}

/// `statement` as is when it fits in `room`, else as several statements
/// with the same actions and conditions, each with some of its resources.
fn cut(statement: &serde_json::Value, room: usize) -> Result<Vec<serde_json::Value>, TooLarge> {
    if iam_size(statement) < room {
        return Ok(vec![statement.clone()]);
    }
    let resources: Vec<serde_json::Value> = match &statement["Resource"] {
        serde_json::Value::Array(r) => r.clone(),
        single => vec![single.clone()],
    };
    let too_large = || TooLarge {
        sid: statement["Sid"].as_str().map_or_else(|| "without a Sid".to_string(), |s| format!("`{s}`")),
        size: iam_size(statement),
    };
    if resources.len() < 2 {
        return Err(too_large());
    }
    let half = resources.len() / 2;
    let mut parts = Vec::new();
    for chunk in [&resources[..half], &resources[half..]] {
        let mut part = statement.clone();
        part["Resource"] = serde_json::Value::Array(chunk.to_vec());
        if let Some(sid) = statement["Sid"].as_str() {
            part["Sid"] = serde_json::Value::String(format!("{sid}{}", parts.len() + 1));
        }
        parts.extend(cut(&part, room)?);
    }
    Ok(parts)
}

/// A resource as `drone iam` knows it before apply: the block it was declared
/// by, its type, its name (when the type has a naming attribute) and its region.
pub(crate) type Named<'a> = (&'a str, &'a str, Option<String>, String, bool);

/// Every resource of `loaded` (of `phase` only, when given), named.
pub(crate) fn resource_names<'a>(
    loaded: &'a Loaded,
    catalog: &Catalog,
    phase: Option<&str>,
) -> Result<Vec<Named<'a>>, CliError> {
    let model = &loaded.model;
    let host = crate::pipeline::host_for(&loaded.program.root_path);
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let mut names = Vec::new();
    for instance in model.instances.values().filter(|i| phase.is_none_or(|p| i.phase == p)) {
        let config = drone_engine::plan::evaluate_config(model, catalog, &cx, &NothingKnown, instance)
            .map_err(|e| diagnostics(&[e], &loaded.program.sources))?;
        // The attribute that names a resource of this type, if it has one.
        let naming = drone_stdlib::registry::get(&instance.type_name).and_then(|t| t.naming);
        let name = naming.and_then(|k| config.get(k)).and_then(Value::as_str).map(String::from);
        let region = model
            .providers
            .get(&instance.provider)
            .and_then(|p| p.settings.get("region"))
            .and_then(Value::as_str)
            .unwrap_or("*")
            .to_string();
        let decl = crate::script_host::declared_at(&instance.address);
        names.push((decl, instance.type_name.as_str(), name, region, instance.read_only));
    }
    Ok(names)
}

/// The configuration of every resource of `type_name`, as far as it is known before apply, with
/// its region.
pub(crate) fn configs_of(
    loaded: &Loaded,
    catalog: &Catalog,
    type_name: &str,
) -> Result<Vec<(String, drone_engine::value::Attributes)>, CliError> {
    let model = &loaded.model;
    let host = crate::pipeline::host_for(&loaded.program.root_path);
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let mut configs = Vec::new();
    for instance in model.instances.values().filter(|i| i.type_name == type_name) {
        let config = drone_engine::plan::evaluate_config(model, catalog, &cx, &NothingKnown, instance)
            .map_err(|e| diagnostics(&[e], &loaded.program.sources))?;
        let region = model.providers.get(&instance.provider).and_then(|p| p.settings.get("region"));
        configs.push((region.and_then(Value::as_str).unwrap_or("*").to_string(), config));
    }
    Ok(configs)
}

/// A named resource as the policy builder takes it.
fn managed<'a>((_, type_name, name, region, read_only): &'a Named<'a>) -> Managed<'a> {
    Managed { type_name, name: name.as_deref(), region, read_only: *read_only }
}

/// The grants `scripts` hold, each with its targets among `names`.
pub(crate) fn grants_of<'a>(scripts: &'a [drone_script::ScriptSpec], names: &'a [Named<'a>]) -> Vec<Granted<'a>> {
    scripts
        .iter()
        .flat_map(|spec| {
            spec.grants.0.iter().map(move |g| Granted {
                kind: &g.kind,
                targets: names.iter().filter(|(decl, ..)| g.targets.iter().any(|t| t == decl)).map(managed).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_is_packed_into_managed_policies_that_fit_and_grant_the_same() {
        // One statement far larger than a managed policy (400 named buckets), and small ones.
        let buckets: Vec<String> = (0..400).map(|i| format!("arn:aws:s3:::a-rather-long-bucket-name-{i:04}")).collect();
        let mut statements = vec![serde_json::json!({
            "Sid": "Buckets", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": buckets,
        })];
        for i in 0..30 {
            statements.push(serde_json::json!({
                "Effect": "Allow", "Action": [format!("ec2:Action{i}")], "Resource": [format!("arn:aws:ec2:*:*:vpc/{i}")],
            }));
        }
        let policy = serde_json::json!({ "Version": "2012-10-17", "Statement": statements });
        let documents = managed_documents(&policy).expect("packed");
        assert!(documents.len() >= 3, "{} documents", documents.len());
        let mut resources = Vec::new();
        for d in &documents {
            assert!(iam_size(d) <= MANAGED_POLICY_LIMIT, "{}", iam_size(d));
            assert_eq!(d["Version"], "2012-10-17");
            for s in d["Statement"].as_array().expect("statements") {
                let actions = s["Action"].to_string();
                for r in s["Resource"].as_array().expect("resources") {
                    resources.push(format!("{actions} {r}"));
                }
            }
        }
        resources.sort();
        let mut wanted: Vec<String> = statements
            .iter()
            .flat_map(|s| {
                let actions = s["Action"].to_string();
                s["Resource"].as_array().cloned().unwrap_or_default().into_iter().map(move |r| format!("{actions} {r}"))
            })
            .collect();
        wanted.sort();
        assert_eq!(resources, wanted, "every action on every resource, once");
    }

    #[test]
    fn a_statement_with_one_resource_too_large_is_refused() {
        let actions: Vec<String> = (0..400).map(|i| format!("service:SomeRatherLongActionName{i}")).collect();
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Sid": "Huge", "Effect": "Allow", "Action": actions, "Resource": "*" }],
        });
        let e = managed_documents(&policy).expect_err("too large");
        assert!(e.to_string().starts_with("statement `Huge` alone is"), "{e}");
    }
}
