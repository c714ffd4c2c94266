//! Eventual consistency: for a while after AWS creates a resource, other
//! calls naming it may answer that it does not exist (EC2's
//! `InvalidVpcID.NotFound`, ECS's "unable to assume the role" for a role IAM
//! made a moment ago). One mechanism covers every type:
//!
//! - [`Freshness`], an interceptor on every client, remembers each id and ARN
//!   that a successful creating call (`Create*`, `Allocate*`, ...) answers
//!   with, and when, for the window of the service that made it;
//! - [`sdk_error`](super::sdk_error) turns a "not found" (or a service's
//!   documented code for the same) that names a fresh id into `NotReady`, so
//!   waiters keep polling and the engine's retries try again;
//! - [`patiently`] retries such calls for as long as the window of what they
//!   name lasts, and [`AwsProvider`](super::AwsProvider)'s `read` does not take
//!   "nothing there" for "deleted" while the id is fresh.
//!
//! After the window, "not found" means what it says. The windows and codes
//! are data beside each service's SDK code ([`Consistency`] in
//! `types/<service>/mod.rs`), so `drone` builds without the SDK still know them.

use std::future::Future;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::AfterDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use drone_engine::provider::{ErrorKind, ProviderError};

pub use crate::types::Consistency;

/// Every service's consistency, from beside its SDK code.
pub const SERVICES: &[&Consistency] = &[
    &crate::types::ec2::CONSISTENCY,
    &crate::types::iam::CONSISTENCY,
    &crate::types::elbv2::CONSISTENCY,
    &crate::types::ecs::CONSISTENCY,
    &crate::types::codebuild::CONSISTENCY,
    &crate::types::codepipeline::CONSISTENCY,
];

/// The consistency of `service` (`ec2`), if it documents any.
pub fn of_service(service: &str) -> Option<&'static Consistency> {
    let service = service.to_ascii_lowercase().replace(' ', "");
    SERVICES.iter().copied().find(|c| c.service == service)
}

/// The ids and ARNs created lately, each with when it stops being fresh.
static FRESH: LazyLock<Mutex<Vec<(String, Instant)>>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// Remembers `name` (an id or ARN) as made now by `service`.
pub fn remember(service: &str, name: &str) {
    let Some(c) = of_service(service).filter(|c| !c.window.is_zero()) else { return };
    let Ok(mut fresh) = FRESH.lock() else { return };
    let now = Instant::now();
    let until = now + c.window;
    fresh.retain(|(_, u)| *u > now);
    match fresh.iter_mut().find(|(n, _)| n == name) {
        Some(entry) => entry.1 = until,
        None => fresh.push((name.to_string(), until)),
    }
}

/// Until when `text` (an error message, an id) names something fresh: the
/// latest end among the fresh ids and ARNs it mentions.
pub fn fresh_until(text: &str) -> Option<Instant> {
    let now = Instant::now();
    let fresh = FRESH.lock().ok()?;
    fresh.iter().filter(|(name, until)| *until > now && text.contains(name.as_str())).map(|(_, u)| *u).max()
}

/// Whether `code` is one a service answers for what it cannot see yet.
pub fn lag_code(code: &str) -> bool {
    SERVICES.iter().any(|c| c.codes.contains(&code))
}

/// Whether an error of `kind` and `code` says "this does not exist": a "not
/// found", or a code a service answers for what it cannot see yet.
fn unseen(kind: ErrorKind, code: Option<&str>) -> bool {
    kind == ErrorKind::NotFound || code.is_some_and(lag_code)
}

/// `kind` for an error with `code` and `message`: a "not found" (or a lag
/// code) that names a fresh resource is `NotReady`.
pub fn settle(kind: ErrorKind, code: Option<&str>, message: &str) -> ErrorKind {
    if unseen(kind, code) && fresh_until(message).is_some() {
        ErrorKind::NotReady
    } else {
        kind
    }
}

/// Until when `e` is a fresh resource not yet visible: a "not found" (or a
/// lag code) settled as `NotReady` because it names one. A `NotReady` of
/// another kind (a dependency still being deleted) is the engine's to retry.
pub fn lagging(e: &ProviderError) -> Option<Instant> {
    let code = e.code.as_deref()?;
    let settled = e.kind == ErrorKind::NotReady && e.created.is_none();
    (settled && unseen(super::error::classify(code), Some(code))).then(|| fresh_until(&e.message)).flatten()
}

