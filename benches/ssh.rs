//! SSH speed, side by side with plain OpenSSH in the same run, as ratios.
//!
//! (a) 100 sequential small commands on one host: hoist (one connection, a long-lived shell)
//!     vs `ssh` through a ControlMaster, one command per `ssh` invocation.
//! (b) N = 10, 40 and 100 hosts × 5 commands: `hoist run` with `on(...)` vs OpenSSH (a
//!     ControlMaster per host, hosts in parallel) vs one streamed `ssh host sh` per host.
//!
//! Run: `cargo bench --bench ssh` (starts its own sshd instances on loopback).

#[path = "../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::process::{Command as Proc, Stdio};
use std::time::{Duration, Instant};

use hoist::command::Command;
use hoist::host::HostSpec;
use support::machine::{Counters, Work};

const CMDS: [&str; 5] = [
    "true",
    "uname -a",
    "cat /etc/os-release",
    "test -d /tmp",
    "date",
];

fn ssh(cfg: &std::path::Path) -> Proc {
    let mut c = Proc::new("ssh");
    c.arg("-F").arg(cfg);
    c
}

fn ssh_target(spec: &str) -> (String, String) {
    // "root@127.0.0.N:PORT" -> ("root@127.0.0.N", "PORT")
    let (left, port) = spec.rsplit_once(':').unwrap();
    (left.to_string(), port.to_string())
}

fn start_master(cfg: &std::path::Path, spec: &str, sock: &std::path::Path) {
    let (dest, port) = ssh_target(spec);
    let st = ssh(cfg)
        .args([
            "-M",
            "-f",
            "-N",
            "-o",
            "ControlPersist=yes",
            "-p",
            &port,
            "-S",
        ])
        .arg(sock)
        .arg(&dest)
        .status()
        .unwrap();
    assert!(st.success(), "ControlMaster for {spec}");
}

fn stop_master(cfg: &std::path::Path, spec: &str, sock: &std::path::Path) {
    let (dest, port) = ssh_target(spec);
    let _ = ssh(cfg)
        .args(["-p", &port, "-S"])
        .arg(sock)
        .args(["-O", "exit"])
        .arg(&dest)
        .stderr(Stdio::null())
        .status();
}

