//! SIGINT, SIGTERM and SIGHUP all mean "stop": the first cancels the run (the remote command
//! it waits on is killed, connections are closed, undo steps run). A second one skips the
//! undo: each undo in progress is stopped and says what it leaves its host in, locks are
//! removed (or named, when a host does not answer in time), and the run ends — at the latest
//! after [`LAST_WORDS`]; a third signal leaves at once.
//! The exit code says which signal ended the run (128 + its number: 130, 143, 129), as a shell
//! would report it, so a supervisor (systemd, CI, `timeout`) sees what happened.

use std::sync::atomic::{AtomicI32, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::services::Services;

/// The signal that cancelled the run; 0 while none has.
static RECEIVED: AtomicI32 = AtomicI32::new(0);

/// How long a run may take to report and remove its locks after a second signal.
const LAST_WORDS: std::time::Duration = std::time::Duration::from_secs(15);

/// Whether the process is at a point where it can leave at once (the REPL at its prompt).
type Idle = fn() -> bool;

/// Set by the REPL: a hang-up means its terminal is gone, so the session must end, not only
/// the input running in it. (The terminal library would otherwise spin on the dead terminal
/// forever, at full CPU.)
static LEAVE_ON_HANGUP: std::sync::OnceLock<Idle> = std::sync::OnceLock::new();

/// For the REPL: on SIGHUP, cancel what runs and leave — at once when `idle()` says nothing
/// runs, else after the input's clean-up, at the latest after [`LAST_WORDS`].
pub fn leave_on_hangup(idle: Idle) {
    let _ = LEAVE_ON_HANGUP.set(idle);
}

/// Watch for the stop signals on a thread of its own, cancelling `services` on the first.
pub fn install(services: Services) {
    let mut signals = match Signals::new([SIGINT, SIGTERM, SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot watch for signals: {e}");
            return;
        }
    };
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if services.is_abandoned() {
                std::process::exit(128 + sig);
            }
            if services.is_cancelled() && RECEIVED.load(Ordering::SeqCst) != 0 {
                services.abandon();
                std::thread::spawn(move || {
                    std::thread::sleep(LAST_WORDS);
                    std::process::exit(128 + sig);
                });
                continue;
            }
            RECEIVED.store(sig, Ordering::SeqCst);
            services.cancel();
            if sig == SIGHUP
                && let Some(idle) = LEAVE_ON_HANGUP.get()
            {
                if idle() {
                    std::process::exit(128 + sig);
                }
                std::thread::spawn(move || {
                    std::thread::sleep(LAST_WORDS);
                    std::process::exit(128 + sig);
                });
            }
        }
    });
}

/// The exit code for a cancelled run: 128 + the signal that stopped it (130 when none did).
pub fn cancelled_exit_code() -> i32 {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => 130,
        sig => 128 + sig,
    }
}
