//! S3 buckets: versioning, default encryption, public access block, bucket policy, tags.

pub mod bucket;
