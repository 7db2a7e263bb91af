//! Templates: minijinja, rendered locally, strict about undefined variables so a typo in a
//! template is an error naming the variable rather than an empty string on a server.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::error::{Error, Result};

fn env<'a>() -> Environment<'a> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // minijinja's debug snapshot is on only in debug builds; errors are described from the
    // template text we hold (below), so a test build reports exactly as a release build does.
    env.set_debug(false);
    env
}

/// Render template text with `vars`; `name` (a file's path, or `render()`) is used in error
/// messages.
pub fn render_str(name: &str, text: &str, vars: &Value) -> Result<String> {
    let mut env = env();
    let failed = |e: minijinja::Error| template_error(name, text, vars, None, &e);
    env.add_template(name, text).map_err(failed)?;
    let tmpl = env.get_template(name).map_err(failed)?;
    tmpl.render(vars)
        .map_err(|e| template_error(name, text, vars, Some(&tmpl), &e))
}

/// Render a template file.
pub fn render_file(path: &str, vars: &Value) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read template {path}: {e}")))?;
    render_str(path, &text, vars)
}

fn template_error(
    name: &str,
    text: &str,
    vars: &Value,
    tmpl: Option<&minijinja::Template<'_, '_>>,
    e: &minijinja::Error,
) -> Error {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let what = match (e.kind(), tmpl) {
        (minijinja::ErrorKind::UndefinedError, Some(tmpl)) => {
            // minijinja does not name what is undefined: the names the template reads from
            // outside that `vars` lacks do, found in the failing expression or on its line.
            let given = |n: &String| vars.get(n).is_some();
            let mut missing: Vec<String> = tmpl
                .undeclared_variables(false)
                .into_iter()
                .filter(|n| !given(n))
                .collect();
            missing.sort();
            let expr = e.range().and_then(|r| text.get(r)).unwrap_or_default();
            let on_line = e
                .line()
                .and_then(|l| text.lines().nth(l.saturating_sub(1)))
                .unwrap_or_default();
            let named = [expr, on_line]
                .iter()
                .find_map(|t| missing.iter().find(|n| has_word(t, n)))
                .or(missing.first());
            match named {
                Some(n) => undefined_variable(n, vars),
                None => undefined_key(expr.trim(), vars),
            }
        }
        _ => e
            .detail()
            .map_or_else(|| e.kind().to_string(), str::to_string),
    };
    Error::failed(format!("template {name}{line}: {what}"))
}

/// Does `text` hold `word` as a whole identifier?
fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + word.len()..].chars().next();
        !before.is_some_and(ident) && !after.is_some_and(ident)
    })
}

/// "undefined variable `prot` (did you mean `port`?)"
fn undefined_variable(name: &str, vars: &Value) -> String {
    let keys = vars.as_object().into_iter().flat_map(|m| m.keys());
    match crate::did_you_mean::closest(name, keys.map(String::as_str)) {
        Some(g) => format!("undefined variable `{name}` (did you mean `{g}`?)"),
        None => format!("undefined variable `{name}`"),
    }
}

/// Every variable is given, so a key is missing: read the expression's leading path
/// (`db.hots`) through `vars` to the first key that is not there.
fn undefined_key(expr: &str, vars: &Value) -> String {
    let path: String = expr
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let mut at = vars;
    let mut walked = String::new();
    for key in path.split('.').filter(|k| !k.is_empty()) {
        let Value::Object(map) = at else { break };
        match map.get(key) {
            Some(v) => {
                at = v;
                walked.push_str(key);
                walked.push('.');
            }
            None if walked.is_empty() => break,
            None => {
                let guess = crate::did_you_mean::closest(key, map.keys().map(String::as_str))
                    .map(|g| format!(" (did you mean `{walked}{g}`?)"))
                    .unwrap_or_default();
                return format!("undefined `{walked}{key}`{guess}");
            }
        }
    }
    if expr.is_empty() {
        "undefined value".to_string()
    } else {
        format!("undefined value in `{expr}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_names_missing_variables() {
        let v = serde_json::json!({"app": "web", "port": 80, "db": {"host": "db1"}});
        assert_eq!(
            render_str("t", "name={{ app }}\n", &v).unwrap(),
            "name=web\n"
        );
        let e = render_str("t.j2", "a\nport={{ prot }}", &v).unwrap_err();
        assert_eq!(
            e.message,
            "template t.j2:2: undefined variable `prot` (did you mean `port`?)"
        );
        let e = render_str("t.j2", "{{ db.hots }}", &v).unwrap_err();
        assert_eq!(
            e.message,
            "template t.j2:1: undefined `db.hots` (did you mean `db.host`?)"
        );
        let e = render_str("t.j2", "{{ nobody }}", &v).unwrap_err();
        assert_eq!(e.message, "template t.j2:1: undefined variable `nobody`");
        let e = render_str("t.j2", "{% for x in items %}{% endfor %}", &v).unwrap_err();
        assert_eq!(e.message, "template t.j2:1: undefined variable `items`");
        // The failing expression is the filter call; the variable is named all the same.
        let e = render_str("t.j2", "a\n{{ nobody | upper }}", &v).unwrap_err();
        assert_eq!(e.message, "template t.j2:2: undefined variable `nobody`");
        // A loop variable is the template's own: only the outside name is undefined.
        let e = render_str("t.j2", "{% for p in ports %}{{ p }}{% endfor %}", &v).unwrap_err();
        assert_eq!(
            e.message,
            "template t.j2:1: undefined variable `ports` (did you mean `port`?)"
        );
    }

    #[test]
    fn other_errors_keep_minijinjas_words() {
        let e = render_str(
            "t.j2",
            "{{ app | nosuchfilter }}",
            &serde_json::json!({"app": 1}),
        )
        .unwrap_err();
        assert!(e.message.starts_with("template t.j2:1: "), "{}", e.message);
        assert!(e.message.contains("nosuchfilter"), "{}", e.message);
    }
}
