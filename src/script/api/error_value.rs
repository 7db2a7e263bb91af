//! A caught error is data: `try { .. } catch (e) { .. }` gets the hoist error itself, which
//! prints as its message (`print(e)`, `` `${e}` ``) and exposes what went wrong where —
//! `e.message`, `e.kind`, `e.host`, `e.step`, `e.command`, `e.code`, `e.stderr`, `e.hint`,
//! and `e.causes` (one error per failed host of an `on()`); `e.file`/`e.line` once it carries a
//! script position (Rhai hands `catch` the thrown value without its position). A field that
//! does not apply is `()`. `throw e` rethrows it unchanged.

use rhai::{Dynamic, Engine};

use crate::error::{Error, ErrorKind};

fn opt<T: Into<Dynamic>>(v: Option<T>) -> Dynamic {
    v.map_or(Dynamic::UNIT, Into::into)
}

pub fn register(engine: &mut Engine) {
    engine.register_fn("to_string", |e: &mut Error| e.to_string());
    engine.register_fn("to_debug", |e: &mut Error| {
        e.render().trim_end().to_string()
    });
    engine.register_get("message", |e: &mut Error| e.message.clone());
    engine.register_get("kind", |e: &mut Error| {
        match e.kind {
            ErrorKind::Usage => "usage",
            ErrorKind::Failed => "failed",
            ErrorKind::Cancelled => "cancelled",
        }
        .to_string()
    });
    engine.register_get("host", |e: &mut Error| opt(e.host.clone()));
    engine.register_get("step", |e: &mut Error| opt(e.step.clone()));
    engine.register_get("command", |e: &mut Error| opt(e.command.clone()));
    engine.register_get("code", |e: &mut Error| opt(e.exit_code.map(i64::from)));
    engine.register_get("stderr", |e: &mut Error| opt(e.stderr_tail.clone()));
    engine.register_get("hint", |e: &mut Error| opt(e.hint.clone()));
    engine.register_get("file", |e: &mut Error| {
        opt(e.location.as_ref().map(|l| l.file.clone()))
    });
    engine.register_get("line", |e: &mut Error| {
        opt(e.location.as_ref().map(|l| l.line as i64))
    });
    engine.register_get("causes", |e: &mut Error| {
        e.causes
            .iter()
            .cloned()
            .map(Dynamic::from)
            .collect::<rhai::Array>()
    });
}
