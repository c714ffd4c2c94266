//! Turning SDK errors into the engine's `ProviderError`: the kind decides
//! retries (throttling, eventual consistency) and "already gone".

use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use drone_engine::provider::{ErrorKind, ProviderError};

/// Classifies an SDK error from `operation`.
pub fn sdk_error<E, R>(operation: &str, err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    if matches!(err, SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)) {
        let cause = causes(&err);
        // Credential loading fails inside the dispatch; say so rather than blame the endpoint.
        if cause.contains("credentials") {
            return ProviderError::new(ErrorKind::Rejected, operation, format!("no usable AWS credentials ({cause})"));
        }
        return ProviderError::new(
            ErrorKind::Unreachable,
            operation,
            format!("the endpoint could not be reached ({cause})"),
        );
    }
    let code = err.code().map(String::from);
    let message = err.message().map(String::from).unwrap_or_else(|| causes(&err));
    ProviderError {
        code: code.clone(),
        ..ProviderError::new(classify(code.as_deref().unwrap_or("")), operation, message)
    }
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
        | "RequestThrottled"
        | "PriorRequestNotComplete" => ErrorKind::Throttled,
        "DependencyViolation"
        | "InvalidDBClusterStateFault"
        | "InvalidDBSubnetGroupStateFault"
        | "OperationAborted"
        | "DeleteConflict"
        | "ClusterContainsServicesException"
        | "ClusterContainsTasksException"
        | "ResourceInUse" => ErrorKind::NotReady,
        "NoSuchBucket"
        | "NotFound"
        | "NoSuchEntity"
        | "DBClusterNotFoundFault"
        | "DBSubnetGroupNotFoundFault"
        | "ClusterNotFoundException" => ErrorKind::NotFound,
        c if c.ends_with(".NotFound") || c.ends_with("NotFound") => ErrorKind::NotFound,
        _ => ErrorKind::Rejected,
    }
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
    }
}
