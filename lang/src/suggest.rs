//! "Did you mean" suggestions: the closest candidate by edit distance, when it
//! is close enough to be a plausible typo.

/// The candidate closest to `name`, if within a typo's distance.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.cmp(b.1)))
        .map(|(_, c)| c.to_string())
}

/// The optimal-string-alignment distance (Levenshtein plus adjacent swaps).
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev2 = vec![0usize; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

/// A help line for an optional suggestion.
pub fn did_you_mean(suggestion: Option<String>, otherwise: &str) -> Option<String> {
    Some(match suggestion {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, candidates: &[&str], expected: Option<&str>) {
        assert_eq!(closest(name, candidates.iter().copied()).as_deref(), expected, "{name}");
    }

    #[test]
    fn suggestions() {
        check("cidr_blok", &["cidr_block", "vpc_id"], Some("cidr_block"));
        check("vcp_id", &["cidr_block", "vpc_id"], Some("vpc_id"));
        check("zzz", &["cidr_block", "vpc_id"], None);
        check("nmae", &["name"], Some("name"));
        check("a", &["b"], Some("b"));
    }
}
