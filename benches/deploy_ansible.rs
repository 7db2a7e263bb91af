//! hoist's `deploy` vs Ansible doing the same steps, side by side in one run, on 1, 3 and 5
//! fleet hosts: a two-service compose app (`web`, a new image each round built from a tiny
//! Dockerfile over the busybox test image, and `side`, a fixed image from the fleet registry;
//! both have a healthcheck). Each round builds and pushes the new image on this machine,
//! then on every host: registry login, pull, write the compose project, up waiting for health,
//! and an HTTP check of the published port. Ansible runs benches/ansible/deploy.yml with
//! community.docker (docker_login, docker_image, docker_image_pull, docker_compose_v2) and
//! ansible.builtin (file, copy, uri); hoist runs its built-in recipe, which also starts the new
//! image beside the live one as a pre-flight before replacing it.
//!
//! Fairness: every timed run replaces a live release (a first deploy of both apps to all
//! hosts comes before, untimed). docker_compose_v2 needs compose v2, which even fleet hosts
//! lack, so for the bench every even host gets the v2 plugin (as odd hosts have it; hoist
//! then uses v2 there too) and loses it again at the end. Ansible gets pipelining, no fact
//! gathering, the hosts' /usr/bin/python3 named (no interpreter discovery) and forks 10; each
//! run opens its own SSH connections (its own ControlPath directory), as each hoist run does.
//! Three rounds per host count, alternating hoist and Ansible; median and min–max printed.
//!
//! Needs: the fleet (`scripts/fleet up 5`: started here), python3 with venv and PyPI for
//! Ansible (a venv is made once under ~/.cache/hoist/), python3-requests on the fleet hosts
//! (in the fleet image). Run: `cargo bench --bench deploy_ansible`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::bench::{
    bench_inventory, deploy_args, give_compose_v2, side_by_side, take_compose_v2, uptime,
    write_context,
};
use support::fleet::{FleetHost, OnDrop, fleet, fleet_cmd};

const ANSIBLE: &str = "ansible==12.3.0";
const HOSTS: usize = 5;
const COUNTS: [usize; 3] = [1, 3, 5];
const ROUNDS: usize = 3;
const HOIST_PORT: u16 = 18651;
const ANSIBLE_PORT: u16 = 18652;

