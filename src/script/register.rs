//! Registering functions with their documentation, so `hoist doc`, `:help` and REPL
//! completion read everything from the engine's own metadata. The one place that hands a
//! function to the engine; [`super::bind::Bind`] is how the rest of hoist reaches it.

use rhai::{Engine, FuncRegistration, RhaiNativeFunc, Variant};

/// Register `f` with parameter infos already written out (`"opts: #{sudo, cwd}"`) and the
/// return type read from `f`.
pub fn with_info<A: 'static, const N: usize, const X: bool, R, const F: bool, FUNC>(
    engine: &mut Engine,
    name: &str,
    mut info: Vec<String>,
    doc: &str,
    f: FUNC,
) where
    R: Variant + Clone,
    FUNC: RhaiNativeFunc<A, N, X, R, F> + Send + Sync + 'static,
{
    // Every name a script can call is in the reference, `:help` and completion with its doc.
    assert!(
        !doc.trim().is_empty(),
        "{name}: a bound function needs a doc line"
    );
    assert_eq!(
        info.len(),
        N,
        "{name}: {} parameter names for {N} parameters",
        info.len()
    );
    info.push(label(engine, FUNC::return_type_name()));
    let comments: Vec<String> = doc.lines().map(|l| format!("/// {}", l.trim())).collect();
    let comments = comments.join("\n");
    FuncRegistration::new(name)
        .with_params_info(info)
        .with_comments([comments])
        .register_into_engine(engine, f);
}

/// A Rust type as scripts know it: the registered name of a hoist type (`Host`, `Compose`),
/// Rhai's own types by their Rhai names (`String`, `Map`, `Array`, `FnPtr`).
pub fn label(engine: &Engine, rust: &str) -> String {
    let rust = rust.trim().trim_start_matches("&mut ").trim();
    // A function that may fail (`RhaiResult<T>`) returns `T` as far as a script can tell.
    let rust = ok_type(rust).unwrap_or(rust);
    match engine.map_type_name(rust) {
        "string" | "&str" | "String" | "ImmutableString" => "String".into(),
        "array" => "Array".into(),
        "map" => "Map".into(),
        "blob" => "Blob".into(),
        "Fn" => "FnPtr".into(),
        "()" => "()".into(),
        // A type nobody registered a name for reads as its last path segment, not its crate path.
        other => other.rsplit("::").next().unwrap_or(other).to_string(),
    }
}

/// `T` of a `Result<T, E>` type name, `None` if `ty` is no `Result`.
fn ok_type(ty: &str) -> Option<&str> {
    let inner = ty
        .strip_prefix("core::result::Result<")?
        .strip_suffix('>')?;
    // The comma between T and E is the first one outside any `<..>` of T's own.
    let mut depth = 0usize;
    for (i, c) in inner.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return Some(inner[..i].trim()),
            _ => {}
        }
    }
    None
}
