//! `hoist completions SHELL` and `hoist man`: generated from the same clap definition that
//! parses the command line, plus one subcommand per recipe found here (built-in and the
//! project's), with its `--params` — so a project's own recipes complete too.

use std::io::Write;

use clap::{Arg, ArgAction, CommandFactory};
use clap_complete::Shell;

use super::args::Cli;
use crate::error::{Error, Result};
use crate::recipes::Recipe;

/// The CLI as clap knows it, with the recipes as subcommands.
fn command_with_recipes(recipes: &indexmap::IndexMap<String, Recipe>) -> clap::Command {
    let mut cmd = Cli::command();
    for r in recipes.values() {
        if cmd.find_subcommand(&r.name).is_some() {
            continue;
        }
        let mut sub = clap::Command::new(r.name.clone()).about(r.summary.clone());
        for p in r.params.values() {
            let flag = p.name.replace('_', "-");
            let arg = Arg::new(p.name.clone()).long(flag).help(p.doc.clone());
            let arg = match p.ty {
                crate::recipes::ParamType::Bool => arg.action(ArgAction::SetTrue),
                crate::recipes::ParamType::Array | crate::recipes::ParamType::Map => {
                    arg.value_name("VALUE").action(ArgAction::Append)
                }
                _ => arg.value_name("VALUE").action(ArgAction::Set),
            };
            sub = sub.arg(arg);
        }
        cmd = cmd.subcommand(sub);
    }
    cmd
}

/// Print the completion script for `shell`.
pub fn completions(shell: &str, recipes: &indexmap::IndexMap<String, Recipe>) -> Result<()> {
    let shell: Shell = shell.parse().map_err(|_| {
        Error::usage(format!("no completions for `{shell}`"))
            .hint("hoist completions bash|zsh|fish|elvish|powershell")
    })?;
    let mut cmd = command_with_recipes(recipes);
    clap_complete::generate(shell, &mut cmd, "hoist", &mut std::io::stdout());
    Ok(())
}

/// Print the man page (roff) for hoist.
pub fn man(recipes: &indexmap::IndexMap<String, Recipe>) -> Result<()> {
    let cmd = command_with_recipes(recipes);
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::wrap("cannot render the man page", e))?;
    std::io::stdout()
        .write_all(&out)
        .map_err(|e| Error::wrap("cannot write the man page", e))
}
