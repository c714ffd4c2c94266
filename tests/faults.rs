//! Disturbed runs: a fault-injecting HTTP proxy on loopback between drone
//! and moto_server throttles requests or answers them with a server error
//! (in each service's own protocol) without forwarding them, forwards
//! requests and then loses the reply (a
//! server error, a connection cut off, a reply held past the client's
//! timeout), and holds replies so that `kill -9` lands with calls in flight.
//! After each disturbance one further run must converge and the account must
//! hold exactly what state records (every resource of every type, listed
//! through the SDK: no orphan, no duplicate), and destroy must leave nothing.
//! The tests run a bounded set of seeds and kill points; `scripts/sweep`
//! runs many (`DRONE_FAULT_SEEDS`, `DRONE_KILL_POINTS`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::account::{assert_empty, assert_matches_state};
use super::consistency::Lag;
use super::support::{assert_exit, prod, run, sdk_config, text, Moto, PROD_RESOURCES};

/// What the proxy does to requests, each decided by a generator seeded
/// with `seed`: the shares of requests throttled without being forwarded,
/// forwarded and then answered with a server error (the change was made, the
/// reply lost), forwarded and then cut off without a reply, and forwarded
/// and answered only after `hold` (past the client's timeout); and a pause
/// before every reply that goes through (so a kill finds calls in flight).
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Share throttled.
    pub throttle: f64,
    /// Share answered with a server error without being forwarded.
    pub fail: f64,
    /// Share answered with a server error after the server acted.
    pub lose: f64,
    /// Share whose connection is closed after the server acted.
    pub drop: f64,
    /// Share answered after `hold`.
    pub delay: f64,
    /// How long a delayed reply is held.
    pub hold: Duration,
    /// A pause before every reply that is passed on.
    pub pause: Duration,
    /// The generator's seed.
    pub seed: u64,
    /// Throttles the first N requests whose start line or headers hold the
    /// text, whatever the generator says: a fault aimed at one call.
    pub throttle_first: Option<(&'static str, u64)>,
    /// Holds the reply to every request whose start line or headers hold the
    /// text for `hold`: after the server acted, or before it saw the request
    /// (then it is never forwarded). A kill meanwhile lands at that call.
    pub hold_at: Option<(&'static str, Held)>,
    /// Answers as an eventually consistent AWS does, for this long after each
    /// create (see [`crate::consistency::Lag`]); zero: never.
    pub consistency: Duration,
    /// A region that is down: every request signed for it is answered 503
    /// without being forwarded, whatever else is decided.
    pub down: Option<&'static str>,
}

/// Where [`Faults::hold_at`] holds a request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Held {
    /// The server acted; its reply is held.
    AfterServer,
    /// The request is held before the server sees it.
    BeforeServer,
}

/// What happens to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    Throttle,
    Fail,
    Lose,
    Drop,
    Delay,
    None,
}

impl Faults {
    fn decide(&self, roll: f64) -> Fault {
        let mut edge = self.throttle;
        let shares = [
            (0.0, Fault::Throttle),
            (self.fail, Fault::Fail),
            (self.lose, Fault::Lose),
            (self.drop, Fault::Drop),
            (self.delay, Fault::Delay),
        ];
        for (share, fault) in shares {
            edge += share;
            if roll < edge {
                return fault;
            }
        }
        Fault::None
    }
}

