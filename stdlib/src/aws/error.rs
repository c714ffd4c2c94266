//! Turning SDK errors into the engine's `ProviderError`: the kind decides
//! retries (throttling, eventual consistency) and "already gone".

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use drone_engine::provider::{ErrorKind, ProviderError};

/// Classifies an SDK error from `operation`.
pub fn sdk_error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
        let cause = causes(&err);
        // Credential loading fails inside the dispatch; say so rather than blame the endpoint.
        if cause.contains("credentials") {
            return ProviderError::new(ErrorKind::Rejected, operation, format!("no usable AWS credentials ({cause})"));
        }
        // Refused before anything was sent: nothing happened. Otherwise the
        // request may have arrived, and whether it took effect is unknown.
        let refused = cause.contains("Connection refused") || cause.contains("dns error");
        let kind = if refused { ErrorKind::Unreachable } else { ErrorKind::Indeterminate };
        return ProviderError::new(kind, operation, format!("the endpoint could not be reached ({cause})"));
    }
    let (code, message) = match err.code() {
        Some(code) => (Some(code.to_string()), err.message().map(String::from).unwrap_or_else(|| causes(&err))),
        None => match err.raw_response().and_then(unparsed) {
            Some((code, message)) => (Some(code), message),
            None => (None, causes(&err)),
        },
    };
    // Some endpoints wrap the message in CDATA, which the SDK passes on as is.
    let message = match message.strip_prefix("<![CDATA[").and_then(|m| m.strip_suffix("]]>")) {
        Some(inner) => inner.to_string(),
        None => message,
    };
    let kind = match (&code, err.raw_response().map(|r| r.status().as_u16())) {
        (Some(code), status) => match classify(code) {
            // A server error may have happened after the change was made.
            ErrorKind::Rejected if status.is_some_and(|s| s >= 500) => ErrorKind::Indeterminate,
            kind => kind,
        },
        (None, Some(403)) => ErrorKind::Denied,
        // A bodiless answer (HEAD) says only its status: 503 and 429 are AWS's "slow down".
        (None, Some(429 | 503)) => ErrorKind::Throttled,
        (None, Some(500..)) => ErrorKind::Indeterminate,
        // A reply that broke off or cannot be read: the request may have been carried out.
        (None, status) if matches!(err, SdkError::ResponseError(_)) && status.is_none_or(|s| s < 400) => {
            ErrorKind::Indeterminate
        }
        _ => ErrorKind::Rejected,
    };
    // A "not found" for what was made a moment ago means "not visible yet".
    let settled = super::consistency::settle(kind, code.as_deref(), &message);
    let message = if settled != kind {
        format!("{message} (made moments ago: AWS does not show it everywhere yet)")
    } else {
        message
    };
    ProviderError { code, ..ProviderError::new(settled, operation, message) }
}

/// The code and message of an error body in a protocol other than the
/// service's own (an XML error from a JSON service, as some proxies and local
/// endpoints answer), which the SDK cannot parse.
fn unparsed(response: &HttpResponse) -> Option<(String, String)> {
    let body = std::str::from_utf8(response.body().bytes()?).ok()?;
    let element = |name: &str| {
        let start = body.find(&format!("<{name}>"))? + name.len() + 2;
        let end = start + body[start..].find(&format!("</{name}>"))?;
        Some(body[start..end].trim().to_string())
    };
    let code = element("Code")?;
    let message = element("Message").unwrap_or_else(|| code.clone());
    Some((code, message))
}

