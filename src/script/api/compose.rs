//! `h.compose(dir, opts)` and the `Compose` methods: argument conversion only; the work is
//! in `crate::compose`.

use std::collections::BTreeMap;

use rhai::{Array, Dynamic, Map};

use crate::command::Value;
use crate::compose::{
    ComposeOptions, DownOptions, ExecOptions, LogsOptions, Project, RmOptions, RunOptions, Tool,
    UpOptions,
};
use crate::host::Host;
use crate::interpolate::Mode;
use crate::script::api::hosts::resolve_local;
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::options::{ScriptOptions, field_names};
use crate::script::script_output::ScriptOutput;
use crate::sensitive::SecretOr;

/// The option map of `h.compose()`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenOpts {
    /// Values may be secrets.
    #[serde(default)]
    env: BTreeMap<String, SecretOr>,
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
    /// "eager" (default) or "lazy": how unused `${A:-default}` branches are read.
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

/// `h.compose()`'s options as a project takes them.
impl ScriptOptions for ComposeOptions {
    fn keys() -> Vec<&'static str> {
        field_names::<OpenOpts>().to_vec()
    }

    fn from_map(opts: Option<Map>, what: &str) -> RhaiResult<Self> {
        let o: OpenOpts = options(opts, what)?;
        let env_pairs = o
            .env
            .into_iter()
            .map(|(k, v)| match v {
                SecretOr::Plain(s) => (k, Value::Plain(s)),
                SecretOr::Secret(s) => (k, Value::Secret(s)),
            })
            .collect();
        let tool = match o.tool.as_deref() {
            None | Some("auto") => None,
            Some(t) => Some(lift(Tool::parse(t))?),
        };
        let interpolation = match o.interpolation.as_deref() {
            None => Mode::default(),
            Some(m) => match Mode::parse(m) {
                Some(m) => m,
                None => {
                    return usage(format!(
                        "{what}: interpolation `{m}` is not \"lazy\" or \"eager\""
                    ));
                }
            },
        };
        Ok(ComposeOptions {
            project: o.project,
            files: OneOrMany::list(o.files),
            env_files: OneOrMany::list(o.env_files),
            profiles: OneOrMany::list(o.profiles),
            env: env_pairs,
            tool,
            interpolation,
            overlay: Default::default(),
        })
    }
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

