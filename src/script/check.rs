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
    for (what, pos) in value_try_catch(text) {
        problems.push(
            Error::usage(format!(
                "{what} ends with a `try … catch` whose block ends in a value: in Rhai a try/catch is a statement, so {what} returns () and that value is lost"
            ))
            .at(at(pos))
            .hint("assign the value to a variable inside try and catch, and end the function with that variable (or `return` it)"),
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

/// Functions and closures whose last statement is a `try … catch` with a block that ends in
/// an expression — written to yield a value, yet they return `()` (the bug that let a failed
/// pre-flight through in an earlier release engine). (what, position of the try.)
fn value_try_catch(text: &str) -> Vec<(String, rhai::Position)> {
    // Compiled unoptimized: the optimizer drops the very value a statement cannot yield.
    let mut raw = Engine::new_raw();
    raw.set_optimization_level(rhai::OptimizationLevel::None);
    raw.set_max_expr_depths(256, 128);
    let Ok(ast) = raw.compile(text) else {
        return Vec::new();
    };
    type At = (usize, usize);
    let key = |p: rhai::Position| -> At { (p.line().unwrap_or(0), p.position().unwrap_or(0)) };
    // Each body's span; a closure's lies inside the span of the body that defines it.
    let bodies: Vec<(String, At, At)> = ast
        .shared_lib()
        .iter_script_fn_info()
        .map(|(_, _, name, _, f)| {
            (
                name.to_string(),
                key(f.body.start_position()),
                key(f.body.end_position()),
            )
        })
        .collect();
    let innermost = |at: (usize, usize)| {
        bodies
            .iter()
            .enumerate()
            .filter(|(_, (_, s, e))| *s <= at && at <= *e)
            .min_by_key(|(_, (_, s, e))| (e.0 - s.0, e.1.wrapping_sub(s.1)))
            .map(|(i, _)| i)
    };
    // The statements at the top of a body (the walk starts each body with an empty path):
    // the last one seen in each body is its last statement.
    let mut last: Vec<Option<(String, rhai::Position, bool)>> = vec![None; bodies.len()];
    ast.walk(&mut |path: &[rhai::ASTNode]| {
        if let [rhai::ASTNode::Stmt(stmt)] = path
            && let Some(i) = innermost(key(stmt.position()))
        {
            let later = last[i]
                .as_ref()
                .is_none_or(|(_, p, _)| key(*p) <= key(stmt.position()));
            if later {
                let bad = match stmt {
                    Stmt::TryCatch(flow, _) => {
                        ends_in_value(&flow.body) || ends_in_value(&flow.branch)
                    }
                    _ => false,
                };
                last[i] = Some((bodies[i].0.clone(), stmt.position(), bad));
            }
        }
        true
    });
    last.into_iter()
        .flatten()
        .filter(|(_, _, bad)| *bad)
        .map(|(name, pos, _)| {
            let what = if name.starts_with("anon$") {
                "a closure".to_string()
            } else {
                format!("function `{name}`")
            };
            (what, pos)
        })
        .collect()
}

/// Whether a block ends in an expression that is there for its value: a literal, a
/// variable, an operator… — not a call, which may be there for what it does.
fn ends_in_value(block: &rhai::StmtBlock) -> bool {
    fn for_effect(e: &Expr) -> bool {
        match e {
            Expr::FnCall(..) | Expr::MethodCall(..) => true,
            Expr::Dot(x, ..) => for_effect(&x.rhs),
            _ => false,
        }
    }
    matches!(block.statements().last(), Some(Stmt::Expr(e)) if !for_effect(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(String, usize)> {
        value_try_catch(text)
            .into_iter()
            .map(|(w, p)| (w, p.line().unwrap_or(0)))
            .collect()
    }

    #[test]
    fn a_try_catch_that_ends_a_closure_or_function_with_a_value_is_found() {
        // The two lines: the closure yields (), the map is lost.
        assert_eq!(
            found("let f = || { try { throw \"x\"; } catch (e) { #{r: 1} } };\nprint(f.call());"),
            vec![("a closure".to_string(), 1)]
        );
        assert_eq!(
            found("fn check(x) {\n  let y = 1;\n  try { x } catch { 0 }\n}"),
            vec![("function `check`".to_string(), 3)]
        );
        // Nested: the closure inside a function is found, not the function.
        let nested = "fn outer() {\n  let g = || {\n    try { 1 } catch { 2 }\n  };\n  g.call()\n}";
        assert_eq!(found(nested), vec![("a closure".to_string(), 3)]);
    }

    #[test]
    fn a_try_catch_used_for_its_effects_or_followed_by_a_value_is_fine() {
        for ok in [
            "fn f() { try { x(); } catch (e) { throw e; } }",
            "fn f() { let v = (); try { v = 1; } catch { v = 2; } v }",
            "let f = || { try { print(1); } catch { print(2); } };",
            "try { 1 } catch { 2 }",
        ] {
            assert!(found(ok).is_empty(), "{ok}: {:?}", found(ok));
        }
    }
}
