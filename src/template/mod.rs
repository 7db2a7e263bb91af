//! Templates: minijinja, rendered locally, strict about undefined variables so a typo in a
//! template is an error naming the variable rather than an empty string on a server.

use minijinja::{Environment, UndefinedBehavior};

use crate::error::{Error, Result};

fn env<'a>() -> Environment<'a> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env
}

/// Render template text with `vars`; `name` is used in error messages.
pub fn render_str(name: &str, text: &str, vars: &serde_json::Value) -> Result<String> {
    let mut env = env();
    env.add_template(name, text)
        .map_err(|e| template_error(name, &e))?;
    let tmpl = env
        .get_template(name)
        .map_err(|e| template_error(name, &e))?;
    tmpl.render(vars).map_err(|e| template_error(name, &e))
}

/// Render a template file.
pub fn render_file(path: &str, vars: &serde_json::Value) -> Result<String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::usage(format!("cannot read template {path}: {e}")))?;
    render_str(path, &text, vars)
}

fn template_error(name: &str, e: &minijinja::Error) -> Error {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let mut msg = format!(
        "template {name}{line}: {}",
        e.detail().unwrap_or(&e.kind().to_string())
    );
    if e.kind() == minijinja::ErrorKind::UndefinedError {
        // minijinja does not name the variable in the error itself; find it in the source.
        msg = format!(
            "template {name}{line}: undefined variable{}",
            undefined_name(e)
                .map(|n| format!(" `{n}`"))
                .unwrap_or_default()
        );
    }
    Error::failed(msg)
}

fn undefined_name(e: &minijinja::Error) -> Option<String> {
    let src = e.template_source()?;
    let range = e.range()?;
    let text = src.get(range)?.trim();
    Some(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_and_names_missing_variables() {
        let v = serde_json::json!({"app": "web"});
        assert_eq!(
            render_str("t", "name={{ app }}\n", &v).unwrap(),
            "name=web\n"
        );
        let e = render_str("t.j2", "a\nport={{ prot }}", &v).unwrap_err();
        assert!(e.message.contains("`prot`"), "{}", e.message);
        assert!(e.message.contains("t.j2:2"), "{}", e.message);
    }
}
