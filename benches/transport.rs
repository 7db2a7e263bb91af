//! The transport at its limits, on a fleet host, side by side with plain OpenSSH in one run:
//!
//! (a) 200 MB of output (2 M lines) through `hoist run` — streamed (`stream: true, capture:
//!     false`: every line printed with its host prefix, to /dev/null, as ssh's are) and
//!     captured — vs `ssh host cmd > /dev/null`: wall time (best of 3) and peak RSS.
//! (b) one 200 MB line (no newline), the same way.
//! (c) the time until a host whose packets are silently dropped is named (keepalive), for a
//!     command that would otherwise run 60 s.
//! (d) per-command overhead: 200 sequential `true` through hoist vs `ssh` through a master.
//!
//! Run: `cargo bench --bench transport` (starts the fleet: `scripts/fleet up 4`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::fleet::{Fleet, fleet};

const LINES_200MB: &str = "yes $(printf %099d 0) | head -c 200000000";
const ONE_LINE_200MB: &str = "head -c 200000000 /dev/zero | tr -c a a";

/// Run a command to completion; its wall time, peak RSS in MiB and whether it succeeded.
fn measure(mut c: Command) -> (Duration, f64, bool) {
    let m = support::rusage::run(c.stdout(Stdio::null()).stderr(Stdio::inherit()));
    (m.took, m.peak_rss_mib, m.ok)
}

fn hoist_script(f: &Fleet, dir: &std::path::Path, text: &str) -> Command {
    std::fs::write(dir.join("b.rhai"), text).unwrap();
    let mut c = f.hoist_cmd(dir);
    c.args(["run", "b.rhai"]);
    c
}

fn ssh(f: &Fleet) -> Command {
    let mut c = Command::new("ssh");
    c.arg("-F").arg(&f.ssh_config);
    c
}

fn row(what: &str, hoist: (Duration, f64, bool), ssh: (Duration, f64, bool)) {
    assert!(hoist.2 && ssh.2, "{what}: a run failed");
    println!(
        "{what:<34} hoist {:>6.2}s {:>6.1} MiB | ssh {:>6.2}s {:>5.1} MiB | time ×{:.2}",
        hoist.0.as_secs_f64(),
        hoist.1,
        ssh.0.as_secs_f64(),
        ssh.1,
        hoist.0.as_secs_f64() / ssh.0.as_secs_f64()
    );
}

/// Rounds of each big-output run, taken in turn (a slow moment of the machine hits all three);
/// the fastest of each is compared, peak RSS is the largest seen.
const ROUNDS: usize = 3;

fn best(runs: &[(Duration, f64, bool)]) -> (Duration, f64, bool) {
    (
        runs.iter().map(|r| r.0).min().unwrap_or_default(),
        runs.iter().map(|r| r.1).fold(0.0, f64::max),
        runs.iter().all(|r| r.2),
    )
}

fn big_output(f: &Fleet, dir: &std::path::Path, what: &str, cmd: &str) {
    let h = &f.host(1).name;
    let (mut plain, mut streamed, mut captured) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let mut c = ssh(f);
        c.args([h.as_str(), cmd]);
        plain.push(measure(c));
        streamed.push(measure(hoist_script(
            f,
            dir,
            &format!(r#"ssh("{h}").run("{cmd}", #{{stream: true, capture: false}}); "#),
        )));
        captured.push(measure(hoist_script(
            f,
            dir,
            &format!(r#"let o = ssh("{h}").run("{cmd}"); o.stdout.len()"#),
        )));
    }
    let plain = best(&plain);
    row(&format!("{what}, streamed"), best(&streamed), plain);
    row(&format!("{what}, captured"), best(&captured), plain);
}

fn dead_host_detection(f: &Fleet, dir: &std::path::Path) {
    let victim = f.host(4);
    let worker = {
        let c = hoist_script(
            f,
            dir,
            &format!(r#"ssh("{}").run("sleep 60");"#, victim.name),
        );
        std::thread::spawn(move || measure(c))
    };
    while victim.sh("pgrep -x sleep").code != 0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let cut_at = Instant::now();
    let _cut = f.fault("cut", victim);
    let (_, _, ok) = worker.join().unwrap();
    assert!(!ok, "the cut host's command cannot succeed");
    println!(
        "{:<34} {:.1}s after the cut (keepalive {}s × 3)",
        "a silently dropped host named",
        cut_at.elapsed().as_secs_f64(),
        hoist::host::SshOptions::default().keepalive.as_secs()
    );
}

fn per_command(f: &Fleet, dir: &std::path::Path) {
    const N: usize = 200;
    let h = &f.host(2).name;
    let hoist = measure(hoist_script(
        f,
        dir,
        &format!(r#"let h = ssh("{h}"); h.run("true"); for i in 0..{N} {{ h.run("true"); }}"#),
    ));
    let one = measure(hoist_script(f, dir, &format!(r#"ssh("{h}").run("true");"#)));
    let sock = dir.join("m.sock");
    let mut m = ssh(f);
    m.args(["-M", "-N", "-f", "-S"]).arg(&sock).arg(h.as_str());
    assert!(m.status().unwrap().success());
    let started = Instant::now();
    for _ in 0..N {
        let mut c = ssh(f);
        c.arg("-S").arg(&sock).args([h.as_str(), "true"]);
        assert!(c.status().unwrap().success());
    }
    let plain = started.elapsed();
    let mut stop = ssh(f);
    stop.arg("-S").arg(&sock).args(["-O", "exit", h.as_str()]);
    let _ = stop.stderr(Stdio::null()).status();
    let per_hoist = (hoist.0.saturating_sub(one.0)).as_secs_f64() * 1000.0 / N as f64;
    let per_ssh = plain.as_secs_f64() * 1000.0 / N as f64;
    println!(
        "{:<34} hoist {per_hoist:.2} ms | ssh via master {per_ssh:.2} ms | ×{:.2}",
        "per command (200 sequential)",
        per_hoist / per_ssh
    );
}

fn main() {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    println!(
        "hoist transport benchmark (fleet host, {} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    big_output(f, dir.path(), "200 MB in 2 M lines", LINES_200MB);
    big_output(f, dir.path(), "one 200 MB line", ONE_LINE_200MB);
    per_command(f, dir.path());
    dead_host_detection(f, dir.path());
}
