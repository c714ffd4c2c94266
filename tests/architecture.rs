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
    assert!(reachable(&graph, "drone-stdlib").contains("aws-sdk-ec2"), "the AWS provider lives in drone-stdlib");
}