fn via_master(cfg: &std::path::Path, spec: &str, sock: &std::path::Path, cmd: &str) {
    let (dest, port) = ssh_target(spec);
    let out = ssh(cfg)
        .args(["-p", &port, "-S"])
        .arg(sock)
        .arg(&dest)
        .arg(cmd)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(out.success());
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn sequential(cfg: &std::path::Path, spec: &str) {
    const N: usize = 100;
    let (rt, _) = support::runtime();
    let host = rt.host(&HostSpec::parse(spec).unwrap());
    rt.block_on(host.connect()).unwrap();
    rt.block_on(host.run(&Command::argv(["true"]))).unwrap(); // shell open
    let t = Instant::now();
    for _ in 0..N {
        rt.block_on(host.run(&Command::argv(["true"]))).unwrap();
    }
    let hoist_t = t.elapsed();
    rt.shutdown();

    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("cm");
    start_master(cfg, spec, &sock);
    let t = Instant::now();
    for _ in 0..N {
        via_master(cfg, spec, &sock, "true");
    }
    let cm_t = t.elapsed();
    stop_master(cfg, spec, &sock);

    println!("(a) {N} sequential `true` on one open host");
    println!(
        "    hoist (long-lived shell)     {:8.3} s   {:7.2} ms/command",
        secs(hoist_t),
        secs(hoist_t) * 1000.0 / N as f64
    );
    println!(
        "    ssh via ControlMaster        {:8.3} s   {:7.2} ms/command",
        secs(cm_t),
        secs(cm_t) * 1000.0 / N as f64
    );
    println!(
        "    ratio ControlMaster / hoist  {:8.1}x",
        secs(cm_t) / secs(hoist_t)
    );
}

fn fan_out(cfg: &std::path::Path, n: usize) {
    let sshd = support::sshd();
    // As an ordinary user: root's login shell here runs pyenv's init (bash reads ~/.bashrc for
    // an ssh command), which would be most of what is measured, and at 100 hosts its rehash
    // lock makes sessions wait up to a minute.
    let specs: Vec<String> = (1..=n)
        .map(|i| sshd.spec_user(support::NOSUDO_USER, i))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    // hoist run with an inventory and on(...)
    let toml = format!(
        "[env.bench.hosts]\nall = [{}]\n",
        specs
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    std::fs::write(dir.path().join("hoist.toml"), toml).unwrap();
    let cmds = CMDS
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        dir.path().join("b.rhai"),
        format!("on(hosts(), |h| {{ for c in [{cmds}] {{ h.run(c); }} }});\n"),
    )
    .unwrap();
    // Best of ROUNDS for hoist and the streamed reference (taken in turn, so a slow moment of
    // the machine hits both); the ControlMaster reference, far slower, runs once.
    let mut hoist_runs = Vec::new();
    let mut stream_runs = Vec::new();
    let mut hoist_work = Vec::new();
    let mut stream_work = Vec::new();
    let mut hoist_rss = 0.0f64;
    for _ in 0..ROUNDS {
        let mut c = support::hoist_cmd();
        c.current_dir(dir.path())
            .args(["run", "b.rhai", "--env", "bench", "--forks", "128"]);
        let before = Counters::now();
        let (took, rss) = timed_with_rss(c);
        hoist_work.push(Counters::now().since(before));
        hoist_runs.push(took);
        hoist_rss = hoist_rss.max(rss);
        // The masters of the run just measured end LINGER after it: not inside the next.
        std::thread::sleep(hoist::host::SSH_MASTER_LINGER + Duration::from_millis(500));
        let before = Counters::now();
        stream_runs.push(streamed(cfg, &specs));
        stream_work.push(Counters::now().since(before));
    }
    let hoist_t = best(&hoist_runs);
    let stream_t = best(&stream_runs);

    // OpenSSH: a ControlMaster per host, 5 commands through it, hosts in parallel.
    let t = Instant::now();
    std::thread::scope(|s| {
        for (i, spec) in specs.iter().enumerate() {
            let sock = dir.path().join(format!("cm{i}"));
            s.spawn(move || {
                start_master(cfg, spec, &sock);
                for c in CMDS {
                    via_master(cfg, spec, &sock, c);
                }
                stop_master(cfg, spec, &sock);
            });
        }
    });
    let cm_t = t.elapsed();

    println!(
        "(b) {n} hosts x {} commands, connections included (best of {ROUNDS}, range)",
        CMDS.len()
    );
    println!(
        "    hoist run + on(...)          {:8.3} s   ({})   peak RSS {:.1} MiB, {:.0} KiB per host",
        secs(hoist_t),
        spread(&hoist_runs),
        hoist_rss,
        hoist_rss * 1024.0 / n as f64
    );
    println!(
        "    OpenSSH ControlMaster        {:8.3} s   ratio hoist/this {:5.2}",
        secs(cm_t),
        secs(hoist_t) / secs(cm_t)
    );
    println!(
        "    streamed `ssh host sh`       {:8.3} s   ({})   ratio hoist/this {:5.2}  (target <= 1.0)",
        secs(stream_t),
        spread(&stream_runs),
        secs(hoist_t) / secs(stream_t)
    );
    println!(
        "    work per host, whole machine (both sides): hoist {}; streamed {}",
        per_host(&hoist_work, n),
        per_host(&stream_work, n)
    );
}

/// Processes started and CPU spent per host (the least CPU of the rounds).
fn per_host(work: &[Work], n: usize) -> String {
    let processes = work.iter().map(|w| w.processes).min().unwrap_or(0);
    let cpu = work
        .iter()
        .map(|w| w.cpu_secs)
        .fold(f64::INFINITY, f64::min);
    format!(
        "{:.1} processes, {:.1} ms CPU",
        processes as f64 / n as f64,
        cpu * 1000.0 / n as f64
    )
}

const ROUNDS: usize = 3;

fn best(runs: &[Duration]) -> Duration {
    runs.iter().copied().min().unwrap_or_default()
}

fn spread(runs: &[Duration]) -> String {
    let lo = best(runs);
    let hi = runs.iter().copied().max().unwrap_or_default();
    format!("{:.3}–{:.3}", secs(lo), secs(hi))
}

/// One streamed `ssh host sh` per host with the five commands written into it, hosts in
/// parallel: the simplest way to run them, and the reference hoist's fan-out is held to.
fn streamed(cfg: &std::path::Path, specs: &[String]) -> Duration {
    let t = Instant::now();
    std::thread::scope(|s| {
        for spec in specs {
            s.spawn(move || {
                let (dest, port) = ssh_target(spec);
                let mut child = ssh(cfg)
                    .args(["-p", &port])
                    .arg(&dest)
                    .arg("sh")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap();
                let mut stdin = child.stdin.take().unwrap();
                for c in CMDS {
                    writeln!(stdin, "{c}").unwrap();
                }
                drop(stdin);
                assert!(child.wait().unwrap().success());
            });
        }
    });
    t.elapsed()
}

/// Run hoist to completion; wall time and peak RSS in MiB.
fn timed_with_rss(mut c: Proc) -> (Duration, f64) {
    // stderr is its summary table: far less than a pipe holds, so it never blocks.
    let m = support::rusage::run(c.stdout(Stdio::null()).stderr(Stdio::piped()));
    assert!(m.ok, "hoist run failed: {}", m.stderr);
    (m.took, m.peak_rss_mib)
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing special: run both ways.
    support::want_hosts(100);
    let sshd = support::sshd();
    let cfg = sshd.config.clone();
    println!(
        "hoist SSH benchmark (loopback sshd, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    sequential(&cfg, &sshd.spec(1));
    for n in [10, 40, 100] {
        fan_out(&cfg, n);
    }
}
