//! A MariaDB server for task tests: Debian's `mariadbd` (scripts/test installs
//! it), a fresh data directory, a free loopback port, stopped on drop. Loads
//! Ghost's schema (tests/fixtures/ghost/schema.sql) into `ghost`, owned by a
//! `ghost` user whose password is the one the tests give the workflows.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{root, DB_PASSWORD};

/// A running server.
pub struct MariaDb {
    child: Child,
    /// Its TCP port on 127.0.0.1.
    pub port: u16,
    dir: tempfile::TempDir,
}

fn tool(name: &str) -> PathBuf {
    let dir = std::env::var("DRONE_MARIADB_BIN").map(PathBuf::from).ok();
    dir.map(|d| d.join(name)).filter(|p| p.exists()).unwrap_or_else(|| {
        ["/usr/sbin", "/usr/bin"].iter().map(|d| PathBuf::from(d).join(name)).find(|p| p.exists()).unwrap_or_else(
            || panic!("{name} is not installed (run the tests with scripts/test, which installs mariadb-server)"),
        )
    })
}

impl MariaDb {
    /// Starts a server with Ghost's schema loaded.
    pub fn start() -> MariaDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data = dir.path().join("data");
        let install = Command::new(tool("mariadb-install-db"))
            .args(["--no-defaults", "--auth-root-authentication-method=normal", "--skip-test-db", "--user=root"])
            .arg(format!("--datadir={}", data.display()))
            // Its own temporary files: servers bootstrapped side by side once tripped over each other's in /tmp.
            .env("TMPDIR", dir.path())
            .output()
            .expect("mariadb-install-db");
        assert!(install.status.success(), "mariadb-install-db: {}", String::from_utf8_lossy(&install.stderr));
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        let child = Command::new(tool("mariadbd"))
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", dir.path().join("sock").display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .args(["--user=root", "--bind-address=127.0.0.1", "--skip-log-bin", "--innodb-buffer-pool-size=32M"])
            .args(["--innodb-log-file-size=16M", "--skip-name-resolve"])
            .arg(format!("--port={port}"))
            .env("TMPDIR", dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mariadbd");
        let server = MariaDb { child, port, dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !server.client("").arg("-e").arg("SELECT 1").output().is_ok_and(|o| o.status.success()) {
            assert!(Instant::now() < deadline, "mariadbd did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        server.sql(
            "",
            &format!(
                "CREATE DATABASE ghost CHARACTER SET utf8mb4; CREATE USER 'ghost'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';
                 GRANT ALL ON ghost.* TO 'ghost'@'127.0.0.1'; GRANT TRIGGER ON ghost.* TO 'ghost'@'127.0.0.1';"
            ),
        );
        let schema = std::fs::read_to_string(root().join("tests/fixtures/ghost/schema.sql")).expect("Ghost schema");
        server.sql("ghost", &schema);
        server
    }

    fn client(&self, database: &str) -> Command {
        let mut cmd = Command::new(tool("mariadb"));
        cmd.args(["--no-defaults", "--protocol=tcp", "-h127.0.0.1", "-uroot", "-N", "-B"])
            .arg(format!("-P{}", self.port));
        if !database.is_empty() {
            cmd.arg(database);
        }
        cmd
    }

    /// A root client running `sql` (sent on its standard input), its output going to `stdout`.
    fn spawn(&self, database: &str, sql: &str, stdout: Stdio) -> Child {
        use std::io::Write;
        let mut child = self
            .client(database)
            .stdin(Stdio::piped())
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .expect("mariadb client");
        child.stdin.take().expect("stdin").write_all(sql.as_bytes()).expect("send SQL");
        child
    }

    /// Runs `sql` as root and returns what it printed (tab-separated rows).
    #[track_caller]
    pub fn sql(&self, database: &str, sql: &str) -> String {
        let out = self.spawn(database, sql, Stdio::piped()).wait_with_output().expect("mariadb client");
        assert!(
            out.status.success(),
            "SQL failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            &sql[..sql.len().min(500)]
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Runs `sql` as root in a client that keeps its session until it finishes
    /// or is killed (to hold locks while a test runs).
    pub fn session(&self, database: &str, sql: &str) -> Child {
        self.spawn(database, sql, Stdio::null())
    }

    /// A single number a query returns.
    #[track_caller]
    pub fn count(&self, sql: &str) -> u64 {
        self.sql("ghost", sql).parse().unwrap_or_else(|_| panic!("not a count: {sql}"))
    }

    /// `--tunnel` to this server for the cluster at `address`.
    pub fn tunnel(&self, address: &str) -> String {
        format!("{address}=127.0.0.1:{}", self.port)
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}
