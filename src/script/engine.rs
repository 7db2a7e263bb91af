//! The one engine builder: the CLI, the REPL, recipes and tests all get their engine here.

use std::sync::Arc;

use rhai::{Dynamic, Engine};

use super::api;
use super::bind::Bind;
use super::resolver::Resolver;
use super::state::ScriptState;
use crate::report::Event;

/// Build an engine for a run (or REPL session). Everything a script can call is registered
/// here, so `hoist doc` and completion read the same list the scripts see.
pub fn build(st: &Arc<ScriptState>) -> Engine {
    let mut engine = Engine::new();
    // Deploy scripts nest closures in steps in fan-outs: allow a little more depth.
    engine.set_max_call_levels(128);
    engine.set_max_expr_depths(256, 128);

    let s = st.clone();
    engine.on_print(move |text| {
        let text = s.rt.services.redactor.redact(text);
        s.rt.services.reporter.event(Event::Print { text });
    });
    let s = st.clone();
    engine.on_debug(move |text, source, pos| {
        let at = match (source, pos.line()) {
            (Some(src), Some(l)) => format!("{src}:{l}: "),
            (None, Some(l)) => format!("line {l}: "),
            _ => String::new(),
        };
        let text = s.rt.services.redactor.redact(&format!("{at}{text}"));
        s.rt.services.reporter.event(Event::Print { text });
    });
    // Ctrl-C: stop the script between operations (the running remote command is killed by
    // the host layer, which watches the same token) — except in an undo (`on_failure`),
    // which only a second signal stops, and in what an undo says it left behind then.
    let s = st.clone();
    engine.on_progress(move |_| {
        let svc = &s.rt.services;
        let stop = if crate::services::in_last_words() {
            false
        } else if crate::services::is_shielded() {
            svc.is_abandoned()
        } else {
            svc.is_cancelled()
        };
        if stop {
            Some(Dynamic::from("interrupted"))
        } else {
            None
        }
    });
    engine.set_module_resolver(Resolver::new(st.clone()));

    api::register_types(&mut engine);
    let mut b = Bind::new(&mut engine, st);
    api::error_value::register(&mut b);
    api::hosts::register(&mut b);
    api::output::register(&mut b);
    api::host_edits::register(&mut b);
    api::run_control::register(&mut b);
    api::paths::register(&mut b);
    api::fanout::register(&mut b);
    api::stdlib::register(&mut b);
    api::config::register(&mut b);
    api::swarm::register(&mut b);
    api::compose::register(&mut b);
    api::mount::register(&mut b);
    api::docker::register(&mut b);
    api::registry::register(&mut b);
    api::release::register(&mut b);
    api::proxy::register(&mut b);
    api::cleanup::register(&mut b);
    engine
}
