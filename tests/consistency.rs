//! Real AWS is eventually consistent where moto is not. [`Lag`] is the fault
//! proxy's model of it: for a window after EC2 answers a create with a new
//! id, every other EC2 call naming that id is answered with the documented
//! "not found" code (`InvalidVpcID.NotFound`, `InvalidGroup.NotFound`, ...),
//! and for ten times the window after IAM answers `CreateRole`, every ECS call
//! carrying the role's ARN is answered "ECS was unable to assume the role"; for the window after
//! EFS answers `CreateReplicationConfiguration`, describing the source file system's
//! replications answers `ReplicationNotFound`. prod's
//! first run must succeed through it, the account must match state, the
//! re-plan must be empty and destroy must leave nothing.
//! `DRONE_CONSISTENCY_WINDOWS` (milliseconds, `1000,3000`) chooses the
//! windows; `scripts/sweep` runs more than the suite's one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::account::{assert_empty, assert_matches_state};
use crate::faults::{error_response, FaultProxy, Faults};
use crate::support::{assert_exit, prod, run, text, Moto, PROD_RESOURCES};

/// What a lagging AWS has made lately and not shown everywhere yet.
pub struct Lag {
    /// The window; zero: no lag at all.
    pub window: Duration,
    /// Fresh EC2 ids, IAM role ARNs and replications (`replication:fs-...`), with when they were made.
    fresh: Mutex<Vec<(String, Instant)>>,
    /// Lagging answers given: EC2's, ECS's, EFS's.
    pub answered: [AtomicU64; 3],
}

/// The EC2 creates the model knows, with the prefix of the id each answers with.
const EC2_CREATES: &[(&str, &str)] = &[
    ("CreateVpc", "vpc-"),
    ("CreateSubnet", "subnet-"),
    ("CreateSecurityGroup", "sg-"),
    ("CreateRouteTable", "rtb-"),
    ("CreateInternetGateway", "igw-"),
    ("CreateNatGateway", "nat-"),
    ("AllocateAddress", "eipalloc-"),
];

/// The code and message EC2 answers for an id it does not know, by its prefix.
fn ec2_not_found(id: &str) -> (&'static str, String) {
    let (code, what) = match id.split('-').next().unwrap_or_default() {
        "vpc" => ("InvalidVpcID.NotFound", "vpc ID"),
        "subnet" => ("InvalidSubnetID.NotFound", "subnet ID"),
        "sg" => ("InvalidGroup.NotFound", "security group"),
        "rtb" => ("InvalidRouteTableID.NotFound", "routeTable ID"),
        "igw" => ("InvalidInternetGatewayID.NotFound", "internetGateway ID"),
        "nat" => ("NatGatewayNotFound", "NAT gateway"),
        _ => ("InvalidAllocationID.NotFound", "allocation ID"),
    };
    (code, format!("The {what} '{id}' does not exist"))
}

impl Lag {
    /// A model whose ids stay unseen for `window` after their create.
    pub fn new(window: Duration) -> Lag {
        Lag { window, fresh: Mutex::default(), answered: Default::default() }
    }

    /// What is not visible yet: EC2 ids for the window, IAM roles ten times as
    /// long (a role reaches the services that assume it more slowly than an id
    /// reaches EC2's own API).
    fn fresh(&self) -> Vec<String> {
        let now = Instant::now();
        let window = |name: &str| if name.starts_with("arn:") { self.window * 10 } else { self.window };
        self.fresh
            .lock()
            .map(|f| f.iter().filter(|(n, at)| now < *at + window(n)).map(|(n, _)| n.clone()).collect())
            .unwrap_or_default()
    }