pub fn register(b: &mut Bind) {
    b.properties::<Project, String>(
        "p",
        &[
            ("name", "The compose project's name.", |p| {
                p.name().to_string()
            }),
            ("dir", "The project's directory on the host.", |p| {
                p.dir().to_string()
            }),
        ],
    );
    b.printed_as_debug::<Project>("p", "Compose(NAME in DIR on HOST)");
    b.method1_optional_opts(
        "compose",
        &["h", "dir"],
        "A compose project in `dir` on the host: the host's compose tool (v2 plugin, else v1) runs it;\n\
         files are read and interpolated by hoist. tool: \"v1\" | \"v2\" (default: detect);\n\
         interpolation: \"eager\" (default) | \"lazy\"; env: #{..} (values may be secrets).",
        |h: Host, dir: String, o: ComposeOptions| async move { Project::new(&h, &dir, o) },
    );
    b.method1(
        "write",
        &["p", "text"],
        "Write the project's compose file (atomic; the directory is created); true if it changed.",
        |p: Project, text: String| async move { p.write(&text).await },
    );
    let s = b.st.clone();
    b.method2(
        "write_template",
        &["p", "src", "vars"],
        "Render a local minijinja template and write it as the compose file; true if it changed.",
        move |p: Project, src: String, vars: Map| {
            let src = resolve_local(&s, &src);
            let v = convert::to_json(&Dynamic::from_map(vars));
            async move { p.write_template(&src, &v).await }
        },
    );
    b.method0(
        "render",
        &["p"],
        "The fully interpolated compose YAML (env > host environment > env files), validated; no compose tool needed.\n\
         A missing required variable names the file, the line and the variable.",
        |p: Project| async move { p.render().await },
    );
    b.method0(
        "config",
        &["p"],
        "The interpolated, validated compose file as data.",
        |p: Project| async move { convert::to_dynamic(&lift(p.config().await)?) },
    );
    b.method0(
        "tool",
        &["p"],
        "Which compose tool the host has: \"v2\" (docker compose) or \"v1\" (docker-compose).",
        |p: Project| async move { Ok::<_, crate::error::Error>(p.tool().await?.tag().to_string()) },
    );
    b.method0_optional_opts(
        "up",
        &["p"],
        "Start the project detached. pull: \"always\" | \"missing\" | \"never\"; timeout in s;\n\
         wait: until every container runs and is healthy (where it has a healthcheck).",
        |p: Project, o: UpOptions| async move { p.up(&o).await },
    );
    b.method0_optional_opts(
        "down",
        &["p"],
        "Stop and remove the project's containers (one-off ones too) and networks, found by their labels:\n\
         no compose or env file needed, whoever started it. volumes: its named and anonymous volumes too.\n\
         Returns what went: #{containers, networks, volumes} (all empty when nothing of it was there).\n\
         active_only: only the services the active profiles run (stopped and removed; needs the files), the rest of the project stays.",
        |p: Project, o: DownOptions| async move { convert::to_dynamic(&lift(p.down(&o).await)?) },
    );
    type Act = for<'a> fn(
        &'a Project,
        &'a [String],
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = crate::error::Result<()>> + Send + 'a>,
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
        b.method0(name, &["p"], doc, move |p: Project| async move {
            act(&p, &[]).await
        });
        let what = format!("p.{name}()");
        b.method1(
            name,
            &["p", "services"],
            doc,
            move |p: Project, svcs: Dynamic| {
                let svcs = services(svcs, &what);
                async move { lift(act(&p, &svcs?).await) }
            },
        );
    }

    b.method0(
        "ps",
        &["p"],
        "The project's containers: [#{service, name, state, health, image, ports, status}] (from the Engine API by their labels, same for v1 and v2; no files needed).",
        |p: Project| async move { convert::rows(&lift(p.ps().await)?) },
    );
    b.method0(
        "require_containers",
        &["p"],
        "As p.ps(), but a project with no containers on the host throws, naming the compose projects that are there.",
        |p: Project| async move { convert::rows(&lift(p.require_containers().await)?) },
    );
    b.method0_optional_opts(
        "logs",
        &["p"],
        "The project's logs (or one service's) as text, each line prefixed like compose's (`web-1 | ...`), merged in time order;\n\
         from the Engine API by the containers' labels (no files needed); \"\" when it has no containers. since: \"10m\", an RFC 3339 time or unix seconds.\n\
         follow: stream new lines (prefixed by the host) until the containers stop or Ctrl-C; then returns \"\".",
        |p: Project, o: LogsOptions| async move { p.logs(&o).await },
    );
    b.method1_optional_opts(
        "rm",
        &["p", "services"],
        "Remove the containers of services (one name or an array; all when empty).\n\
         stop: stop running ones first (compose refuses to remove a running container otherwise).",
        |p: Project, svcs: Dynamic, o: RmOptions| {
            let svcs = services(svcs, "p.rm()");
            async move { lift(p.rm(&svcs?, &o).await) }
        },
    );
    let run_doc = "A one-shot container of a service in the foreground (no TTY), e.g. a migration or an init job:\n\
                   its own command, or cmd (a string runs with sh -c, an array is an argv). Returns the Output (code, stdout, stderr).\n\
                   check (default true) fails on a non-zero exit.";
    b.method1(
        "run",
        &["p", "service"],
        run_doc,
        |p: Project, svc: String| async move {
            let out = p.run(&svc, &[], &RunOptions::default()).await?;
            Ok::<_, crate::error::Error>(ScriptOutput::from(out))
        },
    );
    b.method2_optional_opts(
        "run",
        &["p", "service", "cmd"],
        run_doc,
        |p: Project, svc: String, cmd: Dynamic, o: RunOptions| {
            let argv = run_argv(cmd);
            async move { RhaiResult::Ok(ScriptOutput::from(lift(p.run(&svc, &argv?, &o).await)?)) }
        },
    );
    b.method2_optional_opts(
        "exec",
        &["p", "service", "cmd"],
        "Run a command in a service's running container (no TTY), found by its labels (no files needed):\n\
         a string runs with sh -c, an array is an argv. check (default true) fails on a non-zero exit.",
        |p: Project, svc: String, cmd: Dynamic, o: ExecOptions| {
            let argv = convert::exec_argv(cmd, "p.exec()");
            async move { RhaiResult::Ok(ScriptOutput::from(lift(p.exec(&svc, &argv?, &o).await)?)) }
        },
    );
}
