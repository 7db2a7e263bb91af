//! A child's wall time and peak RSS, for the benchmarks: `wait4` reaps the child and reports
//! its rusage, which std's `wait` cannot.

use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Measured {
    pub took: Duration,
    pub peak_rss_mib: f64,
    pub ok: bool,
    /// What it wrote to stderr, if the caller piped it (read after it exited: keep it under
    /// what a pipe holds).
    pub stderr: String,
}

/// Run `c` (its stdio set by the caller) to completion.
#[allow(clippy::zombie_processes)]
pub fn run(c: &mut Command) -> Measured {
    let started = Instant::now();
    let mut child = c.spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain wait4 on our own child; `rusage` is written by the kernel.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let took = started.elapsed();
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    Measured {
        took,
        peak_rss_mib: usage.ru_maxrss as f64 / 1024.0,
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stderr,
    }
}
