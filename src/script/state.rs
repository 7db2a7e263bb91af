//! What the script layer keeps for one engine: the runtime, the source text of every script
//! and module compiled (so errors can show the line), and the AST being run (fan-out calls
//! script functions from other threads).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use rhai::AST;

use crate::runtime::Runtime;

pub struct ScriptState {
    pub rt: Arc<Runtime>,
    sources: Mutex<HashMap<String, Arc<str>>>,
    ast: RwLock<Arc<AST>>,
    /// Directory of the main script (relative imports, templates).
    pub base_dir: RwLock<std::path::PathBuf>,
    main_source: RwLock<String>,
    /// The run's vars, for `h.vars`.
    run_vars: RwLock<Arc<crate::recipes::run_vars::RunVars>>,
}

impl ScriptState {
    pub fn new(rt: Arc<Runtime>) -> Arc<Self> {
        Arc::new(ScriptState {
            sources: Mutex::new(HashMap::new()),
            ast: RwLock::new(Arc::new(AST::empty())),
            base_dir: RwLock::new(std::env::current_dir().unwrap_or_default()),
            main_source: RwLock::new("<script>".into()),
            // Until a run binds its own (a recipe's parameters): the runtime's vars, as the
            // REPL and `hoist run` see them.
            run_vars: RwLock::new(Arc::new(crate::recipes::run_vars::RunVars::plain(
                &rt.vars,
                &rt.overrides,
            ))),
            rt,
        })
    }

    pub fn remember_source(&self, name: &str, text: &str) {
        self.sources
            .lock()
            .expect("sources lock")
            .insert(name.to_string(), Arc::from(text));
    }

    /// Line `line` (1-based) of a remembered source.
    pub fn source_line(&self, name: &str, line: usize) -> Option<String> {
        let sources = self.sources.lock().expect("sources lock");
        sources
            .get(name)?
            .lines()
            .nth(line.checked_sub(1)?)
            .map(str::to_string)
    }

    /// The name errors use for the script being run.
    pub fn main_source(&self) -> String {
        self.main_source.read().expect("main source lock").clone()
    }

    pub fn set_main_source(&self, name: &str) {
        *self.main_source.write().expect("main source lock") = name.to_string();
    }

    pub fn set_run_vars(&self, vars: crate::recipes::run_vars::RunVars) {
        *self.run_vars.write().expect("run vars lock") = Arc::new(vars);
    }

    /// `h.vars`: the run's vars with the inventory's group and host vars of `host`.
    pub fn host_vars(
        &self,
        host: &crate::host::Host,
    ) -> serde_json::Map<String, serde_json::Value> {
        let scoped = self.rt.scoped_vars(host);
        self.run_vars
            .read()
            .expect("run vars lock")
            .for_host(&scoped)
    }

    /// The directory of the script being run (a built-in recipe's is the project's).
    pub fn script_dir(&self) -> std::path::PathBuf {
        self.base_dir.read().expect("base dir").clone()
    }

    /// Where relative local paths start: the project's directory (hoist.toml's), else the
    /// script's.
    pub fn project_dir(&self) -> std::path::PathBuf {
        self.rt
            .services
            .local_dir()
            .unwrap_or_else(|| self.script_dir())
    }

    pub fn set_ast(&self, ast: Arc<AST>) {
        *self.ast.write().expect("ast lock") = ast;
    }

    pub fn ast(&self) -> Arc<AST> {
        self.ast.read().expect("ast lock").clone()
    }
}
