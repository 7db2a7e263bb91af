//! `on(hosts, |h| ...)`: the closure runs on every host concurrently (bounded by --forks),
//! each on its own thread with its own copy of the script's global state; after all hosts
//! finish, one error names every host that failed and why.
//!
//! `on(hosts, #{batch, pause, max_fail}, |h| ...)` rolls out in batches (see
//! [`crate::rollout`]): a batch's hosts run concurrently, batches one after another; once more
//! than max_fail hosts have failed, no further batch starts and its hosts are left untouched.

use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rhai::{Array, Dynamic, EvalAltResult, FnPtr, Map, NativeCallContext};

use crate::error::{Error, ErrorKind};
use crate::host::Host;
use crate::report::Event;
use crate::rollout::{Rollout, RolloutOptions};
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, from_rhai, lift, to_rhai};
use crate::script::state::ScriptState;

type HostResult = (Result<Dynamic, Box<EvalAltResult>>, u64);

const BATCH_DOC: &str = "on() in rolling batches. opts: #{batch, pause, max_fail}:\n\
batch: hosts per batch, a number (2) or a share of the hosts (\"25%\", rounded up); default every host at once.\n\
pause: seconds to wait between two batches (default 0).\n\
max_fail: how many failed hosts the roll-out tolerates (default 0); once more have failed, no further batch starts\n\
and its hosts are left untouched (reported as such, with the reason).\n\
A batch's hosts run concurrently (at most --forks at once); the next batch starts when the whole batch has finished.\n\
Returns #{host_name: result}; throws when any host failed, naming the failed and the untouched hosts.";

