//! The compose tests' image, built once per test run from Debian's busybox-static (the
//! engine here has no images and cannot pull): `FROM scratch`, busybox and its applet links,
//! so `sh`, `httpd`, `cat` ... exist in the container.

use std::sync::OnceLock;

pub const IMAGE: &str = "hoist-test/compose-busybox:1";

/// Build the image (once per test binary) and return its reference.
pub fn image() -> &'static str {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(build);
    IMAGE
}

fn build() {
    let ctx = tempfile::tempdir().unwrap();
    super::images::from_busybox(IMAGE, ctx.path(), "CMD [\"sh\"]\n");
}
