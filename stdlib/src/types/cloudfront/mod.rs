//! CloudFront distributions in front of one custom origin.

pub mod distribution;
