//! Tab completion. What is offered depends on where the cursor is:
//! - after `x.`: the methods and properties of x's type (the scope says what x is; for a
//!   chain like `host.docker().` the engine's metadata says what each call returns);
//! - at a key of an option map (`h.run("ls", #{`): the keys the function's doc lists;
//! - inside the string of `ssh("` / `hosts("`: inventory hosts / groups;
//! - after `:`: meta-commands; after `:help `: function names;
//! - elsewhere: functions, variables, keywords.

use std::sync::{Arc, Mutex};

use reedline::{Completer, CompletionResult, Span, Suggestion};

use super::catalog::{Catalog, is_identifier};
use super::known::Known;
use super::lexer::{self, Kind, Token};

pub struct ReplCompleter {
    pub catalog: Arc<Catalog>,
    pub known: Arc<Mutex<Known>>,
}

impl Completer for ReplCompleter {
    fn complete(&mut self, line: &str, pos: usize) -> CompletionResult {
        let known = self.known.lock().expect("known lock").clone();
        CompletionResult::fresh(suggest(&self.catalog, &known, line, pos))
    }
}

/// One suggestion: replace `span` with `value`.
fn item(value: String, description: Option<String>, span: Span) -> Suggestion {
    Suggestion {
        value,
        description,
        span,
        ..Suggestion::default()
    }
}

/// The suggestions for the cursor at byte `pos` of `line`.
pub fn suggest(catalog: &Catalog, known: &Known, line: &str, pos: usize) -> Vec<Suggestion> {
    let pos = pos.min(line.len());
    let before = &line[..pos];
    if let Some(meta) = super::meta::complete(before, catalog) {
        return meta;
    }
    let toks = lexer::tokens(before);
    // Inside a string that is still open: host names for ssh("…") / hosts("…").
    if let Some(t) = toks.last()
        && let Kind::Str { closed: false, .. } = t.kind
    {
        return string_completions(known, &toks, before, t);
    }
    if matches!(toks.last().map(|t| t.kind), Some(Kind::Comment)) {
        return Vec::new();
    }
    let (word, word_start) = match toks.last() {
        Some(t) if matches!(t.kind, Kind::Ident | Kind::Keyword) => {
            (&before[t.span.clone()], toks.len() - 1)
        }
        _ => ("", toks.len()),
    };
    let span = Span::new(pos - word.len(), pos);
    let prev = significant_before(&toks, word_start);
    let mut out: Vec<Suggestion> = Vec::new();

    if let Some(p) = prev
        && &before[toks[p].span.clone()] == "."
    {
        // A member: find what the receiver is.
        let Some(ty) = type_of_expr(catalog, known, before, &toks[..p]) else {
            return Vec::new();
        };
        if ty == "map" {
            // A map variable: its keys (`vars.` → the inventory vars).
            if let Some(keys) = receiver_map_keys(known, before, &toks[..p]) {
                for k in keys.into_iter().filter(|k| k.starts_with(word)) {
                    out.push(item(k, Some("map key".into()), span));
                }
            }
        }
        for (name, property, takes_args) in catalog.members(&ty) {
            if !name.starts_with(word) {
                continue;
            }
            let value = if property {
                name.clone()
            } else if takes_args {
                format!("{name}(")
            } else {
                format!("{name}()")
            };
            let desc = catalog
                .entries
                .iter()
                .find(|e| {
                    e.name == name
                        && e.property == property
                        && e.receiver.as_deref() == Some(ty.as_str())
                })
                .map(|e| e.signature.clone());
            out.push(item(value, desc, span));
        }
        return dedup(out);
    }

    if let Some((func, recv, present)) =
        option_map_key_position(catalog, known, before, &toks, word_start)
    {
        for key in catalog.option_keys(&func, recv.as_deref()) {
            if key.starts_with(word) && !present.contains(&key) {
                out.push(item(
                    format!("{key}: "),
                    Some(format!("option of {func}()")),
                    span,
                ));
            }
        }
        return dedup(out);
    }

    // Anything: variables, the session's functions, the engine's functions, keywords.
    if word.is_empty() {
        return Vec::new();
    }
    for (name, ty, _) in &known.vars {
        if name.starts_with(word) {
            out.push(item(name.clone(), Some(ty.clone()), span));
        }
    }
    for f in &known.functions {
        if f.starts_with(word) {
            out.push(item(
                format!("{f}("),
                Some("defined in this session".into()),
                span,
            ));
        }
    }
    for f in catalog.functions() {
        if f.starts_with(word) {
            let desc = catalog.documented(f).first().map(|e| e.signature.clone());
            let call = if catalog.takes_args(f) {
                format!("{f}(")
            } else {
                format!("{f}()")
            };
            out.push(item(call, desc, span));
        }
    }
    for k in lexer::KEYWORDS {
        if k.starts_with(word) && *k != word {
            out.push(item(k.to_string(), Some("keyword".into()), span));
        }
    }
    dedup(out)
}

