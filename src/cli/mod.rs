//! The `hoist` command line. The only place (with the REPL) that prints.

mod args;
mod completions;
mod human;
mod init;
mod json;
mod lock;
mod log;
mod plan;
mod proxy;
mod recipe_args;
mod signals;

use std::io::IsTerminal;
use std::sync::Arc;

use clap::Parser;

pub use args::{Cli, Command, Global, LockAction, LockTarget, ProxyAction, ProxyTarget};
use human::Human;
use json::Json;

use crate::error::{Error, Result};
use crate::present::{style, table};
use crate::report::SharedReporter;
use crate::runtime::{Runtime, Settings};

/// Entry point of the binary; returns the process exit code (0 ok, 1 failed, 2 usage).
pub fn main() -> i32 {
    init_tracing();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    // `hoist deploy ... --json`: the recipe's own arguments carry the flag (they are parsed
    // after clap, as the recipe's), and its errors must come out as JSON too.
    let json = cli.global.json
        || matches!(&cli.command, Command::Recipe(argv) if argv.iter().any(|a| a == "--json"));
    match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            report_error(&e, json);
            match e.kind {
                crate::error::ErrorKind::Cancelled => signals::cancelled_exit_code(),
                _ => e.exit_code_for_cli(),
            }
        }
    }
}

fn init_tracing() {
    if let Ok(filter) = std::env::var("HOIST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .try_init();
    }
}

fn report_error(e: &Error, json: bool) {
    if json {
        Json::emit(&serde_json::json!({"event": "error", "error": e.to_json()}));
    } else {
        let p = style::Painter::for_stream(std::io::stderr().is_terminal());
        let text = e.render();
        let text = match text.strip_prefix("error:") {
            Some(rest) => format!("{}{rest}", p.red("error:")),
            None => text,
        };
        eprint!("{text}");
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Run { file } => with_runtime(&g, |rt| crate::run_file(rt, &file)),
        // The global flags are parsed again, with the recipe's own.
        Command::Recipe(argv) => run_recipe_cli(argv),
        Command::Recipes => list_recipes(&g),
        Command::Check { files } => check(&g, &files),
        Command::Doc {
            markdown: true,
            recipes,
            ..
        } => doc_markdown(recipes),
        Command::Doc { name, .. } => doc(&g, name.as_deref()),
        Command::Completions { shell } => {
            let recipes = crate::recipes::discover(project_dir()?.as_deref())?;
            completions::completions(&shell, &recipes)
        }
        Command::Man => completions::man(&crate::recipes::discover(project_dir()?.as_deref())?),
        Command::Log { app, since, run } => {
            let f = log::Filter { app, since, run };
            let rows = log::rows(project_dir()?.as_deref(), &f)?;
            if g.json {
                Json::emit(&rows);
            } else {
                let text = table::render_value_within(&rows, table::stdout_columns());
                println!(
                    "{}",
                    if text.is_empty() {
                        "(no changes)"
                    } else {
                        &text
                    }
                );
            }
            Ok(())
        }
        Command::Lock { action } => with_runtime(&g, |rt| lock::run(rt, &action)),
        Command::Proxy { action } => with_runtime(&g, |rt| proxy::run(rt, &action)),
        Command::Init { hosts } => init::run(&g, &hosts),
        Command::Repl { hosts } => {
            let rt = build_runtime(&g, crate::repl::reporter(g.verbose))?;
            signals::leave_on_hangup(crate::repl::reporter::at_prompt);
            let r = crate::repl::run(&rt, &hosts);
            rt.shutdown();
            r
        }
    }
}

/// Build the runtime for these flags.
pub fn build_runtime(g: &Global, reporter: SharedReporter) -> Result<Arc<Runtime>> {
    crate::host::check_ssh_env()?;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let mut settings = Settings {
        forks: g.forks.max(1),
        yes: g.yes,
        interactive,
        lock_wait: g.lock_wait,
        limit: crate::inventory::Limit::parse(&g.limit),
        ..Settings::default()
    };
    settings.ssh.accept_new_host_keys = g.accept_new_host_keys;
    if interactive {
        settings.confirm = Some(Arc::new(ask_yes_no));
    }
    let mut b = Runtime::builder()
        .reporter(reporter)
        .env(g.env.clone())
        .settings(settings);
    for s in &g.sets {
        let (k, v) = crate::inventory::parse_set(s)?;
        b = b.set(k, v);
    }
    let rt = b.build()?;
    rt.services.set_echo_output(g.verbose);
    if g.dry_run {
        rt.services.effects().set_mode(crate::effect::Mode::Plan);
    }
    rt.services.effects().set_show_diffs(g.diff);
    if let Some(pw) = sudo_password(g)? {
        rt.services.set_sudo_password(pw);
    }
    let services = rt.services.clone();
    signals::install(services);
    Ok(rt)
}

