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
}

impl ScriptState {
    pub fn new(rt: Arc<Runtime>) -> Arc<Self> {
        Arc::new(ScriptState {
            rt,
            sources: Mutex::new(HashMap::new()),
            ast: RwLock::new(Arc::new(AST::empty())),
            base_dir: RwLock::new(std::env::current_dir().unwrap_or_default()),
            main_source: RwLock::new("<script>".into()),
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

    pub fn set_ast(&self, ast: Arc<AST>) {
        *self.ast.write().expect("ast lock") = ast;
    }

    pub fn ast(&self) -> Arc<AST> {
        self.ast.read().expect("ast lock").clone()
    }
}
