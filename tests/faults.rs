//! Disturbed runs: a fault-injecting HTTP proxy on loopback between drone
//! and moto_server answers a seeded share of requests with throttling errors,
//! in each service's own protocol, without forwarding them. drone (the SDK's
//! retries, then its own with backoff and per-service budgets; waiters and
//! refresh wait throttling out) must converge within one further run, and the
//! account must hold exactly what state records: no duplicate, no orphan.
//! (Replies lost after the server acted, delays past the client's timeout and
//! `kill -9` belong with the intent log, which is not built yet.)

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::support::{assert_exit, prod, run, sdk_config, text, Moto};

/// A proxy on a free loopback port, stopped on drop.
pub struct FaultProxy {
    /// Its base URL.
    pub url: String,
    stop: Arc<AtomicBool>,
    /// Requests answered with a fault.
    pub faults: Arc<AtomicU64>,
    /// Requests forwarded.
    pub forwarded: Arc<AtomicU64>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Forwards to `upstream` (`http://host:port`), throttling each request
    /// with probability `rate`, decided by a generator seeded with `seed`.
    pub fn throttling(upstream: &str, rate: f64, seed: u64) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        listener.set_nonblocking(true).expect("nonblocking");
        let upstream = upstream.trim_start_matches("http://").to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let faults = Arc::new(AtomicU64::new(0));
        let forwarded = Arc::new(AtomicU64::new(0));
        let dice = Arc::new(Mutex::new(seed.max(1)));
        let (stop_a, faults_a, forwarded_a) = (stop.clone(), faults.clone(), forwarded.clone());
        let accept = std::thread::spawn(move || {
            while !stop_a.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let (upstream, dice) = (upstream.clone(), dice.clone());
                        let (faults, forwarded, stop) = (faults_a.clone(), forwarded_a.clone(), stop_a.clone());
                        std::thread::spawn(move || {
                            let throttle = || roll(&dice) < rate;
                            let _ = serve(client, &upstream, throttle, &faults, &forwarded, &stop);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        FaultProxy { url, stop, faults, forwarded, accept: Some(accept) }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
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

/// Reads one message from `reader`; `None` at the end of the connection.
fn read_message(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Message>> {
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

/// Serves one client connection: each request is throttled or forwarded.
fn serve(
    client: TcpStream,
    upstream: &str,
    throttle: impl Fn() -> bool,
    faults: &AtomicU64,
    forwarded: &AtomicU64,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut writer = client.try_clone()?;
    let mut reader = BufReader::new(client);
    while !stop.load(Ordering::SeqCst) {
        let request = match read_message(&mut reader) {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(e) => return Err(e),
        };
        if throttle() {
            faults.fetch_add(1, Ordering::SeqCst);
            writer.write_all(&throttled(&request))?;
            continue;
        }
        forwarded.fetch_add(1, Ordering::SeqCst);
        let mut server = TcpStream::connect(upstream)?;
        server.write_all(&request.bytes())?;
        let mut from_server = BufReader::new(server);
        let response =
            read_message(&mut from_server)?.ok_or_else(|| std::io::Error::other("the server closed the connection"))?;
        writer.write_all(&response.bytes())?;
    }
    Ok(())
}

/// A throttling error as the request's service writes one.
fn throttled(request: &Message) -> Vec<u8> {
    let path = request.head.split_whitespace().nth(1).unwrap_or("/");
    let body = String::from_utf8_lossy(&request.body);
    let json = request.header("x-amz-target").is_some() || path.starts_with("/2015-02-01/");
    let (content_type, status, payload) = if json {
        (
            "application/x-amz-json-1.1",
            "400 Bad Request",
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.to_string(),
        )
    } else if body.contains("Version=2016-11-15") {
        let xml = "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors><RequestID>fault</RequestID></Response>";
        ("text/xml", "503 Service Unavailable", xml.to_string())
    } else if body.starts_with("Action=") || path.starts_with("/2020-05-31/") {
        let xml = "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>fault</RequestId></ErrorResponse>";
        ("text/xml", "400 Bad Request", xml.to_string())
    } else {
        let xml = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>";
        ("application/xml", "503 Slow Down", xml.to_string())
    };
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: ThrottlingException\r\nx-amzn-RequestId: fault\r\nContent-Length: {}\r\n\r\n",
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload.as_bytes());
    out
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
        assert!(text(&first).0.contains("Apply complete: 42 created, 0 updated, 0 deleted."), "{}", text(&first).0);
    }
    let out = prod(&["plan", "workflows/prod.drone"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("No changes: 42 resource(s) match the workflow."), "{}", text(&out).0);
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
        recorded["resources"].as_object().expect("resources").keys().filter(|a| a.starts_with(prefix)).count()
    };
    assert_eq!(vpcs.vpcs().len(), count("aws.ec2.vpc."));
    assert_eq!(subnets.subnets().len(), count("aws.ec2.subnet."));
    assert_eq!(live_nats, count("aws.ec2.nat_gateway."));

    let out = prod(&["destroy", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    let vpcs = ec2.describe_vpcs().filters(workflow).send().await.expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "destroy left VPCs behind");
}