    /// The lagging answer to a request (its head and body), if AWS would not
    /// see yet what it names.
    pub fn answer(&self, head: &str, body: &str) -> Option<Vec<u8>> {
        if self.window.is_zero() {
            return None;
        }
        if body.contains("Version=2016-11-15") {
            let id = self.fresh().into_iter().find(|id| !id.starts_with("arn:") && body.contains(id.as_str()))?;
            let (code, message) = ec2_not_found(&id);
            self.answered[0].fetch_add(1, Ordering::SeqCst);
            let xml = format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>lag</RequestID></Response>"
            );
            return Some(error_response("400 Bad Request", "text/xml", code, &xml));
        }
        if head.contains("AmazonEC2ContainerServiceV20141113.") {
            let arn = self.fresh().into_iter().find(|a| a.starts_with("arn:aws:iam:") && body.contains(a.as_str()))?;
            let message = format!(
                "ECS was unable to assume the role '{arn}' that was provided for this task. Please verify that the role \
                 being passed has the proper trust relationship and permissions and that your IAM user has permissions \
                 to pass this role."
            );
            let json = serde_json::json!({ "__type": "ClientException", "message": message }).to_string();
            self.answered[1].fetch_add(1, Ordering::SeqCst);
            return Some(error_response("400 Bad Request", "application/x-amz-json-1.1", "ClientException", &json));
        }
        if head.starts_with("GET /2015-02-01/file-systems/replication-configurations") {
            let fresh = self.fresh();
            let source = fresh.iter().filter_map(|n| n.strip_prefix("replication:")).find(|fs| head.contains(fs))?;
            let message = format!("No replication configuration found for {source}.");
            let json = serde_json::json!({ "ErrorCode": "ReplicationNotFound", "Message": message }).to_string();
            self.answered[2].fetch_add(1, Ordering::SeqCst);
            return Some(error_response("404 Not Found", "application/json", "ReplicationNotFound", &json));
        }
        None
    }

    /// Notes what a forwarded request made, from the server's answer.
    pub fn made(&self, body: &str, answer: &str) {
        if self.window.is_zero() {
            return;
        }
        let action = body.split('&').find_map(|p| p.strip_prefix("Action=")).unwrap_or_default();
        let mut made: Vec<String> = Vec::new();
        if let Some((_, prefix)) = EC2_CREATES.iter().find(|(a, _)| *a == action) {
            made.extend(answer.split(['<', '>']).filter(|t| t.starts_with(prefix)).take(1).map(String::from));
        }
        if action == "CreateRole" {
            made.extend(answer.split(['<', '>']).find(|t| t.starts_with("arn:aws:iam:")).map(String::from));
        }
        // CreateReplicationConfiguration (REST JSON) answers the replication it made.
        if body.contains("\"Destinations\"") {
            let made_one = serde_json::from_str::<serde_json::Value>(answer).ok();
            let source = made_one.as_ref().and_then(|r| r["SourceFileSystemId"].as_str());
            made.extend(source.map(|fs| format!("replication:{fs}")));
        }
        if let Ok(mut fresh) = self.fresh.lock() {
            fresh.extend(made.into_iter().map(|n| (n, Instant::now())));
        }
    }
}

/// Windows from `DRONE_CONSISTENCY_WINDOWS` (milliseconds), else 1 s.
fn windows() -> Vec<Duration> {
    std::env::var("DRONE_CONSISTENCY_WINDOWS")
        .ok()
        .map(|t| t.split(',').filter_map(|w| w.trim().parse().ok()).map(Duration::from_millis).collect())
        .unwrap_or_else(|| vec![Duration::from_secs(1)])
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_runs_first_time_through_an_eventually_consistent_aws() {
    for window in windows() {
        let moto = Moto::start();
        let proxy = FaultProxy::new(&moto.url, Faults { consistency: window, ..Faults::default() });
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state.json");
        let started = Instant::now();
        let out = run(&mut prod(&proxy.url, &state, &["run", "workflows/prod.drone", "--yes"]));
        let took = started.elapsed();
        assert_exit(&out, 0);
        let lagged = proxy.faults.load(Ordering::SeqCst);
        assert!(lagged > 0, "the window of {window:?} disturbed nothing");
        assert_matches_state(&moto.url, &state, "shuttle-prod").await;
        let out = run(&mut prod(&proxy.url, &state, &["plan", "workflows/prod.drone"]));
        assert_exit(&out, 0);
        assert!(
            text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
            "{}",
            text(&out).0
        );
        let out = run(&mut prod(&proxy.url, &state, &["destroy", "workflows/prod.drone", "--yes"]));
        assert_exit(&out, 0);
        assert_empty(&moto.url).await;
        let [ec2, ecs, efs] = &proxy.lag.answered;
        assert!(efs.load(Ordering::SeqCst) > 0, "no replication was described during its window");
        eprintln!(
            "consistency window {} ms: first run {:.1} s, {lagged} answers lagged (EC2 {}, ECS {}, EFS {})",
            window.as_millis(),
            took.as_secs_f64(),
            ec2.load(Ordering::SeqCst),
            ecs.load(Ordering::SeqCst),
            efs.load(Ordering::SeqCst)
        );
    }
}
