//! Golden diagnostics: each `tests/golden/diagnostics/*.drone` is checked by
//! the real binary (or given to the command its first line names); its exit code and rendered stderr must match the
//! `.stderr` file beside it (`DRONE_BLESS=1` rewrites them).

use super::support::{drone, golden, root, run, text};

#[test]
fn rendered_diagnostics_match_golden_files() {
    let dir = root().join("tests/golden/diagnostics");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "drone"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "expected the golden cases, found {}", cases.len());
    for case in cases {
        let name = case.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        // `// command: graph` on the first line runs that command instead of `check` (which
        // treats a parameter without a value as unknown).
        let source = std::fs::read_to_string(&case).expect("case");
        let command = source.lines().next().and_then(|l| l.strip_prefix("// command: ")).unwrap_or("check");
        let out = run(drone(None).current_dir(&dir).args([command, &name]));
        let (stdout, stderr) = text(&out);
        let rendered = format!("exit: {}\n{stdout}{stderr}", out.status.code().unwrap_or(-1));
        assert_ne!(out.status.code(), Some(0), "{name} should fail");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        golden(&case.with_extension("stderr"), &rendered);
    }
}