/// A proxy on a free loopback port, stopped on drop.
pub struct FaultProxy {
    /// Its base URL.
    pub url: String,
    stop: Arc<AtomicBool>,
    /// Requests answered with a fault (any kind).
    pub faults: Arc<AtomicU64>,
    /// Requests forwarded.
    pub forwarded: Arc<AtomicU64>,
    /// The eventually consistent AWS it plays, when [`Faults::consistency`] is set.
    pub lag: Arc<Lag>,
    accept: Option<JoinHandle<Vec<JoinHandle<()>>>>,
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`), throttling each request
    /// with probability `rate`, decided by a generator seeded with `seed`.
    pub fn throttling(upstream: &str, rate: f64, seed: u64) -> FaultProxy {
        FaultProxy::new(upstream, Faults { throttle: rate, seed, ..Faults::default() })
    }

    /// Forwards to `upstream` (`http://host:port`), disturbing requests as `faults` says.
    pub fn new(upstream: &str, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let upstream = upstream.trim_start_matches("http://").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let thrown = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let aimed = Arc::new(AtomicU64::new(0));
        let dice = Arc::new(Mutex::new(faults.seed.max(1)));
        let lag = Arc::new(Lag::new(faults.consistency));
        let lag_kept = lag.clone();
        let (stop_a, thrown_a, forwarded_a) = (stop.clone(), thrown.clone(), forwarded.clone());
        let accept = std::thread::spawn(move || {
            let mut connections = Vec::new();
            while !stop_a.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (upstream, dice) = (upstream.clone(), dice.clone());
                        let (thrown, forwarded, stop) = (thrown_a.clone(), forwarded_a.clone(), stop_a.clone());
                        let (aimed, lag) = (aimed.clone(), lag.clone());
                        connections.push(std::thread::spawn(move || {
                            let decide = || faults.decide(roll(&dice));
                            let counters =
                                Counters { thrown: &thrown, forwarded: &forwarded, aimed: &aimed, lag: &lag };
                            let _ = serve(client, &upstream, &faults, decide, counters, &stop);
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            connections
        });
        FaultProxy { url, stop, faults: thrown, forwarded, lag: lag_kept, accept: Some(accept) }
    }
}

impl Drop for FaultProxy {
    /// Stops accepting, then waits for every request already forwarded to be
    /// answered: what was sent before a kill reaches the server before the
    /// next run looks.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            for connection in accept.join().unwrap_or_default() {
                let _ = connection.join();
            }
        }
    }
}

/// A number in [0, 1) from a shared xorshift generator: the same seed, the same faults.
fn roll(dice: &Mutex<u64>) -> f64 {
    let mut x = dice.lock().map(|d| *d).unwrap_or(1);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    if let Ok(mut d) = dice.lock() {
        *d = x;
    }
    (x % 1_000_000) as f64 / 1_000_000.0
}

/// One HTTP message: the head (start line and headers) and the body.
struct Message {
    head: String,
    body: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The message as bytes, with its body's length (chunked bodies are read whole).
    fn bytes(&self) -> Vec<u8> {
        let mut head: Vec<&str> = self
            .head
            .lines()
            .filter(|l| {
                let name = l.split(':').next().unwrap_or_default().trim();
                !name.eq_ignore_ascii_case("transfer-encoding") && !name.eq_ignore_ascii_case("content-length")
            })
            .collect();
        let length = format!("Content-Length: {}", self.body.len());
        head.push(&length);
        let mut out = head.join("\r\n").into_bytes();
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// Reads one message from `reader`; `None` at the end of the connection. A
/// reply to HEAD has no body, whatever its Content-Length says.
fn read_message(reader: &mut BufReader<TcpStream>, bodiless: bool) -> std::io::Result<Option<Message>> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let message = Message { head: head.trim_end().to_string(), body: Vec::new() };
    let chunked = message.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let mut body = Vec::new();
    if bodiless {
        return Ok(Some(message));
    }
    if chunked {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else if let Some(length) = message.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Message { body, ..message }))
}

/// What a proxy counts.
#[derive(Clone, Copy)]
struct Counters<'a> {
    thrown: &'a AtomicU64,
    forwarded: &'a AtomicU64,
    /// Requests that matched `throttle_first`.
    aimed: &'a AtomicU64,
    /// What an eventually consistent AWS has not shown yet.
    lag: &'a Lag,
}

