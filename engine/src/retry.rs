//! Retrying a provider call: a throttled or not-yet-consistent answer is
//! tried again after a backoff that doubles (to 20 s) with jitter, so calls
//! throttled together do not retry together; throttling is reported to the
//! caller (the apply's concurrency budgets). An error that carries a created
//! resource is never retried (`ProviderError::retryable`), nor is an
//! indeterminate answer to a call that is not safe to repeat.

use std::future::Future;
use std::time::Duration;

use crate::provider::{ErrorKind, ProviderError};

/// How often, and how patiently, a call is tried.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// Attempts in all.
    pub attempts: u32,
    /// The first backoff; it doubles each attempt.
    pub backoff: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 6, backoff: Duration::from_millis(500) }
    }
}

/// Calls `call` until it succeeds or fails for good: a throttled, not yet
/// consistent or indeterminate answer is retried after a backoff that
/// doubles (to 20 s) with jitter, and throttling is reported to `throttled`
/// (the budget). For calls that are safe to repeat.
pub async fn with_retries<'f, F, Fut, T>(
    retry: &Retry,
    throttled: &(dyn Fn() + Send + Sync),
    call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>> + 'f,
{
    with_retries_if(retry, throttled, ProviderError::retryable, call).await
}

/// [`with_retries`] for calls that must not be repeated blindly: an
/// indeterminate answer is returned to the caller, which looks before it
/// calls again.
pub async fn with_retries_unless_indeterminate<'f, F, Fut, T>(
    retry: &Retry,
    throttled: &(dyn Fn() + Send + Sync),
    call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>> + 'f,
{
    with_retries_if(retry, throttled, |e| e.retryable() && !e.indeterminate(), call).await
}

async fn with_retries_if<'f, F, Fut, T>(
    retry: &Retry,
    throttled: &(dyn Fn() + Send + Sync),
    repeat: impl Fn(&ProviderError) -> bool,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>> + 'f,
{
    let mut delay = retry.backoff;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if repeat(&e) && attempt < retry.attempts => {
                if e.kind == ErrorKind::Throttled {
                    throttled();
                }
                backoff(&mut delay).await;
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Sleeps for about `delay` (jittered), then doubles it, to at most 20 s.
pub async fn backoff(delay: &mut Duration) {
    tokio::time::sleep(jittered(*delay)).await;
    *delay = (*delay * 2).min(Duration::from_secs(20));
}

/// Between half of `delay` and all of it, at random ("equal jitter"), so
/// operations throttled together do not retry together.
fn jittered(delay: Duration) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    // A fresh RandomState is seeded at random: a random number without a dependency.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let fraction = 0.5 + (random % 1_000) as f64 / 2_000.0;
    delay.mul_f64(fraction)
}
