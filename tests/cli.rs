//! The binary's behaviour on bad input and its offline commands: every
//! failure has its documented exit code and leaves state exactly as it was.

use std::path::Path;

use super::support::{assert_exit, drone, root, run, text, PROD_RESOURCES};

/// A state file that must survive a failed run byte for byte.
fn seeded_state(dir: &Path, workflow: &str) -> std::path::PathBuf {
    let path = dir.join("state.json");
    let state = format!(
        r#"{{"version":1,"serial":7,"lineage":"abc","workflow":"{workflow}","resources":{{"aws.ec2.vpc.main":{{"type":"aws.ec2.vpc","id":"vpc-1","provider":"default","phase":"default","dependencies":[],"attributes":{{"cidr_block":"10.0.0.0/16","id":"vpc-1"}}}}}}}}"#
    );
    std::fs::write(&path, state).expect("seed state");
    path
}

fn check_run_fails(file: &str, code: i32, needle: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let workflow = Path::new(file).file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
    let state = seeded_state(dir.path(), &workflow);
    let before = std::fs::read(&state).expect("read");
    let golden = root().join("tests/golden/diagnostics");
    // No endpoint at all: a language error must stop drone before any AWS call.
    let out =
        run(drone(Some("http://127.0.0.1:9")).current_dir(&golden).args(["run", file, "--yes", "--state"]).arg(&state));
    assert_exit(&out, code);
    let (_, stderr) = text(&out);
    assert!(stderr.contains(needle), "{file}: expected `{needle}` in\n{stderr}");
    assert_eq!(std::fs::read(&state).expect("read"), before, "{file}: state changed");
    assert!(!dir.path().join("state.json.lock").exists(), "{file}: lock left behind");
}

#[test]
fn bad_input_fails_with_its_code_and_leaves_state_untouched() {
    check_run_fails("syntax_error.drone", 3, "drone::syntax::unexpected");
    check_run_fails("unknown_resource_type.drone", 3, "did you mean `aws.ec2.vpc`?");
    check_run_fails("unknown_attribute.drone", 3, "did you mean `cidr_block`?");
    check_run_fails("cycle.drone", 3, "dependency cycle: aws.ec2.security_group.a -> aws.ec2.security_group.b ->");
    check_run_fails("missing_param.drone", 3, "drone::eval::missing_param");
    check_run_fails("unknown_at_plan.drone", 3, "drone::eval::unknown_at_plan");
}

#[test]
fn unreachable_endpoint_fails_before_any_change() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = seeded_state(dir.path(), "shuttle-prod");
    let before = std::fs::read(&state).expect("read");
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let out = run(drone(Some(&format!("http://127.0.0.1:{closed}")))
        .current_dir(root())
        .args(["run", "workflows/prod.drone", "--yes", "--state"])
        .arg(&state));
    assert_exit(&out, 5);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("the endpoint could not be reached"), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(std::fs::read(&state).expect("read"), before);
    assert!(!dir.path().join("state.json.lock").exists());
}

#[test]
fn usage_errors_exit_2() {
    assert_exit(&run(drone(None).args(["run"])), 2);
    assert_exit(&run(drone(None).args(["frobnicate"])), 2);
    let out = run(drone(None).current_dir(root()).args(["check", "workflows/prod.drone", "--param", "novalue"]));
    assert_exit(&out, 2);
    assert_exit(&run(drone(None).args(["check", "/nonexistent/x.drone"])), 2);
}

/// The lock as a drone process on this machine sees it.
fn lock_context() -> drone_engine::lock::LockContext {
    let host = drone_engine::host::SystemHost { base_dir: ".".into(), root: ".".into() };
    drone_engine::lock::LockContext::new(std::sync::Arc::new(host))
}

#[test]
fn a_held_lock_refuses_a_second_run_and_unlock_clears_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let owner = drone_engine::lock::LockOwner {
        host: "build-7".into(),
        pid: 4242,
        user: "alice".into(),
        time: "2026-11-24T10:00:00Z".into(),
        operation: "run".into(),
        lease_until: None,
    };
    let guard = drone_engine::lock::acquire(&state, &owner, "unlock", &lock_context()).expect("first lock");
    let out = run(drone(Some("http://127.0.0.1:9"))
        .current_dir(root())
        .args(["run", "workflows/prod.drone", "--yes", "--state"])
        .arg(&state));
    assert_exit(&out, 6);
    let (_, stderr) = text(&out);
    assert!(stderr.contains("state is locked by alice@build-7 (pid 4242"), "{stderr}");
    // A plan takes no lock, but says whose run may be changing what it reads.
    let planned = run(drone(Some("http://127.0.0.1:9"))
        .current_dir(root())
        .args(["plan", "workflows/prod.drone", "--state"])
        .arg(&state));
    let (_, noted) = text(&planned);
    assert!(noted.contains("note: the state is locked by alice@build-7 (pid 4242, `run`"), "{noted}");
    std::mem::forget(guard); // as if the holder had crashed on its host
                             // The command the error prints works as printed (the state's path included).
    let printed = stderr
        .split('`')
        .find(|part| part.starts_with("drone state unlock "))
        .unwrap_or_else(|| panic!("no unlock command in {stderr}"))
        .replace(['\n', '│'], " ");
    let args: Vec<&str> = printed.split_whitespace().skip(1).collect();
    assert_eq!(args[..4], ["state", "unlock", "workflows/prod.drone", "--state"], "{printed}");
    // Another host's holder may still be running: refused without --force, saying how.
    let out = run(drone(None).current_dir(root()).args(&args));
    assert_exit(&out, 6);
    assert!(text(&out).1.contains("may still be running on that host"), "{}", text(&out).1);
    assert!(text(&out).1.contains("--force"), "{}", text(&out).1);
    assert!(drone_engine::lock::holder(&state).is_some());
    let out = run(drone(None).current_dir(root()).args(&args).arg("--force"));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("removed the lock held by alice@build-7"));
    assert!(drone_engine::lock::holder(&state).is_none());
}