/// Serves one client connection: each request is disturbed as decided, or forwarded.
fn serve(
    client: TcpStream,
    upstream: &str,
    faults: &Faults,
    decide: impl Fn() -> Fault,
    counters: Counters<'_>,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while !stop.load(Ordering::SeqCst) {
        let request = match read_message(&mut reader, false) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        };
        if faults.down.is_some_and(|region| signed_for(&request, region)) {
            counters.thrown.fetch_add(1, Ordering::SeqCst);
            writer.write_all(&error_response("503 Service Unavailable", "text/plain", "ServiceUnavailable", "down"))?;
            continue;
        }
        let aimed = faults
            .throttle_first
            .is_some_and(|(text, n)| request.head.contains(text) && counters.aimed.fetch_add(1, Ordering::SeqCst) < n);
        if let Some(reply) = counters.lag.answer(&request.head, &String::from_utf8_lossy(&request.body)) {
            counters.thrown.fetch_add(1, Ordering::SeqCst);
            writer.write_all(&reply)?;
            continue;
        }
        let held = faults.hold_at.filter(|(text, _)| request.head.contains(text)).map(|(_, where_)| where_);
        if held == Some(Held::BeforeServer) {
            counters.thrown.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(faults.hold);
            return writer.shutdown(std::net::Shutdown::Both);
        }
        let fault = if aimed {
            Fault::Throttle
        } else if held.is_some() {
            Fault::Delay
        } else {
            decide()
        };
        if matches!(fault, Fault::Throttle | Fault::Fail) {
            counters.thrown.fetch_add(1, Ordering::SeqCst);
            let reply = if fault == Fault::Throttle { ErrorReply::Throttling } else { ErrorReply::Internal };
            writer.write_all(&error_reply(&request, reply))?;
            continue;
        }
        counters.forwarded.fetch_add(1, Ordering::SeqCst);
        let mut server = TcpStream::connect(upstream)?;
        server.write_all(&request.bytes())?;
        let mut from_server = BufReader::new(server);
        let head = request.head.starts_with("HEAD ");
        let response = read_message(&mut from_server, head)?
            .ok_or_else(|| std::io::Error::other("the server closed the connection"))?;
        if fault != Fault::None {
            counters.thrown.fetch_add(1, Ordering::SeqCst);
        }
        counters.lag.made(&String::from_utf8_lossy(&request.body), &String::from_utf8_lossy(&response.body));
        match fault {
            Fault::Lose => writer.write_all(&error_reply(&request, ErrorReply::Internal))?,
            // The server acted; the client hears nothing and sees the connection close.
            Fault::Drop => return writer.shutdown(std::net::Shutdown::Both),
            Fault::Delay => {
                std::thread::sleep(faults.hold);
                let _ = writer.write_all(&response.bytes());
                return Ok(());
            }
            _ => {
                std::thread::sleep(faults.pause);
                writer.write_all(&response.bytes())?;
            }
        }
    }
    Ok(())
}

/// Whether `request` goes to `region`'s endpoints: its SigV4 credential scope names the region and
/// a regional service. CloudFront, IAM and Route 53 are global (AWS serves them from us-east-1
/// whatever the client's region; against a local endpoint the SDK signs them with its own).
fn signed_for(request: &Message, region: &str) -> bool {
    const GLOBAL: [&str; 3] = ["cloudfront", "iam", "route53"];
    request.header("authorization").is_some_and(|a| {
        let scope = a.split("Credential=").nth(1).unwrap_or_default();
        let mut parts = scope.split('/').skip(2);
        parts.next() == Some(region) && parts.next().is_some_and(|service| !GLOBAL.contains(&service))
    })
}

/// Which error a disturbed request is answered with.
#[derive(Clone, Copy)]
enum ErrorReply {
    /// "Slow down": the request was not carried out.
    Throttling,
    /// A server error: whether the request was carried out is unknown.
    Internal,
}

