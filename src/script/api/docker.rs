//! `docker()`, `h.docker()` and the `Docker` methods: arguments in, results out; the work is
//! in `crate::docker`.

use std::collections::BTreeMap;
use std::time::Duration;

use rhai::{Dynamic, Map};

use crate::docker::{
    BuildOpts, Docker, ExecOpts, ForceOpts, LogsOpts, NetworkOpts, PsOpts, RmOpts, RunOpts,
    StopOpts, VolumeOpts,
};
use crate::host::Host;
use crate::registry::Registry;
use crate::script::api::hosts::resolve_local;
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::options::{ScriptOptions, field_names};
use crate::script::script_output::ScriptOutput;
use crate::sensitive::SecretOr;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ExecScriptOpts {
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    workdir: Option<String>,
    /// Values may be secrets.
    #[serde(default)]
    env: BTreeMap<String, SecretOr>,
    #[serde(default)]
    stdin: Option<SecretOr>,
    #[serde(default)]
    check: Option<bool>,
}

/// `d.exec`'s options as the engine takes them.
impl ScriptOptions for ExecOpts {
    fn keys() -> Vec<&'static str> {
        field_names::<ExecScriptOpts>().to_vec()
    }

    fn from_map(opts: Option<Map>, what: &str) -> RhaiResult<Self> {
        let o: ExecScriptOpts = options(opts, what)?;
        Ok(ExecOpts {
            user: o.user,
            workdir: o.workdir,
            env: o
                .env
                .into_iter()
                .map(|(k, v)| (k, v.into_secret()))
                .collect(),
            stdin: o.stdin.map(SecretOr::into_secret),
            check: o.check.unwrap_or(true),
        })
    }
}

fn seconds(t: f64, what: &str) -> RhaiResult<Duration> {
    if !(t > 0.0 && t.is_finite()) {
        return usage(format!(
            "{what}: the timeout must be a positive number of seconds"
        ));
    }
    Ok(Duration::from_secs_f64(t))
}

pub fn register(b: &mut Bind) {
    b.properties::<Docker, String>(
        "d",
        &[
            ("host", "The name of the host whose engine this is.", |d| {
                d.host_name().to_string()
            }),
            (
                "endpoint",
                "How the engine is reached (its socket, or the host's forwarded one).",
                |d| d.endpoint().to_string(),
            ),
        ],
    );
    b.printed_as_debug::<Docker>("d", "Docker(HOST via ENDPOINT)");

    let s = b.st.clone();
    b.sync_fn(
        "docker",
        [],
        "The local docker engine (DOCKER_HOST honoured). Connected once per run.",
        move || -> RhaiResult<Docker> {
            let local = s.rt.local();
            lift(s.rt.block_on(s.rt.docker(&local)))
        },
    );
    let s = b.st.clone();
    b.method0(
        "docker",
        &["h"],
        "The host's docker engine, reached over the host's SSH connection (its /var/run/docker.sock\nis forwarded to a local socket). Connected once per host per run.",
        move |h: Host| {
            let s = s.clone();
            async move { s.rt.docker(&h).await }
        },
    );
    register_images(b);
    register_containers(b);
    register_networks_volumes(b);
    b.method1(
        "login",
        &["d", "registry"],
        "Log the engine's host in to a registry, as `docker login` there would (the password goes\nthrough stdin). Later pushes and pulls from this engine use the stored credentials.",
        |d: Docker, r: Registry| async move { d.login(&r).await },
    );
}

fn register_images(b: &mut Bind) {
    let s = b.st.clone();
    b.method1_optional_opts(
        "build",
        &["d", "dir"],
        "Build an image from a local directory; returns the image id. `tag` or `tags` name it.\n\
         .dockerignore is honoured; a failed step is named with the engine's message.",
        move |d: Docker, dir: String, o: BuildOpts| {
            let dir = resolve_local(&s, &dir);
            async move { d.build(std::path::Path::new(&dir), &o).await }
        },
    );
    b.method2(
        "tag",
        &["d", "src", "dst"],
        "Give an image another name (e.g. registry/app:blue).",
        |d: Docker, src: String, dst: String| async move { d.tag(&src, &dst).await },
    );
    b.method1(
        "push",
        &["d", "image"],
        "Push an image to its registry with the engine host's stored credentials.",
        |d: Docker, image: String| async move { d.push(&image).await },
    );
    let s = b.st.clone();
    b.method2(
        "send",
        &["d", "image", "to"],
        "Move an image from this engine to the host's engine with no registry, over hoist's SSH\n\
         connection; only the layers the host lacks travel. #{layers_sent, layers_skipped, bytes, up_to_date}.",
        move |d: Docker, image: String, to: Host| {
            let s = s.clone();
            async move {
                let target = s.rt.docker(&to).await?;
                let sent = d.send(&image, &target).await?;
                let mut m = Map::new();
                m.insert("layers_sent".into(), (sent.layers_sent as i64).into());
                m.insert("layers_skipped".into(), (sent.layers_skipped as i64).into());
                m.insert("bytes".into(), (sent.bytes as i64).into());
                m.insert("up_to_date".into(), sent.up_to_date.into());
                Ok::<_, crate::error::Error>(m)
            }
        },
    );
    b.method1(
        "pull",
        &["d", "image"],
        "Pull an image from its registry with the engine host's stored credentials.",
        |d: Docker, image: String| async move { d.pull(&image).await },
    );
    b.method0(
        "images",
        &["d"],
        "The engine's images: [#{id, tags, size_mb, created}].",
        |d: Docker| async move { convert::rows(&lift(d.images().await)?) },
    );
    b.method1(
        "image_exists",
        &["d", "image"],
        "Does the engine have this image?",
        |d: Docker, image: String| async move { d.image_exists(&image).await },
    );
    b.method1_optional_opts(
        "rmi",
        &["d", "image"],
        "Remove an image (`force`: also one a container uses).",
        |d: Docker, image: String, o: ForceOpts| async move { d.rmi(&image, o.force).await },
    );
}