#[test]
fn a_lock_of_a_running_holder_stays_and_one_of_a_dead_holder_is_taken_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let here = lock_context().owner("run");
    // This test process holds it, on this host, and runs.
    let guard = drone_engine::lock::acquire(&state, &here, "unlock", &lock_context()).expect("lock");
    let unlock = || {
        run(drone(None).current_dir(root()).args(["state", "unlock", "workflows/prod.drone", "--state"]).arg(&state))
    };
    let out = unlock();
    assert_exit(&out, 6);
    assert!(text(&out).1.contains("which is still running"), "{}", text(&out).1);
    drop(guard);
    // A holder that ran here and is gone (killed): the next run takes the lock over.
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let dead = child.id();
    child.wait().expect("wait");
    let stale = drone_engine::lock::LockOwner { pid: dead, ..here };
    std::fs::write(drone_engine::lock::lock_path(&state), serde_json::to_string(&stale).expect("json")).expect("write");
    if !std::path::Path::new("/proc/self").exists() {
        return; // liveness cannot be told here
    }
    let out = run(drone(Some("http://127.0.0.1:9"))
        .current_dir(root())
        .args(["plan", "workflows/prod.drone", "--state"])
        .arg(&state));
    // plan takes no lock; run does, and then fails on the unreachable endpoint.
    assert_exit(&out, 5);
    let out = run(drone(Some("http://127.0.0.1:9"))
        .current_dir(root())
        .args(["run", "workflows/prod.drone", "--yes", "--state"])
        .arg(&state));
    assert_exit(&out, 5);
    let stderr = text(&out).1;
    assert!(stderr.contains(&format!("took over the lock left by {}", stale)), "{stderr}");
    assert!(drone_engine::lock::holder(&state).is_none(), "the run released the lock it took over");
}

#[test]
fn fmt_formats_and_check_reports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("w.drone");
    std::fs::write(
        &file,
        "resource aws.ec2.vpc main {\ncidr_block=\"10.0.0.0/16\" // the range\n   enable_dns_support=true}\n",
    )
    .expect("write");
    assert_exit(&run(drone(None).args(["fmt", "--check"]).arg(&file)), 3);
    assert_exit(&run(drone(None).args(["fmt"]).arg(&file)), 0);
    let formatted = std::fs::read_to_string(&file).expect("read");
    assert_eq!(formatted, "resource aws.ec2.vpc main {\n  cidr_block         = \"10.0.0.0/16\" // the range\n  enable_dns_support = true\n}\n");
    assert_exit(&run(drone(None).args(["fmt", "--check"]).arg(&file)), 0);
    let canonical = ["workflows/prod.drone", "policies/data.drone", "policies/iam.drone", "policies/network.drone"];
    assert_exit(&run(drone(None).current_dir(root()).arg("fmt").arg("--check").args(canonical)), 0);
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let out = run(drone(None).current_dir(root()).args(["graph", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    let dot = text(&out).0;
    assert!(dot.starts_with("digraph \"shuttle-prod\""));
    assert!(
        dot.contains(
            r#""network.primary.aws.ec2.vpc.main" -> "network.primary.aws.ec2.subnet.private[\"eu-west-1a\"]";"#
        ),
        "{dot}"
    );
    assert!(dot.contains("label=\"phase bootstrap\""));
    let out = run(drone(None).current_dir(root()).args(["graph", "workflows/prod.drone", "--format", "mermaid"]));
    let mermaid = text(&out).0;
    assert!(mermaid.starts_with("flowchart LR"));
    assert!(mermaid.contains("subgraph phase_platform"));
}

#[test]
fn check_accepts_the_prod_workflow_and_lists_types() {
    let out = run(drone(None).current_dir(root()).args(["check", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    assert!(
        text(&out)
            .0
            .contains(&format!("{PROD_RESOURCES} resources in 7 phases; policy: 0 errors, 0 warnings, 2 suppressed")),
        "{}",
        text(&out).0
    );
    let out = run(drone(None).args(["check", "--list-types"]));
    assert_exit(&out, 0);
    let listing = text(&out).0;
    for t in drone_stdlib::registry::TYPES {
        assert!(listing.contains(&format!("{}: ", t.name)), "{} missing from --list-types", t.name);
    }
}

#[test]
fn state_list_and_show_read_recorded_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = seeded_state(dir.path(), "shuttle-prod");
    let out =
        run(drone(None).current_dir(root()).args(["state", "list", "workflows/prod.drone", "--state"]).arg(&state));
    assert_exit(&out, 0);
    assert_eq!(text(&out).0, "aws.ec2.vpc.main\tvpc-1\n");
    let out = run(drone(None)
        .current_dir(root())
        .args(["state", "show", "workflows/prod.drone", "aws.ec2.vpc.main", "--state"])
        .arg(&state));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("\"cidr_block\": \"10.0.0.0/16\""));
    let out = run(drone(None)
        .current_dir(root())
        .args(["state", "show", "workflows/prod.drone", "aws.ec2.vpc.mian", "--state"])
        .arg(&state));
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("did you mean `aws.ec2.vpc.main`?"));
}
