//! Meta-commands: lines starting with `:` talk to the REPL, not to the engine.
//! `:help [name]` reads signatures and docs from the engine's metadata.

use std::fmt::Write;
use std::path::PathBuf;

use reedline::{Span, Suggestion};

use super::catalog::Catalog;
use super::render;
use super::session::Session;
use crate::error::{Error, Result};

/// (name, arguments, what it does)
const COMMANDS: &[(&str, &str, &str)] = &[
    (
        ":help",
        "[name]",
        "signature and doc of a function, from the engine",
    ),
    (
        ":hosts",
        "",
        "hosts bound in this session and every host connected so far",
    ),
    (
        ":env",
        "",
        "the selected environment, its inventory file and host groups",
    ),
    (
        ":vars",
        "",
        "`vars` (inventory < --set) and this session's variables",
    ),
    (
        ":save",
        "FILE",
        "write this session's successful inputs as a recipe",
    ),
    (":quit", "", "leave the REPL (also Ctrl-D)"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meta {
    Help(Option<String>),
    Hosts,
    Env,
    Vars,
    Save(PathBuf),
    Quit,
}

/// What the loop does after a meta-command.
pub enum Flow {
    Continue(String),
    Quit,
}

pub fn is_meta(text: &str) -> bool {
    let t = text.trim_start();
    t.starts_with(':') && t[1..].starts_with(|c: char| c.is_ascii_alphabetic())
}

pub fn parse(text: &str) -> Result<Meta> {
    let t = text.trim();
    let (cmd, arg) = match t.split_once(char::is_whitespace) {
        Some((c, a)) => (c, Some(a.trim()).filter(|a| !a.is_empty())),
        None => (t, None),
    };
    Ok(match cmd {
        ":help" | ":h" | ":?" => Meta::Help(arg.map(str::to_string)),
        ":hosts" => Meta::Hosts,
        ":env" => Meta::Env,
        ":vars" => Meta::Vars,
        ":save" => Meta::Save(PathBuf::from(arg.ok_or_else(|| {
            Error::usage(":save needs a file name").hint(":save deploy.rhai")
        })?)),
        ":quit" | ":q" | ":exit" => Meta::Quit,
        other => {
            return Err(
                Error::usage(format!("unknown meta-command `{other}`")).hint(":help lists them")
            );
        }
    })
}

pub fn run(session: &mut Session, meta: Meta) -> Result<Flow> {
    let text = match meta {
        Meta::Quit => return Ok(Flow::Quit),
        Meta::Help(None) => overview(session),
        Meta::Help(Some(name)) => help(session, &name)?,
        Meta::Hosts => hosts(session),
        Meta::Env => env(session),
        Meta::Vars => vars(session),
        Meta::Save(path) => {
            let recipe = session.recipe();
            std::fs::write(&path, &recipe)
                .map_err(|e| Error::usage(format!("cannot write {}: {e}", path.display())))?;
            format!(
                "saved {} input(s) to {} — run it with `hoist run {}`",
                session.history.len(),
                path.display(),
                path.display()
            )
        }
    };
    Ok(Flow::Continue(text))
}

fn overview(session: &Session) -> String {
    let mut out = String::from("Meta-commands:\n");
    for (name, args, what) in COMMANDS {
        let _ = writeln!(out, "  {:<16} {what}", format!("{name} {args}"));
    }
    out.push_str(
        "\nTab completes (methods after `x.`, option keys inside `#{`), an unfinished statement\n\
         continues on the next line, Ctrl-C cancels the running command, Ctrl-D leaves.\n",
    );
    let fns = crate::script::doc::functions(&session.engine);
    let mut plain: Vec<&str> = fns
        .iter()
        .filter(|f| f.this_type.is_none())
        .map(|f| f.name.as_str())
        .collect();
    plain.dedup();
    let _ = writeln!(out, "\nFunctions: {}", plain.join(", "));
    let mut types: Vec<&str> = fns.iter().filter_map(|f| f.this_type.as_deref()).collect();
    types.sort();
    types.dedup();
    for t in types {
        for (property, what) in [(false, "methods"), (true, "properties")] {
            let mut names: Vec<&str> = fns
                .iter()
                .filter(|f| f.this_type.as_deref() == Some(t) && f.property == property)
                .map(|f| f.name.as_str())
                .collect();
            names.dedup();
            if !names.is_empty() {
                let _ = writeln!(out, "{t} {what}: {}", names.join(", "));
            }
        }
    }
    out.push_str("\n:help NAME shows a function's signature and doc.");
    out
}

fn help(session: &Session, name: &str) -> Result<String> {
    let name = name.trim_start_matches('.').trim_end_matches(['(', ')']);
    let mut out = String::new();
    let hoist_fns: Vec<_> = crate::script::doc::functions(&session.engine)
        .into_iter()
        .filter(|f| f.name == name)
        .collect();
    if !hoist_fns.is_empty() {
        for f in hoist_fns {
            let _ = write!(out, "{}", f.signature);
            if let Some(t) = &f.this_type {
                let what = if f.property { "property" } else { "method" };
                let _ = write!(out, "   ({what} of {t})");
            }
            out.push('\n');
            for l in f.doc.lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
    } else {
        // Rhai's own library documents itself too.
        let entries = session.catalog.documented(name);
        if entries.is_empty() {
            return Err(Error::usage(format!("no function named `{name}`"))
                .hint("`:help` lists hoist's functions; Tab completes names"));
        }
        for e in entries {
            let _ = writeln!(out, "{}", e.signature);
            for l in e.doc.lines().take(12) {
                let _ = writeln!(out, "    {l}");
            }
        }
    }
    Ok(out.trim_end().to_string())
}

fn hosts(session: &Session) -> String {
    let rt = session.rt();
    let mut out = String::new();
    if session.bound.is_empty() {
        out.push_str("no hosts bound (give them on the command line: hoist repl HOST...)\n");
    }
    for (var, h) in &session.bound {
        let _ = writeln!(out, "{var:<6} {}", h.name());
    }
    let mut others: Vec<String> = rt
        .connected_hosts()
        .iter()
        .filter(|h| !session.bound.iter().any(|(_, b)| b.name() == h.name()))
        .map(|h| h.name().to_string())
        .collect();
    others.sort();
    if !others.is_empty() {
        let _ = writeln!(out, "also used in this session: {}", others.join(", "));
    }
    if let Some(env) = &rt.env {
        for (group, specs) in &env.groups {
            let names: Vec<String> = specs.iter().map(|s| s.display_name()).collect();
            let _ = writeln!(out, "group {group}: {}", names.join(", "));
        }
    }
    out.trim_end().to_string()
}

fn env(session: &Session) -> String {
    let rt = session.rt();
    let mut out = match rt.env_name() {
        Some(e) => format!("environment: {e}\n"),
        None => "no environment selected (--env NAME or HOIST_ENV)\n".to_string(),
    };
    match &rt.inventory.path {
        Some(p) => {
            let _ = writeln!(out, "inventory: {}", p.display());
        }
        None => out.push_str("inventory: none (no hoist.toml here or above)\n"),
    }
    let envs: Vec<&String> = rt.inventory.envs.keys().collect();
    if !envs.is_empty() {
        let _ = writeln!(
            out,
            "environments: {}",
            envs.iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(env) = &rt.env {
        let groups: Vec<&str> = env.groups.keys().map(String::as_str).collect();
        let _ = writeln!(out, "host groups: {}", groups.join(", "));
    }
    out.trim_end().to_string()
}

fn vars(session: &Session) -> String {
    let mut out = String::from("vars:\n");
    let v = serde_json::Value::Object(session.rt().vars.clone());
    let redacted = session
        .rt()
        .services
        .redactor
        .redact(&render::json_text(&v));
    for l in redacted.lines() {
        let _ = writeln!(out, "  {l}");
    }
    let vars: Vec<String> = session
        .variables()
        .into_iter()
        .filter(|(n, _)| n != "vars")
        .map(|(n, v)| format!("{n}: {}", session.type_of(&v)))
        .collect();
    let _ = write!(out, "session variables: {}", vars.join(", "));
    out
}

/// Completions for a line that is a meta-command (None when it is not one).
pub fn complete(before: &str, catalog: &Catalog) -> Option<Vec<Suggestion>> {
    let t = before.trim_start();
    if !t.starts_with(':') {
        return None;
    }
    let offset = before.len() - t.len();
    match t.split_once(' ') {
        None => Some(
            COMMANDS
                .iter()
                .filter(|(n, _, _)| n.starts_with(t))
                .map(|(n, args, what)| Suggestion {
                    value: if args.is_empty() {
                        n.to_string()
                    } else {
                        format!("{n} ")
                    },
                    description: Some(what.to_string()),
                    span: Span::new(offset, before.len()),
                    ..Suggestion::default()
                })
                .collect(),
        ),
        Some((":help", word)) => {
            let word = word.trim_start();
            let start = before.len() - word.len();
            Some(
                catalog
                    .functions()
                    .into_iter()
                    .filter(|f| f.starts_with(word))
                    .map(|f| Suggestion {
                        value: f.to_string(),
                        span: Span::new(start, before.len()),
                        ..Suggestion::default()
                    })
                    .collect(),
            )
        }
        Some(_) => Some(Vec::new()),
    }
}
