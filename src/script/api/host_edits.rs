//! The shortcuts recipes wrote by hand: `h.capture(cmd)` instead of `let t = out.stdout;
//! t.trim();`, file edits (`append`, `remove`, `env_file`, `set_env`), time stamps for backup
//! names, and a tunnel that closes itself when its closure ends, even by an error.

use std::sync::Arc;

use rhai::{Dynamic, Engine, FnPtr, Map, NativeCallContext};

use super::hosts::{TunnelHandle, command};
use crate::host::{FileOpts, ForwardTarget, Host};
use crate::script::convert::options;
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

/// Stdout without its trailing line break(s): what `$(cmd)` gives in a shell.
fn trimmed(stdout: String) -> String {
    stdout.trim_end_matches(['\n', '\r']).to_string()
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoveOpts {
    #[serde(default)]
    recursive: bool,
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    register_capture(engine, st);
    register_files(engine, st);
    register_time(engine);
    register_tunnel(engine, st);
}

fn register_capture(engine: &mut Engine, st: &Arc<ScriptState>) {
    let capture = |s: &ScriptState, h: &Host, cmd: Dynamic, o: Option<Map>| -> RhaiResult<String> {
        let c = command(cmd, o, "h.capture()")?.check(true).probe();
        lift(s.rt.block_on(h.run(&c))).map(|out| trimmed(out.stdout))
    };
    let doc = "Run a read-only command and return its stdout without the trailing newline, like\n\
               $(cmd); a failure throws (as h.run). opts as h.run. A probe: it runs in a --dry-run too,\n\
               so use it only for commands that change nothing.";
    for with_opts in [false, true] {
        let s = st.clone();
        if with_opts {
            func(
                engine,
                "capture",
                "h: Host, cmd: Dynamic, opts: Map -> String",
                doc,
                move |h: &mut Host, cmd: Dynamic, o: Map| capture(&s, h, cmd, Some(o)),
            );
        } else {
            func(
                engine,
                "capture",
                "h: Host, cmd: Dynamic -> String",
                doc,
                move |h: &mut Host, cmd: Dynamic| capture(&s, h, cmd, None),
            );
        }
    }
    let try_capture =
        |s: &ScriptState, h: &Host, cmd: Dynamic, o: Option<Map>| -> RhaiResult<Dynamic> {
            let c = command(cmd, o, "h.try_capture()")?.check(false).probe();
            let out = lift(s.rt.block_on(h.run(&c)))?;
            Ok(if out.ok() {
                trimmed(out.stdout).into()
            } else {
                Dynamic::UNIT
            })
        };
    let doc = "Like capture, but a command that exits non-zero gives () instead of throwing\n\
               (use `??` for a default). A lost connection still throws.";
    let s = st.clone();
    func(
        engine,
        "try_capture",
        "h: Host, cmd: Dynamic -> Dynamic",
        doc,
        move |h: &mut Host, cmd: Dynamic| try_capture(&s, h, cmd, None),
    );
    let s = st.clone();
    func(
        engine,
        "try_capture",
        "h: Host, cmd: Dynamic, opts: Map -> Dynamic",
        doc,
        move |h: &mut Host, cmd: Dynamic, o: Map| try_capture(&s, h, cmd, Some(o)),
    );
}

fn register_files(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "append",
        "h: Host, path: String, text: String",
        "Append text to a file (created if missing). Not idempotent: for log lines.",
        move |h: &mut Host, p: &str, t: &str| lift(s.rt.block_on(h.append(p, t))),
    );
    let remove = |s: &ScriptState, h: &Host, p: &str, o: Option<Map>| -> RhaiResult<bool> {
        let o: RemoveOpts = options(o, "h.remove()")?;
        lift(s.rt.block_on(h.remove(p, o.recursive)))
    };
    let doc = "Remove a file or symlink; a directory only with #{recursive: true}. Returns whether it existed.";
    let s = st.clone();
    func(
        engine,
        "remove",
        "h: Host, path: String -> bool",
        doc,
        move |h: &mut Host, p: &str| remove(&s, h, p, None),
    );
    let s = st.clone();
    func(
        engine,
        "remove",
        "h: Host, path: String, opts: Map -> bool",
        doc,
        move |h: &mut Host, p: &str, o: Map| remove(&s, h, p, Some(o)),
    );
    let s = st.clone();
    func(
        engine,
        "env_file",
        "h: Host, path: String -> Map",
        "The keys and values of an env file (.env syntax, as compose reads it); #{} if missing.",
        move |h: &mut Host, p: &str| -> RhaiResult<Map> {
            let vars = lift(s.rt.block_on(h.env_file(p)))?;
            Ok(vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect())
        },
    );
    let set_env =
        |s: &ScriptState, h: &Host, p: &str, keys: Map, o: Option<Map>| -> RhaiResult<bool> {
            let opts: FileOpts = options(o, "h.set_env()")?;
            let keys: Vec<(String, String)> = keys
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            lift(s.rt.block_on(h.set_env(p, &keys, &opts)))
        };
    let doc = "Set keys in an env file: each key's line is replaced where it is, new keys are added,\n\
               every other line stays. Returns whether the file changed. opts as h.write.";
    let s = st.clone();
    func(
        engine,
        "set_env",
        "h: Host, path: String, keys: Map -> bool",
        doc,
        move |h: &mut Host, p: &str, k: Map| set_env(&s, h, p, k, None),
    );
    let s = st.clone();
    func(
        engine,
        "set_env",
        "h: Host, path: String, keys: Map, opts: Map -> bool",
        doc,
        move |h: &mut Host, p: &str, k: Map, o: Map| set_env(&s, h, p, k, Some(o)),
    );
}

fn register_time(engine: &mut Engine) {
    func(
        engine,
        "now",
        "-> String",
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
    func(
        engine,
        "utc_stamp",
        "-> String",
        "The current time in UTC for file names: 20261202-170405.",
        || {
            let f = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
            time::OffsetDateTime::now_utc()
                .format(&f)
                .unwrap_or_default()
        },
    );
}

fn register_tunnel(engine: &mut Engine, st: &Arc<ScriptState>) {
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
    let s = st.clone();
    func(
        engine,
        "with_tunnel",
        "h: Host, port: i64, body: FnPtr -> Dynamic",
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
    let s = st.clone();
    func(
        engine,
        "with_tunnel",
        "h: Host, target: String, body: FnPtr -> Dynamic",
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