fn dedup(mut v: Vec<Suggestion>) -> Vec<Suggestion> {
    let mut seen = std::collections::HashSet::new();
    v.retain(|s| seen.insert(s.value.clone()));
    v
}

/// Index of the last non-space, non-comment token before `end`.
fn significant_before(toks: &[Token], end: usize) -> Option<usize> {
    (0..end)
        .rev()
        .find(|&i| !matches!(toks[i].kind, Kind::Space | Kind::Comment))
}

/// Completions inside an open string literal `t`.
fn string_completions(known: &Known, toks: &[Token], before: &str, t: &Token) -> Vec<Suggestion> {
    let content_start = t.span.start + 1;
    let typed = &before[content_start..];
    let span = Span::new(content_start, before.len());
    let idx = toks.len() - 1;
    let Some(paren) = significant_before(toks, idx) else {
        return Vec::new();
    };
    if &before[toks[paren].span.clone()] != "(" {
        return Vec::new();
    }
    let Some(f) = significant_before(toks, paren) else {
        return Vec::new();
    };
    let pool: &[String] = match &before[toks[f].span.clone()] {
        "hosts" => &known.groups,
        "ssh" => &known.specs,
        _ => return Vec::new(),
    };
    pool.iter()
        .filter(|s| s.starts_with(typed))
        .map(|s| item(format!("{s}\""), None, span))
        .collect()
}

/// The type of the expression that ends the token list (the receiver before a `.`):
/// a variable, a call on something (`host.docker()`), a property, a literal.
fn type_of_expr(catalog: &Catalog, known: &Known, text: &str, toks: &[Token]) -> Option<String> {
    let last = significant_before(toks, toks.len())?;
    let t = &toks[last];
    let s = &text[t.span.clone()];
    match t.kind {
        Kind::Str { .. } => Some("string".into()),
        Kind::Number => Some(if s.contains('.') { "f64" } else { "i64" }.into()),
        Kind::Punct if s == "]" => {
            let open = matching_open(text, toks, last, '[', ']')?;
            // `[1, 2]` literal or an index into something.
            let indexing = significant_before(toks, open).is_some_and(|p| {
                toks[p].kind == Kind::Ident || matches!(&text[toks[p].span.clone()], ")" | "]")
            });
            (!indexing).then(|| "array".into())
        }
        Kind::Punct if s == "}" => {
            let open = matching_open(text, toks, last, '{', '}')?;
            (toks[open].kind == Kind::MapOpen).then(|| "map".into())
        }
        Kind::Punct if s == ")" => {
            let open = matching_open(text, toks, last, '(', ')')?;
            let name_at = significant_before(toks, open)?;
            if toks[name_at].kind != Kind::Ident {
                return None;
            }
            let name = &text[toks[name_at].span.clone()];
            match member_of(toks, text, name_at) {
                Some(dot) => {
                    let recv = type_of_expr(catalog, known, text, &toks[..dot])?;
                    catalog.member_type(&recv, name)
                }
                None => catalog.function_type(name),
            }
        }
        Kind::Ident | Kind::Keyword => match member_of(toks, text, last) {
            Some(dot) => {
                let recv = type_of_expr(catalog, known, text, &toks[..dot])?;
                catalog.member_type(&recv, s)
            }
            None => known
                .vars
                .iter()
                .rev()
                .find(|(n, _, _)| n == s)
                .map(|(_, ty, _)| ty.clone()),
        },
        _ => None,
    }
}

/// If token `at` is `x.name`, the index of the `.`.
fn member_of(toks: &[Token], text: &str, at: usize) -> Option<usize> {
    let p = significant_before(toks, at)?;
    (&text[toks[p].span.clone()] == ".").then_some(p)
}