/// An error reply as the request's service writes one.
fn error_reply(request: &Message, kind: ErrorReply) -> Vec<u8> {
    let path = request.head.split_whitespace().nth(1).unwrap_or("/");
    let body = String::from_utf8_lossy(&request.body);
    let json = request.header("x-amz-target").is_some() || path.starts_with("/2015-02-01/");
    let internal = matches!(kind, ErrorReply::Internal);
    let (content_type, status, payload) = if json {
        let payload = if internal {
            r#"{"__type":"InternalFailure","message":"An internal error occurred"}"#
        } else {
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#
        };
        (
            "application/x-amz-json-1.1",
            if internal { "500 Internal Server Error" } else { "400 Bad Request" },
            payload.to_string(),
        )
    } else if body.contains("Version=2016-11-15") {
        let (code, message) = if internal {
            ("InternalError", "An internal error has occurred")
        } else {
            ("RequestLimitExceeded", "Request limit exceeded.")
        };
        let xml = format!("<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault</RequestID></Response>");
        ("text/xml", if internal { "500 Internal Server Error" } else { "503 Service Unavailable" }, xml)
    } else if body.starts_with("Action=") || path.starts_with("/2020-05-31/") {
        let (kind, code, message) = if internal {
            ("Receiver", "InternalFailure", "internal error")
        } else {
            ("Sender", "Throttling", "Rate exceeded")
        };
        let xml = format!("<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>");
        ("text/xml", if internal { "500 Internal Server Error" } else { "400 Bad Request" }, xml)
    } else {
        let (code, message) = if internal {
            ("InternalError", "We encountered an internal error. Please try again.")
        } else {
            ("SlowDown", "Please reduce your request rate.")
        };
        let xml = format!("<Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault</RequestId></Error>");
        ("application/xml", if internal { "500 Internal Server Error" } else { "503 Slow Down" }, xml)
    };
    let error_type = if internal { "InternalFailure" } else { "ThrottlingException" };
    error_response(status, content_type, error_type, &payload)
}

/// An HTTP error response the proxy makes up, in its service's `content_type`.
pub fn error_response(status: &str, content_type: &str, error_type: &str, payload: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {error_type}\r\nx-amzn-RequestId: fault\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_converges_through_throttling_and_the_account_matches_state() {
    let moto = Moto::start();
    let proxy = FaultProxy::throttling(&moto.url, 0.25, 7);
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    let prod = |args: &[&str]| run(&mut prod(&proxy.url, &state, args));
    // A call the SDK's own retries and drone's could not get through fails the run
    // (a create that made its resource records it tainted, never makes a second);
    // the next run, through the same faults, converges.
    let first = prod(&["run", "workflows/prod.drone", "--yes"]);
    if first.status.code() != Some(0) {
        assert_exit(&first, 5);
        let out = prod(&["run", "workflows/prod.drone", "--yes"]);
        assert_exit(&out, 0);
    } else {
        assert!(
            text(&first).0.contains(&format!("Apply complete: {PROD_RESOURCES} created, 0 updated, 0 deleted.")),
            "{}",
            text(&first).0
        );
    }
    let out = prod(&["plan", "workflows/prod.drone"]);
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );
    let thrown = proxy.faults.load(Ordering::SeqCst);
    assert!(thrown > 20, "only {thrown} requests were throttled");
    assert!(proxy.forwarded.load(Ordering::SeqCst) > thrown, "most requests went through");

    // The account holds one of each, as state records (read directly, past the proxy).
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("state")).expect("json");
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&moto.url).await);
    let workflow = aws_sdk_ec2::types::Filter::builder().name("tag:drone:workflow").values("shuttle-prod").build();
    let vpcs = ec2.describe_vpcs().filters(workflow.clone()).send().await.expect("vpcs");
    let subnets = ec2.describe_subnets().filters(workflow.clone()).send().await.expect("subnets");
    let gateways = ec2.describe_nat_gateways().filter(workflow.clone()).send().await.expect("nat");
    let live_nats =
        gateways.nat_gateways().iter().filter(|g| g.state().is_some_and(|s| s.as_str() == "available")).count();
    let count = |prefix: &str| {
        let address = |a: &&String| a.starts_with(prefix) || a.starts_with(&format!("network.primary.{prefix}"));
        recorded["resources"].as_object().expect("resources").keys().filter(address).count()
    };
    assert_eq!(vpcs.vpcs().len(), count("aws.ec2.vpc."));
    assert_eq!(subnets.subnets().len(), count("aws.ec2.subnet."));
    assert_eq!(live_nats, count("aws.ec2.nat_gateway."));

    let out = prod(&["destroy", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    let vpcs = ec2.describe_vpcs().filters(workflow).send().await.expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "destroy left VPCs behind");
}

