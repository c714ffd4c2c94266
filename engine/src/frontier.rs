//! Which operations of a stage may start next: each waits for a count of
//! unsettled prerequisites (Kahn's algorithm), so settling one operation
//! costs its dependants, not a scan of everything still waiting, and the
//! ready ones are kept per service, so starting one costs a lookup in its
//! service's queue. An operation whose prerequisite failed is doomed: it is
//! skipped, never started.

use std::collections::{BTreeMap, BTreeSet};

/// The operations of one stage not yet started.
pub(crate) struct Frontier {
    /// Prerequisites not yet settled, per waiting address.
    blocked_by: BTreeMap<String, usize>,
    /// Who waits for each address.
    dependants: BTreeMap<String, Vec<String>>,
    /// The first failed prerequisite of each address that has one.
    failed: BTreeMap<String, String>,
    /// The service each address's operation counts against.
    service: BTreeMap<String, String>,
    /// Ready to start, per service, in address order.
    ready: BTreeMap<String, BTreeSet<String>>,
    /// Ready, but a prerequisite failed: to be skipped.
    doomed: Vec<String>,
    /// Every address not yet started or skipped.
    waiting: BTreeSet<String>,
}

impl Frontier {
    /// The stage of `waits` (address -> the addresses of the same stage it
    /// waits for), each address's operation counting against `service_of`.
    pub(crate) fn new(waits: &BTreeMap<String, BTreeSet<String>>, service_of: impl Fn(&str) -> String) -> Frontier {
        let mut frontier = Frontier {
            blocked_by: BTreeMap::new(),
            dependants: BTreeMap::new(),
            failed: BTreeMap::new(),
            service: BTreeMap::new(),
            ready: BTreeMap::new(),
            doomed: Vec::new(),
            waiting: waits.keys().cloned().collect(),
        };
        for (address, deps) in waits {
            frontier.service.insert(address.clone(), service_of(address));
            let deps: Vec<&String> = deps.iter().filter(|d| waits.contains_key(*d)).collect();
            for dep in &deps {
                frontier.dependants.entry((*dep).clone()).or_default().push(address.clone());
            }
            frontier.blocked_by.insert(address.clone(), deps.len());
            if deps.is_empty() {
                frontier.make_ready(address);
            }
        }
        frontier
    }

    fn make_ready(&mut self, address: &str) {
        if self.failed.contains_key(address) {
            self.doomed.push(address.to_string());
        } else {
            let service = self.service.get(address).cloned().unwrap_or_default();
            self.ready.entry(service).or_default().insert(address.to_string());
        }
    }

    /// The services that have operations ready.
    pub(crate) fn services(&self) -> Vec<String> {
        self.ready.iter().filter(|(_, a)| !a.is_empty()).map(|(s, _)| s.clone()).collect()
    }

    /// The first ready operation of `service`, taken out of the frontier.
    pub(crate) fn take(&mut self, service: &str) -> Option<String> {
        let address = self.ready.get_mut(service)?.pop_first()?;
        self.waiting.remove(&address);
        Some(address)
    }

    /// The next doomed operation and the prerequisite that failed, taken out.
    pub(crate) fn take_doomed(&mut self) -> Option<(String, String)> {
        let address = self.doomed.pop()?;
        self.waiting.remove(&address);
        let failed = self.failed.get(&address).cloned().unwrap_or_default();
        Some((address, failed))
    }

    /// `address` finished (`ok`) or failed or was skipped: its dependants
    /// have one prerequisite fewer to wait for.
    pub(crate) fn settle(&mut self, address: &str, ok: bool) {
        for dependant in self.dependants.remove(address).unwrap_or_default() {
            if !ok {
                self.failed.entry(dependant.clone()).or_insert_with(|| address.to_string());
            }
            let Some(count) = self.blocked_by.get_mut(&dependant) else { continue };
            *count = count.saturating_sub(1);
            if *count == 0 {
                self.make_ready(&dependant);
            }
        }
    }

    /// Every operation not yet started, taken out (a stop skips them).
    pub(crate) fn take_all(&mut self) -> Vec<String> {
        self.ready.clear();
        self.doomed.clear();
        std::mem::take(&mut self.waiting).into_iter().collect()
    }

    /// Whether nothing is left to start or skip.
    pub(crate) fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waits(pairs: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
        pairs.iter().map(|(a, deps)| (a.to_string(), deps.iter().map(|d| d.to_string()).collect())).collect()
    }

    #[test]
    fn operations_become_ready_as_their_prerequisites_settle() {
        let mut f = Frontier::new(
            &waits(&[("vpc", &[]), ("subnet", &["vpc"]), ("nat", &["subnet", "eip"]), ("eip", &[])]),
            |a| {
                if a == "eip" {
                    "ec2-eip".into()
                } else {
                    "ec2".into()
                }
            },
        );
        assert_eq!(f.services(), ["ec2", "ec2-eip"]);
        assert_eq!(f.take("ec2").as_deref(), Some("vpc"));
        assert_eq!(f.take("ec2"), None, "the subnet waits for the VPC");
        f.settle("vpc", true);
        assert_eq!(f.take("ec2").as_deref(), Some("subnet"));
        f.settle("subnet", true);
        assert_eq!(f.take("ec2"), None, "the NAT gateway still waits for its address");
        assert_eq!(f.take("ec2-eip").as_deref(), Some("eip"));
        f.settle("eip", false);
        assert_eq!(f.take("ec2"), None);
        assert_eq!(f.take_doomed(), Some(("nat".to_string(), "eip".to_string())), "a failed prerequisite dooms it");
        assert!(f.is_empty());
    }
}
