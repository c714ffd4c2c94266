//! Hostile input, as a pull request's author could write it: `drone check`
//! and `drone fmt --check` must answer every case with a diagnostic naming
//! the limit (exit 3), never a crash (a signal, or exit 101 from a panic),
//! and must never print a file from outside the workflow's root.

use std::path::Path;
use std::process::Output;

use super::support::{drone, run, text};

const HEADER: &str = "workflow \"hostile\" {}\n";

fn check(dir: &Path, source: &str) -> Output {
    std::fs::write(dir.join("w.drone"), source).expect("write");
    let mut cmd = drone(None);
    cmd.current_dir(dir).args(["check", "w.drone"]).env("DRONE_CANARY", "canary-7f3a9c");
    run(&mut cmd)
}

fn fmt_check(dir: &Path) -> Output {
    let mut cmd = drone(None);
    cmd.current_dir(dir).args(["fmt", "--check", "w.drone"]);
    run(&mut cmd)
}

/// Exit 3 with `code` in the report, from `check` and (for syntax) from `fmt --check`.
#[track_caller]
fn refused(dir: &Path, source: &str, code: &str, syntax: bool) {
    let out = check(dir, source);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(3), "check: {code}\n{stdout}\n{}", &stderr[..stderr.len().min(3000)]);
    assert!(stderr.contains(code), "check does not name {code}:\n{}", &stderr[..stderr.len().min(3000)]);
    if syntax {
        let out = fmt_check(dir);
        assert_eq!(out.status.code(), Some(3), "fmt --check: {code}\n{}", text(&out).1);
    }
}

#[test]
fn deep_and_long_syntax_is_refused_with_the_limit_it_broke() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let elifs = format!("{HEADER}if true {{ }} {}", "else if true { } ".repeat(400));
    refused(d, &elifs, "drone::syntax::too_deep", true);
    refused(d, &format!("{HEADER}let x = {}1", "a ? b : ".repeat(5000)), "drone::syntax::too_deep", true);
    refused(d, &format!("{HEADER}let x = {}", "(".repeat(100_000)), "drone::syntax::too_deep", true);
    let interps = format!("{HEADER}let x = {}{}", "\"${".repeat(300), "}\"".repeat(300));
    refused(d, &interps, "drone::syntax::too_deep", true);
    refused(d, &format!("{HEADER}let x = {}true", "!".repeat(100_000)), "drone::syntax::too_many_unary", true);
    let sum = format!("{HEADER}let x = 1{}", " + 1".repeat(20_000));
    refused(d, &sum, "drone::syntax::too_large_expression", true);
    let members = format!("{HEADER}let x = a{}", ".b".repeat(20_000));
    refused(d, &members, "drone::syntax::too_large_expression", true);
    let calls = format!("{HEADER}let x = f{}", "()".repeat(20_000));
    refused(d, &calls, "drone::syntax::too_large_expression", true);
    // Nested parentheses each holding a long chain: the tree's depth is what is bounded.
    let nested = format!("{HEADER}let x = {}1{}", "(1 + 1 + 1 + 1 + 1 + 1 + 1 + ".repeat(100), ")".repeat(100));
    refused(d, &nested, "drone::syntax::too_large_expression", true);
    refused(d, &format!("{HEADER}{}", " ".repeat(5 * 1024 * 1024)), "drone::syntax::too_large", true);
}

/// `check` finishes with a verdict (the rules see a value that failed its
/// limit as unknown; `functions.rs` and `eval` test the limits themselves).
#[track_caller]
fn finishes(dir: &Path, source: &str) {
    let out = check(dir, source);
    assert!(matches!(out.status.code(), Some(0 | 3 | 4)), "{:?}\n{}", out.status, text(&out).1);
}

#[test]
fn an_error_far_along_a_line_is_rendered_not_a_panic() {
    let dir = tempfile::tempdir().expect("dir");
    let source = format!("{HEADER}let x = {}@\n", " ".repeat(70_000));
    refused(dir.path(), &source, "drone::syntax::unexpected", true);
}

