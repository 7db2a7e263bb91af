//! The test image. The engine here starts empty and can pull nothing, so the tests build
//! their own base image once per test process: `FROM scratch` + Debian's static busybox.
//! `busybox httpd` serves /www on port 8080 with a health endpoint (/health answers "ok"),
//! and the image has a HEALTHCHECK that asks it.

use std::process::Command;
use std::sync::OnceLock;

/// The image name (built on first use).
pub const BUSYBOX: &str = "hoist-test/busybox:latest";

const DOCKERFILE: &str = r#"FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
COPY www /www
HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"#;

/// Build the busybox test image (with the docker CLI, independent of the code under test)
/// and return its name.
pub fn busybox() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let busybox = std::path::Path::new("/bin/busybox");
        assert!(
            busybox.exists(),
            "/bin/busybox is missing: install it with `apt-get install -y busybox-static` (scripts/test does this)"
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(busybox, dir.path().join("busybox")).unwrap();
        std::fs::create_dir_all(dir.path().join("www")).unwrap();
        std::fs::write(dir.path().join("www/health"), "ok\n").unwrap();
        std::fs::write(dir.path().join("www/index.html"), "hello from hoist\n").unwrap();
        std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
        let out = Command::new("docker")
            .args(["build", "-q", "-t", BUSYBOX])
            .arg(dir.path())
            .env("DOCKER_BUILDKIT", "0")
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run the docker CLI ({e}): install docker.io and start dockerd")
            });
        assert!(
            out.status.success(),
            "building the test image failed (is dockerd running?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    });
    BUSYBOX
}

/// A name unique to this test process, for containers, networks, volumes and tags.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    format!(
        "hoist-test-{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Remove containers whose name starts with `prefix` (best effort, for test clean-up).
pub fn remove_containers(prefix: &str) {
    let out = Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("name={prefix}")])
        .output();
    if let Ok(out) = out {
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let _ = Command::new("docker")
                .args(["rm", "-f"])
                .args(&ids)
                .output();
        }
    }
}
