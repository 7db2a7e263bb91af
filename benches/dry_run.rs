//! The cost of a plan: `hoist deploy --dry-run` of a new release on 5 fleet hosts, side by
//! side with the real `hoist deploy` of the live release (nothing to change) in one run.
//! Three of each, alternating; the median and the spread are printed, with the ratio.
//!
//! Run: `cargo bench --bench dry_run` (adds a fifth host to the fleet: `scripts/fleet up 5`, and
//! removes it at the end).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::fleet::{fleet, fleet_cmd};

const HOSTS: usize = 5;
const PORT: u16 = 18631;

fn main() {
    // The tests' fleet has 4 hosts; `up 5` adds one and keeps the others as they are.
    fleet_cmd(&["up", &HOSTS.to_string()]);
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let app = format!("bench{}", std::process::id());
    let remote = format!("/tmp/hoist-bench-{}", std::process::id());
    let hosts: Vec<String> = (1..=HOSTS).map(|n| format!("\"host{n}\"")).collect();
    std::fs::write(
        dir.path().join("hoist.toml"),
        format!(
            "[env.bench]\nvars = {{ registry = \"{}\" }}\n[env.bench.hosts]\nweb = [{}]\n",
            f.registry,
            hosts.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        format!(
            "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{PORT}:8080\"\n    stop_grace_period: 1s\n"
        ),
    )
    .unwrap();
    let ctx = dir.path().join("app");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY index.html /www/index.html\n",
            support::images::busybox()
        ),
    )
    .unwrap();
    std::fs::write(ctx.join("index.html"), "bench\n").unwrap();
    let deploy = |tag: &str, extra: &[&str]| -> Duration {
        let started = Instant::now();
        let o = f
            .hoist_cmd(dir.path())
            .env("HOME", home.path())
            .args([
                "deploy",
                "--watch",
                "0",
                "--env",
                "bench",
                "--app",
                &app,
                "--dir",
                &remote,
                "--user",
                &f.registry_user,
                "--context",
                "app",
                "--tag",
                tag,
                "--quiet",
            ])
            .args(extra)
            .output()
            .unwrap();
        let took = started.elapsed();
        assert!(
            o.status.success(),
            "deploy {tag} {extra:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        took
    };
    // The live release, everywhere.
    deploy("b1", &[]);
    let (mut real, mut plan) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        real.push(deploy("b1", &[]));
        plan.push(deploy("b2", &["--dry-run"]));
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        (v[1].as_secs_f64(), v[0].as_secs_f64(), v[2].as_secs_f64())
    };
    let (r, rmin, rmax) = stats(&mut real);
    let (p, pmin, pmax) = stats(&mut plan);
    println!("deploy to {HOSTS} fleet hosts (median of 3, min–max)");
    println!("  real run, nothing to change   {r:>6.2}s  ({rmin:.2}–{rmax:.2})");
    println!("  --dry-run of a new release    {p:>6.2}s  ({pmin:.2}–{pmax:.2})");
    println!("  dry run / real run            ×{:.2}", p / r);
    // Leave the shared fleet as the tests know it: four hosts.
    let fleet_name = std::env::var("HOIST_FLEET_NAME").unwrap_or_else(|_| "hoist-fleet".into());
    let _ = std::process::Command::new("docker")
        .args(["rm", "-f", &format!("{fleet_name}-host{HOSTS}")])
        .output();
    fleet_cmd(&["up", "4"]);
    for n in 1..HOSTS {
        let compose = if n % 2 == 1 {
            "docker compose"
        } else {
            "docker-compose"
        };
        let h = format!("host{n}");
        fleet_cmd(&[
            "exec",
            &h,
            "sh",
            "-c",
            &format!(
                "cd {remote} && {compose} --project-name {app} down; rm -rf {remote} /root/.hoist/locks/{app}; true"
            ),
        ]);
    }
}
