//! `import "NAME"`: a file relative to the importing script, else the project's
//! `recipes/NAME.rhai`, else the embedded stdlib, else an embedded recipe.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

use super::state::ScriptState;
use crate::recipes;

pub struct Resolver {
    st: Arc<ScriptState>,
    cache: Mutex<HashMap<String, Shared<Module>>>,
}

/// Where an import path leads.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    File(PathBuf),
    Embedded { name: String, text: &'static str },
}

impl Resolver {
    pub fn new(st: Arc<ScriptState>) -> Self {
        Resolver {
            st,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Find an import without compiling it (also used by `hoist check`).
    pub fn locate(st: &ScriptState, importer: Option<&str>, path: &str) -> Option<Found> {
        let base = importer
            .map(Path::new)
            .and_then(Path::parent)
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| st.base_dir.read().expect("base dir").clone());
        let with_ext = if path.ends_with(".rhai") {
            path.to_string()
        } else {
            format!("{path}.rhai")
        };
        let rel = base.join(&with_ext);
        if rel.is_file() {
            return Some(Found::File(rel));
        }
        if let Some(proj) = st.rt.project_dir() {
            let p = proj.join("recipes").join(&with_ext);
            if p.is_file() {
                return Some(Found::File(p));
            }
        }
        let bare = path.trim_end_matches(".rhai");
        let bare = bare
            .strip_prefix("stdlib/")
            .or_else(|| bare.strip_prefix("recipes/"))
            .unwrap_or(bare);
        for (name, text) in recipes::STDLIB.iter().chain(recipes::BUILTIN) {
            if *name == bare {
                return Some(Found::Embedded {
                    name: name.to_string(),
                    text,
                });
            }
        }
        None
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let found = Self::locate(&self.st, source, path)
            .ok_or_else(|| Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos)))?;
        let (key, text, source_name) = match &found {
            Found::File(p) => {
                let text = std::fs::read_to_string(p).map_err(|_| {
                    Box::new(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos))
                })?;
                (p.display().to_string(), text, p.display().to_string())
            }
            Found::Embedded { name, text } => (
                format!("<embedded>/{name}"),
                text.to_string(),
                format!("{name}.rhai (built-in)"),
            ),
        };
        if let Some(m) = self.cache.lock().expect("module cache").get(&key) {
            return Ok(m.clone());
        }
        self.st.remember_source(&source_name, &text);
        let mut ast = engine.compile(&text).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                source_name.clone(),
                Box::new(e.into()),
                pos,
            ))
        })?;
        ast.set_source(source_name.as_str());
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)
            .map_err(|e| Box::new(EvalAltResult::ErrorInModule(source_name.clone(), e, pos)))?;
        let shared: Shared<Module> = module.into();
        self.cache
            .lock()
            .expect("module cache")
            .insert(key, shared.clone());
        Ok(shared)
    }
}
