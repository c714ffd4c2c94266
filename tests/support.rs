//! Test support: a moto_server fixture, the drone binary with a clean AWS
//! environment, SDK clients pointed at moto, and golden-file comparison.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A moto_server on a free loopback port, stopped on drop.
pub struct Moto {
    child: Child,
    /// Its base URL.
    pub url: String,
}

impl Moto {
    /// Starts moto_server through scripts/moto_server.py, which mends where
    /// moto's answers differ from AWS's (see that file), with the Python of
    /// `DRONE_MOTO_SERVER`'s venv (else `python3` on PATH).
    pub fn start() -> Moto {
        Moto::start_with(&[])
    }

    /// Starts moto_server that authenticates and authorizes every request
    /// with IAM (after `open_auth_window`'s free requests); the launcher then
    /// also makes it check the signature of the bytes the SDK sent.
    pub fn start_enforcing() -> Moto {
        Moto::start_with(&[("INITIAL_NO_AUTH_ACTION_COUNT", "0")])
    }

    fn start_with(env: &[(&str, &str)]) -> Moto {
        let server = std::env::var("DRONE_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        // The Python of moto's venv, beside its moto_server script.
        let python = Path::new(&server).with_file_name("python");
        let program = if python.exists() { python.display().to_string() } else { "python3".to_string() };
        let launcher = root().join("scripts/moto_server.py").display().to_string();
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(&program)
            .arg(&launcher)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {program} (run the tests with scripts/test, which installs it): {e}")
            });
        let mut moto = Moto { child, url: format!("http://127.0.0.1:{port}") };
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start on {addr}");
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited early: {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }
}

impl Moto {
    /// Lets the next `requests` requests through without authentication
    /// (moto's `INITIAL_NO_AUTH_ACTION_COUNT`); every later one is checked.
    pub fn open_auth_window(&self, requests: u32) {
        self.api("/moto-api/reset-auth", &requests.to_string());
    }

    /// POSTs `body` to moto's own control API at `path`.
    fn api(&self, path: &str, body: &str) {
        use std::io::{Read, Write};
        let host = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("connect to moto");
        write!(
            stream,
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write to moto");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read from moto");
        assert!(response.starts_with("HTTP/1.1 200"), "moto {path}: {response}");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The drone binary with an environment that can only reach `endpoint`.
pub fn drone(endpoint: Option<&str>) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drone"));
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .env("SHUTTLE_DB_PASSWORD", DB_PASSWORD)
        .env("DRONE_DB_PASSWORD", DB_PASSWORD)
        .stdin(Stdio::null());
    if let Some(url) = endpoint {
        cmd.env("AWS_ENDPOINT_URL", url);
    }
    cmd
}

/// `drone ARGS` on a throwaway copy of prod.drone against `endpoint`, with
/// state at `state`: deletion protection off (the tests destroy what they
/// create), and with it the production rule that demands it, and moto's
/// stand-in certificate.
pub fn prod(endpoint: &str, state: &Path, args: &[&str]) -> Command {
    let mut cmd = drone(Some(endpoint));
    cmd.current_dir(root())
        .args(args)
        .arg("--state")
        .arg(state)
        .args(["--param", "protect_data=false"])
        .args(["--disable-policy", "data.rds_deletion_protection"]);
    cmd
}

/// How many resources workflows/prod.drone declares (with the tests' `prod` arguments).
pub const PROD_RESOURCES: usize = 152;

/// The database password the tests give prod.drone; must never appear in state or output.
pub const DB_PASSWORD: &str = "not-in-state-7f3a9c";

/// Runs a command and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run drone")
}

/// Standard output and error as text.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts an exit code, printing the output when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(code), "unexpected exit\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared SDK configuration for reading back what drone made.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("eu-west-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_s3::config::Credentials::new("testing", "testing", None, None, "tests"))
        .load()
        .await
}

/// An S3 client on `config`, addressing buckets by path as local endpoints need.
pub fn s3_client(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(config).force_path_style(true).build())
}

/// Compares `actual` with the golden file at `path`; `DRONE_BLESS=1` rewrites it.
#[track_caller]
pub fn golden(path: &Path, actual: &str) {
    if std::env::var_os("DRONE_BLESS").is_some() {
        std::fs::write(path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("missing golden file {} (run with DRONE_BLESS=1)", path.display()));
    assert_eq!(actual, expected, "golden file {} differs (review, then DRONE_BLESS=1 to accept)", path.display());
}
