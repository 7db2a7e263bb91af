//! `h.compose(dir, opts)` and the `Compose` methods: argument conversion only; the work is
//! in `crate::compose`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::output::ScriptOutput;
use crate::command::Value;
use crate::compose::interpolate::Mode;
use crate::compose::{
    ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project, RmOptions, RunOptions, Tool,
    UpOptions,
};
use crate::host::Host;
use crate::script::api::hosts::resolve_local;
use crate::script::convert::{self, Text, options, take};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

/// The option map of `h.compose()` (`env` is read separately: it may hold secrets).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenOpts {
    #[serde(default)]
    project: Option<String>,
    #[serde(default)]
    files: Option<OneOrMany>,
    #[serde(default)]
    env_files: Option<OneOrMany>,
    #[serde(default)]
    profiles: Option<OneOrMany>,
    /// "v1" or "v2" instead of detecting.
    #[serde(default)]
    tool: Option<String>,
    /// "lazy" (default) or "eager": how unused `${A:-default}` branches are read.
    #[serde(default)]
    interpolation: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(v: Option<OneOrMany>) -> Vec<String> {
        match v {
            None => Vec::new(),
            Some(OneOrMany::One(s)) => vec![s],
            Some(OneOrMany::Many(v)) => v,
        }
    }
}

pub(super) fn open(h: &Host, dir: &str, opts: Option<Map>) -> RhaiResult<Project> {
    let mut opts = opts;
    let env = take(&mut opts, "env");
    let o: OpenOpts = options(opts, "h.compose()")?;
    let mut env_pairs = Vec::new();
    if let Some(env) = env {
        let Some(map) = env.try_cast::<Map>() else {
            return usage("h.compose(): env must be a map like #{TAG: \"1.2\"}");
        };
        for (k, v) in map {
            env_pairs.push(match convert::text(v, &format!("env.{k}"))? {
                Text::Plain(s) => (k.to_string(), Value::Plain(s)),
                Text::Secret(s) => (k.to_string(), Value::Secret(s)),
            });
        }
    }
    let tool = match o.tool.as_deref() {
        None | Some("auto") => None,
        Some(t) => Some(lift(Tool::parse(t))?),
    };
    let interpolation = match o.interpolation.as_deref() {
        None => Mode::Lazy,
        Some(m) => match Mode::parse(m) {
            Some(m) => m,
            None => {
                return usage(format!(
                    "h.compose(): interpolation `{m}` is not \"lazy\" or \"eager\""
                ));
            }
        },
    };
    let copts = ComposeOptions {
        project: o.project,
        files: OneOrMany::list(o.files),
        env_files: OneOrMany::list(o.env_files),
        profiles: OneOrMany::list(o.profiles),
        env: env_pairs,
        tool,
        interpolation,
    };
    lift(Project::new(h, dir, copts))
}

/// `p.run()`'s command: `()` or `[]` for the service's own, else as `p.exec()` reads it.
fn run_argv(cmd: Dynamic) -> RhaiResult<Vec<String>> {
    if cmd.is_unit() {
        return Ok(Vec::new());
    }
    if let Some(a) = cmd.read_lock::<Array>()
        && a.is_empty()
    {
        return Ok(Vec::new());
    }
    convert::exec_argv(cmd, "p.run()")
}