/// A venv with Ansible (and requests, which community.docker needs on the controller), made
/// once; the path of its bin directory. Fails saying how to get what is missing.
fn ansible_venv() -> PathBuf {
    let home = std::env::var("HOME").expect("HOME");
    let cache = std::env::var("HOIST_CACHE").unwrap_or_else(|_| format!("{home}/.cache/hoist"));
    let venv = Path::new(&cache).join(format!("ansible-venv-{}", ANSIBLE.replace("==", "-")));
    let bin = venv.join("bin");
    if bin.join("ansible-playbook").exists() {
        return bin;
    }
    eprintln!("making a venv with {ANSIBLE} at {} (once)", venv.display());
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        made,
        "cannot make a Python venv: install python3 and python3-venv (apt-get install -y python3-venv)"
    );
    let o = Command::new(bin.join("pip"))
        .args(["install", "-q", ANSIBLE, "requests"])
        .output()
        .expect("run pip");
    if !o.status.success() {
        let _ = std::fs::remove_dir_all(&venv);
        panic!(
            "pip install {ANSIBLE} requests failed (PyPI must be reachable):\n{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    bin
}

fn compose(port: u16, side: &str) -> String {
    format!(
        "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    stop_grace_period: 1s\n  side:\n    image: {side}\n    stop_grace_period: 1s\n"
    )
}

fn main() {
    let venv = ansible_venv();
    // The tests' fleet has 4 hosts: one added here is removed at the end.
    let fleet_name = std::env::var("HOIST_FLEET_NAME").unwrap_or_else(|_| "hoist-fleet".into());
    let had = Command::new("docker")
        .args(["inspect", &format!("{fleet_name}-host{HOSTS}")])
        .output()
        .is_ok_and(|o| o.status.success());
    fleet_cmd(&["up", &HOSTS.to_string()]);
    let f = fleet();
    let prefix = f.host(1).ip.rsplit_once('.').unwrap().0.to_string();
    let mut hosts: Vec<FleetHost> = f.hosts.clone();
    for n in hosts.len() + 1..=HOSTS {
        hosts.push(FleetHost {
            name: format!("host{n}"),
            ip: format!("{prefix}.{}", 10 + n),
            n,
        });
    }
    for h in &hosts {
        let r = h.sh("python3 -c 'import requests'");
        assert_eq!(
            r.code, 0,
            "{}: python3-requests is missing (Ansible's docker modules need it on the host); it is in \
             scripts/fleet's FLEET_PACKAGES: rebuild the fleet with `scripts/fleet down && scripts/fleet up {HOSTS}`",
            h.name
        );
    }

    // docker_compose_v2 needs the v2 plugin: even hosts get it for the bench, and lose it after.
    let all: Vec<&FleetHost> = hosts.iter().collect();
    let even = give_compose_v2(&all);

    let pid = std::process::id();
    let (happ, aapp) = (format!("hlbh{pid}"), format!("hlba{pid}"));
    let (hdir, adir) = (
        format!("/tmp/hl-bench-{happ}"),
        format!("/tmp/hl-bench-{aapp}"),
    );
    let _restore = OnDrop(|| {
        for h in &hosts {
            for (app, dir) in [(&happ, &hdir), (&aapp, &adir)] {
                h.sh(&format!(
                    "cd {dir} 2>/dev/null && docker compose --project-name {app} down; rm -rf {dir} /root/.hoist/locks/{app}"
                ));
            }
        }
        take_compose_v2(&even);
        for word in [&happ, &aapp, &format!("hlside{pid}")] {
            support::images::remove_matching(word);
        }
    });

    f.login_hosts();
    let side = f.push(support::images::busybox(), &format!("hlside{pid}:1"));
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let home = w.join("home");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(w.join("hoist.toml"), bench_inventory(&f.registry, &COUNTS)).unwrap();
    std::fs::write(w.join("compose.yml"), compose(HOIST_PORT, &side)).unwrap();
    std::fs::write(w.join("ansible-compose.yml"), compose(ANSIBLE_PORT, &side)).unwrap();
    let inventory: String = COUNTS
        .iter()
        .map(|&n| {
            let names: Vec<String> = (1..=n).map(|i| format!("host{i}")).collect();
            format!("[g{n}]\n{}\n", names.join("\n"))
        })
        .collect();
    std::fs::write(w.join("inventory.ini"), inventory).unwrap();
    std::fs::write(
        w.join("ansible.cfg"),
        format!(
            "[defaults]\ninventory = {inv}\nforks = 10\ninterpreter_python = /usr/bin/python3\nretry_files_enabled = False\n\
             [ssh_connection]\npipelining = True\nssh_args = -F {cfg} -o ControlMaster=auto -o ControlPersist=60s\n",
            inv = w.join("inventory.ini").display(),
            cfg = f.ssh_config.display()
        ),
    )
    .unwrap();
    let playbook = support::fleet::repo_root().join("benches/ansible/deploy.yml");

    let serves = |n: usize, port: u16, text: &str| {
        for h in &hosts[..n] {
            let got = h.get(&format!("http://127.0.0.1:{port}/index.html"));
            assert_eq!(got, text, "{}: after the deploy", h.name);
        }
    };
    let hoist = |n: usize, tag: &str| -> f64 {
        let text = format!("hoist {tag}");
        write_context(&w.join("happ"), &text);
        let started = Instant::now();
        let o = f
            .hoist_cmd(w)
            .env("HOME", &home)
            .args(deploy_args(n, &happ, &hdir, &f.registry_user, "happ", tag))
            .args([
                "--health-port",
                &HOIST_PORT.to_string(),
                "--health-path",
                "/index.html",
            ])
            .output()
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        assert!(
            o.status.success(),
            "hoist deploy {tag} to {n} hosts failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        serves(n, HOIST_PORT, &text);
        took
    };
    let ansible = |n: usize, tag: &str| -> f64 {
        let text = format!("ansible {tag}");
        write_context(&w.join("aapp"), &text);
        let cp = tempfile::tempdir().unwrap();
        let extra = serde_json::json!({
            "target": format!("g{n}"),
            "image": format!("{}/{aapp}:{tag}", f.registry),
            "registry": f.registry,
            "registry_user": f.registry_user,
            "context": w.join("aapp"),
            "compose_src": w.join("ansible-compose.yml"),
            "dir": adir,
            "project": aapp,
            "web_port": ANSIBLE_PORT,
        });
        let started = Instant::now();
        let o = Command::new(venv.join("ansible-playbook"))
            .arg(&playbook)
            .args(["-e", &extra.to_string()])
            .env("ANSIBLE_CONFIG", w.join("ansible.cfg"))
            .env("ANSIBLE_SSH_CONTROL_PATH_DIR", cp.path())
            .env("HOME", &home)
            .env("REGISTRY_PASSWORD", &f.registry_password)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let took = started.elapsed().as_secs_f64();
        assert!(
            o.status.success(),
            "ansible-playbook {tag} to {n} hosts failed:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        serves(n, ANSIBLE_PORT, &text);
        took
    };

    let started = Instant::now();
    println!("load before: {}", uptime());
    // The live release on every host, for both: each timed run replaces one.
    hoist(HOSTS, "r0");
    ansible(HOSTS, "r0");
    let rows = side_by_side(&COUNTS, ROUNDS, hoist, ansible);
    println!(
        "deploy of a two-service compose app, new web image each round (build + push included), \
         median of {ROUNDS} (min–max)"
    );
    println!(
        "  {:<6} {:<24} {:<24} hoist/Ansible",
        "hosts", "hoist deploy", "Ansible playbook"
    );
    for (n, (h, hmin, hmax), (a, amin, amax)) in &rows {
        println!(
            "  {n:<6} {:<24} {:<24} ×{:.2}",
            format!("{h:.2}s ({hmin:.2}–{hmax:.2})"),
            format!("{a:.2}s ({amin:.2}–{amax:.2})"),
            h / a
        );
    }
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    println!(
        "  {} hosts / 1 host: hoist ×{:.2}, Ansible ×{:.2}",
        last.0,
        last.1.0 / first.1.0,
        last.2.0 / first.2.0
    );
    println!(
        "load after: {} (bench took {:?})",
        uptime(),
        Duration::from_secs(started.elapsed().as_secs())
    );
    drop(_restore);
    if !had {
        let _ = Command::new("docker")
            .args(["rm", "-f", &format!("{fleet_name}-host{HOSTS}")])
            .output();
        fleet_cmd(&["up", "4"]);
    }
}
