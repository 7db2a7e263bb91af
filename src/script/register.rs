//! Registering functions with their documentation, so `hoist doc`, `:help` and REPL
//! completion read everything from the engine's own metadata.

use rhai::{Engine, FuncRegistration, RhaiNativeFunc, Variant};

/// Register `func` as `name` with a signature like `"h: Host, cmd: String -> Output"` and a
/// doc text (first line = summary).
pub fn func<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
    engine: &mut Engine,
    name: &str,
    signature: &str,
    doc: &str,
    f: FUNC,
) where
    R: Variant + Clone,
    FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
{
    let (params, ret) = match signature.split_once("->") {
        Some((p, r)) => (p.trim(), r.trim()),
        None => (signature.trim(), "()"),
    };
    let mut info: Vec<String> = params
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    info.push(ret.to_string());
    let comments: Vec<String> = doc.lines().map(|l| format!("/// {}", l.trim())).collect();
    let comments = comments.join("\n");
    FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments([comments])
        .register_into_engine(engine, f);
}
