//! dev, staging and prod from the same components, side by side on one
//! endpoint: no name collides, and destroying one leaves the others as
//! their states record them.

use std::path::{Path, PathBuf};
use std::process::Output;

use super::account::{assert_empty, assert_matches_states};
use super::support::{assert_exit, drone, root, run, text, Moto, PROD_RESOURCES};

const ENVIRONMENTS: [&str; 3] = ["dev", "staging", "prod"];

/// `drone COMMAND workflows/ENV.drone` with its own local state in `dir`,
/// deletion protection off (the test destroys what it makes) and moto's
/// stand-in certificate.
fn drone_env(moto: &Moto, dir: &Path, env: &str, command: &str) -> Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root())
        .args([command, &format!("workflows/{env}.drone")])
        .args((command != "plan").then_some("--yes"))
        .arg("--state")
        .arg(state(dir, env))
        .args(["--param", "protect_data=false"])
        .args(["--disable-policy", "data.rds_deletion_protection"]);
    run(&mut cmd)
}

fn state(dir: &Path, env: &str) -> PathBuf {
    dir.join(format!("{env}.json"))
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_staging_and_prod_run_side_by_side_and_go_one_at_a_time() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let mut counts = Vec::new();
    for env in ENVIRONMENTS {
        let out = drone_env(&moto, dir.path(), env, "run");
        assert_exit(&out, 0);
        let summary = text(&out).0.lines().find(|l| l.starts_with("Apply complete")).unwrap_or_default().to_string();
        counts.push((env, summary));
        // Each reads back as it was made: nothing drifted, nothing to do.
        let out = drone_env(&moto, dir.path(), env, "plan");
        assert_exit(&out, 0);
        let shown = text(&out).0;
        assert!(shown.contains("No changes: ") && !shown.contains("Changed outside drone"), "{env}: {shown}");
    }
    // dev and staging have two zones, prod three: fewer subnets, NAT gateways and mount targets.
    assert_eq!(
        counts,
        [
            ("dev", "Apply complete: 73 created, 0 updated, 0 deleted.".to_string()),
            ("staging", "Apply complete: 73 created, 0 updated, 0 deleted.".to_string()),
            ("prod", format!("Apply complete: {PROD_RESOURCES} created, 0 updated, 0 deleted.")),
        ]
    );
    let workflows: Vec<(PathBuf, String)> =
        ENVIRONMENTS.iter().map(|e| (state(dir.path(), e), format!("shuttle-{e}"))).collect();
    let states = |from: usize| -> Vec<(&Path, &str)> {
        workflows[from..].iter().map(|(p, w)| (p.as_path(), w.as_str())).collect()
    };
    assert_matches_states(&moto.url, &states(0)).await;
    // dev's addresses sit under its instances, as prod's do.
    let out = run(drone(None)
        .current_dir(root())
        .args(["state", "list", "workflows/dev.drone", "--state"])
        .arg(state(dir.path(), "dev")));
    assert!(text(&out).0.contains("network.primary.aws.ec2.nat_gateway.main[\"eu-west-1b\"]"), "{}", text(&out).0);

    for (gone, env) in ENVIRONMENTS.iter().enumerate() {
        let out = drone_env(&moto, dir.path(), env, "destroy");
        assert_exit(&out, 0);
        if gone + 1 < ENVIRONMENTS.len() {
            assert_matches_states(&moto.url, &states(gone + 1)).await;
        }
    }
    assert_empty(&moto.url).await;
}
