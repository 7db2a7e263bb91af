//! Registry-free deploys vs a registry, side by side in one run, on a fleet host: the time to
//! get a freshly built image into the host's engine with `docker().send(image, h)` (only the
//! layers the host lacks travel, over hoist's SSH connection) and with `push` to the fleet
//! registry then `pull` on the host — for a first deploy (a new 20 MB layer) and a second one
//! (only the small top layer changed).
//!
//! Run: `cargo bench --bench registry_free` (starts the fleet: `scripts/fleet up 4`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use support::fleet::fleet;

fn main() {
    let f = fleet();
    f.login_hosts();
    let h = f.host(1);
    let dir = tempfile::tempdir().unwrap();
    let run = |script: &str| -> f64 {
        std::fs::write(dir.path().join("b.rhai"), script).unwrap();
        let started = Instant::now();
        let o = f
            .hoist_cmd(dir.path())
            .args(["run", "b.rhai", "-q"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        started.elapsed().as_secs_f64()
    };
    let pid = std::process::id();
    println!(
        "image into {}'s engine (20 MB layer + a page layer over busybox)",
        h.name
    );
    for (round, what) in [(1u32, "first deploy"), (2, "second deploy (page changed)")] {
        // Two repositories, so each way starts from the same state on the host.
        let (sent, pushed) = (
            format!("{}/rfb{pid}-send:v{round}", f.registry),
            format!("{}/rfb{pid}-push:v{round}", f.registry),
        );
        support::images::with_blob_layer(&sent, pid, 20_000_000, &format!("page {round}"));
        support::images::with_blob_layer(&pushed, pid + 1, 20_000_000, &format!("page {round}"));
        let send = run(&format!(r#"docker().send("{sent}", ssh("{}"));"#, h.spec()));
        let registry = run(&format!(
            r#"let r = registry("{reg}", #{{user: "{user}", password_env: "REGISTRY_PASSWORD"}}); r.login(); docker().push("{pushed}"); let d = ssh("{spec}").docker(); d.login(r); d.pull("{pushed}");"#,
            reg = f.registry,
            user = f.registry_user,
            spec = h.spec()
        ));
        println!(
            "  {what:<30} send {send:>6.2}s | push + pull {registry:>6.2}s | ×{:.2}",
            send / registry
        );
    }
    h.sh(&format!(
        "docker images --format '{{{{.Repository}}}}:{{{{.Tag}}}}' | grep rfb{pid} | xargs -r docker rmi"
    ));
}
