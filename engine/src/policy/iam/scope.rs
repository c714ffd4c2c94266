//! Which actions and resources a statement's patterns really cover, judged
//! against the catalogue rather than by spelling: `*:*` and `?*` are every
//! action as surely as `*`; `s3:?*` is the whole of S3; `arn:aws:s3:::*` and
//! `arn:*` reach every bucket as surely as `*`. A pattern covers every
//! resource of a type when it matches that type's ARN format in the `aws`
//! partition whatever its other variable parts hold, region and account
//! included (tried with two unrelated fillers): a pattern that writes out a
//! region or an account is narrower than `*`, in IAM as here.

use super::catalogue::{catalogue, glob, Action};

/// Two fillers with nothing in common, one with the separators a `*` must cross.
const FILLERS: [&str; 2] = ["Zq9", "x-1/Y:z.2"];

/// Whether a pattern has an IAM wildcard (`*` or `?`).
pub fn is_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?'])
}

/// Whether some pattern matches every action of every service.
pub fn covers_every_action<S: AsRef<str>>(patterns: &[S]) -> bool {
    patterns.iter().any(|p| ["Zq9x:Zq9", "a-b-c-d:Y"].iter().all(|name| glob(p.as_ref(), name)))
}

/// The services every one of whose actions some pattern matches.
pub fn whole_services<S: AsRef<str>>(patterns: &[S]) -> Vec<&'static str> {
    let c = catalogue();
    c.services()
        .filter(|service| {
            // Only services some pattern's service part can match are worth the walk.
            patterns.iter().any(|p| p.as_ref().split_once(':').is_some_and(|(s, _)| glob(s, service)))
                && c.service(service).iter().all(|a| patterns.iter().any(|p| glob(p.as_ref(), a.name)))
        })
        .collect()
}

/// Whether `pattern` matches every ARN of `format` (`arn:${Partition}:s3:::${BucketName}`).
pub fn covers_every_arn(pattern: &str, format: &str) -> bool {
    let format = format.replace("${Partition}", "aws");
    FILLERS.iter().all(|filler| glob(pattern, &fill(&format, filler)))
}

/// `format` with every `${Variable}` replaced by `filler`.
fn fill(format: &str, filler: &str) -> String {
    let mut out = String::new();
    let mut rest = format;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start..].find('}') {
            Some(end) => {
                out.push_str(filler);
                rest = &rest[start + end + 1..];
            }
            None => {
                rest = &rest[start..];
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether some pattern matches every resource of some type `action` can
/// be scoped to.
pub fn covers_every_resource_of<S: AsRef<str>>(patterns: &[S], action: &Action) -> bool {
    let c = catalogue();
    action.resource_types.iter().any(|t| {
        c.arn_format(action.service(), t).is_some_and(|format| {
            patterns.iter().any(|p| {
                let p = p.as_ref();
                match account_bound(action.service(), format) {
                    // Bounded to the account: only a pattern that does not even name the type is every resource.
                    true => glob(p, &format!("arn:aws:{}:::zq9-no-such-type/x", action.service())),
                    false => covers_every_arn(p, format),
                }
            })
        })
    })
}

/// Services whose ARNs name no account but whose resources take no resource-based policy: an
/// identity reaches only its own account's, so `arn:aws:route53:::hostedzone/*` is every zone of
/// the account, as `arn:aws:ec2:REGION:ACCOUNT:vpc/*` is every VPC of one (S3, whose buckets take
/// policies that admit other accounts, is not among them).
const ACCOUNT_BOUND: &[&str] = &["route53"];

/// Whether every ARN of `format` is bounded to the caller's account though it names none.
fn account_bound(service: &str, format: &str) -> bool {
    ACCOUNT_BOUND.contains(&service) && !format.contains("${Account}")
}

/// Whether some pattern matches every resource of some type of `service`.
pub fn covers_every_resource_of_service<S: AsRef<str>>(patterns: &[S], service: &str) -> bool {
    let c = catalogue();
    c.service(service).iter().any(|a| covers_every_resource_of(patterns, a))
        || patterns.iter().any(|p| covers_anything(p.as_ref()))
}

/// Whether a pattern matches every ARN of every service (`*`, `arn:*`, `arn:aws:*:*:*:*`).
pub fn covers_anything(pattern: &str) -> bool {
    ["arn:aws:zq9:us-east-1:123456789012:Zq9/x", "arn:aws-cn:s3:::b/c:d"].iter().all(|arn| glob(pattern, arn))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_bound_services_are_scoped_by_their_wildcards() {
        let c = catalogue();
        let change = c.get("route53:ChangeResourceRecordSets").expect("route53 action");
        assert!(!covers_every_resource_of(&["arn:aws:route53:::hostedzone/*"], change));
        assert!(covers_every_resource_of(&["*"], change));
        assert!(covers_every_resource_of(&["arn:aws:route53:::*"], change));
        let put = c.get("s3:PutObject").expect("s3 action");
        assert!(covers_every_resource_of(&["arn:aws:s3:::*"], put), "buckets take other accounts' policies");
    }

    #[test]
    fn every_action_however_spelled() {
        for p in ["*", "*:*", "?*:*", "*:?*", "**"] {
            assert!(covers_every_action(&[p]), "{p}");
        }
        for p in ["s3:*", "???:*", "*:Get*", "iam:PassRole"] {
            assert!(!covers_every_action(&[p]), "{p}");
        }
    }

    #[test]
    fn whole_services_by_meaning() {
        assert_eq!(whole_services(&["s3:*"]), ["s3"]);
        assert_eq!(whole_services(&["S3:?*"]), ["s3"]);
        assert_eq!(whole_services(&["sqs:*"]), ["sqs"]);
        assert!(whole_services(&["s3:Get*", "s3:Put*"]).is_empty());
        let every: Vec<String> = catalogue().service("sts").iter().map(|a| a.name.to_string()).collect();
        assert_eq!(whole_services(&every), ["sts"], "every action listed one by one is the whole service");
    }

    #[test]
    fn resources_covered_whatever_the_spelling() {
        let object = "arn:${Partition}:s3:::${BucketName}/${ObjectName}";
        for p in ["*", "arn:*", "arn:aws:s3:::*", "arn:aws:s3:::*/*", "arn:aws:s3:::?*", "arn:*:s3:::*/*"] {
            assert!(covers_every_arn(p, object), "{p}");
        }
        for p in [
            "arn:aws:s3:::artifacts/*",
            "arn:aws:s3:::*/themes/*",
            "arn:aws:s3:::artifacts",
            "(an ARN known after apply)",
        ] {
            assert!(!covers_every_arn(p, object), "{p}");
        }
        let role = "arn:${Partition}:iam::${Account}:role/${RoleNameWithPath}";
        assert!(covers_every_arn("arn:aws:iam::*:role/*", role));
        assert!(!covers_every_arn("arn:aws:iam::123456789012:role/*", role), "one account");
        assert!(
            !covers_every_arn(
                "arn:aws:ec2:eu-west-1:*:vpc/*",
                "arn:${Partition}:ec2:${Region}:${Account}:vpc/${VpcId}"
            ),
            "one region"
        );
        assert!(!covers_every_arn("arn:aws:iam::*:role/app-*", role));
        let get_object = catalogue().get("s3:GetObject").expect("GetObject");
        assert!(covers_every_resource_of(&["arn:aws:s3:::*"], get_object));
        assert!(!covers_every_resource_of(&["arn:aws:s3:::artifacts/*"], get_object));
        assert!(covers_anything("arn:*") && !covers_anything("arn:aws:s3:::*"));
    }
}
