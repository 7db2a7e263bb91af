//! `docker()`, `h.docker()` and the `Docker` methods: arguments in, results out; the work is
//! in `crate::docker`.

use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, Map};

use super::output::ScriptOutput;
use crate::docker::{
    BuildOpts, Docker, ExecOpts, LogsOpts, NetworkOpts, PsOpts, RmOpts, RunOpts, VolumeOpts,
};
use crate::host::Host;
use crate::registry::Registry;
use crate::script::api::hosts::resolve_local;
use crate::script::convert::{self, Text, options, take};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;
use crate::secret::Secret;

/// A list of serializable rows as an array of maps (the CLI shows it as a table).
fn rows<T: serde::Serialize>(items: &[T]) -> RhaiResult<Array> {
    items.iter().map(convert::to_dynamic).collect()
}

/// `env` of an option map as (KEY, value) pairs; values may be secrets.
fn env_pairs(env: Option<Dynamic>, what: &str) -> RhaiResult<Vec<(String, Secret)>> {
    let Some(env) = env else {
        return Ok(Vec::new());
    };
    let Some(map) = env.try_cast::<Map>() else {
        return usage(format!(
            "{what}: env must be a map like #{{KEY: \"value\"}}"
        ));
    };
    let mut out = Vec::new();
    for (k, v) in map {
        let v = match convert::text(v, &format!("{what}: env.{k}"))? {
            Text::Plain(s) => Secret::new(s),
            Text::Secret(s) => s,
        };
        out.push((k.to_string(), v));
    }
    Ok(out)
}

fn run_opts(opts: Option<Map>) -> RhaiResult<RunOpts> {
    let mut opts = opts;
    let env = take(&mut opts, "env");
    let mut o: RunOpts = options(opts, "d.run()")?;
    if let Some(env) = env {
        // A map (values may be secrets: they go to the engine in the request body) or an
        // array of "KEY=value".
        if env.is_array() {
            let list = convert::strings(env.into_array().unwrap_or_default(), "d.run(): env")?;
            o.env = Some(serde_json::json!(list));
        } else {
            let pairs = env_pairs(Some(env), "d.run()")?;
            let m: serde_json::Map<String, serde_json::Value> = pairs
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v.expose().to_string())))
                .collect();
            o.env = Some(serde_json::Value::Object(m));
        }
    }
    Ok(o)
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecScriptOpts {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    check: Option<bool>,
}

