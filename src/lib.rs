//! hoist: deploy recipes in Rhai with real primitives — SSH hosts, Docker, compose, mounts,
//! registries, templates. This crate is both the `hoist` binary and a library:
//!
//! ```no_run
//! use hoist::{Runtime, command::Command};
//! let rt = Runtime::builder().no_audit_log().build().unwrap();
//! let out = rt.block_on(rt.local().run(&Command::argv(["uname", "-a"]))).unwrap();
//! println!("{}", out.stdout);
//! // or run a recipe file:
//! let value = hoist::run_file(&rt, std::path::Path::new("examples/hello.rhai")).unwrap();
//! ```

pub mod audit;
pub mod cli;
pub mod command;
pub mod command_opts;
pub mod compose;
pub mod config;
pub mod did_you_mean;
pub mod docker;
pub mod effect;
pub mod env_file;
pub mod error;
pub mod gate;
pub mod host;
pub mod interpolate;
pub mod inventory;
pub mod local_user;
pub mod mount;
pub mod options;
pub mod present;
pub mod proxy;
pub mod recipes;
pub mod registry;
pub mod release;
pub mod repl;
pub mod report;
pub mod rollout;
pub mod runtime;
pub mod script;
pub mod secret;
pub mod secret_command;
pub mod sensitive;
pub mod services;
pub mod stdlib;
pub mod step;
pub mod swarm;
pub mod template;

use std::path::Path;
use std::sync::Arc;

pub use error::{Error, ErrorKind, Result};
pub use host::{Host, Output};
pub use runtime::{Runtime, RuntimeBuilder, Settings};

/// Run a script file with the runtime's vars; returns the script's last value.
pub fn run_file(rt: &Arc<Runtime>, path: &Path) -> Result<serde_json::Value> {
    let script = script::Script::from_file(path)?;
    rt.services.audit_recipe(
        &path.display().to_string(),
        serde_json::Value::Object(rt.overrides.clone()),
    );
    run_script(rt, &script, &rt.vars)
}

/// Run script text (named `name` in errors) with these vars; `--set` values still beat the
/// inventory's group and per-host vars in `h.vars`.
pub fn run_script(
    rt: &Arc<Runtime>,
    script: &script::Script,
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<serde_json::Value> {
    run_script_with(
        rt,
        script,
        recipes::run_vars::RunVars::plain(vars, &rt.overrides),
    )
}

/// Run script text with the vars of a run (see [`recipes::run_vars`] for their precedence).
pub fn run_script_with(
    rt: &Arc<Runtime>,
    script: &script::Script,
    vars: recipes::run_vars::RunVars,
) -> Result<serde_json::Value> {
    let st = script::ScriptState::new(rt.clone());
    let engine = script::build(&st);
    Ok(script::run::run_with(&st, &engine, script, vars)?.value)
}

/// Run a recipe (built-in or the project's) with `--param value` arguments (text as typed,
/// or typed JSON values). Vars are recipe defaults < inventory vars < flags < `--set`, each
/// checked against the parameter's type before the recipe runs.
/// The recipe named `name`; else an error naming the closest one (a typo is the likeliest
/// cause) and every recipe there is.
pub fn find_recipe<'a>(
    all: &'a indexmap::IndexMap<String, recipes::Recipe>,
    name: &str,
) -> Result<&'a recipes::Recipe> {
    all.get(name).ok_or_else(|| {
        let closest = did_you_mean::closest(name, all.keys().map(String::as_str));
        let names = all.keys().cloned().collect::<Vec<_>>().join(", ");
        Error::usage(format!("no recipe or command named `{name}`")).hint(match closest {
            Some(k) => format!("did you mean `{k}`? recipes: {names}"),
            None => format!("recipes: {names}"),
        })
    })
}

pub fn run_recipe(
    rt: &Arc<Runtime>,
    name: &str,
    args: &[(String, serde_json::Value)],
) -> Result<serde_json::Value> {
    let all = recipes::discover(rt.project_dir())?;
    let recipe = find_recipe(&all, name)?;
    let empty = serde_json::Map::new();
    let sources = recipes::Sources {
        env_vars: rt.env.as_ref().map(|e| &e.vars).unwrap_or(&empty),
        env_label: format!("hoist.toml env.{}.vars:", rt.env_name().unwrap_or_default()),
        scoped: rt.env.as_ref().map(|e| e.layers()).unwrap_or_default(),
        sets: &rt.overrides,
    };
    let vars = recipe.bind(args, &sources)?;
    // The parameters as given (flags and --set), each read as its type.
    rt.services
        .audit_recipe(name, serde_json::Value::Object(vars.pinned.clone()));
    // A built-in recipe has no directory of its own: its script_dir() is the project's.
    let base_dir = match &recipe.path {
        Some(p) => p.parent().map(Path::to_path_buf).unwrap_or_default(),
        None => rt
            .project_dir()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| std::env::current_dir().unwrap_or_default()),
    };
    let script = script::Script {
        name: recipe
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| format!("{name}.rhai (built-in)")),
        text: recipe.source.clone(),
        base_dir,
    };
    run_script_with(rt, &script, vars)
}