/// Service names: one string or an array of strings.
fn services(d: Dynamic, what: &str) -> RhaiResult<Vec<String>> {
    if d.is_string() {
        return Ok(vec![d.into_string().unwrap_or_default()]);
    }
    match d.try_cast::<Array>() {
        Some(a) => convert::strings(a, what),
        None => usage(format!("{what}: give a service name or an array of them")),
    }
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_type_with_name::<Project>("Compose");
    engine.register_get("name", |p: &mut Project| p.name().to_string());
    engine.register_get("dir", |p: &mut Project| p.dir().to_string());
    engine.register_fn("to_string", |p: &mut Project| format!("{p:?}"));
    engine.register_fn("to_debug", |p: &mut Project| format!("{p:?}"));

    let doc = "A compose project in `dir` on the host: the host's compose tool (v2 plugin, else v1) runs it;\n\
               files are read and interpolated by hoist. opts: #{project, files, env_files, profiles, env: #{..}, tool: \"v1\"|\"v2\", interpolation: \"lazy\"|\"eager\"}.";
    func(
        engine,
        "compose",
        "h: Host, dir: String -> Compose",
        doc,
        |h: &mut Host, dir: &str| open(h, dir, None),
    );
    func(
        engine,
        "compose",
        "h: Host, dir: String, opts: Map -> Compose",
        doc,
        |h: &mut Host, dir: &str, o: Map| open(h, dir, Some(o)),
    );

    let s = st.clone();
    func(
        engine,
        "write",
        "p: Compose, text: String -> bool",
        "Write the project's compose file (atomic; the directory is created); true if it changed.",
        move |p: &mut Project, text: &str| lift(s.rt.block_on(p.write(text))),
    );
    let s = st.clone();
    func(
        engine,
        "write_template",
        "p: Compose, src: String, vars: Map -> bool",
        "Render a local minijinja template and write it as the compose file; true if it changed.",
        move |p: &mut Project, src: &str, vars: Map| {
            let src = resolve_local(&s, src);
            let v = convert::to_json(&Dynamic::from_map(vars));
            lift(s.rt.block_on(p.write_template(&src, &v)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "render",
        "p: Compose -> String",
        "The fully interpolated compose YAML (env > host environment > env files), validated; no compose tool needed.\n\
         A missing required variable names the file, the line and the variable.",
        move |p: &mut Project| lift(s.rt.block_on(p.render())),
    );
    let s = st.clone();
    func(
        engine,
        "config",
        "p: Compose -> Map",
        "The interpolated, validated compose file as data.",
        move |p: &mut Project| -> RhaiResult<Dynamic> {
            let m = lift(s.rt.block_on(p.config()))?;
            convert::to_dynamic(&m)
        },
    );
    let s = st.clone();
    func(
        engine,
        "tool",
        "p: Compose -> String",
        "Which compose tool the host has: \"v2\" (docker compose) or \"v1\" (docker-compose).",
        move |p: &mut Project| -> RhaiResult<String> {
            Ok(lift(s.rt.block_on(p.tool()))?.tag().to_string())
        },
    );

    let up_doc = "Start the project detached. opts: #{services, build, pull: \"always\"|\"missing\"|\"never\", wait, timeout (s), force_recreate, remove_orphans}.\n\
                  wait: until every container runs and is healthy (where it has a healthcheck).";
    let s = st.clone();
    func(
        engine,
        "up",
        "p: Compose",
        up_doc,
        move |p: &mut Project| lift(s.rt.block_on(p.up(&UpOptions::default()))),
    );
    let s = st.clone();
    func(
        engine,
        "up",
        "p: Compose, opts: Map",
        up_doc,
        move |p: &mut Project, o: Map| -> RhaiResult<()> {
            let o: UpOptions = options(Some(o), "p.up()")?;
            lift(s.rt.block_on(p.up(&o)))
        },
    );
    let down_doc = "Stop and remove the project's containers and networks. opts: #{volumes, remove_orphans, active_only}.\n\
                    active_only: only the services the active profiles run (stopped and removed), the rest of the project stays.";
    let s = st.clone();
    func(
        engine,
        "down",
        "p: Compose",
        down_doc,
        move |p: &mut Project| lift(s.rt.block_on(p.down(&DownOptions::default()))),
    );
    let s = st.clone();
    func(
        engine,
        "down",
        "p: Compose, opts: Map",
        down_doc,
        move |p: &mut Project, o: Map| -> RhaiResult<()> {
            let o: DownOptions = options(Some(o), "p.down()")?;
            lift(s.rt.block_on(p.down(&o)))
        },
    );

    type Act = for<'a> fn(
        &'a Project,
        &'a [String],
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::Result<()>> + Send + 'a>,
    >;
    let acts: [(&str, &str, Act); 4] = [
        ("stop", "Stop services (all when none named).", |p, s| {
            Box::pin(p.stop(s))
        }),
        (
            "start",
            "Start stopped services (all when none named).",
            |p, s| Box::pin(p.start(s)),
        ),
        (
            "restart",
            "Restart services (all when none named).",
            |p, s| Box::pin(p.restart(s)),
        ),
        (
            "pull",
            "Pull the images of services (all when none named).",
            |p, s| Box::pin(p.pull(s)),
        ),
    ];
    for (name, doc, act) in acts {
        let s = st.clone();
        func(engine, name, "p: Compose", doc, move |p: &mut Project| {
            lift(s.rt.block_on(act(p, &[])))
        });
        let s = st.clone();
        let what = format!("p.{name}()");
        func(
            engine,
            name,
            "p: Compose, services: Dynamic",
            doc,
            move |p: &mut Project, svcs: Dynamic| -> RhaiResult<()> {
                let svcs = services(svcs, &what)?;
                lift(s.rt.block_on(act(p, &svcs)))
            },
        );
    }

    let s = st.clone();
    func(
        engine,
        "ps",
        "p: Compose -> Array",
        "The project's containers: [#{service, name, state, health, image, ports, status}] (from the Engine API, same for v1 and v2).",
        move |p: &mut Project| -> RhaiResult<Array> {
            let list = lift(s.rt.block_on(p.ps()))?;
            list.iter().map(convert::to_dynamic).collect()
        },
    );
    let logs_doc = "The project's logs (or one service's) as text. opts: #{service, tail, since, timestamps, follow}.\n\
                    follow: stream new lines (prefixed by the host) until the services stop or Ctrl-C.";
    let s = st.clone();
    func(
        engine,
        "logs",
        "p: Compose -> String",
        logs_doc,
        move |p: &mut Project| lift(s.rt.block_on(p.logs(&LogsOptions::default()))),
    );
    let s = st.clone();
    func(
        engine,
        "logs",
        "p: Compose, opts: Map -> String",
        logs_doc,
        move |p: &mut Project, o: Map| -> RhaiResult<String> {
            let o: LogsOptions = options(Some(o), "p.logs()")?;
            lift(s.rt.block_on(p.logs(&o)))
        },
    );
    let rm_doc = "Remove the containers of services (one name or an array; all when empty). opts: #{stop, volumes}.\n\
                  stop: stop running ones first (compose refuses to remove a running container otherwise).";
    let s = st.clone();
    func(
        engine,
        "rm",
        "p: Compose, services: Dynamic",
        rm_doc,
        move |p: &mut Project, svcs: Dynamic| -> RhaiResult<()> {
            let svcs = services(svcs, "p.rm()")?;
            lift(s.rt.block_on(p.rm(&svcs, &RmOptions::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "rm",
        "p: Compose, services: Dynamic, opts: Map",
        rm_doc,
        move |p: &mut Project, svcs: Dynamic, o: Map| -> RhaiResult<()> {
            let svcs = services(svcs, "p.rm()")?;
            let o: RmOptions = options(Some(o), "p.rm()")?;
            lift(s.rt.block_on(p.rm(&svcs, &o)))
        },
    );
    let run_doc = "A one-shot container of a service in the foreground (no TTY), e.g. a migration or an init job:\n\
                   its own command, or cmd (a string runs with sh -c, an array is an argv). Returns the Output (code, stdout, stderr).\n\
                   opts: #{rm, user, env: #{..}, workdir, no_deps, check: true}.";
    let s = st.clone();
    func(
        engine,
        "run",
        "p: Compose, service: String -> Output",
        run_doc,
        move |p: &mut Project, svc: &str| -> RhaiResult<ScriptOutput> {
            lift(s.rt.block_on(p.run(svc, &[], &RunOptions::default()))).map(ScriptOutput::from)
        },
    );
    let s = st.clone();
    func(
        engine,
        "run",
        "p: Compose, service: String, cmd: Dynamic -> Output",
        run_doc,
        move |p: &mut Project, svc: &str, cmd: Dynamic| -> RhaiResult<ScriptOutput> {
            let argv = run_argv(cmd)?;
            lift(s.rt.block_on(p.run(svc, &argv, &RunOptions::default()))).map(ScriptOutput::from)
        },
    );
    let s = st.clone();
    func(
        engine,
        "run",
        "p: Compose, service: String, cmd: Dynamic, opts: Map -> Output",
        run_doc,
        move |p: &mut Project, svc: &str, cmd: Dynamic, o: Map| -> RhaiResult<ScriptOutput> {
            let argv = run_argv(cmd)?;
            let o: RunOptions = options(Some(o), "p.run()")?;
            lift(s.rt.block_on(p.run(svc, &argv, &o))).map(ScriptOutput::from)
        },
    );
    let exec_doc = "Run a command in a service's container (no TTY): a string runs with sh -c, an array is an argv.\n\
                    opts: #{user, env: #{..}, workdir, check: true}.";
    let s = st.clone();
    func(
        engine,
        "exec",
        "p: Compose, service: String, cmd: Dynamic -> Output",
        exec_doc,
        move |p: &mut Project, svc: &str, cmd: Dynamic| -> RhaiResult<ScriptOutput> {
            let argv = convert::exec_argv(cmd, "p.exec()")?;
            lift(s.rt.block_on(p.exec(svc, &argv, &ExecOptions::default()))).map(ScriptOutput::from)
        },
    );
    let s = st.clone();
    func(
        engine,
        "exec",
        "p: Compose, service: String, cmd: Dynamic, opts: Map -> Output",
        exec_doc,
        move |p: &mut Project, svc: &str, cmd: Dynamic, o: Map| -> RhaiResult<ScriptOutput> {
            let argv = convert::exec_argv(cmd, "p.exec()")?;
            let o: ExecOptions = options(Some(o), "p.exec()")?;
            lift(s.rt.block_on(p.exec(svc, &argv, &o))).map(ScriptOutput::from)
        },
    );
}
