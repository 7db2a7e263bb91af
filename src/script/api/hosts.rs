//! `local()`, `ssh()`, `hosts()` and the `Host` methods.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, Map};

use super::output::ScriptOutput;
use crate::command::Command;
use crate::host::{FileOpts, ForwardTarget, Host, HostSpec, Tunnel};
use crate::script::convert::{self, Text, options, take};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

/// Options of `h.run` / `h.test` (env and stdin are read separately: they may be secrets).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunOpts {
    #[serde(default)]
    sudo: bool,
    #[serde(default)]
    cwd: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "crate::options::opt_float")]
    timeout: Option<f64>,
    #[serde(default)]
    check: Option<bool>,
    /// Show output lines as they arrive (default: with -v and in the REPL).
    #[serde(default)]
    stream: Option<bool>,
    /// Keep stdout for the result (default true); `false` only streams it, in bounded memory.
    #[serde(default)]
    capture: Option<bool>,
    /// A read-only command: it runs in a dry run too (see `crate::effect`).
    #[serde(default)]
    probe: bool,
    /// `env` and `stdin` may hold secrets, so [`command`] takes them out of the map before
    /// this struct is read; they are named here so a typo's "expected one of" lists them.
    #[serde(default, rename = "env")]
    _env: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "stdin")]
    _stdin: Option<serde::de::IgnoredAny>,
}

/// Build the command a script asked for: `cmd` is a shell string or an argv array.
pub fn command(cmd: Dynamic, opts: Option<Map>, what: &str) -> RhaiResult<Command> {
    let mut opts = opts;
    let env = take(&mut opts, "env");
    let stdin = take(&mut opts, "stdin");
    let o: RunOpts = options(opts, what)?;
    let mut c = if cmd.is_string() {
        Command::shell(cmd.into_string().unwrap_or_default())
    } else if cmd.is_array() {
        let argv = convert::strings(cmd.into_array().unwrap_or_default(), "command argv")?;
        if argv.is_empty() {
            return usage(format!("{what}: the argv array is empty"));
        }
        Command::argv(argv)
    } else {
        return usage(format!(
            "{what}: the command must be a string (run by sh) or an array (argv), not {}",
            cmd.type_name()
        ));
    };
    c = c
        .sudo(o.sudo)
        .check(o.check.unwrap_or(true))
        .stream(o.stream)
        .capture(o.capture.unwrap_or(true));
    c.probe = o.probe;
    if let Some(cwd) = o.cwd {
        c = c.cwd(cwd);
    }
    if let Some(t) = o.timeout {
        if !(t > 0.0 && t.is_finite()) {
            return usage(format!(
                "{what}: timeout must be a positive number of seconds"
            ));
        }
        c = c.timeout(Some(Duration::from_secs_f64(t)));
    }
    if let Some(env) = env {
        let Some(map) = env.try_cast::<Map>() else {
            return usage(format!(
                "{what}: env must be a map like #{{KEY: \"value\"}}"
            ));
        };
        for (k, v) in map {
            c = match convert::text(v, &format!("env.{k}"))? {
                Text::Plain(s) => c.env(k.as_str(), s),
                Text::Secret(s) => c.env_secret(k.as_str(), s),
            };
        }
    }
    if let Some(stdin) = stdin {
        c = match convert::text(stdin, "stdin")? {
            Text::Plain(s) => c.stdin(s.into_bytes()),
            Text::Secret(s) => c.stdin_secret(s),
        };
    }
    Ok(c)
}

