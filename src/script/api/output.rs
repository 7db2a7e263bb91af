//! A command's result as scripts read it: `o.code`, `o.ok`, `o.stdout`, `o.stderr`,
//! `o.stdout_blob`, `o.ms` (the value itself is [`ScriptOutput`]). Reading what a dry run did
//! not run is noted in the plan.

use rhai::{NativeCallContext, Variant};

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

/// A property that reads what the command did (`what`): a placeholder's is noted in the plan.
fn result<T: Variant + Clone>(
    b: &mut Bind,
    name: &str,
    doc: &str,
    what: &'static str,
    read: fn(&ScriptOutput) -> T,
) {
    let s = b.st.clone();
    b.property(
        name,
        "o",
        doc,
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, what);
            read(o)
        },
    );
}

pub fn register(b: &mut Bind) {
    // Reading the result of a command a dry run did not run makes the plan uncertain from
    // that line on: the plan says so instead of guessing.
    result(b, "code", "The exit code.", "exit code", |o| o.code as i64);
    result(
        b,
        "ok",
        "Did it exit with 0?",
        "exit status",
        ScriptOutput::ok,
    );
    let doc = "What it wrote to stdout, as text (invalid UTF-8 becomes U+FFFD).";
    result(b, "stdout", doc, "output", |o| o.stdout.clone());
    let doc = "What it wrote to stderr.";
    result(b, "stderr", doc, "error output", |o| o.stderr.clone());
    let doc = "stdout as the command wrote it, byte for byte (`stdout` is text).";
    result(b, "stdout_blob", doc, "output", |o| -> rhai::Blob {
        o.stdout_bytes().to_vec()
    });
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
