//! The call journal: every AWS API operation the provider sends, as the IAM
//! action it needs and the resource it was for, so `drone iam`'s policy can be
//! checked against what a run really called. Recorded by an SDK interceptor on
//! every client; the resource comes from a task-local set around each
//! provider operation, since the SDK knows nothing of drone's resources.
//! Calls are tracked even without a journal file: when AWS denies one, the
//! error names the IAM action that call needs (S3 says only "Access Denied").

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use drone_engine::provider::{ErrorKind, ProviderError};
use serde::Serialize;

/// One API call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Call {
    /// The IAM action it needs, e.g. `ec2:CreateVpc`.
    pub action: String,
    /// The operation as the SDK names it, e.g. `EC2.CreateVpc`.
    pub operation: String,
    /// What drone was doing: `create`, `read`, `update`, `delete`, or `identity`.
    pub stage: &'static str,
    /// The resource type, e.g. `aws.ec2.vpc` (none for `identity`).
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// The resource's id, once known (a create's calls get the new id).
    pub id: Option<String>,
    /// The region the call went to (a standby's resources are in another).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ARNs and EC2 ids the request names (other resources it touches, such
    /// as a subnet's VPC), which AWS may authorize the action against too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
}

/// The resource a provider operation is about.
#[derive(Clone, Debug)]
pub(super) struct Scope {
    pub(super) stage: &'static str,
    pub(super) type_name: String,
    pub(super) id: Option<String>,
    calls: Arc<Mutex<Vec<Call>>>,
}

tokio::task_local! {
    static SCOPE: Scope;
}

/// Where calls go: a JSON-lines file, appended to.
#[derive(Clone, Debug)]
pub struct Journal {
    file: Arc<Mutex<std::fs::File>>,
}

impl Journal {
    /// Opens (creating or appending to) the journal at `path`.
    pub fn open(path: &Path) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Journal { file: Arc::new(Mutex::new(file)) })
    }

    fn write(&self, calls: &[Call]) {
        let Ok(mut file) = self.file.lock() else { return };
        for call in calls {
            if let Ok(line) = serde_json::to_string(call) {
                // The journal is an audit aid; a full disk must not fail the run.
                let _ = writeln!(file, "{line}");
            }
        }
    }
}

/// Runs `operation` with calls attributed to (`stage`, `type_name`, `id`),
/// then writes them to `journal` (if any) with the id the operation returned.
/// A denied call's error gains the IAM action it needed.
pub(super) async fn scoped<T>(
    journal: Option<&Journal>,
    stage: &'static str,
    type_name: &str,
    id: Option<&str>,
    operation: impl std::future::Future<Output = Result<T, ProviderError>>,
    new_id: impl Fn(&T) -> Option<String>,
) -> Result<T, ProviderError> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let scope = Scope { stage, type_name: type_name.to_string(), id: id.map(String::from), calls: calls.clone() };
    let mut result = SCOPE.scope(scope, operation).await;
    let mut recorded = calls.lock().map(|c| c.clone()).unwrap_or_default();
    if let Err(error) = &mut result {
        name_missing_permission(error, &recorded);
    }
    if let Some(journal) = journal {
        let created = result.as_ref().ok().and_then(&new_id);
        for call in &mut recorded {
            if call.id.is_none() {
                call.id = created.clone();
            }
        }
        journal.write(&recorded);
    }
    result
}

/// Adds the IAM action of the call AWS refused (the scope's last) to `error`.
fn name_missing_permission(error: &mut ProviderError, calls: &[Call]) {
    if error.kind != ErrorKind::Denied {
        return;
    }
    let Some(last) = calls.last() else { return };
    let actions: Vec<&str> =
        calls.iter().filter(|c| c.operation == last.operation).map(|c| c.action.as_str()).collect();
    let mut unique: Vec<&str> = Vec::new();
    for action in actions {
        if !unique.contains(&action) {
            unique.push(action);
        }
    }
    error.message = format!(
        "{} (drone needs `{}` for {}; `drone iam` prints every permission this workflow needs)",
        error.message,
        unique.join("` and `"),
        last.operation
    );
}

