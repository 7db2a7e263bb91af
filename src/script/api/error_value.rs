//! A caught error is data: `try { .. } catch (e) { .. }` gets the hoist error itself, which
//! prints as its message (`print(e)`, `` `${e}` ``) and exposes what went wrong where —
//! `e.message`, `e.kind`, `e.host`, `e.step`, `e.command`, `e.code`, `e.stderr`, `e.hint`,
//! and `e.causes` (one error per failed host of an `on()`); `e.file`/`e.line` once it carries a
//! script position (Rhai hands `catch` the thrown value without its position). A field that
//! does not apply is `()`. `throw e` rethrows it unchanged.

use rhai::Dynamic;

use crate::error::{Error, ErrorKind};
use crate::script::bind::Bind;

fn opt<T: Into<Dynamic>>(v: Option<T>) -> Dynamic {
    v.map_or(Dynamic::UNIT, Into::into)
}

pub fn register(b: &mut Bind) {
    b.printed(
        "e",
        ("its message", |e: &mut Error| e.to_string()),
        (
            "the whole report: host, step, command, exit code, stderr's tail, hint",
            |e: &mut Error| e.render().trim_end().to_string(),
        ),
    );
    b.property(
        "message",
        "e",
        "What went wrong, in one line.",
        |e: &mut Error| e.message.clone(),
    );
    b.property(
        "kind",
        "e",
        "\"usage\" (the script or its input is wrong), \"failed\" (a step failed) or \"cancelled\" (Ctrl-C).",
        |e: &mut Error| {
            match e.kind {
                ErrorKind::Usage => "usage",
                ErrorKind::Failed => "failed",
                ErrorKind::Cancelled => "cancelled",
            }
            .to_string()
        },
    );
    b.properties::<Error, Dynamic>(
        "e",
        &[
            ("host", "The host it failed on; () if none.", |e| {
                opt(e.host.clone())
            }),
            ("step", "The step it failed in; () if none.", |e| {
                opt(e.step.clone())
            }),
            (
                "command",
                "The command that failed, as rendered (secrets redacted); () if none.",
                |e| opt(e.command.clone()),
            ),
            ("code", "The failed command's exit code; () if none.", |e| {
                opt(e.exit_code.map(i64::from))
            }),
            (
                "stderr",
                "The tail of the failed command's stderr; () if none.",
                |e| opt(e.stderr_tail.clone()),
            ),
            ("hint", "What to try next; () if none.", |e| {
                opt(e.hint.clone())
            }),
            (
                "file",
                "The script file it was raised in, once the error carries a position; else ().",
                |e| opt(e.location.as_ref().map(|l| l.file.clone())),
            ),
            (
                "line",
                "The script line it was raised at, once the error carries a position; else ().",
                |e| opt(e.location.as_ref().map(|l| l.line as i64)),
            ),
        ],
    );
    b.property(
        "causes",
        "e",
        "One error per failed host of an on(); empty otherwise.",
        |e: &mut Error| {
            e.causes
                .iter()
                .cloned()
                .map(Dynamic::from)
                .collect::<rhai::Array>()
        },
    );
}
