//! hoist's docker primitives vs the docker CLI, in one run, as ratios.
//!
//! One round = run a busybox container, inspect it, read its logs, remove it; 20 rounds
//! each way:
//! - locally: hoist through /var/run/docker.sock vs `docker run/inspect/logs/rm`;
//! - over SSH (the test sshd on this machine): hoist through the host's one SSH connection
//!   (forwarded docker socket) vs `ssh -F <test config> root@127.0.0.1 -p PORT docker ...`
//!   per command — what a person or a script typing `ssh host docker ...` gets.
//!
//! Run: `cargo bench --bench docker` (needs sshd, busybox-static and a running dockerd,
//! like the tests).

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use hoist::docker::{CommandSpec, Docker, LogsOpts, RmOpts, RunOpts};
use hoist::host::HostSpec;

const ROUNDS: usize = 20;

fn hoist_rounds(rt: &hoist::Runtime, d: &Docker, image: &str, tag: &str) -> Duration {
    let started = Instant::now();
    for i in 0..ROUNDS {
        let name = format!("hoist-bench-{tag}-{}-{i}", std::process::id());
        let opts = RunOpts {
            name: Some(name.clone()),
            command: Some(CommandSpec::Argv(vec![
                "sh".into(),
                "-c".into(),
                "echo hello; sleep 60".into(),
            ])),
            ..Default::default()
        };
        rt.block_on(d.run(image, &opts)).expect("run");
        let info = rt.block_on(d.inspect(&name)).expect("inspect");
        assert!(info.id.is_some());
        let _logs = rt
            .block_on(d.logs(&name, &LogsOpts::default()))
            .expect("logs");
        rt.block_on(d.rm(
            &name,
            &RmOpts {
                force: true,
                volumes: false,
            },
        ))
        .expect("rm");
    }
    started.elapsed()
}

/// The same round with the docker CLI; `prefix` is how each command is started
/// (`["docker"]` or `["ssh", ..., "docker"]`).
fn cli_rounds(prefix: &[String], image: &str, tag: &str) -> Duration {
    // Over ssh the remote shell joins the words again, so the script needs its quotes.
    let script = if prefix[0] == "ssh" {
        "'echo hello; sleep 60'"
    } else {
        "echo hello; sleep 60"
    };
    let run = |args: &[&str]| {
        let out = Command::new(&prefix[0])
            .args(&prefix[1..])
            .args(args)
            .output()
            .expect("run the docker CLI");
        assert!(
            out.status.success(),
            "{prefix:?} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let started = Instant::now();
    for i in 0..ROUNDS {
        let name = format!("hoist-bench-cli-{tag}-{}-{i}", std::process::id());
        run(&["run", "-d", "--name", &name, image, "sh", "-c", script]);
        run(&["inspect", &name]);
        run(&["logs", &name]);
        run(&["rm", "-f", &name]);
    }
    started.elapsed()
}

fn main() {
    // `cargo bench` passes --bench; nothing to parse.
    let image = support::images::busybox();
    let sshd = support::sshd();
    let (rt, _) = support::runtime();
    let spec = sshd.spec(1);
    let host = rt.host(&HostSpec::parse(&spec).unwrap());
    let local = rt.local();
    let d_local = rt.block_on(rt.docker(&local)).expect("local engine");
    let started = Instant::now();
    let d_ssh = rt.block_on(rt.docker(&host)).expect("engine over ssh");
    let connect_ms = started.elapsed().as_millis();

    // Warm up both paths once (image layers cached, connections open).
    hoist_rounds_once(&rt, &d_local, image, "local");
    hoist_rounds_once(&rt, &d_ssh, image, "ssh");

    let local_cli: Vec<String> = vec!["docker".into()];
    let ssh_cli: Vec<String> = vec![
        "ssh".into(),
        "-F".into(),
        sshd.config.display().to_string(),
        "-p".into(),
        sshd.port_of(1).to_string(),
        "root@127.0.0.1".into(),
        "docker".into(),
    ];

    let h_local = hoist_rounds(&rt, &d_local, image, "local");
    let c_local = cli_rounds(&local_cli, image, "local");
    let h_ssh = hoist_rounds(&rt, &d_ssh, image, "ssh");
    let c_ssh = cli_rounds(&ssh_cli, image, "ssh");

    let per = |d: Duration| d.as_secs_f64() * 1000.0 / ROUNDS as f64;
    println!("docker: {ROUNDS} rounds of run + inspect + logs + rm (busybox container)");
    println!("  ssh engine connect (tunnel + version negotiation): {connect_ms} ms, once per run");
    println!(
        "  local: hoist {:>8.1} ms/round   docker CLI {:>8.1} ms/round   CLI/hoist = {:.2}x",
        per(h_local),
        per(c_local),
        c_local.as_secs_f64() / h_local.as_secs_f64()
    );
    println!(
        "  ssh:   hoist {:>8.1} ms/round   ssh+docker {:>8.1} ms/round   CLI/hoist = {:.2}x",
        per(h_ssh),
        per(c_ssh),
        c_ssh.as_secs_f64() / h_ssh.as_secs_f64()
    );
    let goal = c_ssh.as_secs_f64() / h_ssh.as_secs_f64();
    println!(
        "  goal (hoist >= 2x faster than the CLI over SSH): {}",
        if goal >= 2.0 { "met" } else { "NOT met" }
    );
    support::images::remove_containers("hoist-bench-");
    rt.shutdown();
}

fn hoist_rounds_once(rt: &hoist::Runtime, d: &Docker, image: &str, tag: &str) {
    let name = format!("hoist-bench-warm-{tag}-{}", std::process::id());
    rt.block_on(d.run(
        image,
        &RunOpts {
            name: Some(name.clone()),
            ..Default::default()
        },
    ))
    .expect("warm-up run");
    rt.block_on(d.rm(
        &name,
        &RmOpts {
            force: true,
            volumes: false,
        },
    ))
    .expect("warm-up rm");
}