/// The interceptor that records each operation.
#[derive(Debug, Clone)]
pub(super) struct Recorder {
    /// Where calls outside any provider operation (the identity check) go.
    pub(super) journal: Option<Journal>,
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "drone-call-journal"
    }

    // Not read_before_execution: a client interceptor runs that before the
    // operation's own configuration (which carries `Metadata`) is applied.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        let operation = format!("{}.{}", metadata.service(), metadata.name());
        let actions = crate::permissions::actions_for_operation(metadata.service(), metadata.name());
        let region = cfg.load::<aws_types::region::Region>().map(|r| r.to_string());
        let make = |stage, type_name: Option<String>, id: Option<String>| -> Vec<Call> {
            actions
                .iter()
                .map(|action| Call {
                    action: action.clone(),
                    operation: operation.clone(),
                    stage,
                    type_name: type_name.clone(),
                    id: id.clone(),
                    region: region.clone(),
                    references: Vec::new(),
                })
                .collect()
        };
        let scoped = SCOPE.try_with(|s| {
            let calls = make(s.stage, Some(s.type_name.clone()), s.id.clone());
            if let Ok(mut list) = s.calls.lock() {
                list.extend(calls);
            }
        });
        if let (Err(_), Some(journal)) = (scoped, &self.journal) {
            journal.write(&make("identity", None, None));
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        let operation = format!("{}.{}", metadata.service(), metadata.name());
        let request = context.request();
        let body = request.body().bytes().and_then(|b| std::str::from_utf8(b).ok()).unwrap_or_default();
        let found = references(&format!("{} {body}", request.uri()));
        // read_before_serialization recorded this request as its last entries, one per IAM
        // action; earlier requests of the same operation (a second route) keep their own.
        let recorded = crate::permissions::actions_for_operation(metadata.service(), metadata.name()).len();
        let _ = SCOPE.try_with(|s| {
            if let Ok(mut list) = s.calls.lock() {
                for call in list.iter_mut().rev().take(recorded).filter(|c| c.operation == operation) {
                    call.references.clone_from(&found);
                }
            }
        });
        Ok(())
    }
}

/// The ARNs and EC2 resource ids in a request's URI and body, whatever the
/// protocol (form, JSON, XML): tokens between the protocols' delimiters,
/// percent-decoded.
fn references(text: &str) -> Vec<String> {
    const EC2_PREFIXES: [&str; 7] = ["vpc-", "subnet-", "igw-", "rtb-", "sg-", "nat-", "eipalloc-"];
    let decoded = super::attrs::percent_decode(text).unwrap_or_else(|| text.to_string());
    let delimiters = |c: char| c.is_whitespace() || "&=\"<>,{}[]?".contains(c);
    let mut out: Vec<String> = Vec::new();
    for token in decoded.split(delimiters) {
        let ec2_id = EC2_PREFIXES.iter().any(|p| {
            token.strip_prefix(p).is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if (token.starts_with("arn:aws:") || ec2_id) && !out.iter().any(|t| t == token) {
            out.push(token.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn references_are_found_in_every_protocol() {
        let form = "Action=CreateSubnet&VpcId=vpc-0a1b2c&CidrBlock=10.0.0.0%2F24";
        assert_eq!(super::references(form), ["vpc-0a1b2c"]);
        let encoded = "PolicyArn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnly&RoleName=r";
        assert_eq!(super::references(encoded), ["arn:aws:iam::aws:policy/ReadOnly"]);
        let json = r#"{"cluster":"arn:aws:ecs:eu-west-1:1:cluster/c","subnets":["subnet-12ab","subnet-12ab"]}"#;
        assert_eq!(super::references(json), ["arn:aws:ecs:eu-west-1:1:cluster/c", "subnet-12ab"]);
        let xml = "<WebACLId>arn:aws:wafv2:us-east-1:1:global/webacl/n/i</WebACLId><Id>sg-nothex!</Id>";
        assert_eq!(super::references(xml), ["arn:aws:wafv2:us-east-1:1:global/webacl/n/i"]);
    }
}
