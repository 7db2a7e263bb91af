//! The compose tests' image, built once per test run from Debian's busybox-static (the
//! engine here has no images and cannot pull): `FROM scratch`, busybox and its applet links,
//! so `sh`, `httpd`, `cat` ... exist in the container.

use std::process::Command;
use std::sync::OnceLock;

pub const IMAGE: &str = "hoist-test/compose-busybox:1";

/// Build the image (once per test binary) and return its reference.
pub fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(build);
    IMAGE
}

fn build() {
    let busybox = std::path::Path::new("/bin/busybox");
    assert!(
        busybox.exists(),
        "/bin/busybox is missing: install it with `apt-get install -y busybox-static` (scripts/test does this)"
    );
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(busybox, ctx.path().join("busybox")).unwrap();
    std::fs::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY busybox /bin/busybox\nRUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\nCMD [\"sh\"]\n",
    )
    .unwrap();
    let out = Command::new("docker")
        .args(["build", "-q", "-t", IMAGE])
        .arg(ctx.path())
        .output()
        .unwrap_or_else(|e| panic!("cannot run docker (install docker.io and start dockerd): {e}"));
    assert!(
        out.status.success(),
        "building {IMAGE} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