/// A tunnel shared between script values (closing one closes it for all).
#[derive(Clone)]
pub struct TunnelHandle(pub Arc<std::sync::Mutex<Tunnel>>);

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_type_with_name::<Host>("Host");
    engine.register_type_with_name::<TunnelHandle>("Tunnel");

    engine.register_get("name", |h: &mut Host| h.name().to_string());
    engine.register_get("addr", |h: &mut Host| h.addr());
    engine.register_get("user", |h: &mut Host| h.user());
    let s = st.clone();
    engine.register_get("vars", move |h: &mut Host| {
        convert::map_from_json(&s.host_vars(h))
    });
    engine.register_fn("to_string", |h: &mut Host| h.name().to_string());
    engine.register_fn("to_debug", |h: &mut Host| format!("Host({})", h.name()));

    engine.register_get("port", |t: &mut TunnelHandle| {
        t.0.lock()
            .expect("tunnel")
            .port()
            .map(|p| p as i64)
            .unwrap_or(0)
    });
    engine.register_get("local", |t: &mut TunnelHandle| {
        t.0.lock().expect("tunnel").local()
    });
    engine.register_fn("to_string", |t: &mut TunnelHandle| {
        format!("{:?}", t.0.lock().expect("tunnel"))
    });
    {
        let s = st.clone();
        func(
            engine,
            "close",
            "t: Tunnel",
            "Close the tunnel.",
            move |t: &mut TunnelHandle| {
                let mut guard = t.0.lock().expect("tunnel");
                s.rt.block_on(guard.close());
            },
        );
    }

    let s = st.clone();
    func(
        engine,
        "local",
        "-> Host",
        "The machine hoist runs on, as a Host.",
        move || s.rt.local(),
    );

    let s = st.clone();
    func(
        engine,
        "ssh",
        "spec: String -> Host",
        "An SSH host: \"[user@]host[:port]\". Connects now, so an unreachable host fails at this line.\nKeys, ProxyJump and ports also come from ~/.ssh/config.",
        move |spec: &str| -> RhaiResult<Host> {
            let spec = lift(HostSpec::parse(spec))?;
            connect(&s, spec)
        },
    );
    let s = st.clone();
    func(
        engine,
        "ssh",
        "spec: Map -> Host",
        "An SSH host from #{host, user, port, key, jump}.",
        move |spec: Map| -> RhaiResult<Host> {
            let spec: HostSpec = options(Some(spec), "ssh()")?;
            if spec.host.is_empty() {
                return usage("ssh(#{...}) needs `host`");
            }
            connect(&s, spec)
        },
    );
    let s = st.clone();
    func(
        engine,
        "hosts",
        "group: String -> Array",
        "The hosts of an inventory group in the selected environment.",
        move |g: &str| -> RhaiResult<Array> {
            Ok(lift(s.rt.group(Some(g)))?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );
    let s = st.clone();
    func(
        engine,
        "hosts",
        "-> Array",
        "Every host of the selected environment.",
        move || -> RhaiResult<Array> {
            Ok(lift(s.rt.group(None))?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );

    register_run(engine, st);
    register_files(engine, st);

    let s = st.clone();
    func(
        engine,
        "forward",
        "h: Host, local_port: i64, target: String -> Tunnel",
        "Forward a local port (0 = any free one) to \"addr:port\" or \"/remote.sock\" on the host.",
        move |h: &mut Host, port: i64, target: &str| -> RhaiResult<TunnelHandle> {
            let Ok(port) = u16::try_from(port) else {
                return usage(format!("forward(): {port} is not a port"));
            };
            let target = lift(ForwardTarget::parse(target))?;
            let t = lift(s.rt.block_on(h.forward(port, &target)))?;
            Ok(TunnelHandle(Arc::new(std::sync::Mutex::new(t))))
        },
    );
    let s = st.clone();
    func(
        engine,
        "facts",
        "h: Host -> Map",
        "#{hostname, os, arch, kernel, cpus, mem_mb, user} of the host, in one command.",
        move |h: &mut Host| -> RhaiResult<Dynamic> {
            let f = lift(s.rt.block_on(h.facts()))?;
            convert::to_dynamic(&f)
        },
    );
}

fn connect(s: &ScriptState, spec: HostSpec) -> RhaiResult<Host> {
    let h = s.rt.host(&spec);
    lift(s.rt.block_on(h.connect()))?;
    Ok(h)
}

fn register_run(engine: &mut Engine, st: &Arc<ScriptState>) {
    let doc = "Run a command: a string is run by sh; an array is an argv, each item quoted.\n\
               opts: #{sudo, cwd, env: #{..}, stdin, timeout (s), check: true, stream, capture: true,\n\
               probe: false (true: the command only reads, so a --dry-run runs it too)}.\n\
               With check (default) a non-zero exit throws, naming host, command, code and stderr.";
    let run =
        |s: &ScriptState, h: &Host, cmd: Dynamic, opts: Option<Map>| -> RhaiResult<ScriptOutput> {
            let c = command(cmd, opts, "h.run()")?;
            lift(s.rt.block_on(h.run(&c))).map(ScriptOutput::from)
        };
    let s = st.clone();
    func(
        engine,
        "run",
        "h: Host, cmd: Dynamic -> Output",
        doc,
        move |h: &mut Host, cmd: Dynamic| run(&s, h, cmd, None),
    );
    let s = st.clone();
    func(
        engine,
        "run",
        "h: Host, cmd: Dynamic, opts: Map -> Output",
        doc,
        move |h: &mut Host, cmd: Dynamic, o: Map| run(&s, h, cmd, Some(o)),
    );

    let doc = "Run a command with the terminal attached (a shell, `docker compose exec web bash`);\n\
               returns its exit code. opts: #{sudo, cwd, env: #{..}}. Needs a terminal (hoist repl, hoist run at a TTY).";
    let interactive =
        |s: &ScriptState, h: &Host, cmd: Dynamic, opts: Option<Map>| -> RhaiResult<i64> {
            let c = command(cmd, opts, "h.interactive()")?;
            lift(s.rt.block_on(h.interactive(&c))).map(i64::from)
        };
    let s = st.clone();
    func(
        engine,
        "interactive",
        "h: Host, cmd: Dynamic -> i64",
        doc,
        move |h: &mut Host, cmd: Dynamic| interactive(&s, h, cmd, None),
    );
    let s = st.clone();
    func(
        engine,
        "interactive",
        "h: Host, cmd: Dynamic, opts: Map -> i64",
        doc,
        move |h: &mut Host, cmd: Dynamic, o: Map| interactive(&s, h, cmd, Some(o)),
    );

    let doc = "Run a command; true when it exits 0. opts as for run.";
    let test = |s: &ScriptState, h: &Host, cmd: Dynamic, opts: Option<Map>| -> RhaiResult<bool> {
        let c = command(cmd, opts, "h.test()")?;
        lift(s.rt.block_on(h.test(&c)))
    };
    let s = st.clone();
    func(
        engine,
        "test",
        "h: Host, cmd: Dynamic -> bool",
        doc,
        move |h: &mut Host, cmd: Dynamic| test(&s, h, cmd, None),
    );
    let s = st.clone();
    func(
        engine,
        "test",
        "h: Host, cmd: Dynamic, opts: Map -> bool",
        doc,
        move |h: &mut Host, cmd: Dynamic, o: Map| test(&s, h, cmd, Some(o)),
    );
}

/// Parse an optional file-options map for `what`.
fn file_opts(opts: Option<Map>, what: &str) -> RhaiResult<FileOpts> {
    options(opts, what)
}

fn register_files(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "read",
        "h: Host, path: String -> String",
        "A file's text.",
        move |h: &mut Host, p: &str| lift(s.rt.block_on(h.read(p))),
    );
    let s = st.clone();
    func(
        engine,
        "exists",
        "h: Host, path: String -> bool",
        "Does the path exist?",
        move |h: &mut Host, p: &str| lift(s.rt.block_on(h.exists(p))),
    );

    let doc = "Write text to a file atomically (temp file + rename); true if it changed.\nopts: #{mode, owner, sudo}.";
    let write =
        |s: &ScriptState, h: &Host, p: &str, text: &str, o: Option<Map>| -> RhaiResult<bool> {
            let o = file_opts(o, "h.write()")?;
            lift(s.rt.block_on(h.write(p, text, &o)))
        };
    let s = st.clone();
    func(
        engine,
        "write",
        "h: Host, path: String, text: String -> bool",
        doc,
        move |h: &mut Host, p: &str, t: &str| write(&s, h, p, t, None),
    );
    let s = st.clone();
    func(
        engine,
        "write",
        "h: Host, path: String, text: String, opts: Map -> bool",
        doc,
        move |h: &mut Host, p: &str, t: &str, o: Map| write(&s, h, p, t, Some(o)),
    );

    let doc = "Create a directory and its parents. opts: #{mode, owner, sudo}.";
    let mkdir = |s: &ScriptState, h: &Host, p: &str, o: Option<Map>| -> RhaiResult<()> {
        let o = file_opts(o, "h.mkdir()")?;
        lift(s.rt.block_on(h.mkdir(p, &o)))
    };
    let s = st.clone();
    func(
        engine,
        "mkdir",
        "h: Host, path: String",
        doc,
        move |h: &mut Host, p: &str| mkdir(&s, h, p, None),
    );
    let s = st.clone();
    func(
        engine,
        "mkdir",
        "h: Host, path: String, opts: Map",
        doc,
        move |h: &mut Host, p: &str, o: Map| mkdir(&s, h, p, Some(o)),
    );

    let doc =
        "Copy a local file to the host (atomic); true if it changed. opts: #{mode, owner, sudo}.";
    let upload =
        |s: &ScriptState, h: &Host, l: &str, r: &str, o: Option<Map>| -> RhaiResult<bool> {
            let o = file_opts(o, "h.upload()")?;
            lift(s.rt.block_on(h.upload(&resolve_local(s, l), r, &o)))
        };
    let s = st.clone();
    func(
        engine,
        "upload",
        "h: Host, local: String, remote: String -> bool",
        doc,
        move |h: &mut Host, l: &str, r: &str| upload(&s, h, l, r, None),
    );
    let s = st.clone();
    func(
        engine,
        "upload",
        "h: Host, local: String, remote: String, opts: Map -> bool",
        doc,
        move |h: &mut Host, l: &str, r: &str, o: Map| upload(&s, h, l, r, Some(o)),
    );

    let doc = "Render a minijinja template file locally and write it to the host; true if it changed.\n\
               An undefined variable is an error naming it. opts: #{mode, owner, sudo}.";
    let template = |s: &ScriptState,
                    h: &Host,
                    src: &str,
                    dest: &str,
                    vars: Map,
                    o: Option<Map>|
     -> RhaiResult<bool> {
        let o = file_opts(o, "h.template()")?;
        let v = convert::to_json(&Dynamic::from_map(vars));
        lift(s.rt.block_on(h.template(&resolve_local(s, src), dest, &v, &o)))
    };
    let s = st.clone();
    func(
        engine,
        "template",
        "h: Host, src: String, dest: String, vars: Map -> bool",
        doc,
        move |h: &mut Host, src: &str, dest: &str, v: Map| template(&s, h, src, dest, v, None),
    );
    let s = st.clone();
    func(
        engine,
        "template",
        "h: Host, src: String, dest: String, vars: Map, opts: Map -> bool",
        doc,
        move |h: &mut Host, src: &str, dest: &str, v: Map, o: Map| {
            template(&s, h, src, dest, v, Some(o))
        },
    );

    let s = st.clone();
    func(
        engine,
        "download",
        "h: Host, remote: String, local: String",
        "Copy a file from the host to a local path (atomic locally).",
        move |h: &mut Host, r: &str, l: &str| -> RhaiResult<()> {
            lift(s.rt.block_on(h.download(r, &resolve_local(&s, l))))
        },
    );
}

/// A local path by the one path rule: relative to the project's directory (hoist.toml's; a
/// script outside any project: its own directory), `~/` in this user's home.
pub fn resolve_local(s: &ScriptState, p: &str) -> String {
    s.rt.services.resolve_local(p).display().to_string()
}
