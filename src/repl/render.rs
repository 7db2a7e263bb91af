//! Values as a person reads them: an array of maps as a table (so `host.docker().ps()`
//! reads like `docker ps`, via the CLI's own table renderer), maps and arrays as indented
//! text, strings raw. hoist's own types show what they are (`Host(web1)`); a command's
//! Output was already streamed line by line, so only its exit code and time are shown.

use rhai::{Dynamic, Engine, Scope};

use crate::host::Host;
use crate::script::script_output::ScriptOutput as Output;
use crate::secret::Secret;

/// The text to print for the value of an input (empty for `()`).
pub fn value(engine: &Engine, v: &Dynamic) -> String {
    if v.is_unit() {
        return String::new();
    }
    if let Some(o) = v.read_lock::<Output>() {
        return format!("exit {} in {} ms", o.code, o.ms);
    }
    crate::present::table::render_value(&to_json(engine, v))
}

/// Pretty JSON text (used for `:vars`).
pub fn json_text(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A value as JSON for display: containers recursively; hoist's types as readable text.
fn to_json(engine: &Engine, v: &Dynamic) -> serde_json::Value {
    use serde_json::Value;
    if v.is_unit() {
        return Value::Null;
    }
    if let Some(b) = v.read_lock::<bool>() {
        return Value::Bool(*b);
    }
    if let Ok(i) = v.as_int() {
        return Value::from(i);
    }
    if let Ok(f) = v.as_float() {
        return serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string()));
    }
    if v.is_string() || v.is_char() {
        return Value::String(v.to_string());
    }
    if let Some(a) = v.read_lock::<rhai::Array>() {
        return Value::Array(a.iter().map(|x| to_json(engine, x)).collect());
    }
    if let Some(m) = v.read_lock::<rhai::Map>() {
        return Value::Object(
            m.iter()
                .map(|(k, x)| (k.to_string(), to_json(engine, x)))
                .collect(),
        );
    }
    if let Some(s) = v.read_lock::<Secret>() {
        return Value::String(s.to_string());
    }
    if let Some(h) = v.read_lock::<Host>() {
        return Value::String(format!("Host({})", h.name()));
    }
    if let Some(o) = v.read_lock::<Output>() {
        return o.to_json();
    }
    // Any other registered type: its own to_debug / to_string.
    Value::String(debug_text(engine, v))
}

fn debug_text(engine: &Engine, v: &Dynamic) -> String {
    let mut scope = Scope::new();
    scope.push_dynamic("value", v.clone());
    for f in ["to_debug(value)", "to_string(value)"] {
        if let Ok(s) = engine.eval_expression_with_scope::<String>(&mut scope, f) {
            return s;
        }
    }
    engine.map_type_name(v.type_name()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_of_maps_are_tables_strings_are_raw() {
        let e = Engine::new();
        let rows: Dynamic = e
            .eval(r#"[#{name: "web", state: "running"}, #{name: "db", state: "exited"}]"#)
            .unwrap();
        assert_eq!(value(&e, &rows), "NAME  STATE\nweb   running\ndb    exited");
        assert_eq!(value(&e, &Dynamic::from("two\nlines")), "two\nlines");
        assert_eq!(value(&e, &Dynamic::UNIT), "");
        assert_eq!(value(&e, &Dynamic::from(42_i64)), "42");
    }
}
