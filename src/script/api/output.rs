//! A command's result as scripts read it: `o.code`, `o.ok`, `o.stdout`, `o.stderr`,
//! `o.stdout_blob`, `o.ms` (the value itself is [`ScriptOutput`]). Reading what a dry run did
//! not run is noted in the plan.

use rhai::NativeCallContext;

use crate::script::bind::Bind;
use crate::script::script_output::ScriptOutput;
use crate::script::state::ScriptState;

/// A dry run's placeholder is being read: note where (see [`crate::effect::Uncertainty`]).
pub fn placeholder_read(s: &ScriptState, ctx: &NativeCallContext, planned: bool, what: &str) {
    if !planned {
        return;
    }
    let file = ctx
        .call_source()
        .map(str::to_string)
        .unwrap_or_else(|| s.main_source());
    let line = ctx.call_position().line().unwrap_or(0);
    s.rt.services.effects().uncertain(
        format!("{file}:{line}"),
        None,
        format!(
            "the script reads the {what} of a command the dry run did not run (a placeholder: code 0, no output); use h.capture() for read-only commands so they run in a plan too"
        ),
    );
}

pub fn register(b: &mut Bind) {
    // Reading the result of a command a dry run did not run makes the plan uncertain from
    // that line on: the plan says so instead of guessing.
    let s = b.st.clone();
    b.property(
        "code",
        "o",
        "The exit code.",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "exit code");
            o.code as i64
        },
    );
    let s = b.st.clone();
    b.property(
        "ok",
        "o",
        "Did it exit with 0?",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "exit status");
            o.ok()
        },
    );
    let s = b.st.clone();
    b.property(
        "stdout",
        "o",
        "What it wrote to stdout, as text (invalid UTF-8 becomes U+FFFD).",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "output");
            o.stdout.clone()
        },
    );
    let s = b.st.clone();
    b.property(
        "stderr",
        "o",
        "What it wrote to stderr.",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "error output");
            o.stderr.clone()
        },
    );
    let s = b.st.clone();
    b.property(
        "stdout_blob",
        "o",
        "stdout as the command wrote it, byte for byte (`stdout` is text).",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| -> rhai::Blob {
            placeholder_read(&s, &ctx, o.planned, "output");
            o.stdout_bytes().to_vec()
        },
    );
    b.property(
        "ms",
        "o",
        "How long it ran, in milliseconds.",
        |o: &mut ScriptOutput| o.ms as i64,
    );
    b.sync_fn(
        "to_map",
        ["o"],
        "#{code, ok, stdout, stderr, ms} of the command.",
        |o: &mut ScriptOutput| o.to_map(),
    );
    b.printed(
        "o",
        (
            "its stdout without the trailing newline",
            |o: &mut ScriptOutput| o.stdout.trim_end().to_string(),
        ),
        ("its to_map()", |o: &mut ScriptOutput| {
            format!("{:?}", o.to_map())
        }),
    );
}
