//! One REPL session: the engine from the same builder as `hoist run`, one scope that lives
//! across inputs (variables stay), and an AST that keeps every function defined so far (a
//! function typed on one line is callable on the next). Each input is compiled on its own,
//! its functions merged into the kept AST, then run against the kept scope.

use std::sync::{Arc, Mutex};

use rhai::{AST, Dynamic, Engine, Scope};

use super::catalog::Catalog;
use super::known::Known;
use crate::error::Result;
use crate::host::Host;
use crate::runtime::Runtime;
use crate::script::ScriptState;
use crate::script::errors::from_rhai;

pub struct Session {
    pub st: Arc<ScriptState>,
    pub engine: Arc<Engine>,
    pub catalog: Arc<Catalog>,
    scope: Scope<'static>,
    /// Functions defined so far (statements are dropped after each input).
    functions: AST,
    /// Inputs that ran without error, in order: what `:save` writes.
    pub history: Vec<String>,
    /// Hosts given on the command line and the variable each is bound to.
    pub bound: Vec<(String, Host)>,
    /// What the completer knows about the scope, refreshed after each input.
    pub known: Arc<Mutex<Known>>,
    inputs: usize,
}

impl Session {
    pub fn new(rt: &Arc<Runtime>) -> Self {
        let st = ScriptState::new(rt.clone());
        let engine = Arc::new(crate::script::build(&st));
        let catalog = Arc::new(Catalog::from_engine(&engine));
        let scope = crate::script::run::initial_scope(&st, &rt.vars);
        let mut known = Known::default();
        if let Some(env) = &rt.env {
            known.groups = env.groups.keys().cloned().collect();
            known.specs = env
                .groups
                .values()
                .flatten()
                .map(|s| s.display_name())
                .collect();
            known.specs.dedup();
        }
        let s = Session {
            st,
            engine,
            catalog,
            scope,
            functions: AST::empty(),
            history: Vec::new(),
            bound: Vec::new(),
            known: Arc::new(Mutex::new(known)),
            inputs: 0,
        };
        s.refresh_known();
        s
    }

    pub fn rt(&self) -> &Arc<Runtime> {
        &self.st.rt
    }

    /// Bind hosts: `host` for one, `h1`, `h2`... for several.
    pub fn bind(&mut self, hosts: Vec<Host>) {
        let one = hosts.len() == 1;
        for (i, h) in hosts.into_iter().enumerate() {
            let name = if one {
                "host".to_string()
            } else {
                format!("h{}", i + 1)
            };
            self.scope.push(name.clone(), h.clone());
            self.bound.push((name, h));
        }
        self.refresh_known();
    }

    /// Run one input; its value (unit for statements). Errors carry the input's line and
    /// column, with the input remembered as the source so the caret line can be drawn.
    pub fn eval(&mut self, text: &str) -> Result<Dynamic> {
        self.inputs += 1;
        let name = format!("input {}", self.inputs);
        self.st.remember_source(&name, text);
        self.st.set_main_source(&name);
        let mut ast = self
            .engine
            .compile_with_scope(&self.scope, text)
            .map_err(|e| from_rhai(&e.into(), &self.st, &name))?;
        ast.set_source(name.as_str());
        let mut all = self.functions.merge(&ast);
        // Fan-out calls script closures from other threads through the state's AST.
        self.st.set_ast(Arc::new(all.clone()));
        // A fresh cancellation token: a Ctrl-C from before must not stop this input.
        self.st.rt.services.reset_cancel();
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut self.scope, &all);
        self.st.rt.services.reset_cancel();
        all.clear_statements();
        self.functions = all;
        self.refresh_known();
        let value = result.map_err(|e| from_rhai(&e, &self.st, &name))?;
        self.history.push(text.trim().to_string());
        Ok(value)
    }

    /// Variables in scope now (latest binding of each name), with their values.
    pub fn variables(&self) -> Vec<(String, Dynamic)> {
        let mut seen = std::collections::HashSet::new();
        let all: Vec<(&str, bool, Dynamic)> = self.scope.iter().collect();
        let mut out: Vec<(String, Dynamic)> = all
            .into_iter()
            .rev()
            .filter(|(n, _, _)| seen.insert(n.to_string()))
            .map(|(n, _, v)| (n.to_string(), v))
            .collect();
        out.reverse();
        out
    }

    /// The type name a person would write (`Host`, `string`, `map`).
    pub fn type_of(&self, v: &Dynamic) -> String {
        super::catalog::normalize(self.engine.map_type_name(v.type_name()))
    }

    /// Names of the script functions defined in this session.
    pub fn user_functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .functions
            .iter_functions()
            .filter(|f| !f.name.contains('$') && !f.name.starts_with("anon"))
            .map(|f| f.name.to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn refresh_known(&self) {
        let vars: Vec<(String, String, Vec<String>)> = self
            .variables()
            .into_iter()
            .map(|(n, v)| {
                let keys = v
                    .read_lock::<rhai::Map>()
                    .map(|m| m.keys().map(|k| k.to_string()).collect())
                    .unwrap_or_default();
                let ty = self.type_of(&v);
                (n, ty, keys)
            })
            .collect();
        let mut k = self.known.lock().expect("known lock");
        k.vars = vars;
        k.functions = self.user_functions();
    }

    /// This session's successful inputs as a recipe `hoist run` can run: the hosts bound on
    /// the command line first, then each input as a statement.
    pub fn recipe(&self) -> String {
        let mut out = format!(
            "// Recorded with `hoist repl` on {}.\n",
            time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        );
        for (name, h) in &self.bound {
            out.push_str(&format!("let {name} = {};\n", host_expr(h)));
        }
        for input in &self.history {
            out.push_str(input);
            // Statements on separate lines still need separating (`let x = 1` then `x`);
            // Rhai takes a `;` after a block statement too (`fn f() {};`).
            if !input.ends_with(';') {
                out.push(';');
            }
            out.push('\n');
        }
        out
    }
}

/// The expression that makes this host again in a recipe.
fn host_expr(h: &Host) -> String {
    let spec = h.spec();
    if h.is_local() {
        return "local()".into();
    }
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    if spec.key.is_none() && spec.jump.is_none() {
        return format!("ssh({})", q(&spec.display_name()));
    }
    let mut fields = vec![format!("host: {}", q(&spec.host))];
    if let Some(u) = &spec.user {
        fields.push(format!("user: {}", q(u)));
    }
    if let Some(p) = spec.port {
        fields.push(format!("port: {p}"));
    }
    if let Some(k) = &spec.key {
        fields.push(format!("key: {}", q(k)));
    }
    if let Some(j) = &spec.jump {
        fields.push(format!("jump: {}", q(j)));
    }
    format!("ssh(#{{{}}})", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_inputs_form_one_script() {
        let rt = crate::runtime::Runtime::builder()
            .inventory(crate::inventory::Inventory::default())
            .no_audit_log()
            .build()
            .unwrap();
        let mut s = Session::new(&rt);
        for input in [
            "let m = #{a: 1}",
            "fn f(x) { x + 1 }",
            "if true { 1 }",
            "f(m.a)",
        ] {
            let _ = s.eval(input).unwrap();
        }
        let recipe = s.recipe();
        let value: i64 = s.engine.eval(&recipe).unwrap();
        assert_eq!(value, 2, "{recipe}");
    }
}
