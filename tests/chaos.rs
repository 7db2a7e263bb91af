//! The chaos harness's short schedule, run on every landing (issue 32): `scripts/chaos` drives
//! the built-in release recipes on its own fleet with faults at random moments and checks the
//! invariants through the hosts after every run. A fixed seed, so a failure here replays with
//! the command it prints. The soak is the same script with more runs (see README, "Chaos").

use std::process::Command;

/// Runs and seed of the short schedule: a deploy killed (SIGKILL) and run again, a deploy
/// whose container exits, an upgrade killed and run again: about 4 minutes (5 under load).
const RUNS: &str = "3";
const SEED: &str = "5";

#[test]
fn a_short_chaos_schedule_breaks_no_invariant() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(root.join("scripts/chaos"))
        .args(["--runs", RUNS, "--seed", SEED])
        .env("HOIST_BIN", env!("CARGO_BIN_EXE_hoist"))
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run scripts/chaos ({e}): it needs python3 (apt-get install -y python3)")
        });
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = said.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("{RUNS} runs, ")) && last.ends_with(", 0 violations"),
        "scripts/chaos --runs {RUNS} --seed {SEED}:\n{said}"
    );
    assert!(out.status.success(), "{said}");
}
