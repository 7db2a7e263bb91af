//! `local()`, `ssh()`, `hosts()` and the `Host` methods.

use std::sync::Arc;

use rhai::{Array, Dynamic, Map};

use crate::command::Command;
use crate::command_opts::CommandOpts;
use crate::host::{FileOpts, ForwardTarget, Host, HostSpec, Tunnel};
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::script_output::ScriptOutput;
use crate::script::state::ScriptState;

/// Build the command a script asked for: `cmd` is a shell string or an argv array.
pub fn command(cmd: Dynamic, o: CommandOpts, what: &str) -> RhaiResult<Command> {
    let c = if cmd.is_string() {
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
    lift(o.apply(c, what))
}

/// A tunnel shared between script values (closing one closes it for all).
#[derive(Clone)]
pub struct TunnelHandle(pub Arc<std::sync::Mutex<Tunnel>>);

pub fn register(b: &mut Bind) {
    b.properties::<Host, String>(
        "h",
        &[
            (
                "name",
                "The host's name (its inventory spec, or `local`).",
                |h| h.name().to_string(),
            ),
            (
                "addr",
                "The address the host is reached at (host name or IP; `localhost` for local).",
                |h| h.addr(),
            ),
            (
                "user",
                "The login user, if one was named (else the SSH config's or the current user).",
                |h| h.user(),
            ),
        ],
    );
    let s = b.st.clone();
    b.property(
        "vars",
        "h",
        "The run's vars with the inventory's group and host vars of this host over them.",
        move |h: &mut Host| convert::map_from_json(&s.host_vars(h)),
    );
    b.printed(
        "h",
        ("its name", |h: &mut Host| h.name().to_string()),
        ("Host(NAME)", |h: &mut Host| format!("Host({})", h.name())),
    );

    b.property(
        "port",
        "t",
        "The local TCP port the tunnel listens on (0 for a socket tunnel).",
        |t: &mut TunnelHandle| {
            t.0.lock()
                .expect("tunnel")
                .port()
                .map(|p| p as i64)
                .unwrap_or(0)
        },
    );
    b.property(
        "local",
        "t",
        "The tunnel's local end: 127.0.0.1:PORT, or a socket's path.",
        |t: &mut TunnelHandle| t.0.lock().expect("tunnel").local(),
    );
    b.sync_fn(
        "to_string",
        ["t"],
        "What print(t) and `${t}` show: Tunnel(LOCAL -> TARGET).",
        |t: &mut TunnelHandle| format!("{:?}", t.0.lock().expect("tunnel")),
    );
    {
        let s = b.st.clone();
        b.sync_fn(
            "close",
            ["t"],
            "Close the tunnel.",
            move |t: &mut TunnelHandle| {
                let mut guard = t.0.lock().expect("tunnel");
                s.rt.block_on(guard.close());
            },
        );
    }

    let s = b.st.clone();
    b.sync_fn(
        "local",
        [],
        "The machine hoist runs on, as a Host.",
        move || s.rt.local(),
    );

    let s = b.st.clone();
    b.sync_fn(
        "ssh",
        ["spec"],
        "An SSH host: \"[user@]host[:port]\". Connects now, so an unreachable host fails at this line.\nKeys, ProxyJump and ports also come from ~/.ssh/config.",
        move |spec: &str| -> RhaiResult<Host> {
            let spec = lift(HostSpec::parse(spec))?;
            connect(&s, spec)
        },
    );
    let s = b.st.clone();
    b.taking::<HostSpec>().sync_fn(
        "ssh",
        ["spec"],
        "An SSH host from a map; `host` is required.",
        move |spec: Map| -> RhaiResult<Host> {
            let spec: HostSpec = options(Some(spec), "ssh()")?;
            if spec.host.is_empty() {
                return usage("ssh(#{...}) needs `host`");
            }
            connect(&s, spec)
        },
    );
    let s = b.st.clone();
    b.sync_fn(
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
    let s = b.st.clone();
    b.sync_fn(
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
    register_run(b);
    register_files(b);
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
    b.method1_optional_opts(
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
    b.method1_optional_opts(
        "interactive",
        &["h", "cmd"],
        "Run a command with the terminal attached (a shell, `docker compose exec web bash`);\n\
         returns its exit code. Needs a terminal (hoist repl, hoist run at a TTY).",
        |h: Host, cmd: Dynamic, o: CommandOpts| async move {
            let c = command(cmd, o, "h.interactive()")?;
            lift(h.interactive(&c).await).map(i64::from)
        },
    );
    b.method1_optional_opts(
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
    b.method2_optional_opts(
        "write",
        &["h", "path", "text"],
        "Write text to a file atomically (temp file + rename); true if it changed.",
        |h: Host, p: String, text: String, o: FileOpts| async move { h.write(&p, &text, &o).await },
    );
    b.method1_optional_opts(
        "mkdir",
        &["h", "path"],
        "Create a directory and its parents.",
        |h: Host, p: String, o: FileOpts| async move { h.mkdir(&p, &o).await },
    );
    let s = b.st.clone();
    b.method2_optional_opts(
        "upload",
        &["h", "local", "remote"],
        "Copy a local file to the host (atomic); true if it changed.",
        move |h: Host, l: String, r: String, o: FileOpts| {
            let l = resolve_local(&s, &l);
            async move { h.upload(&l, &r, &o).await }
        },
    );
    let s = b.st.clone();
    b.method3_optional_opts(
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
