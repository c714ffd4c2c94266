//! Route 53: public hosted zones and their records (aliases to CloudFront,
//! certificate validation), and health checks.

use crate::types::ArnPattern;

pub mod health_check;
pub mod record;
pub mod zone;

#[cfg(feature = "route53")]
pub(crate) mod sdk;

/// Every hosted zone and change of the account (Route 53 ARNs name no account, and zone ids exist
/// only after create): what changing a zone's records needs.
pub fn zones_and_changes() -> Vec<ArnPattern> {
    vec![
        ArnPattern::new("route53", "hostedzone", "arn:aws:route53:::hostedzone/*".into()),
        ArnPattern::new("route53", "change", "arn:aws:route53:::change/*".into()),
    ]
}
