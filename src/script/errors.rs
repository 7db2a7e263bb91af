//! Errors across the script boundary: hoist errors travel through Rhai as the payload of a
//! runtime error and come back out with the script position where they happened; Rhai's own
//! errors (syntax, unknown function, type mismatch) become hoist errors with a position too.

use rhai::{Dynamic, EvalAltResult, Position};

use super::state::ScriptState;
use crate::error::{Error, ErrorKind, ScriptLocation};

pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A hoist error as a Rhai error (the step the script is in is recorded now, on its thread).
pub fn to_rhai(e: Error) -> Box<EvalAltResult> {
    let e = e.step(crate::step::current());
    Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(e),
        Position::NONE,
    ))
}

/// Lift a hoist result into a Rhai result.
pub fn lift<T>(r: crate::error::Result<T>) -> RhaiResult<T> {
    r.map_err(to_rhai)
}

/// A usage error (bad argument) as a Rhai error.
pub fn usage<T>(msg: impl Into<String>) -> RhaiResult<T> {
    Err(to_rhai(Error::usage(msg)))
}

/// Turn what Rhai returned into a hoist error with file:line:col and the source line.
pub fn from_rhai(err: &EvalAltResult, state: &ScriptState, main_source: &str) -> Error {
    let mut source = main_source.to_string();
    let (mut e, pos) = unwrap(err, &mut source);
    if !pos.is_none()
        && let Some(line) = pos.line()
    {
        let column = pos.position().unwrap_or(1);
        e = e.at(ScriptLocation {
            file: source.clone(),
            line,
            column,
            source_line: state.source_line(&source, line),
        });
    }
    e
}

/// Find the innermost error and the position (and source) closest to it.
fn unwrap(err: &EvalAltResult, source: &mut String) -> (Error, Position) {
    match err {
        EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
            let outer_source = source.clone();
            if !src.is_empty() {
                *source = src.clone();
            }
            let (e, p) = unwrap(inner, source);
            if p.is_none() {
                *source = outer_source;
                (e, *pos)
            } else {
                let _ = name;
                (e, p)
            }
        }
        EvalAltResult::ErrorInModule(path, inner, pos) => {
            let outer_source = source.clone();
            *source = path.clone();
            let (e, p) = unwrap(inner, source);
            if p.is_none() {
                *source = outer_source;
                (e, *pos)
            } else {
                (e, p)
            }
        }
        EvalAltResult::ErrorRuntime(value, pos) => {
            if let Some(e) = value.read_lock::<Error>() {
                return (e.clone(), *pos);
            }
            let text = if value.is_string() {
                value.clone().into_string().unwrap_or_default()
            } else {
                value.to_string()
            };
            (Error::failed(text), *pos)
        }
        EvalAltResult::ErrorParsing(kind, pos) => {
            (Error::usage(format!("syntax error: {kind}")), *pos)
        }
        EvalAltResult::ErrorTerminated(_, pos) => (Error::cancelled(), *pos),
        EvalAltResult::ErrorFunctionNotFound(sig, pos) => (
            Error::new(
                ErrorKind::Usage,
                format!("unknown function or wrong argument types: {sig}"),
            )
            .hint("`hoist doc` lists every function with its signature"),
            *pos,
        ),
        EvalAltResult::ErrorVariableNotFound(name, pos) => {
            (Error::usage(format!("unknown variable `{name}`")), *pos)
        }
        EvalAltResult::ErrorDataRace(name, pos) => (
            Error::failed(format!("Data race detected{}", if name.is_empty() { String::new() } else { format!(" on `{name}`") }))
                .hint("the body of on() runs on several hosts at once, and a variable it captured was in use by another host (a method called on it, or a change to it): copy it into a local first (`let x = captured;`), or collect results from on()'s returned map instead of changing a captured variable"),
            *pos,
        ),
        other => {
            let pos = other.position();
            (Error::failed(strip_position(&other.to_string())), pos)
        }
    }
}

/// Rhai appends " (line N, position M)" to its messages; hoist shows positions its own way.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" (line ") {
        Some(i) if msg.ends_with(')') => msg[..i].to_string(),
        _ => msg.to_string(),
    }
}
