//! What the whole machine did while a benchmark step ran: processes started and CPU time
//! spent, from `/proc/stat`. A fan-out benchmark's hosts run on the same machine as the
//! controller, so this counts both sides — the ssh clients, the sshd sessions and every
//! process the remote shells start — and shows where a wall-clock ratio comes from.

/// Counters of `/proc/stat` at one moment.
#[derive(Clone, Copy)]
pub struct Counters {
    processes: u64,
    busy_ticks: u64,
}

/// What happened between two readings.
pub struct Work {
    /// Processes (and threads) started.
    pub processes: u64,
    /// CPU seconds spent by anything but the idle task (steal and I/O wait not counted).
    pub cpu_secs: f64,
}

impl Counters {
    pub fn now() -> Counters {
        let stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
        let field = |name: &str| -> Vec<u64> {
            stat.lines()
                .find(|l| l.split_whitespace().next() == Some(name))
                .unwrap_or_else(|| panic!("/proc/stat has no {name} line"))
                .split_whitespace()
                .skip(1)
                .map(|v| v.parse().unwrap_or(0))
                .collect()
        };
        // cpu: user nice system idle iowait irq softirq steal ...
        let cpu = field("cpu");
        let busy_ticks = [0, 1, 2, 5, 6]
            .iter()
            .map(|i| cpu.get(*i).copied().unwrap_or(0))
            .sum();
        Counters {
            processes: field("processes")[0],
            busy_ticks,
        }
    }

    pub fn since(self, before: Counters) -> Work {
        // SAFETY: sysconf has no preconditions.
        let ticks_per_sec = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
        Work {
            processes: self.processes - before.processes,
            cpu_secs: (self.busy_ticks - before.busy_ticks) as f64 / ticks_per_sec,
        }
    }
}
