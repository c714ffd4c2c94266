//! The vendored catalogue of IAM actions (`engine/data/iam-actions.tsv`):
//! each action's service, access level, and the resource types it can be
//! scoped to. Policies' wildcards expand against it.

use std::collections::HashMap;
use std::sync::OnceLock;

const TEXT: &str = include_str!("../../../data/iam-actions.tsv");

/// One IAM action.
#[derive(Debug, PartialEq, Eq)]
pub struct Action {
    /// `service:Action`, as AWS spells it.
    pub name: &'static str,
    /// Read, List, Write, Permissions management or Tagging.
    pub access: &'static str,
    /// The resource types a statement can name for it; empty when only `*` works.
    pub resource_types: Vec<&'static str>,
}

impl Action {
    /// The service prefix, e.g. `s3`.
    pub fn service(&self) -> &'static str {
        self.name.split_once(':').map_or(self.name, |(s, _)| s)
    }

    /// Whether a statement can scope it to resource ARNs.
    pub fn resource_level(&self) -> bool {
        !self.resource_types.is_empty()
    }
}

/// Every action the catalogue knows, and its version.
#[derive(Debug)]
pub struct Catalogue {
    /// The catalogue's version line, e.g. `2026.11.1`.
    pub version: &'static str,
    actions: Vec<Action>,
    /// Lower-cased name to position in `actions`: IAM names are case-insensitive.
    by_name: HashMap<String, usize>,
}

/// The catalogue, parsed once.
pub fn catalogue() -> &'static Catalogue {
    static CATALOGUE: OnceLock<Catalogue> = OnceLock::new();
    CATALOGUE.get_or_init(|| parse(TEXT))
}

fn parse(text: &'static str) -> Catalogue {
    let version =
        text.lines().find_map(|l| l.strip_prefix("# drone IAM action catalogue, version ")).unwrap_or("unknown").trim();
    let actions = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next()?;
            let access = fields.next()?;
            let types = fields.next()?;
            let resource_types = if types == "-" { Vec::new() } else { types.split(',').collect() };
            Some(Action { name, access, resource_types })
        })
        .collect::<Vec<Action>>();
    let by_name = actions.iter().enumerate().map(|(i, a)| (a.name.to_ascii_lowercase(), i)).collect();
    Catalogue { version, actions, by_name }
}

impl Catalogue {
    /// Every action.
    pub fn actions(&self) -> &[Action] {
        &self.actions
    }

    /// The action named `name` (IAM action names are case-insensitive).
    pub fn get(&self, name: &str) -> Option<&Action> {
        self.by_name.get(&name.to_ascii_lowercase()).map(|&i| &self.actions[i])
    }

    /// The actions a policy's action pattern (`s3:Get*`, `*`) matches.
    pub fn matching<'c>(&'c self, pattern: &'c str) -> impl Iterator<Item = &'c Action> + 'c {
        self.actions.iter().filter(move |a| glob(pattern, a.name))
    }
}

/// IAM's wildcard match: `*` any run, `?` one character, case-insensitive.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.to_ascii_lowercase().chars().collect();
    let t: Vec<char> = text.to_ascii_lowercase().chars().collect();
    // Iterative matching with backtracking to the last star: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_parses_once_with_a_known_access_level() {
        let c = catalogue();
        assert_ne!(c.version, "unknown");
        let lines = TEXT.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count();
        assert_eq!(c.actions().len(), lines, "every line has three tab-separated fields");
        let mut names: Vec<String> = c.actions().iter().map(|a| a.name.to_ascii_lowercase()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), lines, "no action is listed twice");
        for a in c.actions() {
            assert!(
                ["Read", "List", "Write", "Permissions management", "Tagging"].contains(&a.access),
                "{}: {}",
                a.name,
                a.access
            );
            assert!(a.name.contains(':') && !a.name.contains('*'), "{}", a.name);
        }
    }

    #[test]
    fn wildcards_match_like_iam() {
        assert!(glob("*", "s3:GetObject"));
        assert!(glob("s3:get*", "s3:GetObject"));
        assert!(glob("s3:Get*Acl", "s3:GetBucketAcl"));
        assert!(!glob("s3:Get*Acl", "s3:GetBucketPolicy"));
        assert!(glob("iam:Pass?ole", "iam:PassRole"));
        assert!(!glob("iam:Pass", "iam:PassRole"));
        assert_eq!(catalogue().matching("ecs:*Service").count(), 3, "Create, Delete, Update");
        assert!(catalogue().get("IAM:passrole").is_some_and(Action::resource_level));
        assert!(!catalogue().get("ec2:DescribeVpcs").is_some_and(Action::resource_level));
    }
}
