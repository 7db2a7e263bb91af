//! `hoist check`: parse, resolve imports, flag calls to functions that exist nowhere —
//! without running anything.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use rhai::{ASTNode, Engine, Expr, Stmt};

use super::doc::all_names;
use super::errors::from_rhai;
use super::resolver::{Found, Resolver};
use super::run::Script;
use super::state::ScriptState;
use crate::error::{Error, ScriptLocation};

/// Keywords that parse as calls but are not registered functions.
const BUILTIN_CALLS: &[&str] = &[
    "print",
    "debug",
    "type_of",
    "Fn",
    "call",
    "curry",
    "is_shared",
    "is_def_var",
    "is_def_fn",
    "eval",
    "throw",
    "this",
];

/// Problems found in `script` and everything it imports (empty = fine).
pub fn check(st: &Arc<ScriptState>, engine: &Engine, script: &Script) -> Vec<Error> {
    let known = all_names(engine);
    let mut seen = HashSet::new();
    let mut problems = Vec::new();
    *st.base_dir.write().expect("base dir") = script.base_dir.clone();
    check_one(
        st,
        engine,
        &known,
        &script.name,
        &script.text,
        &mut seen,
        &mut problems,
    );
    problems
}

fn check_one(
    st: &Arc<ScriptState>,
    engine: &Engine,
    known: &BTreeSet<String>,
    name: &str,
    text: &str,
    seen: &mut HashSet<String>,
    problems: &mut Vec<Error>,
) {
    if !seen.insert(name.to_string()) {
        return;
    }
    st.remember_source(name, text);
    let ast = match engine.compile(text) {
        Ok(a) => a,
        Err(e) => {
            problems.push(from_rhai(&e.into(), st, name));
            return;
        }
    };
    let mut defined: HashSet<String> = ast.iter_functions().map(|f| f.name.to_string()).collect();
    defined.extend(BUILTIN_CALLS.iter().map(|s| s.to_string()));
    let mut calls = Vec::new();
    let mut imports = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(x, pos))) if x.namespace.is_empty() => {
                calls.push((x.name.to_string(), *pos))
            }
            Some(ASTNode::Stmt(Stmt::FnCall(x, pos))) if x.namespace.is_empty() => {
                calls.push((x.name.to_string(), *pos))
            }
            Some(ASTNode::Expr(Expr::MethodCall(x, pos))) => calls.push((x.name.to_string(), *pos)),
            Some(ASTNode::Stmt(Stmt::Import(x, pos))) => {
                if let Expr::StringConstant(s, _) = &x.0 {
                    imports.push((s.to_string(), *pos));
                }
            }
            _ => {}
        }
        true
    });
    let at = |pos: rhai::Position| ScriptLocation {
        file: name.to_string(),
        line: pos.line().unwrap_or(0),
        column: pos.position().unwrap_or(1),
        source_line: pos.line().and_then(|l| st.source_line(name, l)),
    };
    for (call, pos) in calls {
        let is_ident = call
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_');
        if !is_ident
            || defined.contains(&call)
            || known.contains(&call)
            || call.starts_with("anon$")
        {
            continue;
        }
        problems.push(
            Error::usage(format!("unknown function `{call}`"))
                .at(at(pos))
                .hint("`hoist doc` lists every function"),
        );
    }
    for (path, pos) in imports {
        match Resolver::locate(st, Some(name), &path) {
            None => problems.push(Error::usage(format!("cannot find module `{path}`")).at(at(pos))),
            Some(Found::File(p)) => match std::fs::read_to_string(&p) {
                Ok(t) => check_one(
                    st,
                    engine,
                    known,
                    &PathBuf::from(&p).display().to_string(),
                    &t,
                    seen,
                    problems,
                ),
                Err(e) => problems.push(
                    Error::usage(format!("cannot read module {}: {e}", p.display())).at(at(pos)),
                ),
            },
            Some(Found::Embedded { name: n, text: t }) => check_one(
                st,
                engine,
                known,
                &format!("{n}.rhai (built-in)"),
                t,
                seen,
                problems,
            ),
        }
    }
}
