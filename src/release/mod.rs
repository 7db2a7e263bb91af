//! Safe releases of compose apps: the release engine (records, kept files, pre-flight,
//! guarded cutover, rollback, watch) and what keeps two runs from colliding on one app (the
//! lock). Plain Rust over [`Host`] and the Engine API; `script::api::release` only converts
//! arguments. See engine.rs for the order of a release's steps.

mod check;
mod cutover;
pub mod diff;
mod engine;
pub mod guard;
pub mod history;
pub mod layout;
pub mod legacy;
pub mod lock;
mod preflight;
mod prepare;
pub mod readiness;
pub mod record;
mod routed;
mod routing;
mod store;
pub mod tag;
pub mod undo;
mod watch;

pub use check::Failure;
pub use cutover::Switched;
pub use engine::{Candidate, NewFiles, Release, ReleaseOptions, Stage};
pub use history::{History, NoTarget};
pub use record::{Outcome, PinKind, Record};
pub use routed::Routing;
pub use store::Store;

use std::time::Duration;

use crate::error::Result;
use crate::host::Host;
use crate::report::{Event, Level};
use crate::runtime::Runtime;

/// Run `body` holding the lock `name` on every one of `hosts`: taken on all of them before
/// `body` starts (all or none, waiting up to `wait`), removed from all of them afterwards —
/// after a failure and after Ctrl-C too (the release is shielded from the interrupt).
pub fn with_lock<R>(
    rt: &Runtime,
    hosts: &[Host],
    name: &str,
    recipe: &str,
    wait: Duration,
    body: impl FnOnce() -> R,
) -> Result<R> {
    let me = lock::Holder::me(recipe);
    let taken = rt.block_on(lock::acquire_all(hosts, name, &me, wait))?;
    let result = body();
    let warn = |h: &Host, why: &str| {
        rt.services.reporter.event(Event::Message {
            level: Level::Warn,
            text: format!(
                "{}: could not remove the lock `{name}` ({why}); once the host answers, `hoist lock release --app {name}` removes it",
                h.name(),
            ),
        });
    };
    if rt.services.is_abandoned() {
        // A second signal: the run is on its way out. Every lock is still removed where the
        // host answers within a few seconds (all hosts at once); the others are named.
        crate::services::last_words(|| {
            let all = taken.iter().map(|h| async move {
                let r = tokio::time::timeout(LAST_LOCK_WAIT, lock::release_mine(h, name)).await;
                (h, r)
            });
            for (h, r) in rt.block_on(futures_util::future::join_all(all)) {
                match r {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => warn(h, &e.message),
                    Err(_) => warn(h, "no answer in time after the second signal"),
                }
            }
        });
        return Ok(result);
    }
    crate::services::shielded(|| {
        for h in &taken {
            if let Err(e) = rt.block_on(lock::release_mine(h, name)) {
                warn(h, &e.message);
            }
        }
    });
    Ok(result)
}

/// How long each host may take to remove its lock once a second signal came.
const LAST_LOCK_WAIT: Duration = Duration::from_secs(8);
