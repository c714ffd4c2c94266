//! Waiting for AWS to finish something: poll with exponential backoff, from
//! 200 ms (a fast endpoint answers at once) doubling to 15 s (a slow real
//! create is not hammered), until ready or a deadline.

use std::future::Future;
use std::time::{Duration, Instant};

use drone_engine::provider::{ErrorKind, ProviderError};

/// What one poll found.
pub enum Poll<T> {
    /// Done, with this result.
    Ready(T),
    /// Not yet.
    Pending,
}

/// Polls `check` until it is ready; after `timeout`, fails from `operation`
/// saying `what` did not happen. A poll that is throttled is simply retried.
pub async fn until<T, F, Fut>(operation: &str, what: &str, timeout: Duration, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, ProviderError>>,
{
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match check().await {
            Ok(Poll::Ready(result)) => return Ok(result),
            Ok(Poll::Pending) => {}
            // A throttled or not-yet-consistent poll says nothing about the resource: poll again.
            Err(e) if e.retryable() => {}
            Err(e) => return Err(e),
        }
        if started.elapsed() > timeout {
            let message = format!("{what} within {} minutes", timeout.as_secs() / 60);
            return Err(ProviderError::new(ErrorKind::Rejected, operation, message));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(15));
    }
}
