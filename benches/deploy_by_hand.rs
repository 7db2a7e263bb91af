//! hoist's `deploy --domain` (the release behind the host's Caddy) against the same engine work
//! done by hand, side by side in one run, on 1 and 3 fleet hosts: each round builds a new image
//! of a one-service app (the busybox test image serving a page) and pushes it; then on every
//! host at once, by hand over plain `ssh` (one connection per host, as a person's terminal):
//! write the compose file with the new image, `docker compose up -d --wait`, and `curl` the
//! page. hoist's recipe does strictly more: a lock, release records, its pre-flight of the new
//! image beside the live one (which then takes the traffic behind the proxy), the HTTP check,
//! the guard that undoes a lost run, and the old release stopped after its drain.
//!
//! Fairness: every timed run replaces a live release (a first deploy of each, untimed, comes
//! first); registry logins are done beforehand for both; even fleet hosts get the compose v2
//! plugin for the run (`--wait` is v2's) and lose it after; rounds alternate. Median of
//! ROUNDS (min–max).
//!
//! Needs the fleet (`scripts/fleet up 4`) and scripts/caddy-image. Run:
//! `cargo bench --bench deploy_by_hand`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::bench::{
    bench_inventory, deploy_args, give_compose_v2, side_by_side, take_compose_v2, uptime,
    write_context,
};
use support::fleet::{FleetHost, OnDrop, fleet};

const COUNTS: [usize; 2] = [1, 3];
const ROUNDS: usize = 3;
const HAND_PORT: u16 = 18661;

fn run_ok(c: &mut Command, what: &str) {
    let o = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        o.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn main() {
    let f = fleet();
    let hosts: Vec<&FleetHost> = (1..=3).map(|n| f.host(n)).collect();
    let caddy = support::caddy::image(f);

    // `--wait` is compose v2's: even hosts get the plugin for the run, as odd hosts have it.
    let even = give_compose_v2(&hosts);

    let pid = std::process::id();
    let (happ, bapp) = (format!("hlhd{pid}"), format!("hlbh{pid}"));
    let (hdir, bdir) = (format!("/tmp/hl-{happ}"), format!("/tmp/hl-{bapp}"));
    let _restore = OnDrop(|| {
        for h in &hosts {
            for (app, dir) in [(&happ, &hdir), (&bapp, &bdir)] {
                h.sh(&format!(
                    "cd {dir} 2>/dev/null && docker compose --project-name {app} down -t 1; rm -rf {dir} /root/.hoist/locks/{app}"
                ));
            }
            support::caddy::remove_proxy(h);
        }
        take_compose_v2(&even);
        for word in [&happ, &bapp] {
            support::images::remove_matching(word);
        }
    });
    for h in &hosts {
        support::caddy::remove_proxy(h);
    }
    f.login_hosts();

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let home = w.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(w.join("hoist.toml"), bench_inventory(&f.registry, &COUNTS)).unwrap();
    // The app behind the proxy publishes no port.
    std::fs::write(
        w.join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    stop_grace_period: 1s\n",
    )
    .unwrap();

    let hoist = |n: usize, tag: &str| -> f64 {
        let text = format!("hoist {tag}");
        write_context(&w.join("happ"), &text);
        let domain = format!("{happ}.test");
        let started = Instant::now();
        run_ok(
            f.hoist_cmd(w)
                .env("HOME", &home)
                .args(deploy_args(n, &happ, &hdir, &f.registry_user, "happ", tag))
                .args([
                    "--domain",
                    &domain,
                    "--health-path",
                    "/index.html",
                    "--proxy-image",
                    &caddy,
                ]),
            &format!("hoist deploy {tag} to {n} hosts"),
        );
        let took = started.elapsed().as_secs_f64();
        for h in &hosts[..n] {
            assert_eq!(
                support::caddy::through(h, &domain, "/index.html"),
                text,
                "{}: after hoist's deploy",
                h.name
            );
        }
        took
    };

    let by_hand = |n: usize, tag: &str| -> f64 {
        let text = format!("hand {tag}");
        write_context(&w.join("bapp"), &text);
        let image = format!("{}/{bapp}:{tag}", f.registry);
        let started = Instant::now();
        run_ok(
            Command::new("docker")
                .args(["build", "-q", "-t", &image])
                .arg(w.join("bapp")),
            "docker build",
        );
        run_ok(
            Command::new("docker").args(["push", "-q", &image]),
            "docker push",
        );
        let script = format!(
            "set -e; mkdir -p {bdir} && cd {bdir} && \
             printf 'services:\\n  web:\\n    image: {image}\\n    ports: [\"127.0.0.1:{HAND_PORT}:8080\"]\\n    stop_grace_period: 1s\\n    healthcheck:\\n      test: [\"CMD\", \"wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1:8080/index.html\"]\\n      interval: 1s\\n' > docker-compose.yml && \
             docker compose -p {bapp} up -d --wait --quiet-pull >/dev/null 2>&1 && \
             curl -fsS -m 5 http://127.0.0.1:{HAND_PORT}/index.html"
        );
        // Every host at once, as a person with a terminal per server.
        let children: Vec<_> = hosts[..n]
            .iter()
            .map(|h| {
                Command::new("ssh")
                    .arg("-F")
                    .arg(&f.ssh_config)
                    .args([&h.name, &script])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("run ssh")
            })
            .collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().expect("wait for ssh"))
            .collect();
        let took = started.elapsed().as_secs_f64();
        for (h, o) in hosts[..n].iter().zip(outs) {
            assert!(
                o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == text,
                "{}: by hand {tag}: {}{}",
                h.name,
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        took
    };
    let started = Instant::now();
    println!("load before: {}", uptime());
    hoist(3, "r0");
    by_hand(3, "r0");
    let rows = side_by_side(&COUNTS, ROUNDS, hoist, by_hand);
    println!(
        "a release of a one-service app, new image each round (build + push included), median of {ROUNDS} (min–max)"
    );
    println!(
        "  {:<6} {:<26} {:<26} hoist/by hand",
        "hosts", "hoist deploy --domain", "by hand (ssh, compose)"
    );
    for (n, (h, hmin, hmax), (b, bmin, bmax)) in &rows {
        println!(
            "  {n:<6} {:<26} {:<26} ×{:.2}",
            format!("{h:.2}s ({hmin:.2}–{hmax:.2})"),
            format!("{b:.2}s ({bmin:.2}–{bmax:.2})"),
            h / b
        );
    }
    println!(
        "load after: {} (bench took {:?})",
        uptime(),
        Duration::from_secs(started.elapsed().as_secs())
    );
}
