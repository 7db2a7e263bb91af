//! `on_failure` / `always`: clean-up that runs after a failure and after Ctrl-C. The clean-up
//! runs inside `services::shielded`, so its commands are not cancelled by the interrupt that
//! stopped the body and the engine does not stop it between operations either. A second
//! signal stops the clean-up too; its `skipped` callback (when given) then says, as a warning,
//! what the host is left in — computed without touching any host.

use rhai::{Dynamic, FnPtr, NativeCallContext};

use crate::script::bind::Bind;
use crate::script::errors::RhaiResult;
use crate::script::state::ScriptState;

pub fn register(b: &mut Bind) {
    let s = b.st.clone();
    b.sync_fn(
        "on_failure",
        ["body", "undo"],
        "Run body; when it fails — or Ctrl-C / a termination signal stops it — run undo, then throw body's error.\n\
         undo runs to its end even after the interrupt (its commands are not cancelled); a second Ctrl-C stops it (see the 3-argument form).\n\
         An error in undo is reported as a warning; body's error is the one thrown.",
        move |ctx: NativeCallContext, body: FnPtr, undo: FnPtr| {
            guarded(&s, &ctx, body, undo, None, false)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "on_failure",
        ["body", "undo", "skipped"],
        "on_failure() that says what is left when a second Ctrl-C / signal stops the undo: skipped() returns that text\n\
         (e.g. \"web1: undo skipped — project half-recreated, live release r3 recorded\"), shown as a warning.\n\
         skipped() runs no command on any host (the run is leaving); it reads the closures' captured variables.",
        move |ctx: NativeCallContext, body: FnPtr, undo: FnPtr, skipped: FnPtr| {
            guarded(&s, &ctx, body, undo, Some(skipped), false)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "always",
        ["body", "cleanup"],
        "Run body, then cleanup whatever happened (also after Ctrl-C, as on_failure's undo); body's value or error.",
        move |ctx: NativeCallContext, body: FnPtr, cleanup: FnPtr| {
            guarded(&s, &ctx, body, cleanup, None, true)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "always",
        ["body", "cleanup", "skipped"],
        "always() that says what is left when a second Ctrl-C / signal stops the clean-up (see on_failure).",
        move |ctx: NativeCallContext, body: FnPtr, cleanup: FnPtr, skipped: FnPtr| {
            guarded(&s, &ctx, body, cleanup, Some(skipped), true)
        },
    );
}

fn guarded(
    s: &ScriptState,
    ctx: &NativeCallContext,
    body: FnPtr,
    then: FnPtr,
    skipped: Option<FnPtr>,
    always: bool,
) -> RhaiResult<Dynamic> {
    let result = body.call_within_context::<Dynamic>(ctx, ());
    if always || result.is_err() {
        let done = if s.rt.services.is_abandoned() {
            // The second signal came before the clean-up could start: it is skipped.
            Err("skipped".into())
        } else {
            crate::services::shielded(|| then.call_within_context::<Dynamic>(ctx, ()))
        };
        let done = match done {
            Err(e) if s.rt.services.is_abandoned() => {
                report_skipped(s, ctx, skipped);
                // Body's error when it failed; else the skip's.
                return result.and(Err(e));
            }
            other => other,
        };
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

/// A second signal stopped (or pre-empted) a clean-up: say, as a warning, what it leaves —
/// `skipped()`'s text, run deaf to the signals and without touching a host.
fn report_skipped(s: &ScriptState, ctx: &NativeCallContext, skipped: Option<FnPtr>) {
    let text = match skipped {
        Some(f) => crate::services::last_words(|| {
            f.call_within_context::<Dynamic>(ctx, ())
                .map(|d| d.to_string())
                .unwrap_or_else(|e| {
                    let err = crate::script::errors::from_rhai(&e, s, &s.main_source());
                    format!(
                        "clean-up skipped by a second signal (and its note failed: {})",
                        err.message
                    )
                })
        }),
        None => "clean-up skipped by a second signal; what it would have undone is left as it was"
            .to_string(),
    };
    s.rt.services.reporter.event(crate::report::Event::Message {
        level: crate::report::Level::Warn,
        text: s.rt.services.redactor.redact(&text),
    });
}
