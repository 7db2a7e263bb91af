//! The shortcuts recipes wrote by hand: `h.capture(cmd)` instead of `let t = out.stdout;
//! t.trim();`, file edits (`append`, `remove`, `env_file`, `set_env`), time stamps for backup
//! names, and a tunnel that closes itself when its closure ends, even by an error.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{Dynamic, FnPtr, Map, NativeCallContext};

use super::hosts::{TunnelHandle, command};
use crate::command_opts::CommandOpts;
use crate::host::{FileOpts, ForwardTarget, Host, RemoveOpts};
use crate::script::bind::Bind;
use crate::script::convert::options;
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::state::ScriptState;
use crate::sensitive::SecretOr;

/// Stdout without its trailing line break(s): what `$(cmd)` gives in a shell.
fn trimmed(stdout: String) -> String {
    stdout.trim_end_matches(['\n', '\r']).to_string()
}

pub fn register(b: &mut Bind) {
    register_capture(b);
    register_files(b);
    register_time(b);
    register_tunnel(b);
    register_edit_file(b);
}

/// `h.edit_file(path, [opts], |old| new)`: the closure runs between the read (through a dry
/// run's planned files) and the write, so it is bound with the call context.
fn register_edit_file(b: &mut Bind) {
    fn edit_file(
        s: &ScriptState,
        ctx: &NativeCallContext,
        h: &Host,
        path: &str,
        opts: FileOpts,
        body: FnPtr,
    ) -> RhaiResult<bool> {
        let file = lift(s.rt.block_on(h.begin_edit(path, opts.sudo)))?;
        let new = body.call_within_context::<Dynamic>(ctx, (file.old.clone(),))?;
        let Some(new) = new.clone().into_string().ok() else {
            return usage(format!(
                "h.edit_file(): the closure must return the new text (a string), not {}",
                new.type_name()
            ));
        };
        lift(s.rt.block_on(h.finish_edit(&file, &new, &opts)))
    }
    let doc = "Edit a text file: body(old) gets its text (\"\" when missing) and returns the new text;\n\
               written (atomically) only when it differs. Returns whether it changed. In a --dry-run the\n\
               text is what earlier planned writes of the run left there. Options as h.write.";
    let s = b.st.clone();
    b.sync_fn(
        "edit_file",
        ["h", "path", "body"],
        doc,
        move |ctx: NativeCallContext, h: &mut Host, path: &str, body: FnPtr| {
            edit_file(&s, &ctx, h, path, FileOpts::default(), body)
        },
    );
    let s = b.st.clone();
    b.taking::<FileOpts>().sync_fn(
        "edit_file",
        ["h", "path", "opts", "body"],
        doc,
        move |ctx: NativeCallContext, h: &mut Host, path: &str, opts: Map, body: FnPtr| {
            let opts = options::<FileOpts>(Some(opts), "h.edit_file()")?;
            edit_file(&s, &ctx, h, path, opts, body)
        },
    );
}

fn register_capture(b: &mut Bind) {
    b.method1_optional_opts(
        "capture",
        &["h", "cmd"],
        "Run a read-only command and return its stdout without the trailing newline, like\n\
         $(cmd); a failure throws (as h.run). Options as h.run. A probe: it runs in a --dry-run too,\n\
         so use it only for commands that change nothing.",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.capture()")?.check(true).probe();
            lift(h.run(&c).await).map(|out| trimmed(out.stdout))
        },
    );
    b.method1_optional_opts(
        "try_capture",
        &["h", "cmd"],
        "Like capture, but a command that exits non-zero gives () instead of throwing\n\
         (use `??` for a default). A lost connection still throws.",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.try_capture()")?.check(false).probe();
            let out = lift(h.run(&c).await)?;
            RhaiResult::Ok(if out.ok() {
                trimmed(out.stdout).into()
            } else {
                Dynamic::UNIT
            })
        },
    );
}