fn register_containers(b: &mut Bind) {
    b.method1_optional_opts(
        "run",
        &["d", "image"],
        "Create and start a container; returns its id.\n\
         ports: [\"8080:80\"], env: #{..} (values may be secrets), volumes: [\"src:/dst[:ro]\"].",
        |d: Docker, image: String, o: RunOpts| async move { d.run(&image, &o).await },
    );
    b.method0_optional_opts(
        "ps",
        &["d"],
        "Containers as rows [#{id, name, image, state, status, ports, labels}] (running only\n\
         unless `all`). `label`: \"k=v\" or an array of them.",
        |d: Docker, o: PsOpts| async move { convert::rows(&lift(d.ps(&o).await)?) },
    );
    b.method1_optional_opts(
        "logs",
        &["d", "container"],
        "A container's output (stdout and stderr interleaved).\n\
         since: \"10m\" | RFC 3339 | unix seconds.",
        |d: Docker, c: String, o: LogsOpts| async move { d.logs(&c, &o).await },
    );
    b.method2_optional_opts(
        "exec",
        &["d", "container", "cmd"],
        "Run a command in a running container: a string is run by sh -c, an array is an argv.\n\
         env: #{..} and stdin may be secrets; check (default true) fails on a non-zero exit.\n\
         Returns Output (code, stdout, stderr).",
        |d: Docker, c: String, cmd: Dynamic, o: ExecOpts| async move {
            let argv = convert::exec_argv(cmd, "d.exec()")?;
            Ok::<_, Box<rhai::EvalAltResult>>(ScriptOutput::from(lift(
                d.exec(&c, &argv, &o).await,
            )?))
        },
    );
    b.method1(
        "start",
        &["d", "container"],
        "Start a stopped container.",
        |d: Docker, c: String| async move { d.start(&c).await },
    );
    b.method1_optional_opts(
        "stop",
        &["d", "container"],
        "Stop a container (SIGTERM, then SIGKILL after `timeout` s, default 10). Stopping a\n\
         stopped one is fine.",
        |d: Docker, c: String, o: StopOpts| async move { d.stop(&c, o.timeout).await },
    );
    b.method1(
        "restart",
        &["d", "container"],
        "Restart a container.",
        |d: Docker, c: String| async move { d.restart(&c).await },
    );
    b.method1_optional_opts(
        "rm",
        &["d", "container"],
        "Remove a stopped container (`force`: also a running one; `volumes`: its anonymous volumes).",
        |d: Docker, c: String, o: RmOpts| async move { d.rm(&c, &o).await },
    );
    b.method1(
        "inspect",
        &["d", "container"],
        "Everything the engine knows about a container, as `docker inspect` shows it.",
        |d: Docker, c: String| async move { convert::to_dynamic(&lift(d.inspect(&c).await)?) },
    );
    b.method1(
        "ip",
        &["d", "container"],
        "The container's IP address (on its first network).",
        |d: Docker, c: String| async move { d.ip(&c, None).await },
    );
    b.method2(
        "ip",
        &["d", "container", "network"],
        "The container's IP address on `network`.",
        |d: Docker, c: String, n: String| async move { d.ip(&c, Some(&n)).await },
    );
    let wait_doc = "Wait until the container's health check says healthy (without one: until it runs).\n\
                    Fails at once if it exits or turns unhealthy, with the probe's or the container's output.";
    b.method2(
        "wait_healthy",
        &["d", "container", "timeout_s"],
        wait_doc,
        |d: Docker, c: String, t: i64| async move {
            let t = seconds(t as f64, "d.wait_healthy()")?;
            lift(d.wait_healthy(&c, t).await)
        },
    );
    b.method2(
        "wait_healthy",
        &["d", "container", "timeout_s"],
        wait_doc,
        |d: Docker, c: String, t: f64| async move {
            let t = seconds(t, "d.wait_healthy()")?;
            lift(d.wait_healthy(&c, t).await)
        },
    );
}

fn register_networks_volumes(b: &mut Bind) {
    b.method1_optional_opts(
        "ensure_network",
        &["d", "name"],
        "Create the network unless it exists; true if created.",
        |d: Docker, n: String, o: NetworkOpts| async move { d.ensure_network(&n, &o).await },
    );
    b.method0(
        "networks",
        &["d"],
        "The engine's networks: [#{id, name, driver, scope}].",
        |d: Docker| async move { convert::rows(&lift(d.networks().await)?) },
    );
    b.method1(
        "remove_network",
        &["d", "name"],
        "Remove a network; true if it existed.",
        |d: Docker, n: String| async move { d.remove_network(&n).await },
    );
    b.method1_optional_opts(
        "ensure_volume",
        &["d", "name"],
        "Create the named volume unless it exists; true if created.",
        |d: Docker, n: String, o: VolumeOpts| async move { d.ensure_volume(&n, &o).await },
    );
    b.method0(
        "volumes",
        &["d"],
        "The engine's named volumes: [#{name, driver, mountpoint}].",
        |d: Docker| async move { convert::rows(&lift(d.volumes().await)?) },
    );
    b.method1_optional_opts(
        "remove_volume",
        &["d", "name"],
        "Remove a named volume; true if it existed (`force`: also one in use).",
        |d: Docker, n: String, o: ForceOpts| async move { d.remove_volume(&n, o.force).await },
    );
}