pub fn register(b: &mut Bind) {
    let s = b.st.clone();
    b.sync_fn(
        "on",
        ["hosts", "body"],
        "Run body(host) on every host concurrently (at most --forks at once); returns #{host_name: result}.\nAfter all hosts finish, throws one error naming every failed host and why.",
        move |ctx: NativeCallContext, hosts: Array, body: FnPtr| -> RhaiResult<Map> {
            on(&s, &ctx, hosts, None, body)
        },
    );
    let s = b.st.clone();
    b.taking::<RolloutOptions>().sync_fn(
        "on",
        ["hosts", "opts", "body"],
        BATCH_DOC,
        move |ctx: NativeCallContext, hosts: Array, opts: Map, body: FnPtr| -> RhaiResult<Map> {
            on(&s, &ctx, hosts, Some(opts), body)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "on",
        ["host", "body"],
        "on() for a single host.",
        move |ctx: NativeCallContext, host: Host, body: FnPtr| -> RhaiResult<Map> {
            on(&s, &ctx, vec![Dynamic::from(host)], None, body)
        },
    );
}

/// The body runs on several hosts at once, and a variable it captured is one slot shared by
/// all of them; calling a method on it (`f.call(h)` of a captured closure `f`) holds that
/// slot for the whole call, so a second host found it taken ("Data race detected"). Captured
/// functions and hoist's handles (a host, an engine, a compose project, a secret...) are values
/// nobody changes in place: each host gets the value itself. Captured data (arrays, maps,
/// strings, numbers) stays shared, so changes to it remain visible to the script.
fn unshare_captured_handles(mut body: FnPtr) -> FnPtr {
    for v in body.iter_curry_mut() {
        if v.is_shared() {
            let inner = v.flatten_clone();
            if inner.is::<FnPtr>() || inner.is_variant() {
                *v = inner;
            }
        }
    }
    body
}

fn on(
    s: &ScriptState,
    ctx: &NativeCallContext,
    hosts: Array,
    opts: Option<Map>,
    body: FnPtr,
) -> RhaiResult<Map> {
    // Options are checked before anything runs, so a typo changes nothing anywhere.
    let rolling = opts.is_some();
    let plan: Rollout = match opts {
        None => Rollout::default(),
        Some(m) => lift(options::<RolloutOptions>(Some(m), "on()")?.validate())?,
    };
    let hosts = convert::hosts(hosts, "on()")?;
    if hosts.is_empty() {
        return Ok(Map::new());
    }
    let body = unshare_captured_handles(body);
    let reporter = &s.rt.services.reporter;
    let batches = plan.batches(hosts.len());
    let mut results: Vec<Option<HostResult>> = hosts.iter().map(|_| None).collect();
    let mut failed = 0;
    let mut stopped: Option<String> = None;
    let mut batches_run = 0;
    for (k, range) in batches.iter().enumerate() {
        if k > 0 {
            stopped = before_next_batch(s, &plan, failed, k, batches.len());
            if stopped.is_some() {
                break;
            }
        }
        if batches.len() > 1 {
            reporter.event(Event::BatchStarted {
                index: k + 1,
                of: batches.len(),
                hosts: hosts[range.clone()]
                    .iter()
                    .map(|h| h.name().to_string())
                    .collect(),
            });
        }
        for (i, r) in range.clone().zip(run_batch(s, ctx, &hosts, range, &body)) {
            if r.0.is_err() {
                failed += 1;
            }
            results[i] = Some(r);
        }
        batches_run += 1;
    }

    let mut out = Map::new();
    let mut failures = Vec::new();
    let (mut done, mut failed_names, mut untouched) = (Vec::new(), Vec::new(), Vec::new());
    for (host, slot) in hosts.iter().zip(results) {
        match slot {
            None => untouched.push(host.name().to_string()),
            Some((Ok(v), _)) => {
                done.push(host.name().to_string());
                out.insert(host.name().into(), v);
            }
            Some((Err(e), _)) => {
                failed_names.push(host.name().to_string());
                failures.push(from_rhai(&e, s, &s.main_source()).host(host.name()));
            }
        }
    }
    if let Some(reason) = &stopped {
        for host in &untouched {
            reporter.event(Event::HostUntouched {
                host: host.clone(),
                reason: reason.clone(),
            });
        }
    }
    if rolling {
        reporter.event(Event::RolloutFinished {
            batches: batches.len(),
            batches_run,
            done: done.clone(),
            failed: failed_names.clone(),
            untouched: untouched.clone(),
            stopped: stopped.clone(),
        });
    }
    if failures.is_empty() && stopped.is_none() {
        return Ok(out);
    }
    let interrupted =
        s.rt.services.is_cancelled() && failures.iter().all(|e| e.kind == ErrorKind::Cancelled);
    let left = if untouched.is_empty() {
        String::new()
    } else {
        format!("; untouched: {}", untouched.join(", "))
    };
    let mut err = if interrupted {
        let mut e = Error::cancelled();
        e.message = format!("{}{left}", e.message);
        e
    } else if let Some(reason) = &stopped {
        Error::failed(format!(
            "{reason}; failed: {}{left}",
            failed_names.join(", ")
        ))
    } else {
        Error::failed(format!(
            "{} of {} hosts failed: {}",
            failures.len(),
            hosts.len(),
            failed_names.join(", ")
        ))
    };
    err = err.with_causes(failures);
    Err(to_rhai(err))
}

/// Whether the roll-out goes on to batch `k` (0-based): it stops once more than max_fail
/// hosts have failed, or when the run is interrupted (also during the pause). The reason it
/// stops, said for the hosts it leaves untouched.
fn before_next_batch(
    s: &ScriptState,
    plan: &Rollout,
    failed: usize,
    k: usize,
    of: usize,
) -> Option<String> {
    let after = format!("the roll-out stopped after batch {k} of {of}");
    if plan.stops_at(failed) {
        let hosts = if failed == 1 { "host" } else { "hosts" };
        return Some(format!(
            "{after}: {failed} {hosts} failed, more than max_fail {}",
            plan.max_fail
        ));
    }
    let interrupted = || Some(format!("{after}: interrupted"));
    if s.rt.services.is_cancelled() {
        return interrupted();
    }
    if !plan.pause.is_zero() {
        let cancel = s.rt.services.cancel_token();
        let paused = s.rt.block_on(async {
            tokio::select! {
                _ = tokio::time::sleep(plan.pause) => true,
                _ = cancel.cancelled() => false,
            }
        });
        if !paused {
            return interrupted();
        }
    }
    None
}

/// Run `body` on `hosts[range]` concurrently (at most --forks at once); one result per host,
/// in order.
// store_data/create_context are marked volatile by rhai (not deprecated): they are the
// supported way to call back into the script from another thread.
#[allow(deprecated)]
fn run_batch(
    s: &ScriptState,
    ctx: &NativeCallContext,
    all: &[Host],
    range: &Range<usize>,
    body: &FnPtr,
) -> Vec<HostResult> {
    let hosts = &all[range.clone()];
    let forks = s.rt.settings.forks.max(1).min(hosts.len());
    let parent_step = crate::step::current();
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<HostResult>>> = hosts.iter().map(|_| Mutex::new(None)).collect();
    // Each worker gets its own copy of the caller's state (functions, imports, constants).
    let stores: Vec<_> = (0..forks).map(|_| ctx.store_data()).collect();
    let engine = ctx.engine();
    let reporter = &s.rt.services.reporter;
    std::thread::scope(|scope| {
        for store in &stores {
            let (results, next, parent_step) = (&results, &next, parent_step.clone());
            scope.spawn(move || {
                let _step = crate::step::inherit(parent_step);
                let wctx = store.create_context(engine);
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= hosts.len() {
                        break;
                    }
                    let host = &hosts[i];
                    let started = Instant::now();
                    let r = if s.rt.services.is_cancelled() {
                        Err(to_rhai(Error::cancelled()))
                    } else {
                        body.call_within_context::<Dynamic>(&wctx, (host.clone(),))
                    };
                    let ms = started.elapsed().as_millis() as u64;
                    reporter.event(Event::HostFinished {
                        host: host.name().to_string(),
                        ok: r.is_ok(),
                        ms,
                        error: r
                            .as_ref()
                            .err()
                            .map(|e| from_rhai(e, s, &s.main_source()).to_string()),
                    });
                    *results[i].lock().expect("result slot") = Some((r, ms));
                }
            });
        }
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .expect("result slot")
                .expect("every host ran")
        })
        .collect()
}
