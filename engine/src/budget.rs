//! Concurrency that fits the cloud: a budget of operations in flight per
//! service (a type's namespace, e.g. `aws.ec2`), within the overall limit
//! (`--concurrency`). A budget halves when its service throttles and grows
//! by one per window of successes (additive increase, multiplicative
//! decrease), so a large apply neither crawls nor keeps tripping the
//! service's rate limits, and a throttled service does not slow the others.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The budgets of one apply.
#[derive(Debug)]
pub struct Budgets {
    max: usize,
    services: Mutex<BTreeMap<String, Budget>>,
}

#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Operations allowed in flight (fractional: it grows by 1/limit per success).
    limit: f64,
    in_flight: usize,
}

/// The service a resource type belongs to: its name without the last part
/// (`aws.ec2.vpc` -> `aws.ec2`).
pub fn service_of(type_name: &str) -> &str {
    type_name.rsplit_once('.').map_or(type_name, |(service, _)| service)
}

impl Budgets {
    /// Budgets that start at, and never pass, `max` operations in flight.
    pub fn new(max: usize) -> Budgets {
        Budgets { max: max.max(1), services: Mutex::new(BTreeMap::new()) }
    }

    /// Takes a slot of `service` if its budget allows another operation.
    pub fn try_start(&self, service: &str) -> bool {
        self.with(service, |b| {
            let free = (b.in_flight as f64) < b.limit.floor().max(1.0);
            if free {
                b.in_flight += 1;
            }
            free
        })
    }

    /// Gives back a slot of `service`.
    pub fn finished(&self, service: &str) {
        self.with(service, |b| b.in_flight = b.in_flight.saturating_sub(1));
    }

    /// `service` throttled a call: half as many in flight from now on (at least one).
    pub fn throttled(&self, service: &str) {
        self.with(service, |b| b.limit = (b.limit / 2.0).max(1.0));
    }

    /// An operation on `service` succeeded: grow by one per window of successes.
    pub fn succeeded(&self, service: &str) {
        let max = self.max as f64;
        self.with(service, |b| b.limit = (b.limit + 1.0 / b.limit).min(max));
    }

    /// The operations `service` may have in flight now.
    pub fn limit(&self, service: &str) -> usize {
        self.with(service, |b| b.limit.floor() as usize)
    }

    /// Every service's current limit.
    pub fn limits(&self) -> BTreeMap<String, usize> {
        match self.services.lock() {
            Ok(services) => services.iter().map(|(s, b)| (s.clone(), b.limit.floor() as usize)).collect(),
            Err(_) => BTreeMap::new(),
        }
    }

    fn with<T>(&self, service: &str, f: impl FnOnce(&mut Budget) -> T) -> T {
        let start = Budget { limit: self.max as f64, in_flight: 0 };
        match self.services.lock() {
            Ok(mut services) => f(services.entry(service.to_string()).or_insert(start)),
            // A poisoned lock means a panic elsewhere; carry on with a fresh budget.
            Err(poisoned) => f(poisoned.into_inner().entry(service.to_string()).or_insert(start)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_halve_on_throttling_and_grow_back_per_window() {
        let b = Budgets::new(8);
        assert_eq!(service_of("aws.ec2.vpc"), "aws.ec2");
        assert_eq!(b.limit("aws.ec2"), 8);
        for _ in 0..8 {
            assert!(b.try_start("aws.ec2"));
        }
        assert!(!b.try_start("aws.ec2"), "the ninth waits");
        assert!(b.try_start("aws.s3"), "another service has its own budget");
        b.throttled("aws.ec2");
        b.throttled("aws.ec2");
        assert_eq!(b.limit("aws.ec2"), 2);
        for _ in 0..8 {
            b.finished("aws.ec2");
        }
        assert!(b.try_start("aws.ec2") && b.try_start("aws.ec2") && !b.try_start("aws.ec2"));
        // About one more per window of `limit` successes (2 -> 2.5 -> 2.9 -> 3.2), up to the overall limit.
        b.succeeded("aws.ec2");
        b.succeeded("aws.ec2");
        assert_eq!(b.limit("aws.ec2"), 2);
        b.succeeded("aws.ec2");
        assert_eq!(b.limit("aws.ec2"), 3);
        for _ in 0..100 {
            b.succeeded("aws.ec2");
        }
        assert_eq!(b.limit("aws.ec2"), 8);
        for _ in 0..10 {
            b.throttled("aws.ec2");
        }
        assert_eq!(b.limit("aws.ec2"), 1, "never below one");
        assert_eq!(b.limits().get("aws.s3"), Some(&8));
    }
}