/// Calls `call` again, with a backoff from 200 ms doubling to 5 s, while
/// `fresh` says its result is about something not visible yet and until when,
/// and that time is still ahead; returns the last result.
async fn while_fresh<T, F, Fut>(
    mut call: F,
    fresh: impl Fn(&Result<T, ProviderError>) -> Option<Instant>,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut delay = Duration::from_millis(200);
    loop {
        let result = call().await;
        if fresh(&result).is_none_or(|until| Instant::now() + delay >= until) {
            return result;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// Calls `call` again while it fails because what it names is fresh and not
/// visible yet, for as long as that stays fresh.
pub async fn patiently<T, F, Fut>(call: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    while_fresh(call, |result| result.as_ref().err().and_then(lagging)).await
}

/// Reads `id` with `read`, again while it is fresh and either not found or
/// not visible: "nothing there" during the window is "not there yet".
pub async fn read_patiently<T, F, Fut>(id: &str, read: F) -> Result<Option<T>, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let fresh = |result: &Result<Option<T>, ProviderError>| match result {
        Ok(None) => fresh_until(id),
        Err(e) => lagging(e),
        Ok(Some(_)) => None,
    };
    while_fresh(read, fresh).await
}

/// Operations that make a resource and answer with its id or ARN.
fn creates(operation: &str) -> bool {
    ["Create", "Allocate", "Register", "Run", "Request", "Import"].iter().any(|p| operation.starts_with(p))
}

/// The ids (EC2's `vpc-0a1b2c...`) and ARNs in a response body.
pub fn names_in(body: &str) -> Vec<&str> {
    body.split(|c: char| matches!(c, '<' | '>' | '"' | '\'' | ',' | '{' | '}' | '[' | ']') || c.is_whitespace())
        .filter(|t| t.starts_with("arn:aws") || ec2_id(t))
        .collect()
}

/// `prefix-hex`, as EC2 writes ids: `vpc-0a1b2c3d`, `eipalloc-...`.
fn ec2_id(token: &str) -> bool {
    let Some((prefix, hex)) = token.split_once('-') else { return false };
    !prefix.is_empty()
        && prefix.bytes().all(|b| b.is_ascii_lowercase())
        && (8..=17).contains(&hex.len())
        && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The interceptor that remembers what each creating call made.
#[derive(Debug, Clone, Default)]
pub(super) struct Freshness;

impl Intercept for Freshness {
    fn name(&self) -> &'static str {
        "drone-freshness"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else { return Ok(()) };
        if !creates(metadata.name()) || context.output_or_error().is_err() {
            return Ok(());
        }
        let service = metadata.service();
        let Some(body) = context.response().body().bytes().and_then(|b| std::str::from_utf8(b).ok()) else {
            return Ok(());
        };
        for name in names_in(body) {
            remember(service, name);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_arns_are_read_from_xml_and_json_answers() {
        let xml = "<CreateVpcResponse><vpc><vpcId>vpc-0a1b2c3d4e5f60718</vpcId><cidrBlock>10.0.0.0/16</cidrBlock>\
                   <ownerId>123456789012</ownerId></vpc></CreateVpcResponse>";
        assert_eq!(names_in(xml), vec!["vpc-0a1b2c3d4e5f60718"]);
        let iam = "<Role><Arn>arn:aws:iam::123456789012:role/shuttle-ghost</Arn><RoleId>AROAEXAMPLE</RoleId></Role>";
        assert_eq!(names_in(iam), vec!["arn:aws:iam::123456789012:role/shuttle-ghost"]);
        let json =
            r#"{"service":{"serviceArn":"arn:aws:ecs:eu-west-1:123456789012:service/main/ghost","status":"ACTIVE"}}"#;
        assert_eq!(names_in(json), vec!["arn:aws:ecs:eu-west-1:123456789012:service/main/ghost"]);
        assert!(names_in("<name>shuttle-prod</name><state>pending</state><x>us-east-1</x>").is_empty());
    }

    #[test]
    fn not_found_for_a_fresh_id_is_not_ready_until_its_window_ends() {
        remember("ec2", "vpc-0feedfacecafe0001");
        let message = "The vpc ID 'vpc-0feedfacecafe0001' does not exist";
        assert_eq!(settle(ErrorKind::NotFound, Some("InvalidVpcID.NotFound"), message), ErrorKind::NotReady);
        let other = "The vpc ID 'vpc-0000000000000dead' does not exist";
        assert_eq!(settle(ErrorKind::NotFound, Some("InvalidVpcID.NotFound"), other), ErrorKind::NotFound);
        assert_eq!(settle(ErrorKind::Rejected, Some("InvalidParameterValue"), message), ErrorKind::Rejected);
        let error = |code: &str, message: &str| ProviderError {
            code: Some(code.into()),
            ..ProviderError::new(ErrorKind::NotReady, "DeleteVpc", message)
        };
        assert!(lagging(&error("InvalidVpcID.NotFound", message)).is_some());
        let busy = "The vpc 'vpc-0feedfacecafe0001' has dependencies and cannot be deleted.";
        assert!(lagging(&error("DependencyViolation", busy)).is_none(), "the engine's to retry, not a lag");
        // A service that documents no lag keeps nothing fresh.
        remember("logs", "arn:aws:logs:eu-west-1:123456789012:log-group:x");
        assert!(fresh_until("arn:aws:logs:eu-west-1:123456789012:log-group:x").is_none());
    }
}
