//! `hoist repl [--env E] [HOST...]`: explore live servers with the same primitives a recipe
//! uses. The engine comes from the one builder ([`crate::script::build`]); inventory, vars
//! and env are loaded as for `hoist run`; the hosts named are connected up front and bound
//! as `host` (one) or `h1`, `h2`...
//!
//! - [`session`]: the kept scope and functions, evaluation of one input
//! - [`validator`]: when an input is complete (Rhai's own parse result)
//! - [`completer`], [`catalog`], [`lexer`], [`highlighter`], [`prompt`]: the terminal editor
//! - [`meta`]: `:help`, `:hosts`, `:env`, `:vars`, `:save`, `:quit`
//! - [`render`], [`reporter`]: values and streamed command output
//! - [`terminal`] (a TTY) and [`piped`] (stdin piped, for scripting): the two loops

pub mod catalog;
pub mod completer;
pub mod highlighter;
pub mod known;
pub mod lexer;
pub mod meta;
pub mod piped;
pub mod prompt;
pub mod render;
pub mod reporter;
pub mod session;
pub mod targets;
pub mod terminal;
pub mod validator;

use std::io::IsTerminal;
use std::sync::Arc;

pub use reporter::reporter;
pub use session::Session;

use crate::error::{Error, Result};
use crate::present::style::Painter;
use crate::runtime::Runtime;

/// Run the REPL on this runtime (built by the CLI with [`reporter`]).
pub fn run(rt: &Arc<Runtime>, hosts: &[String]) -> Result<()> {
    // Commands stream their output as it arrives, as a person at a prompt expects.
    rt.services.set_echo_output(true);
    let mut session = Session::new(rt);
    let targets = targets::resolve(rt, hosts)?;
    targets::connect(rt, &targets)?;
    session.bind(targets);
    if std::io::stdin().is_terminal() {
        terminal::run(&mut session)
    } else {
        piped::run(&mut session)
    }
}

/// How one input went.
pub struct Handled {
    pub ok: bool,
    pub quit: bool,
}

/// Run one input (a meta-command or script text) and print its value or its error.
pub fn handle(session: &mut Session, text: &str) -> Handled {
    let result = if meta::is_meta(text) {
        meta::parse(text)
            .and_then(|m| meta::run(session, m))
            .map(|flow| match flow {
                meta::Flow::Continue(out) => Some(out),
                meta::Flow::Quit => None,
            })
    } else {
        session
            .eval(text)
            .map(|v| Some(render::value(&session.engine, &v)))
    };
    match result {
        Ok(None) => Handled {
            ok: true,
            quit: true,
        },
        Ok(Some(out)) => {
            if !out.is_empty() {
                println!("{}", session.rt().services.redactor.redact(&out));
            }
            Handled {
                ok: true,
                quit: false,
            }
        }
        Err(e) => {
            print_error(session, &e);
            Handled {
                ok: false,
                quit: false,
            }
        }
    }
}

fn print_error(session: &Session, e: &Error) {
    let p = Painter::for_stream(std::io::stderr().is_terminal());
    let text = session.rt().services.redactor.redact(&e.render());
    let text = match text.strip_prefix("error:") {
        Some(rest) => format!("{}{rest}", p.red("error:")),
        None => text,
    };
    eprint!("{text}");
}