/// A large component instantiated many times would copy its body per
/// instance: a few kilobytes of `instance` lines cannot make gigabytes.
#[test]
fn component_expansion_stops_at_a_limit() {
    let dir = tempfile::tempdir().expect("dir");
    let mut source = format!("{HEADER}component big {{\n  input n: string\n");
    for i in 0..2_000 {
        source.push_str(&format!(
            "  resource aws.s3.bucket b{i} {{\n    name = \"${{n}}-{i}-padding-padding-padding\"\n  }}\n"
        ));
    }
    source.push_str("}\n");
    for i in 0..1_000 {
        source.push_str(&format!("instance big i{i} {{\n  n = \"x\"\n}}\n"));
    }
    refused(dir.path(), &source, "drone::limit::component_expansion", false);
}

#[test]
fn evaluation_that_would_grow_without_bound_stops_at_a_limit() {
    let dir = tempfile::tempdir().expect("dir");
    let d = dir.path();
    let bucket = "    resource aws.s3.bucket b {\n      name = \"b-${i}-${j}\"\n    }\n";
    let loops = format!("{HEADER}for i in range(0, 100000) {{\n  for j in range(0, 100000) {{\n{bucket}  }}\n}}\n");
    refused(d, &loops, "drone::eval::limit", false);
    // A value is evaluated where a rule reads it (`check` evaluates nothing else).
    let use_it = |value: &str| format!("resource aws.s3.bucket b {{\n  name = \"b\"\n  encryption = {value}\n}}\n");
    let mut doubling = format!("{HEADER}let a0 = range(0, 100000)\n");
    for i in 1..30 {
        doubling.push_str(&format!("let a{i} = concat(a{}, a{})\n", i - 1, i - 1));
    }
    doubling.push_str(&use_it("\"${length(a29)}\""));
    finishes(d, &doubling);
    let mut text = format!("{HEADER}let s0 = \"{}\"\n", "x".repeat(1000));
    for i in 1..30 {
        text.push_str(&format!("let s{i} = \"${{s{}}}${{s{}}}\"\n", i - 1, i - 1));
    }
    text.push_str(&use_it("s29"));
    finishes(d, &text);
}

#[test]
fn use_reads_only_workflow_files_under_the_root() {
    let base = tempfile::tempdir().expect("dir");
    let root = base.path().join("repo");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::write(base.path().join("outside.drone"), "let leaked = \"canary-7f3a9c\"\n").expect("write");
    std::fs::write(root.join("notes.txt"), "canary-7f3a9c\n").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink(base.path().join("outside.drone"), root.join("link.drone")).expect("symlink");
    let cases = [
        ("use \"/proc/self/environ\" as env\n", "only `.drone` files"),
        ("use \"/proc/self/../self/environ.drone\" as env\n", ""),
        ("use \"../outside.drone\" as out\n", "outside the root directory"),
        ("use \"notes.txt\" as notes\n", "only `.drone` files"),
        #[cfg(unix)]
        ("use \"link.drone\" as link\n", "outside the root directory"),
    ];
    for (source, reason) in cases {
        let out = check(&root, &format!("{HEADER}{source}"));
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(3), "{source}\n{stdout}\n{stderr}");
        assert!(stderr.contains(reason), "{source}: the error does not say `{reason}`:\n{stderr}");
        assert!(!stdout.contains("canary-7f3a9c") && !stderr.contains("canary-7f3a9c"), "{source} printed a file");
    }
    // `--root` widens it, explicitly.
    let mut cmd = drone(None);
    cmd.current_dir(&root).args(["check", "w.drone", "--root", ".."]);
    std::fs::write(root.join("w.drone"), format!("{HEADER}use \"../outside.drone\" as out\n")).expect("write");
    let out = run(&mut cmd);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out).1);
}
