//! `local()`, `ssh()`, `hosts()` and the `Host` methods.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, Map};

use super::output::ScriptOutput;
use crate::command::Command;
use crate::host::{FileOpts, ForwardTarget, Host, HostSpec, Tunnel};
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::options::{serde_options, type_of};
use crate::script::register::{func, with_info};
use crate::script::state::ScriptState;
use crate::sensitive::SecretOr;

/// Options of `h.run`, `h.test`, `h.capture` (a command's options).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandOpts {
    #[serde(default)]
    sudo: bool,
    #[serde(default)]
    cwd: Option<String>,
    /// Values may be secrets: they reach the command's environment, never its argv.
    #[serde(default)]
    env: BTreeMap<String, SecretOr>,
    #[serde(default)]
    stdin: Option<SecretOr>,
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
}

serde_options!(CommandOpts, FileOpts, HostSpec);

/// Build the command a script asked for: `cmd` is a shell string or an argv array.
pub fn command(cmd: Dynamic, o: CommandOpts, what: &str) -> RhaiResult<Command> {
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
    for (k, v) in o.env {
        c = match v {
            SecretOr::Plain(s) => c.env(k.as_str(), s),
            SecretOr::Secret(s) => c.env_secret(k.as_str(), s),
        };
    }
    if let Some(stdin) = o.stdin {
        c = match stdin {
            SecretOr::Plain(s) => c.stdin(s.into_bytes()),
            SecretOr::Secret(s) => c.stdin_secret(s),
        };
    }
    Ok(c)
}

/// A tunnel shared between script values (closing one closes it for all).
#[derive(Clone)]
pub struct TunnelHandle(pub Arc<std::sync::Mutex<Tunnel>>);

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
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
            ["t"],
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
        [],
        "The machine hoist runs on, as a Host.",
        move || s.rt.local(),
    );

    let s = st.clone();
    func(
        engine,
        "ssh",
        ["spec"],
        "An SSH host: \"[user@]host[:port]\". Connects now, so an unreachable host fails at this line.\nKeys, ProxyJump and ports also come from ~/.ssh/config.",
        move |spec: &str| -> RhaiResult<Host> {
            let spec = lift(HostSpec::parse(spec))?;
            connect(&s, spec)
        },
    );
    let s = st.clone();
    with_info(
        engine,
        "ssh",
        vec![format!("spec: {}", type_of::<HostSpec>())],
        "An SSH host from a map; `host` is required.",
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
        ["group"],
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
        [],
        "Every host of the selected environment.",
        move || -> RhaiResult<Array> {
            Ok(lift(s.rt.group(None))?
                .into_iter()
                .map(Dynamic::from)
                .collect())
        },
    );

    let mut b = Bind::new(engine, st);
    register_run(&mut b);
    register_files(&mut b);
    b.method2(
        "forward",
        &["h", "local_port", "target"],
        "Forward a local port (0 = any free one) to \"addr:port\" or \"/remote.sock\" on the host.",
        |h: Host, port: i64, target: String| async move {
            let Ok(port) = u16::try_from(port) else {
                return usage(format!("forward(): {port} is not a port"));
            };
            let target = lift(ForwardTarget::parse(&target))?;
            let t = lift(h.forward(port, &target).await)?;
            Ok(TunnelHandle(Arc::new(std::sync::Mutex::new(t))))
        },
    );
    b.method0(
        "facts",
        &["h"],
        "#{hostname, os, arch, kernel, cpus, mem_mb, user} of the host, in one command.",
        |h: Host| async move { convert::to_dynamic(&lift(h.facts().await)?) },
    );
}

fn connect(s: &ScriptState, spec: HostSpec) -> RhaiResult<Host> {
    let h = s.rt.host(&spec);
    lift(s.rt.block_on(h.connect()))?;
    Ok(h)
}

fn register_run(b: &mut Bind) {
    b.method1_opts(
        "run",
        &["h", "cmd"],
        "Run a command: a string is run by sh; an array is an argv, each item quoted.\n\
         env values and stdin may be secrets; timeout in s; capture (default true): keep stdout;\n\
         probe: the command only reads, so a --dry-run runs it too.\n\
         With check (default) a non-zero exit throws, naming host, command, code and stderr.",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.run()")?;
            RhaiResult::Ok(ScriptOutput::from(lift(h.run(&c).await)?))
        },
    );
    b.method1_opts(
        "interactive",
        &["h", "cmd"],
        "Run a command with the terminal attached (a shell, `docker compose exec web bash`);\n\
         returns its exit code. Needs a terminal (hoist repl, hoist run at a TTY).",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.interactive()")?;
            lift(h.interactive(&c).await).map(i64::from)
        },
    );
    b.method1_opts(
        "test",
        &["h", "cmd"],
        "Run a command; true when it exits 0. Options as for run.",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.test()")?;
            lift(h.test(&c).await)
        },
    );
}

fn register_files(b: &mut Bind) {
    b.method1(
        "read",
        &["h", "path"],
        "A file's text.",
        |h: Host, p: String| async move { h.read(&p).await },
    );
    b.method1(
        "exists",
        &["h", "path"],
        "Does the path exist?",
        |h: Host, p: String| async move { h.exists(&p).await },
    );
    b.method2_opts(
        "write",
        &["h", "path", "text"],
        "Write text to a file atomically (temp file + rename); true if it changed.",
        |h: Host, p: String, text: String, o: FileOpts| async move { h.write(&p, &text, &o).await },
    );
    b.method1_opts(
        "mkdir",
        &["h", "path"],
        "Create a directory and its parents.",
        |h: Host, p: String, o: FileOpts| async move { h.mkdir(&p, &o).await },
    );
    let s = b.st.clone();
    b.method2_opts(
        "upload",
        &["h", "local", "remote"],
        "Copy a local file to the host (atomic); true if it changed.",
        move |h: Host, l: String, r: String, o: FileOpts| {
            let l = resolve_local(&s, &l);
            async move { h.upload(&l, &r, &o).await }
        },
    );
    let s = b.st.clone();
    b.method3_opts(
        "template",
        &["h", "src", "dest", "vars"],
        "Render a minijinja template file locally and write it to the host; true if it changed.\n\
         An undefined variable is an error naming it.",
        move |h: Host, src: String, dest: String, vars: Map, o: FileOpts| {
            let src = resolve_local(&s, &src);
            let v = convert::to_json(&Dynamic::from_map(vars));
            async move { h.template(&src, &dest, &v, &o).await }
        },
    );
    let s = b.st.clone();
    b.method2(
        "download",
        &["h", "remote", "local"],
        "Copy a file from the host to a local path (atomic locally).",
        move |h: Host, r: String, l: String| {
            let l = resolve_local(&s, &l);
            async move { h.download(&r, &l).await }
        },
    );
}

/// A local path by the one path rule: relative to the project's directory (hoist.toml's; a
/// script outside any project: its own directory), `~/` in this user's home.
pub fn resolve_local(s: &ScriptState, p: &str) -> String {
    s.rt.services.resolve_local(p).display().to_string()
}