/// The sudo password for this run: asked at the terminal (`--ask-sudo-password`), else from
/// `HOIST_SUDO_PASSWORD`, else none (`sudo -n`).
fn sudo_password(g: &Global) -> Result<Option<crate::secret::Secret>> {
    if g.ask_sudo_password {
        let pw = rpassword::prompt_password("sudo password: ").map_err(|e| {
            Error::usage(format!(
                "--ask-sudo-password needs a terminal to ask at: {e}"
            ))
            .hint("or give it in HOIST_SUDO_PASSWORD (e.g. from a password manager)")
        })?;
        return Ok(Some(crate::secret::Secret::new(pw)));
    }
    Ok(std::env::var("HOIST_SUDO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(crate::secret::Secret::new))
}

fn ask_yes_no(q: &str) -> Result<bool> {
    use std::io::Write;
    eprint!("{q} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn reporter(g: &Global) -> (SharedReporter, Option<Arc<Human>>) {
    if g.json {
        (Arc::new(Json), None)
    } else {
        let h = Arc::new(Human::new(g.verbose, g.quiet));
        (h.clone(), Some(h))
    }
}

/// Build a runtime, run `f`, print its value, the host summary, close connections.
fn with_runtime(
    g: &Global,
    f: impl FnOnce(&Arc<Runtime>) -> Result<serde_json::Value>,
) -> Result<()> {
    let (rep, human) = reporter(g);
    let rt = build_runtime(g, rep)?;
    let result = f(&rt);
    if let Some(h) = &human {
        h.summary();
    }
    rt.shutdown();
    let value = result.map_err(|mut e| {
        redact_error(&rt, &mut e);
        if g.dry_run {
            // The plan is shown even when the run stopped on an error: it says how far it got.
            plan::show(&rt, g.json, true);
        }
        e
    })?;
    // The script's value may carry a secret a command printed: scrub it like every output.
    let value = redact_value(&rt, value);
    // A dry run's plan is what was asked for: it comes first, the value (built from the plan's
    // placeholders) after it.
    if g.dry_run {
        plan::show(&rt, g.json, false);
    }
    if g.json {
        Json::emit(&serde_json::json!({"event": "result", "value": value}));
    } else {
        let text = table::render_value_within(&value, table::stdout_columns());
        if !text.is_empty() {
            println!("{text}");
        }
    }
    let failures = rt.services.take_end_failures();
    if !failures.is_empty() {
        return Err(Error::failed(failures.join("; ")));
    }
    Ok(())
}

fn redact_value(rt: &Runtime, v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let r = &rt.services.redactor;
    match v {
        Value::String(s) => Value::String(r.redact(&s)),
        Value::Array(a) => Value::Array(a.into_iter().map(|x| redact_value(rt, x)).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, x)| (r.redact(&k), redact_value(rt, x)))
                .collect(),
        ),
        other => other,
    }
}

fn redact_error(rt: &Runtime, e: &mut Error) {
    let r = &rt.services.redactor;
    e.message = r.redact(&e.message);
    e.stderr_tail = e.stderr_tail.as_ref().map(|s| r.redact(s));
    e.command = e.command.as_ref().map(|s| r.redact(s));
    for c in &mut e.causes {
        redact_error(rt, c);
    }
}

/// `hoist <recipe> [--param value]...` (global flags may be mixed in).
/// `hoist <recipe> [--param value]...`: the recipe's parameters are flags of their own, parsed
/// with hoist's global flags (which may come before or after the recipe's name).
fn run_recipe_cli(argv: Vec<String>) -> Result<()> {
    let name = argv.first().cloned().unwrap_or_default();
    let all = crate::recipes::discover(project_dir()?.as_deref())?;
    let recipe = crate::find_recipe(&all, &name)?;
    let args = recipe_args::parse(recipe, std::env::args_os())?;
    if args.help {
        return recipe_help(&args.global, recipe);
    }
    with_runtime(&args.global, |rt| {
        crate::run_recipe(rt, &name, &args.params)
    })
}

fn project_dir() -> Result<Option<std::path::PathBuf>> {
    let inv = crate::inventory::Inventory::discover(&std::env::current_dir()?)?;
    Ok(inv.project_dir().map(|p| p.to_path_buf()))
}

fn recipe_help(g: &Global, r: &crate::recipes::Recipe) -> Result<()> {
    let name = &r.name;
    if g.json {
        Json::emit(
            &serde_json::json!({"name": r.name, "origin": r.origin, "doc": r.doc, "params": r.params.values().map(|p| serde_json::json!({"name": p.name, "type": p.ty.name(), "required": p.default.is_none(), "default": p.default, "doc": p.doc})).collect::<Vec<_>>()}),
        );
        return Ok(());
    }
    println!(
        "hoist {name} [--param value]...   ({})\n\n{}\n",
        r.origin, r.doc
    );
    if !r.params.is_empty() {
        println!("Parameters:");
        // Columns as wide as their widest entry, so a long default never runs into its text.
        let flag_w = r.params.values().map(|p| p.flag().len()).max().unwrap_or(0);
        let what_w = r
            .params
            .values()
            .map(|p| p.describe().len())
            .max()
            .unwrap_or(0);
        for p in r.params.values() {
            println!(
                "  {:<flag_w$}  {:<what_w$}  {}",
                p.flag(),
                p.describe(),
                p.doc
            );
        }
        println!(
            "\nLists: --name a,b or --name a --name b; maps: --name k=v,k2=v2. Values also come \
             from hoist.toml vars named like the parameter (env, then group and host vars in h.vars); \
             --set k=v and flags win."
        );
    }
    Ok(())
}

fn list_recipes(g: &Global) -> Result<()> {
    let all = crate::recipes::discover(project_dir()?.as_deref())?;
    if g.json {
        let rows: Vec<serde_json::Value> = all
            .values()
            .map(
                |r| serde_json::json!({"recipe": r.name, "origin": r.origin, "summary": r.summary}),
            )
            .collect();
        Json::emit(&serde_json::Value::Array(rows));
        return Ok(());
    }
    // Summaries are read whole here, so no table cell truncation.
    let width = all.keys().map(String::len).max().unwrap_or(0);
    for r in all.values() {
        let origin = if r.origin == "built-in" {
            String::new()
        } else {
            format!("  [{}]", r.origin)
        };
        println!("{:<width$}  {}{origin}", r.name, r.summary);
    }
    Ok(())
}

fn check(g: &Global, files: &[std::path::PathBuf]) -> Result<()> {
    let rt = Runtime::builder()
        .env(g.env.clone())
        .no_audit_log()
        .build()?;
    let st = crate::script::ScriptState::new(rt.clone());
    let engine = crate::script::build(&st);
    let mut problems = 0;
    for f in files {
        let script = crate::script::Script::from_file(f)?;
        let found = crate::script::check::check(&st, &engine, &script);
        if g.json {
            Json::emit(
                &serde_json::json!({"file": f.display().to_string(), "ok": found.is_empty(), "problems": found.iter().map(Error::to_json).collect::<Vec<_>>()}),
            );
        } else if found.is_empty() {
            println!("ok: {}", f.display());
        } else {
            for p in &found {
                eprint!("{}", p.render());
            }
        }
        problems += found.len();
    }
    if problems > 0 {
        return Err(Error::usage(format!("{problems} problem(s) found")));
    }
    Ok(())
}

/// The book's reference pages, generated (`hoist doc --markdown [--recipes]`).
fn doc_markdown(recipes: bool) -> Result<()> {
    if recipes {
        // Built-in recipes only: the page is the same wherever it is generated.
        let all = crate::recipes::discover(None)?;
        print!("{}", crate::recipes::markdown::recipes_page(all.values()));
        return Ok(());
    }
    let rt = Runtime::builder().no_audit_log().build()?;
    let st = crate::script::ScriptState::new(rt);
    let engine = crate::script::build(&st);
    let fns = crate::script::doc::functions(&engine);
    print!("{}", crate::script::doc_markdown::functions_page(&fns));
    Ok(())
}

fn doc(g: &Global, name: Option<&str>) -> Result<()> {
    let rt = Runtime::builder().no_audit_log().build()?;
    let st = crate::script::ScriptState::new(rt);
    let engine = crate::script::build(&st);
    let mut fns = crate::script::doc::functions(&engine);
    if let Some(n) = name {
        let exact: Vec<_> = fns.iter().filter(|f| f.name == n).cloned().collect();
        fns = if exact.is_empty() {
            fns.into_iter()
                .filter(|f| f.name.contains(n) || f.this_type.as_deref() == Some(n))
                .collect()
        } else {
            exact
        };
        // A recipe of that name is what someone typing `hoist doc deploy` most likely means.
        let recipes = crate::recipes::discover(project_dir()?.as_deref())?;
        let recipe = recipes.get(n);
        if fns.is_empty()
            && let Some(r) = recipe
        {
            return recipe_help(g, r);
        }
        if fns.is_empty() {
            return Err(Error::usage(format!("no function or recipe named `{n}`"))
                .hint("`hoist doc` lists the functions, `hoist recipes` the recipes"));
        }
        if recipe.is_some() && !g.json {
            println!(
                "`{n}` is also a recipe: `hoist {n} --help` describes it. Script functions:\n"
            );
        }
    }
    if g.json {
        Json::emit(&serde_json::to_value(&fns).unwrap_or_default());
        return Ok(());
    }
    for f in fns {
        let call = match &f.this_type {
            Some(t) => format!(
                "{}  {}",
                f.signature,
                style::Painter { on: false }.dim(&format!(
                    "({} of {t})",
                    if f.property { "property" } else { "method" }
                ))
            ),
            None => f.signature.clone(),
        };
        println!("{call}");
        for line in f.doc.lines() {
            println!("    {line}");
        }
        println!(
            "    Dry run: {}",
            crate::script::doc_markdown::dry_run_text(&f)
        );
        println!();
    }
    Ok(())
}