fn exec_opts(opts: Option<Map>) -> RhaiResult<ExecOpts> {
    let mut opts = opts;
    let env = take(&mut opts, "env");
    let stdin = take(&mut opts, "stdin");
    let o: ExecScriptOpts = options(opts, "d.exec()")?;
    Ok(ExecOpts {
        user: o.user,
        workdir: o.workdir,
        env: env_pairs(env, "d.exec()")?,
        stdin: match stdin {
            Some(d) => Some(match convert::text(d, "d.exec(): stdin")? {
                Text::Plain(s) => Secret::new(s),
                Text::Secret(s) => s,
            }),
            None => None,
        },
        check: o.check.unwrap_or(true),
    })
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StopOpts {
    /// Seconds to wait before SIGKILL.
    #[serde(default)]
    timeout: Option<i32>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForceOpts {
    #[serde(default)]
    force: bool,
}

fn seconds(t: f64, what: &str) -> RhaiResult<Duration> {
    if !(t > 0.0 && t.is_finite()) {
        return usage(format!(
            "{what}: the timeout must be a positive number of seconds"
        ));
    }
    Ok(Duration::from_secs_f64(t))
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_type_with_name::<Docker>("Docker");
    engine.register_get("host", |d: &mut Docker| d.host_name().to_string());
    engine.register_get("endpoint", |d: &mut Docker| d.endpoint().to_string());
    engine.register_fn("to_string", |d: &mut Docker| format!("{d:?}"));
    engine.register_fn("to_debug", |d: &mut Docker| format!("{d:?}"));

    let s = st.clone();
    func(
        engine,
        "docker",
        "-> Docker",
        "The local docker engine (DOCKER_HOST honoured). Connected once per run.",
        move || -> RhaiResult<Docker> {
            let local = s.rt.local();
            lift(s.rt.block_on(s.rt.docker(&local)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "docker",
        "h: Host -> Docker",
        "The host's docker engine, reached over the host's SSH connection (its /var/run/docker.sock\nis forwarded to a local socket). Connected once per host per run.",
        move |h: &mut Host| -> RhaiResult<Docker> { lift(s.rt.block_on(s.rt.docker(h))) },
    );

    register_images(engine, st);
    register_containers(engine, st);
    register_networks_volumes(engine, st);

    let s = st.clone();
    func(
        engine,
        "login",
        "d: Docker, registry: Registry",
        "Log the engine's host in to a registry, as `docker login` there would (the password goes\nthrough stdin). Later pushes and pulls from this engine use the stored credentials.",
        move |d: &mut Docker, r: Registry| -> RhaiResult<()> { lift(s.rt.block_on(d.login(&r))) },
    );
}

fn register_images(engine: &mut Engine, st: &Arc<ScriptState>) {
    let build_doc = "Build an image from a local directory; returns the image id.\n\
                     opts: #{tag | tags, dockerfile, build_args, labels, target, no_cache, pull}.\n\
                     .dockerignore is honoured; a failed step is named with the engine's message.";
    let s = st.clone();
    func(
        engine,
        "build",
        "d: Docker, dir: String, opts: Map -> String",
        build_doc,
        move |d: &mut Docker, dir: &str, opts: Map| -> RhaiResult<String> {
            let o: BuildOpts = options(Some(opts), "d.build()")?;
            let dir = resolve_local(&s, dir);
            lift(s.rt.block_on(d.build(std::path::Path::new(&dir), &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "build",
        "d: Docker, dir: String -> String",
        build_doc,
        move |d: &mut Docker, dir: &str| -> RhaiResult<String> {
            let dir = resolve_local(&s, dir);
            lift(s.rt.block_on(d.build(std::path::Path::new(&dir), &BuildOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "tag",
        "d: Docker, src: String, dst: String",
        "Give an image another name (e.g. registry/app:blue).",
        move |d: &mut Docker, src: &str, dst: &str| -> RhaiResult<()> {
            lift(s.rt.block_on(d.tag(src, dst)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "push",
        "d: Docker, image: String",
        "Push an image to its registry with the engine host's stored credentials.",
        move |d: &mut Docker, r: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.push(r))) },
    );
    let s = st.clone();
    func(
        engine,
        "send",
        "d: Docker, image: String, to: Host -> Map",
        "Move an image from this engine to the host's engine with no registry, over hoist's SSH\n\
         connection; only the layers the host lacks travel. #{layers_sent, layers_skipped, bytes, up_to_date}.",
        move |d: &mut Docker, image: &str, to: Host| -> RhaiResult<Map> {
            let target = lift(s.rt.block_on(s.rt.docker(&to)))?;
            let sent = lift(s.rt.block_on(d.send(image, &target)))?;
            let mut m = Map::new();
            m.insert("layers_sent".into(), (sent.layers_sent as i64).into());
            m.insert("layers_skipped".into(), (sent.layers_skipped as i64).into());
            m.insert("bytes".into(), (sent.bytes as i64).into());
            m.insert("up_to_date".into(), sent.up_to_date.into());
            Ok(m)
        },
    );
    let s = st.clone();
    func(
        engine,
        "pull",
        "d: Docker, image: String",
        "Pull an image from its registry with the engine host's stored credentials.",
        move |d: &mut Docker, r: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.pull(r))) },
    );
    let s = st.clone();
    func(
        engine,
        "images",
        "d: Docker -> Array",
        "The engine's images: [#{id, tags, size_mb, created}].",
        move |d: &mut Docker| -> RhaiResult<Array> { rows(&lift(s.rt.block_on(d.images()))?) },
    );
    let s = st.clone();
    func(
        engine,
        "image_exists",
        "d: Docker, image: String -> bool",
        "Does the engine have this image?",
        move |d: &mut Docker, r: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(d.image_exists(r)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "rmi",
        "d: Docker, image: String",
        "Remove an image.",
        move |d: &mut Docker, r: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.rmi(r, false))) },
    );
    let s = st.clone();
    func(
        engine,
        "rmi",
        "d: Docker, image: String, opts: Map",
        "Remove an image. opts: #{force}.",
        move |d: &mut Docker, r: &str, opts: Map| -> RhaiResult<()> {
            let o: ForceOpts = options(Some(opts), "d.rmi()")?;
            lift(s.rt.block_on(d.rmi(r, o.force)))
        },
    );
}

fn register_containers(engine: &mut Engine, st: &Arc<ScriptState>) {
    let run_doc = "Create and start a container; returns its id.\n\
                   opts: #{name, ports: [\"8080:80\"], env: #{..}, volumes: [\"src:/dst[:ro]\"], network,\n\
                   restart, command, entrypoint, user, workdir, hostname, cap_drop, cap_add, labels}.";
    let s = st.clone();
    func(
        engine,
        "run",
        "d: Docker, image: String, opts: Map -> String",
        run_doc,
        move |d: &mut Docker, image: &str, opts: Map| -> RhaiResult<String> {
            let o = run_opts(Some(opts))?;
            lift(s.rt.block_on(d.run(image, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "run",
        "d: Docker, image: String -> String",
        run_doc,
        move |d: &mut Docker, image: &str| -> RhaiResult<String> {
            lift(s.rt.block_on(d.run(image, &RunOpts::default())))
        },
    );
    let ps_doc = "Containers as rows [#{id, name, image, state, status, ports, labels}] (running only\n\
                  unless all). opts: #{all, label: \"k=v\" | [..], name}.";
    let s = st.clone();
    func(
        engine,
        "ps",
        "d: Docker, opts: Map -> Array",
        ps_doc,
        move |d: &mut Docker, opts: Map| -> RhaiResult<Array> {
            let o: PsOpts = options(Some(opts), "d.ps()")?;
            rows(&lift(s.rt.block_on(d.ps(&o)))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "ps",
        "d: Docker -> Array",
        ps_doc,
        move |d: &mut Docker| -> RhaiResult<Array> {
            rows(&lift(s.rt.block_on(d.ps(&PsOpts::default())))?)
        },
    );
    let logs_doc = "A container's output (stdout and stderr interleaved).\n\
                    opts: #{tail, since: \"10m\" | RFC 3339 | unix s, follow, timestamps}.";
    let s = st.clone();
    func(
        engine,
        "logs",
        "d: Docker, container: String, opts: Map -> String",
        logs_doc,
        move |d: &mut Docker, c: &str, opts: Map| -> RhaiResult<String> {
            let o: LogsOpts = options(Some(opts), "d.logs()")?;
            lift(s.rt.block_on(d.logs(c, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "logs",
        "d: Docker, container: String -> String",
        logs_doc,
        move |d: &mut Docker, c: &str| -> RhaiResult<String> {
            lift(s.rt.block_on(d.logs(c, &LogsOpts::default())))
        },
    );
    let exec_doc = "Run a command in a running container: a string is run by sh -c, an array is an argv.\n\
                    opts: #{user, env: #{..}, workdir, stdin, check: true}. Returns Output (code, stdout, stderr).";
    let s = st.clone();
    func(
        engine,
        "exec",
        "d: Docker, container: String, cmd: Dynamic, opts: Map -> Output",
        exec_doc,
        move |d: &mut Docker, c: &str, cmd: Dynamic, opts: Map| -> RhaiResult<ScriptOutput> {
            let argv = convert::exec_argv(cmd, "d.exec()")?;
            let o = exec_opts(Some(opts))?;
            lift(s.rt.block_on(d.exec(c, &argv, &o))).map(ScriptOutput::from)
        },
    );
    let s = st.clone();
    func(
        engine,
        "exec",
        "d: Docker, container: String, cmd: Dynamic -> Output",
        exec_doc,
        move |d: &mut Docker, c: &str, cmd: Dynamic| -> RhaiResult<ScriptOutput> {
            let argv = convert::exec_argv(cmd, "d.exec()")?;
            let o = exec_opts(None)?;
            lift(s.rt.block_on(d.exec(c, &argv, &o))).map(ScriptOutput::from)
        },
    );
    let s = st.clone();
    func(
        engine,
        "start",
        "d: Docker, container: String",
        "Start a stopped container.",
        move |d: &mut Docker, c: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.start(c))) },
    );
    let s = st.clone();
    func(
        engine,
        "stop",
        "d: Docker, container: String",
        "Stop a container (SIGTERM, SIGKILL after 10 s). Stopping a stopped one is fine.",
        move |d: &mut Docker, c: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.stop(c, None))) },
    );
    let s = st.clone();
    func(
        engine,
        "stop",
        "d: Docker, container: String, opts: Map",
        "Stop a container. opts: #{timeout (s before SIGKILL)}.",
        move |d: &mut Docker, c: &str, opts: Map| -> RhaiResult<()> {
            let o: StopOpts = options(Some(opts), "d.stop()")?;
            lift(s.rt.block_on(d.stop(c, o.timeout)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "restart",
        "d: Docker, container: String",
        "Restart a container.",
        move |d: &mut Docker, c: &str| -> RhaiResult<()> { lift(s.rt.block_on(d.restart(c))) },
    );
    let s = st.clone();
    func(
        engine,
        "rm",
        "d: Docker, container: String",
        "Remove a stopped container.",
        move |d: &mut Docker, c: &str| -> RhaiResult<()> {
            lift(s.rt.block_on(d.rm(c, &RmOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "rm",
        "d: Docker, container: String, opts: Map",
        "Remove a container. opts: #{force (also a running one), volumes}.",
        move |d: &mut Docker, c: &str, opts: Map| -> RhaiResult<()> {
            let o: RmOpts = options(Some(opts), "d.rm()")?;
            lift(s.rt.block_on(d.rm(c, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "inspect",
        "d: Docker, container: String -> Map",
        "Everything the engine knows about a container, as `docker inspect` shows it.",
        move |d: &mut Docker, c: &str| -> RhaiResult<Dynamic> {
            convert::to_dynamic(&lift(s.rt.block_on(d.inspect(c)))?)
        },
    );
    let s = st.clone();
    func(
        engine,
        "ip",
        "d: Docker, container: String -> String",
        "The container's IP address (on its first network).",
        move |d: &mut Docker, c: &str| -> RhaiResult<String> { lift(s.rt.block_on(d.ip(c, None))) },
    );
    let s = st.clone();
    func(
        engine,
        "ip",
        "d: Docker, container: String, network: String -> String",
        "The container's IP address on `network`.",
        move |d: &mut Docker, c: &str, n: &str| -> RhaiResult<String> {
            lift(s.rt.block_on(d.ip(c, Some(n))))
        },
    );
    let wait_doc = "Wait until the container's health check says healthy (without one: until it runs).\n\
                    Fails at once if it exits or turns unhealthy, with the probe's or the container's output.";
    let s = st.clone();
    func(
        engine,
        "wait_healthy",
        "d: Docker, container: String, timeout_s: i64",
        wait_doc,
        move |d: &mut Docker, c: &str, t: i64| -> RhaiResult<()> {
            let t = seconds(t as f64, "d.wait_healthy()")?;
            lift(s.rt.block_on(d.wait_healthy(c, t)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "wait_healthy",
        "d: Docker, container: String, timeout_s: f64",
        wait_doc,
        move |d: &mut Docker, c: &str, t: f64| -> RhaiResult<()> {
            let t = seconds(t, "d.wait_healthy()")?;
            lift(s.rt.block_on(d.wait_healthy(c, t)))
        },
    );
}

fn register_networks_volumes(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "ensure_network",
        "d: Docker, name: String -> bool",
        "Create the network unless it exists; true if created.",
        move |d: &mut Docker, n: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(d.ensure_network(n, &NetworkOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "ensure_network",
        "d: Docker, name: String, opts: Map -> bool",
        "Create the network unless it exists; true if created. opts: #{driver, internal, labels}.",
        move |d: &mut Docker, n: &str, opts: Map| -> RhaiResult<bool> {
            let o: NetworkOpts = options(Some(opts), "d.ensure_network()")?;
            lift(s.rt.block_on(d.ensure_network(n, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "networks",
        "d: Docker -> Array",
        "The engine's networks: [#{id, name, driver, scope}].",
        move |d: &mut Docker| -> RhaiResult<Array> { rows(&lift(s.rt.block_on(d.networks()))?) },
    );
    let s = st.clone();
    func(
        engine,
        "remove_network",
        "d: Docker, name: String -> bool",
        "Remove a network; true if it existed.",
        move |d: &mut Docker, n: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(d.remove_network(n)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "ensure_volume",
        "d: Docker, name: String -> bool",
        "Create the named volume unless it exists; true if created.",
        move |d: &mut Docker, n: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(d.ensure_volume(n, &VolumeOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "ensure_volume",
        "d: Docker, name: String, opts: Map -> bool",
        "Create the named volume unless it exists; true if created. opts: #{driver, labels}.",
        move |d: &mut Docker, n: &str, opts: Map| -> RhaiResult<bool> {
            let o: VolumeOpts = options(Some(opts), "d.ensure_volume()")?;
            lift(s.rt.block_on(d.ensure_volume(n, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "volumes",
        "d: Docker -> Array",
        "The engine's named volumes: [#{name, driver, mountpoint}].",
        move |d: &mut Docker| -> RhaiResult<Array> { rows(&lift(s.rt.block_on(d.volumes()))?) },
    );
    let s = st.clone();
    func(
        engine,
        "remove_volume",
        "d: Docker, name: String -> bool",
        "Remove a named volume; true if it existed.",
        move |d: &mut Docker, n: &str| -> RhaiResult<bool> {
            lift(s.rt.block_on(d.remove_volume(n, false)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "remove_volume",
        "d: Docker, name: String, opts: Map -> bool",
        "Remove a named volume; true if it existed. opts: #{force}.",
        move |d: &mut Docker, n: &str, opts: Map| -> RhaiResult<bool> {
            let o: ForceOpts = options(Some(opts), "d.remove_volume()")?;
            lift(s.rt.block_on(d.remove_volume(n, o.force)))
        },
    );
}
