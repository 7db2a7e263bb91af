//! `on_failure` / `always`: clean-up that runs after a failure and after Ctrl-C. The clean-up
//! runs inside `services::shielded`, so its commands are not cancelled by the interrupt that
//! stopped the body and the engine does not stop it between operations either.

use std::sync::Arc;

use rhai::{Dynamic, Engine, FnPtr, NativeCallContext};

use crate::script::errors::RhaiResult;
use crate::script::register::func;
use crate::script::state::ScriptState;

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "on_failure",
        "body: FnPtr, undo: FnPtr -> Dynamic",
        "Run body; when it fails — or Ctrl-C / a termination signal stops it — run undo, then throw body's error.\n\
         undo runs to its end even after the interrupt (its commands are not cancelled; a second Ctrl-C still exits at once).\n\
         An error in undo is reported as a warning; body's error is the one thrown.",
        move |ctx: NativeCallContext, body: FnPtr, undo: FnPtr| {
            guarded(&s, &ctx, body, undo, false)
        },
    );
    let s = st.clone();
    func(
        engine,
        "always",
        "body: FnPtr, cleanup: FnPtr -> Dynamic",
        "Run body, then cleanup whatever happened (also after Ctrl-C, as on_failure's undo); body's value or error.",
        move |ctx: NativeCallContext, body: FnPtr, cleanup: FnPtr| {
            guarded(&s, &ctx, body, cleanup, true)
        },
    );
}

fn guarded(
    s: &ScriptState,
    ctx: &NativeCallContext,
    body: FnPtr,
    then: FnPtr,
    always: bool,
) -> RhaiResult<Dynamic> {
    let result = body.call_within_context::<Dynamic>(ctx, ());
    if always || result.is_err() {
        let done = crate::services::shielded(|| then.call_within_context::<Dynamic>(ctx, ()));
        if let Err(e) = done {
            let err = crate::script::errors::from_rhai(&e, s, &s.main_source());
            s.rt.services.reporter.event(crate::report::Event::Message {
                level: crate::report::Level::Warn,
                text: format!("clean-up failed: {}", err.message),
            });
            if result.is_ok() {
                return Err(e);
            }
        }
    }
    result
}
