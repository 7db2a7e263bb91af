//! `on(hosts, |h| ...)`: the closure runs on every host concurrently (bounded by --forks),
//! each on its own thread with its own copy of the script's global state; after all hosts
//! finish, one error names every host that failed and why.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use rhai::{Array, Dynamic, Engine, EvalAltResult, FnPtr, Map, NativeCallContext};

use crate::error::Error;
use crate::host::Host;
use crate::report::Event;
use crate::script::errors::{RhaiResult, from_rhai, to_rhai, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

type HostResult = (Result<Dynamic, Box<EvalAltResult>>, u64);

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "on",
        "hosts: Array, body: FnPtr -> Map",
        "Run body(host) on every host concurrently (at most --forks at once); returns #{host_name: result}.\nAfter all hosts finish, throws one error naming every failed host and why.",
        move |ctx: NativeCallContext, hosts: Array, body: FnPtr| -> RhaiResult<Map> {
            on(&s, &ctx, hosts, body)
        },
    );
    let s = st.clone();
    func(
        engine,
        "on",
        "host: Host, body: FnPtr -> Map",
        "on() for a single host.",
        move |ctx: NativeCallContext, host: Host, body: FnPtr| -> RhaiResult<Map> {
            on(&s, &ctx, vec![Dynamic::from(host)], body)
        },
    );
}

// store_data/create_context are marked volatile by rhai (not deprecated): they are the
// supported way to call back into the script from another thread.
#[allow(deprecated)]
fn on(s: &ScriptState, ctx: &NativeCallContext, hosts: Array, body: FnPtr) -> RhaiResult<Map> {
    let hosts: Vec<Host> = hosts
        .into_iter()
        .map(|d| {
            let t = d.type_name();
            d.try_cast::<Host>().ok_or(t)
        })
        .collect::<Result<_, _>>()
        .or_else(|t| usage(format!("on(): every item must be a Host, found {t}")))?;
    if hosts.is_empty() {
        return Ok(Map::new());
    }
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
            let (hosts, results, next, body, parent_step) =
                (&hosts, &results, &next, &body, parent_step.clone());
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
    let mut out = Map::new();
    let mut failures = Vec::new();
    for (host, slot) in hosts.iter().zip(results) {
        let (r, _ms) = slot
            .into_inner()
            .expect("result slot")
            .expect("every host ran");
        match r {
            Ok(v) => {
                out.insert(host.name().into(), v);
            }
            Err(e) => {
                let err = from_rhai(&e, s, &s.main_source()).host(host.name());
                failures.push(err);
            }
        }
    }
    if failures.is_empty() {
        return Ok(out);
    }
    let names: Vec<String> = failures.iter().filter_map(|e| e.host.clone()).collect();
    let all_cancelled = failures
        .iter()
        .all(|e| e.kind == crate::error::ErrorKind::Cancelled);
    let mut err = if all_cancelled {
        Error::cancelled()
    } else {
        Error::failed(format!(
            "{} of {} hosts failed: {}",
            failures.len(),
            hosts.len(),
            names.join(", ")
        ))
    };
    err = err.with_causes(failures);
    Err(to_rhai(err))
}