/// The keys of the map variable the receiver names (only a plain variable: `vars.`).
fn receiver_map_keys(known: &Known, text: &str, toks: &[Token]) -> Option<Vec<String>> {
    let last = significant_before(toks, toks.len())?;
    if toks[last].kind != Kind::Ident || member_of(toks, text, last).is_some() {
        return None;
    }
    let name = &text[toks[last].span.clone()];
    known
        .vars
        .iter()
        .rev()
        .find(|(n, _, _)| n == name)
        .map(|(_, _, keys)| keys.clone())
}

/// Walk back from the closing bracket at `close` to its opening one.
fn matching_open(
    text: &str,
    toks: &[Token],
    close: usize,
    open: char,
    shut: char,
) -> Option<usize> {
    let mut depth = 0usize;
    for i in (0..=close).rev() {
        let t = &toks[i];
        let s = &text[t.span.clone()];
        let opens = (t.kind == Kind::Punct && s.starts_with(open))
            || (open == '{' && t.kind == Kind::MapOpen);
        if t.kind == Kind::Punct && s.starts_with(shut) {
            depth += 1;
        } else if opens {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Is the word at `word_at` a key position of an option map passed to a call, like
/// `h.run("ls", #{sudo: true, cw`? Then: the function, its receiver type if known, and the
/// keys already written.
fn option_map_key_position(
    catalog: &Catalog,
    known: &Known,
    text: &str,
    toks: &[Token],
    word_at: usize,
) -> Option<(String, Option<String>, Vec<String>)> {
    // The innermost open bracket before the word.
    let mut stack: Vec<usize> = Vec::new();
    for (i, t) in toks[..word_at].iter().enumerate() {
        let s = &text[t.span.clone()];
        match t.kind {
            Kind::MapOpen => stack.push(i),
            Kind::Punct if matches!(s, "(" | "[" | "{") => stack.push(i),
            Kind::Punct if matches!(s, ")" | "]" | "}") => {
                stack.pop();
            }
            _ => {}
        }
    }
    let map_at = *stack.last()?;
    if toks[map_at].kind != Kind::MapOpen {
        return None;
    }
    // At a key: right after `#{` or after a `,` at the map's own level.
    let prev = significant_before(toks, word_at)?;
    let prev_s = &text[toks[prev].span.clone()];
    if !(prev == map_at || prev_s == ",") {
        return None;
    }
    if prev_s == "," {
        // That comma must belong to the map, not to something nested in it.
        let mut depth = 0i32;
        for t in &toks[map_at + 1..prev] {
            let s = &text[t.span.clone()];
            match t.kind {
                Kind::MapOpen => depth += 1,
                Kind::Punct if matches!(s, "(" | "[" | "{") => depth += 1,
                Kind::Punct if matches!(s, ")" | "]" | "}") => depth -= 1,
                _ => {}
            }
        }
        if depth != 0 {
            return None;
        }
    }
    // Keys already present: identifiers followed by `:` at the map's level.
    let mut present = Vec::new();
    let mut depth = 0i32;
    let body: Vec<&Token> = toks[map_at + 1..word_at]
        .iter()
        .filter(|t| t.kind != Kind::Space)
        .collect();
    for (i, t) in body.iter().enumerate() {
        let s = &text[t.span.clone()];
        match t.kind {
            Kind::MapOpen => depth += 1,
            Kind::Punct if matches!(s, "(" | "[" | "{") => depth += 1,
            Kind::Punct if matches!(s, ")" | "]" | "}") => depth -= 1,
            Kind::Ident | Kind::Keyword
                if depth == 0 && body.get(i + 1).map(|n| &text[n.span.clone()]) == Some(":") =>
            {
                present.push(s.to_string());
            }
            _ => {}
        }
    }
    // The call the map is an argument of: `name(` below it on the stack.
    let call_open = *stack.get(stack.len().checked_sub(2)?)?;
    if &text[toks[call_open].span.clone()] != "(" {
        return None;
    }
    let name_at = significant_before(toks, call_open)?;
    let name = &text[toks[name_at].span.clone()];
    if !is_identifier(name) {
        return None;
    }
    let recv = member_of(toks, text, name_at)
        .and_then(|dot| type_of_expr(catalog, known, text, &toks[..dot]));
    Some((name.to_string(), recv, present))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repl::catalog::Entry;

    fn entry(name: &str, recv: Option<&str>, ret: Option<&str>, n: usize, doc: &str) -> Entry {
        Entry {
            name: name.into(),
            receiver: recv.map(Into::into),
            returns: ret.map(Into::into),
            property: false,
            num_params: n,
            option_keys: Vec::new(),
            signature: format!("{name}(..)"),
            doc: doc.into(),
        }
    }

    /// An entry whose last parameter is an option map with `keys`.
    fn with_opts(
        name: &str,
        recv: Option<&str>,
        ret: Option<&str>,
        n: usize,
        keys: &[&str],
    ) -> Entry {
        Entry {
            option_keys: keys.iter().map(|k| k.to_string()).collect(),
            ..entry(name, recv, ret, n, "Documented.")
        }
    }

    fn catalog() -> Catalog {
        let mut c = Catalog {
            entries: vec![
                entry("run", Some("Host"), Some("Output"), 2, "Run."),
                with_opts(
                    "run",
                    Some("Host"),
                    Some("Output"),
                    3,
                    &["sudo", "cwd", "env", "stdin", "timeout", "check", "stream"],
                ),
                entry("upload", Some("Host"), None, 3, "Copy."),
                entry("facts", Some("Host"), Some("map"), 1, "Facts."),
                entry("docker", Some("Host"), Some("Docker"), 1, "Engine."),
                entry("ps", Some("Docker"), Some("array"), 1, "Containers."),
                with_opts(
                    "ssh",
                    None,
                    Some("Host"),
                    1,
                    &["host", "user", "port", "key", "jump"],
                ),
                entry("local", None, Some("Host"), 0, "Local."),
            ],
        };
        let mut name = entry("name", Some("Host"), Some("string"), 1, "");
        name.property = true;
        c.entries.push(name);
        c
    }

    fn known() -> Known {
        Known {
            vars: vec![
                ("host".into(), "Host".into(), vec![]),
                (
                    "vars".into(),
                    "map".into(),
                    vec!["registry".into(), "app_dir".into()],
                ),
            ],
            functions: vec!["greet".into()],
            groups: vec!["web".into(), "db".into()],
            specs: vec!["deploy@web1".into()],
        }
    }

    fn values(line: &str) -> Vec<String> {
        suggest(&catalog(), &known(), line, line.len())
            .into_iter()
            .map(|s| s.value)
            .collect()
    }

    #[test]
    fn methods_of_the_variables_type() {
        assert_eq!(values("host.u"), ["upload("]);
        assert_eq!(values("host.").len(), 5);
        assert!(values("host.").contains(&"facts()".to_string()));
        assert!(values("host.").contains(&"name".to_string()));
        assert_eq!(values("let x = host.docker().p"), ["ps()"]);
        assert_eq!(values("local().f"), ["facts()"]);
        assert_eq!(values("vars.reg"), ["registry"]);
        assert!(values("nothing.").is_empty());
    }

    #[test]
    fn option_map_keys() {
        let v = values(r#"host.run("ls", #{"#);
        assert_eq!(
            v,
            [
                "check: ",
                "cwd: ",
                "env: ",
                "stdin: ",
                "stream: ",
                "sudo: ",
                "timeout: "
            ]
        );
        assert_eq!(
            values(r#"host.run("ls", #{sudo: true, c"#),
            ["check: ", "cwd: "]
        );
        assert_eq!(values(r#"host.run("ls", #{cwd: "/", c"#), ["check: "]);
        assert_eq!(values("ssh(#{ho"), ["host: "]);
        // A value position is not a key position.
        assert!(values(r#"host.run("ls", #{sudo: t"#).contains(&"true".to_string()));
    }

    #[test]
    fn inventory_hosts_in_strings_and_globals() {
        assert_eq!(values(r#"hosts("w"#), ["web\""]);
        assert_eq!(values(r#"ssh("dep"#), ["deploy@web1\""]);
        assert_eq!(values("gre"), ["greet("]);
        assert_eq!(values("ho"), ["host"]);
        assert!(values("ss").contains(&"ssh(".to_string()));
        assert_eq!(values("loc"), ["local()"]);
        assert_eq!(values(":he"), [":help "]);
    }
}
