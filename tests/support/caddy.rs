//! The Caddy image of the proxy tests: built by scripts/caddy-image from Debian's `caddy`
//! package (the fleet reaches no Docker Hub), pushed to the fleet registry once per test
//! binary; hosts pull it from there as production pulls `caddy:2`. And the front proxy's
//! state as a host shows it (docker on the host itself, not through hoist).

#![allow(dead_code)]

use std::process::Command;
use std::sync::OnceLock;

use super::fleet::{Fleet, FleetHost, repo_root};

/// The image's name in the fleet registry.
pub fn image(f: &Fleet) -> String {
    static PUSHED: OnceLock<String> = OnceLock::new();
    PUSHED
        .get_or_init(|| {
            let script = repo_root().join("scripts/caddy-image");
            let o = Command::new(&script)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
            assert!(
                o.status.success(),
                "scripts/caddy-image failed (it needs docker, apt-get with bookworm's lists and busybox-static):\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
            let local = String::from_utf8_lossy(&o.stdout)
                .lines()
                .last()
                .expect("scripts/caddy-image printed its tag")
                .trim()
                .to_string();
            f.push(&local, "hoist-caddy:2.6")
        })
        .clone()
}

/// Remove the proxy (container, its volumes, its network) from `h`: a test starts from none.
pub fn remove_proxy(h: &FleetHost) {
    h.sh(
        "docker rm -f hoist-proxy >/dev/null 2>&1; docker volume rm hoist-proxy-config hoist-proxy-data >/dev/null 2>&1; docker network rm hoist-proxy >/dev/null 2>&1; true",
    );
}

/// What the proxy on `h` answers for `domain` at `path` over plain HTTP ("" when it fails).
pub fn through(h: &FleetHost, domain: &str, path: &str) -> String {
    h.sh(&format!(
        "curl -fsS -m 3 -H 'Host: {domain}' http://127.0.0.1{path}"
    ))
    .stdout
    .trim()
    .to_string()
}

/// The same over HTTPS (SNI and Host `domain`; the internal CA is not trusted here).
pub fn through_tls(h: &FleetHost, domain: &str, path: &str) -> String {
    h.sh(&format!(
        "curl -fsSk -m 5 --resolve {domain}:443:127.0.0.1 https://{domain}{path}"
    ))
    .stdout
    .trim()
    .to_string()
}

/// Caddy's config on `h`, read with `docker exec` on the host.
pub fn config(h: &FleetHost) -> serde_json::Value {
    let text = h.sh_ok("docker exec hoist-proxy wget -q -O - http://127.0.0.1:2019/config/");
    serde_json::from_str(text.trim()).unwrap_or(serde_json::Value::Null)
}
