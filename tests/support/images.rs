//! The test image. The engine here starts empty and can pull nothing, so the tests build
//! their own base image once per test process: `FROM scratch` + Debian's static busybox.
//! `busybox httpd` serves /www on port 8080 with a health endpoint (/health answers "ok"),
//! and the image has a HEALTHCHECK that asks it.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// The image name (built on first use).
pub const BUSYBOX: &str = "hoist-test/busybox:latest";

/// What the test image adds to the busybox base.
const TAIL: &str = r#"COPY www /www
HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1
EXPOSE 8080
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
"#;

/// Build the busybox test image (with the docker CLI, independent of the code under test)
/// and return its name.
pub fn busybox() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let ctx = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ctx.path().join("www")).unwrap();
        std::fs::write(ctx.path().join("www/health"), "ok\n").unwrap();
        std::fs::write(ctx.path().join("www/index.html"), "hello from hoist\n").unwrap();
        from_busybox(BUSYBOX, ctx.path(), TAIL);
    });
    BUSYBOX
}

/// The test image, but stopping at SIGTERM as real services do (busybox httpd as PID 1
/// ignores it, so compose waits its whole grace period, 10 s, on every stop). For tests of
/// runbook stacks, whose compose files set no grace period; tests that need a stop to take
/// long use [`busybox`] and a `stop_grace_period`.
#[allow(dead_code)]
pub fn stops_at_sigterm() -> &'static str {
    const IMAGE: &str = "hoist-test/busybox-term:latest";
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let ctx = tempfile::tempdir().unwrap();
        std::fs::write(
            ctx.path().join("Dockerfile"),
            format!(
                "FROM {}
CMD [\"sh\", \"-c\", \"trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait\"]\n",
                busybox()
            ),
        )
        .unwrap();
        build(IMAGE, ctx.path());
    });
    IMAGE
}

/// Build `tag` in `ctx`: `FROM scratch` plus Debian's static busybox and its applet links
/// (so `sh`, `httpd`, `wget` ... exist), then the Dockerfile lines in `tail`.
pub fn from_busybox(tag: &str, ctx: &Path, tail: &str) {
    let busybox = Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: install it with `apt-get install -y busybox-static` (scripts/test does this)"
    );
    std::fs::copy(busybox, ctx.join("busybox")).unwrap();
    let head = "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n";
    std::fs::write(ctx.join("Dockerfile"), format!("{head}{tail}")).unwrap();
    build(tag, ctx);
}

/// Write the build context `project/app` of an image that serves `page` at /index.html (the
/// busybox image's httpd), as a recipe's `--context app` builds it; its path.
#[allow(dead_code)]
pub fn page_context(project: &Path, page: &str) -> std::path::PathBuf {
    let ctx = project.join("app");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!("FROM {}\nCOPY index.html /www/index.html\n", busybox()),
    )
    .unwrap();
    std::fs::write(ctx.join("index.html"), format!("{page}\n")).unwrap();
    ctx
}

/// `docker build -q -t TAG CTX` with the docker CLI (test set-up, independent of the code
/// under test); a failure says how to get docker.
pub fn build(tag: &str, ctx: &Path) {
    let out = Command::new("docker")
        .args(["build", "-q", "-t", tag])
        .arg(ctx)
        .env("DOCKER_BUILDKIT", "0")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run the docker CLI ({e}): install docker.io and start dockerd")
        });
    assert!(
        out.status.success(),
        "building {tag} failed (is dockerd running?): {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build `tag` over the busybox image: a layer holding `blob_bytes` bytes that depend only on
/// `seed` (the same seed gives the same layer), then a small layer with `/www/index.html`
/// saying `text`. For tests and benches of what travels when only the top layer changes.
pub fn with_blob_layer(tag: &str, seed: u32, blob_bytes: u32, text: &str) {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::write(ctx.path().join("index.html"), format!("{text}\n")).unwrap();
    let blob: Vec<u8> = (0..blob_bytes)
        .map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed) >> 13) as u8)
        .collect();
    std::fs::write(ctx.path().join("blob"), blob).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        format!(
            "FROM {}\nCOPY blob /blob\nCOPY index.html /www/index.html\n",
            busybox()
        ),
    )
    .unwrap();
    build(tag, ctx.path());
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

/// Remove the local images whose repository contains `word` (e.g. an app name with the test's
/// pid), best effort: a test's or bench's clean-up of what it built and tagged here.
pub fn remove_matching(word: &str) {
    let Ok(out) = Command::new("docker")
        .args(["images", "--format", "{{.Repository}}:{{.Tag}}"])
        .output()
    else {
        return;
    };
    let refs: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        // REPOSITORY:TAG, where the repository may hold a registry's host:port.
        .filter(|r| {
            r.rsplit_once(':')
                .is_some_and(|(repo, _)| repo.contains(word))
        })
        .map(str::to_string)
        .collect();
    if !refs.is_empty() {
        let _ = Command::new("docker").arg("rmi").args(&refs).output();
    }
}

/// A project directory `hoist deploy` can release: a Dockerfile over the test image serving
/// `page` at /, and the compose file `compose` naming it `${IMAGE}`, published on `port`.
#[allow(dead_code)]
pub fn deploy_project(dir: &Path, page: &str, compose: &str, port: u16) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("Dockerfile"),
        format!("FROM {}\nCOPY index.html /www/index.html\n", busybox()),
    )
    .unwrap();
    std::fs::write(dir.join("index.html"), format!("{page}\n")).unwrap();
    std::fs::write(
        dir.join(compose),
        format!("services:\n  web:\n    image: ${{IMAGE}}\n    ports: [\"{port}:8080\"]\n"),
    )
    .unwrap();
}

/// Remove every local image of `repo` (what a test's `deploy` built here, `APP:TAG`).
#[allow(dead_code)]
pub fn remove_repo(repo: &str) {
    let ids = Command::new("docker")
        .args(["images", "-q", repo])
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker: {e}"));
    for id in String::from_utf8_lossy(&ids.stdout).split_whitespace() {
        let _ = Command::new("docker").args(["rmi", "-f", id]).output();
    }
}
