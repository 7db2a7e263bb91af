//! Running a script: compile (errors with positions), bind `vars` and `env`, evaluate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rhai::{Dynamic, Engine, Scope};

use super::convert;
use super::errors::from_rhai;
use super::state::ScriptState;
use crate::error::{Error, Result};
use crate::recipes::run_vars::RunVars;

/// A script to run: its name for error messages, its text, and where relative paths start.
#[derive(Debug, Clone)]
pub struct Script {
    pub name: String,
    pub text: String,
    pub base_dir: PathBuf,
}

impl Script {
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::usage(format!("cannot read {}: {e}", path.display())))?;
        Ok(Script {
            name: path.display().to_string(),
            text,
            base_dir: path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
        })
    }
}

/// What a script evaluated to.
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    pub value: serde_json::Value,
}

/// The scope every script starts with: `vars` (a map) and `env` (name or ()).
pub fn initial_scope(
    st: &ScriptState,
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Scope<'static> {
    let mut scope = Scope::new();
    scope.push_constant("vars", convert::map_from_json(vars));
    scope.push_constant(
        "env",
        st.rt
            .env_name()
            .map(|e| Dynamic::from(e.to_string()))
            .unwrap_or(Dynamic::UNIT),
    );
    scope
}

/// Compile and run a script with the given vars (`--set` values beat the inventory's group and
/// host vars in `h.vars`).
pub fn run(
    st: &Arc<ScriptState>,
    engine: &Engine,
    script: &Script,
    vars: &serde_json::Map<String, serde_json::Value>,
) -> Result<ScriptOutcome> {
    let plain = RunVars::plain(vars, &st.rt.overrides);
    run_with(st, engine, script, plain)
}

/// Compile and run a script with the vars of a run (recipe defaults < inventory vars <
/// flags < `--set`, bound by the caller; see [`RunVars`]).
pub fn run_with(
    st: &Arc<ScriptState>,
    engine: &Engine,
    script: &Script,
    vars: RunVars,
) -> Result<ScriptOutcome> {
    st.remember_source(&script.name, &script.text);
    st.set_main_source(&script.name);
    let dir = script
        .base_dir
        .canonicalize()
        .or_else(|_| std::path::absolute(&script.base_dir))
        .unwrap_or_else(|_| script.base_dir.clone());
    *st.base_dir.write().expect("base dir") = dir.clone();
    // The one path rule: relative local paths start at the project (hoist.toml's directory);
    // a script run outside any project takes its own directory for it.
    if st.rt.project_dir().is_none() {
        st.rt.services.set_local_dir(dir);
    }
    let mut scope = initial_scope(st, &vars.vars);
    st.set_run_vars(vars);
    let mut ast = engine
        .compile_with_scope(&scope, &script.text)
        .map_err(|e| from_rhai(&e.into(), st, &script.name))?;
    ast.set_source(script.name.as_str());
    let ast = Arc::new(ast);
    st.set_ast(ast.clone());
    let value = engine
        .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
        .map_err(|e| from_rhai(&e, st, &script.name))?;
    Ok(ScriptOutcome {
        value: convert::to_json(&value),
    })
}