/// The error's chain of causes, each by its `Display`, without debug dumps.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// The kind of an AWS error code.
pub fn classify(code: &str) -> ErrorKind {
    match code {
        "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequestsException"
        | "SlowDown"
        | "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "RequestThrottled"
        | "PriorRequestNotComplete" => ErrorKind::Throttled,
        "DependencyViolation"
        | "InvalidDBClusterStateFault"
        | "InvalidDBSubnetGroupStateFault"
        | "InvalidDBInstanceState"
        | "OperationAborted"
        | "DeleteConflict"
        | "ClusterContainsServicesException"
        | "ClusterContainsTasksException"
        | "ResourceInUse"
        | "DistributionNotDisabled"
        | "WAFOptimisticLockException"
        | "WAFUnavailableEntityException" => ErrorKind::NotReady,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthorizationError"
        | "UnauthorizedAccess"
        | "AllAccessDisabled" => ErrorKind::Denied,
        "NoSuchBucket"
        | "NotFound"
        | "NoSuchEntity"
        | "DBClusterNotFoundFault"
        | "DBSubnetGroupNotFoundFault"
        | "ClusterNotFoundException"
        | "NoSuchDistribution"
        | "NoSuchHostedZone"
        | "NoSuchHealthCheck"
        | "WAFNonexistentItemException"
        | "RepositoryDoesNotExistException" => ErrorKind::NotFound,
        c if c.ends_with(".NotFound") || c.ends_with("NotFound") || c.ends_with("NotFoundException") => {
            ErrorKind::NotFound
        }
        "InternalError"
        | "InternalFailure"
        | "InternalServerError"
        | "ServerException"
        | "ServiceFailure"
        | "InternalServiceError" => ErrorKind::Indeterminate,
        "BucketAlreadyOwnedByYou"
        | "MountTargetConflict"
        | "WAFDuplicateItemException"
        | "InvalidGroup.Duplicate"
        | "DuplicateLoadBalancerName"
        | "DuplicateTargetGroupName"
        | "DuplicateListener"
        | "ResourceExistsException"
        | "RepositoryNameExistsException"
        | "PipelineNameInUseException" => ErrorKind::AlreadyExists,
        c if c.contains("AlreadyExists") => ErrorKind::AlreadyExists,
        _ => ErrorKind::Rejected,
    }
}

/// `gone` when `e` says the resource no longer exists (a read finds
/// nothing, a delete has nothing left to do), else `e`.
pub fn unless_gone<T>(e: ProviderError, gone: T) -> Result<T, ProviderError> {
    if e.kind == ErrorKind::NotFound {
        Ok(gone)
    } else {
        Err(e)
    }
}

/// A create refused because `what` (named by the workflow) already exists: for the calls that
/// would overwrite it instead of failing (CloudWatch's Put*), so drone looks it up and decides
/// whose it is, as for any name that is taken.
pub fn name_taken(operation: &str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::new(ErrorKind::AlreadyExists, operation, format!("{what} already exists"))
}

/// An answer that lacks a field the API documents as always present.
pub fn missing(operation: &str, field: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Rejected, operation, format!("the response has no {field}"))
}

/// A request the provider cannot build from the configuration.
pub fn invalid(operation: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::Rejected, operation, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(classify("InvalidVpcID.NotFound"), ErrorKind::NotFound);
        assert_eq!(classify("DependencyViolation"), ErrorKind::NotReady);
        assert_eq!(classify("RequestLimitExceeded"), ErrorKind::Throttled);
        assert_eq!(classify("InvalidSubnet.Range"), ErrorKind::Rejected);
        assert_eq!(classify("UnauthorizedOperation"), ErrorKind::Denied);
        assert_eq!(classify("AccessDenied"), ErrorKind::Denied);
        assert_eq!(classify("RepositoryNotFoundException"), ErrorKind::NotFound);
        assert_eq!(classify("NoSuchHealthCheck"), ErrorKind::NotFound, "a health check deleted outside drone");
        assert_eq!(classify("EntityAlreadyExists"), ErrorKind::AlreadyExists);
        assert_eq!(classify("FileSystemAlreadyExists"), ErrorKind::AlreadyExists);
        assert_eq!(classify("InvalidGroup.Duplicate"), ErrorKind::AlreadyExists);
        assert_eq!(classify("InternalError"), ErrorKind::Indeterminate);
    }

    #[test]
    fn an_xml_error_from_a_json_service_is_still_read() {
        let body = "<ErrorResponse><Error><Code>AccessDenied</Code>\n<Message>User: x is not authorized to \
                    perform: ecs:CreateCluster</Message></Error></ErrorResponse>";
        let status = aws_smithy_runtime_api::http::StatusCode::try_from(403).expect("status");
        let response = HttpResponse::new(status, aws_smithy_types::body::SdkBody::from(body));
        let (code, message) = unparsed(&response).expect("parsed");
        assert_eq!(code, "AccessDenied");
        assert_eq!(message, "User: x is not authorized to perform: ecs:CreateCluster");
        let empty = HttpResponse::new(status, aws_smithy_types::body::SdkBody::from("not xml"));
        assert_eq!(unparsed(&empty), None);
    }
}
