//! The layering rules of ARCHITECTURE.md, checked against `cargo metadata`.

use std::collections::{BTreeMap, BTreeSet};

fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let rustc = std::process::Command::new("rustc").arg("-vV").output().expect("rustc -vV");
    let host = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(String::from))
        .expect("host triple");
    // Only this platform's dependencies: the others need not be downloaded.
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--filter-platform", &host])
        .current_dir(super::support::root())
        .output()
        .expect("cargo metadata");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata json");
    let names: BTreeMap<String, String> = meta["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| (p["id"].as_str().unwrap_or_default().to_string(), p["name"].as_str().unwrap_or_default().to_string()))
        .collect();
    let mut graph = BTreeMap::new();
    for node in meta["resolve"]["nodes"].as_array().into_iter().flatten() {
        let name = names[node["id"].as_str().unwrap_or_default()].clone();
        // Normal (non-dev) dependencies only: what ships.
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["dep_kinds"].as_array().into_iter().flatten().any(|k| k["kind"].is_null()))
            .map(|d| names[d["pkg"].as_str().unwrap_or_default()].clone())
            .collect();
        graph.insert(name, deps);
    }
    graph
}

fn reachable(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        for d in graph.get(&n).into_iter().flatten() {
            if seen.insert(d.clone()) {
                stack.push(d.clone());
            }
        }
    }
    seen
}

#[test]
fn layers_point_one_way() {
    let graph = dependencies();
    let lang = reachable(&graph, "drone-lang");
    for forbidden in ["tokio", "drone-engine", "drone-stdlib", "aws-config", "aws-sdk-ec2", "tower-lsp"] {
        assert!(!lang.contains(forbidden), "drone-lang must not depend on {forbidden}");
    }
    assert!(!lang.iter().any(|d| d.starts_with("aws-")), "drone-lang must know nothing of AWS");
    let engine = reachable(&graph, "drone-engine");
    assert!(
        !engine.iter().any(|d| d.starts_with("aws-")),
        "drone-engine knows resources only through the provider trait"
    );
    assert!(!engine.contains("drone-stdlib"));
    assert!(
        !lang.contains("rhai") && !engine.contains("rhai"),
        "scripts are drone-script's; the engine knows them by a trait"
    );
    let script = reachable(&graph, "drone-script");
    assert!(script.contains("rhai") && script.contains("sqlparser"));
    assert!(
        !script.iter().any(|d| d.starts_with("aws-")),
        "scripts reach AWS only through the host the CLI gives them"
    );
    assert!(reachable(&graph, "drone-stdlib").contains("aws-sdk-ec2"), "the AWS provider lives in drone-stdlib");
}

/// Every package (name and version) with the features it is built with, as
/// `cargo tree` resolves them for `args`.
fn resolved_features(args: &[&str]) -> BTreeMap<String, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .arg("tree")
        .args(args)
        .args(["--format", "{p} {f}", "--prefix", "none"])
        .current_dir(super::support::root())
        .output()
        .expect("cargo tree");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim_end_matches(" (*)"))
        .filter(|l| !l.is_empty())
        .map(|l| {
            // "name v1.2.3 [(path)] feature,feature"
            let mut parts = l.splitn(3, ' ');
            let package = format!("{} {}", parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
            let rest = parts.next().unwrap_or_default();
            let features = rest.rsplit_once(") ").map_or(rest, |(_, f)| f).trim_start_matches('(');
            (package, if rest.starts_with('(') && !rest.contains(") ") { String::new() } else { features.to_string() })
        })
        .collect()
}

/// The README's two commands share one build: `cargo build --bin drone` (the
/// main command) resolves every crate with the same features as the workspace
/// test build, so neither compiles an SDK crate the other already compiled. A
/// dev-dependency that turns on a feature of a crate the SDK shares (criterion
/// turned on serde's `alloc`) fails here, naming the crate.
#[test]
fn the_binary_and_the_tests_share_one_build() {
    let binary = resolved_features(&["-p", "drone", "-e", "normal,build"]);
    let tests = resolved_features(&["--workspace", "-e", "normal,build,dev"]);
    let differing: Vec<String> = binary
        .iter()
        .filter_map(|(package, features)| {
            let in_tests = tests.get(package)?;
            (in_tests != features).then(|| format!("{package}: [{features}] vs tests [{in_tests}]"))
        })
        .collect();
    assert!(binary.len() > 100 && binary.contains_key(&format!("drone v{}", env!("CARGO_PKG_VERSION"))), "{binary:?}");
    assert!(
        differing.is_empty(),
        "the test build turns on other features than `cargo build --bin drone`, so it compiles these crates and \
         everything above them a second time: {differing:#?}"
    );
}
