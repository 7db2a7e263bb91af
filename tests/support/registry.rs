//! A real registry for the tests: Debian's `docker-registry` (the CNCF distribution server)
//! on a free loopback port, with htpasswd (bcrypt) authentication and deletes enabled. The
//! docker engine treats 127.0.0.0/8 registries as insecure by default, so plain HTTP works
//! for pushes and pulls without certificates.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRegistry {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    pub user: String,
    pub password: String,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start a fresh registry (each test gets its own, so credentials and contents are its own).
pub fn start() -> TestRegistry {
    let bin = std::path::Path::new("/usr/bin/docker-registry");
    assert!(
        bin.exists(),
        "/usr/bin/docker-registry is missing: install it with `apt-get install -y docker-registry` (scripts/test does this)"
    );
    let htpasswd = super::need_bin("htpasswd", "apache2-utils");
    let dir = tempfile::Builder::new()
        .prefix("hoist-registry-")
        .tempdir()
        .unwrap();
    let (user, password) = ("hoister".to_string(), "pw-0f9c2e7a".to_string());
    let out = Command::new(htpasswd)
        .args(["-Bbn", &user, &password])
        .output()
        .unwrap();
    assert!(out.status.success(), "htpasswd failed");
    std::fs::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
    let port = super::free_port();
    let addr = format!("127.0.0.1:{port}");
    let config = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n\
         http:\n  addr: {addr}\nauth:\n  htpasswd:\n    realm: hoist-test\n    path: {pw}\n",
        root = dir.path().join("data").display(),
        pw = dir.path().join("htpasswd").display(),
    );
    let cfg = dir.path().join("config.yml");
    std::fs::write(&cfg, config).unwrap();
    let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
    let mut cmd = Command::new(bin);
    cmd.arg("serve").arg(&cfg).stdout(Stdio::null()).stderr(log);
    let child = super::spawn_tied_to_test_process(cmd);
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            Instant::now() < deadline,
            "docker-registry did not start on {addr}: {}",
            std::fs::read_to_string(dir.path().join("registry.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    TestRegistry {
        addr,
        user,
        password,
        dir,
        child,
    }
}