/// The client's per-attempt timeout the disturbed runs use (`DRONE_CALL_TIMEOUT`).
const CALL_TIMEOUT: &str = "5";

/// Seeds from `DRONE_FAULT_SEEDS` (`1-40` or `3,7,9`), else `default`.
fn seeds(default: &[u64]) -> Vec<u64> {
    list_from_env("DRONE_FAULT_SEEDS").unwrap_or_else(|| default.to_vec())
}

fn list_from_env(name: &str) -> Option<Vec<u64>> {
    let text = std::env::var(name).ok()?;
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => out.extend(a.parse::<u64>().ok()?..=b.parse::<u64>().ok()?),
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

/// drone on prod.drone against `endpoint` with a short client timeout.
fn prod_with_timeout(endpoint: &str, state: &std::path::Path, args: &[&str]) -> std::process::Command {
    let mut cmd = prod(endpoint, state, args);
    cmd.env("DRONE_CALL_TIMEOUT", CALL_TIMEOUT);
    cmd
}

/// After a disturbed run: one further run (undisturbed) converges, the
/// account matches state, and destroy leaves nothing. Says whether the
/// further run had anything left to do.
async fn converges(moto: &Moto, state: &std::path::Path) -> bool {
    // Undisturbed: the client's default timeout (a loaded machine can be slow to answer).
    let out = run(&mut prod(&moto.url, state, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    // Shown when a later check fails: what the further run resolved and did.
    eprintln!("the further run:\n{}", text(&out).0);
    let had_work = !text(&out).0.contains("No changes:");
    let out = run(&mut prod(&moto.url, state, &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );
    assert_matches_state(&moto.url, state, "shuttle-prod").await;
    let out = run(&mut prod(&moto.url, state, &["destroy", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    assert_empty(&moto.url).await;
    had_work
}

#[tokio::test(flavor = "multi_thread")]
async fn replies_lost_cut_off_or_late_never_leave_a_duplicate() {
    let (mut tried, mut failed_first) = (0, 0);
    for seed in seeds(&[11]) {
        eprintln!("fault seed {seed}");
        let moto = Moto::start();
        let faults = Faults {
            throttle: 0.04,
            fail: 0.03,
            lose: 0.05,
            drop: 0.03,
            delay: 0.02,
            hold: Duration::from_secs(6),
            seed,
            ..Faults::default()
        };
        let proxy = FaultProxy::new(&moto.url, faults);
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state.json");
        let first = run(&mut prod_with_timeout(&proxy.url, &state, &["run", "workflows/prod.drone", "--yes"]));
        match first.status.code() {
            // Whatever went through must be exactly what state says, even before the next run.
            Some(0) => assert_matches_state(&moto.url, &state, "shuttle-prod").await,
            _ => {
                assert_exit(&first, 5);
                failed_first += 1;
            }
        }
        assert!(proxy.faults.load(Ordering::SeqCst) > 0, "seed {seed} disturbed nothing");
        drop(proxy);
        converges(&moto, &state).await;
        tried += 1;
    }
    eprintln!("fault seeds: {tried} tried, {tried} converged ({failed_first} needed the further run)");
}

/// When to kill a run: after this many records are on disk, or after this long.
#[derive(Clone, Copy, Debug)]
enum KillAt {
    Records(usize),
    Millis(u64),
}

/// Kill points from `DRONE_KILL_POINTS` (record counts; `t` before a
/// number means milliseconds: `1-60,t500,t1500`), else a bounded default.
fn kill_points() -> Vec<KillAt> {
    let Ok(text) = std::env::var("DRONE_KILL_POINTS") else {
        return vec![KillAt::Records(1), KillAt::Records(6), KillAt::Records(25), KillAt::Millis(2500)];
    };
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some(ms) = part.strip_prefix('t') {
            out.push(KillAt::Millis(ms.parse().expect("milliseconds")));
        } else if let Some(range) = list_from_env_text(part) {
            out.extend(range.into_iter().map(|n| KillAt::Records(n as usize)));
        }
    }
    out
}

fn list_from_env_text(part: &str) -> Option<Vec<u64>> {
    match part.split_once('-') {
        Some((a, b)) => Some((a.parse::<u64>().ok()?..=b.parse::<u64>().ok()?).collect()),
        None => Some(vec![part.parse().ok()?]),
    }
}

/// Records on disk: the snapshot (the first) and each line of the log.
fn records_on_disk(state: &std::path::Path) -> usize {
    if !state.exists() {
        return 0;
    }
    let mut log = state.as_os_str().to_owned();
    log.push(".log");
    1 + std::fs::read_to_string(std::path::PathBuf::from(log)).map_or(0, |l| l.lines().count())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_killed_at_any_point_is_finished_by_the_next() {
    let points = kill_points();
    let mut resolved = 0;
    for point in &points {
        eprintln!("kill point {point:?}");
        let moto = Moto::start();
        // Every reply is held a little, so the kill finds calls in flight.
        let proxy = FaultProxy::new(&moto.url, Faults { pause: Duration::from_millis(120), ..Faults::default() });
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state.json");
        let mut child = prod_with_timeout(&proxy.url, &state, &["run", "workflows/prod.drone", "--yes"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn drone");
        let started = std::time::Instant::now();
        loop {
            let due = match point {
                KillAt::Records(n) => records_on_disk(&state) >= *n,
                KillAt::Millis(ms) => started.elapsed() >= Duration::from_millis(*ms),
            };
            if due || child.try_wait().expect("wait").is_some() || started.elapsed() > Duration::from_secs(120) {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill(); // SIGKILL: no handler runs, nothing is flushed.
        let _ = child.wait();
        drop(proxy);
        let pending = drone_engine::state::LocalBackend::new(state.clone())
            .load("shuttle-prod")
            .map(|s| s.pending.len())
            .unwrap_or(0);
        resolved += pending;
        converges(&moto, &state).await;
    }
    eprintln!(
        "kill points: {} tried, {} converged; {resolved} operations were in flight at the kills",
        points.len(),
        points.len()
    );
}

/// Where a kill lands among prod's hooks: a request the proxy holds (its text,
/// and whether the server acted on it), and the command it interrupts.
const HOOK_KILL_POINTS: &[(&str, Held, &str)] = &[
    // The bucket is deleted, the reply not yet read: the next destroy must not run the hook again.
    ("DELETE /shuttle-prod-artifacts/ ", Held::AfterServer, "destroy"),
    // The hook has emptied the bucket; the deletion has not reached the server.
    ("DELETE /shuttle-prod-artifacts/ ", Held::BeforeServer, "destroy"),
    // Inside the hook: the versions are listed, none deleted yet.
    ("?versions", Held::AfterServer, "destroy"),
    // Inside the hook: the versions are deleted, the reply not yet read.
    ("?delete", Held::AfterServer, "destroy"),
    // Inside the images hook, and right after it.
    ("ListImages", Held::AfterServer, "destroy"),
    ("DeleteRepository", Held::BeforeServer, "destroy"),
    // Inside the after-update hook of a release: the invalidation is made, its reply held.
    ("/invalidation", Held::AfterServer, "release"),
];

/// Hook kill points from `DRONE_HOOK_KILL_POINTS` (indexes into [`HOOK_KILL_POINTS`]), else the first.
fn hook_kill_points() -> Vec<usize> {
    list_from_env("DRONE_HOOK_KILL_POINTS").map_or(vec![0], |l| l.into_iter().map(|i| i as usize).collect())
}

/// `kill -9` inside a hook of prod, or between a hook and its operation, is
/// followed by a run or destroy that converges: the hook runs again where its
/// resource still exists, never where it is gone, and destroy leaves nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_kill_inside_or_after_a_hook_is_finished_by_the_next_run() {
    let points = hook_kill_points();
    for &index in &points {
        let (request, held, command) = HOOK_KILL_POINTS[index];
        eprintln!("hook kill point {index}: {request:?} {held:?} during {command}");
        let moto = Moto::start();
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("state.json");
        assert_exit(&run(&mut prod(&moto.url, &state, &["run", "workflows/prod.drone", "--yes"])), 0);
        fill_artifacts(&moto.url).await;
        let faults = Faults { hold_at: Some((request, held)), hold: Duration::from_secs(8), ..Faults::default() };
        let proxy = FaultProxy::new(&moto.url, faults);
        let args: &[&str] = match command {
            "destroy" => &["destroy", "workflows/prod.drone", "--yes"],
            _ => &["run", "workflows/prod.drone", "--yes", "--param", "ghost_version=5.97.0"],
        };
        let mut child = prod(&proxy.url, &state, args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn drone");
        let started = std::time::Instant::now();
        while proxy.faults.load(Ordering::SeqCst) == 0 && child.try_wait().expect("wait").is_none() {
            assert!(started.elapsed() < Duration::from_secs(180), "the held request never came");
            std::thread::sleep(Duration::from_millis(5));
        }
        if child.try_wait().expect("wait").is_some() {
            let out = child.wait_with_output().expect("output");
            panic!("drone finished before the held request {request}:\n{}\n{}", text(&out).0, text(&out).1);
        }
        let _ = child.kill();
        let _ = child.wait();
        drop(proxy);
        let out = run(&mut prod(&moto.url, &state, args));
        assert_exit(&out, 0);
        eprintln!("the further {command}:\n{}", text(&out).0);
        converges(&moto, &state).await;
    }
    eprintln!("hook kill points: {} tried, {} converged", points.len(), points.len());
}

/// Puts versions and a delete marker into prod's artifacts bucket, as releases leave it.
async fn fill_artifacts(endpoint: &str) {
    let s3 = super::support::s3_client(&sdk_config(endpoint).await);
    for key in ["releases/1.zip", "releases/2.zip", "logs/alb.log"] {
        for body in ["one", "two"] {
            let body = aws_sdk_s3::primitives::ByteStream::from_static(body.as_bytes());
            s3.put_object().bucket("shuttle-prod-artifacts").key(key).body(body).send().await.expect("put");
        }
    }
    s3.delete_object().bucket("shuttle-prod-artifacts").key("logs/alb.log").send().await.expect("delete marker");
}

const REPOSITORY: &str = r#"workflow "registry" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.ecr.repository images {
  name           = "registry-images"
  scan_on_push   = true
  immutable_tags = true
  tags           = { team = "platform" }
}
"#;

/// A resource deleted while it is being read (here between its describe and its tags, as a
/// concurrent destroy does) is gone, whichever of its calls learnt it: the plan proposes to
/// create it again instead of failing the refresh.
#[tokio::test(flavor = "multi_thread")]
async fn a_resource_deleted_part_way_through_its_read_counts_as_gone() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), REPOSITORY).expect("write");
    let drone_via = |url: &str, args: &[&str]| {
        let mut cmd = super::support::drone(Some(url));
        cmd.current_dir(dir.path()).args(args).args(["--state", "state.json"]);
        cmd
    };
    assert_exit(&run(&mut drone_via(&moto.url, &["run", "w.drone", "--yes"])), 0);

    // The describe's answer is held after moto gave it; the repository is deleted meanwhile.
    let faults = Faults {
        hold_at: Some(("DescribeRepositories", Held::AfterServer)),
        hold: Duration::from_secs(3),
        ..Faults::default()
    };
    let proxy = FaultProxy::new(&moto.url, faults);
    let child = drone_via(&proxy.url, &["plan", "w.drone", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drone");
    let started = std::time::Instant::now();
    while proxy.faults.load(Ordering::SeqCst) == 0 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(proxy.faults.load(Ordering::SeqCst) > 0, "the describe was never held");
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(&moto.url).await);
    ecr.delete_repository().repository_name("registry-images").force(true).send().await.expect("delete");
    let out = child.wait_with_output().expect("plan");
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&text(&out).0).expect("plan json");
    let gone: Vec<bool> =
        plan["drift"].as_array().expect("drift").iter().filter_map(|d| d["deleted"].as_bool()).collect();
    assert_eq!(gone, [true], "{plan}");
    assert_eq!(plan["actions"][0]["action"], "create", "{plan}");
}