fn register_files(b: &mut Bind) {
    b.method2(
        "append",
        &["h", "path", "text"],
        "Append text to a file (created if missing). Not idempotent: for log lines.",
        |h: Host, p: String, text: String| async move { h.append(&p, &text).await },
    );
    b.method1_optional_opts(
        "remove",
        &["h", "path"],
        "Remove a file or symlink; a directory only with #{recursive: true}. Returns whether it existed.",
        |h: Host, p: String, o: RemoveOpts| async move { h.remove(&p, o.recursive).await },
    );
    b.method1(
        "env_file",
        &["h", "path"],
        "The keys and values of an env file (.env syntax, as compose reads it); #{} if missing.",
        |h: Host, p: String| async move {
            let vars = h.env_file(&p).await?;
            Ok::<Map, crate::error::Error>(
                vars.into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            )
        },
    );
    let s = b.st.clone();
    b.method2_optional_opts(
        "set_env",
        &["h", "path", "keys"],
        "Set keys in an env file: each key's line is replaced where it is, new keys are added,\n\
         every other line stays. Returns whether the file changed. Options as h.write.",
        move |h: Host, p: String, keys: Map, o: FileOpts| {
            // A secret value (a password for compose) is written as its value: it travels in
            // the write's stdin, and every plan, diff and log shows it redacted.
            let keys =
                options::<BTreeMap<String, SecretOr>>(Some(keys), "h.set_env()").map(|keys| {
                    keys.into_iter()
                        .map(|(k, v)| match v {
                            SecretOr::Plain(t) => (k, t),
                            SecretOr::Secret(sec) => {
                                s.rt.services.redactor.register(&sec);
                                (k, sec.expose().to_string())
                            }
                        })
                        .collect::<Vec<_>>()
                });
            async move { lift(h.set_env(&p, &keys?, &o).await) }
        },
    );
}

fn register_time(b: &mut Bind) {
    b.sync_fn(
        "now",
        [],
        "The current time in UTC, RFC 3339 (2026-12-02T17:04:05Z).",
        || {
            time::OffsetDateTime::now_utc()
                .replace_nanosecond(0)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default()
        },
    );
    b.sync_fn(
        "utc_stamp",
        [],
        "The current time in UTC for file names: 20261202-170405.",
        || {
            let f = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
            time::OffsetDateTime::now_utc()
                .format(&f)
                .unwrap_or_default()
        },
    );
}

fn register_tunnel(b: &mut Bind) {
    let with_tunnel = |s: &ScriptState,
                       ctx: &NativeCallContext,
                       h: &Host,
                       target: ForwardTarget,
                       body: FnPtr|
     -> RhaiResult<Dynamic> {
        let t = lift(s.rt.block_on(h.forward(0, &target)))?;
        let handle = TunnelHandle(Arc::new(std::sync::Mutex::new(t)));
        let result = body.call_within_context::<Dynamic>(ctx, (handle.clone(),));
        let mut t = handle.0.lock().expect("tunnel");
        s.rt.block_on(t.close());
        result
    };
    let doc = "Forward a free local port to a port on the host's loopback (or \"addr:port\", \"/sock\"),\n\
               call body(tunnel) — t.port, t.local — and close the tunnel when it returns or throws.";
    let s = b.st.clone();
    b.sync_fn(
        "with_tunnel",
        ["h", "port", "body"],
        doc,
        move |ctx: NativeCallContext,
              h: &mut Host,
              port: i64,
              body: FnPtr|
              -> RhaiResult<Dynamic> {
            let Ok(port) = u16::try_from(port) else {
                return usage(format!("with_tunnel(): {port} is not a port"));
            };
            let target = ForwardTarget::Tcp {
                host: "127.0.0.1".into(),
                port,
            };
            with_tunnel(&s, &ctx, h, target, body)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
        "with_tunnel",
        ["h", "target", "body"],
        doc,
        move |ctx: NativeCallContext,
              h: &mut Host,
              target: &str,
              body: FnPtr|
              -> RhaiResult<Dynamic> {
            let target = lift(ForwardTarget::parse(target))?;
            with_tunnel(&s, &ctx, h, target, body)
        },
    );
}
