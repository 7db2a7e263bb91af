//! A recipe's command line (`hoist deploy --app web -y`), parsed by clap. The recipe becomes a
//! subcommand of hoist's own command with one option per parameter, so the global flags
//! parse the same before and after the recipe's name, and the values stay text: the recipe
//! reads each as its parameter's type (`crate::recipes::Recipe::bind`).

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, CommandFactory, FromArgMatches};
use serde_json::Value;

use super::args::{Cli, Global};
use crate::error::{Error, Result};
use crate::recipes::Recipe;

/// The id of the recipe's own `--help` (no parameter can be named so: ids are identifiers).
const HELP: &str = "--help";

pub struct RecipeArgs {
    pub global: Global,
    pub help: bool,
    /// Each parameter flag as given, in order: its text, or `Null` for a bare `--flag`.
    pub params: Vec<(String, Value)>,
}

/// Parse hoist's whole command line `args` (program name first), whose subcommand is `recipe`.
pub fn parse(recipe: &Recipe, args: impl IntoIterator<Item = OsString>) -> Result<RecipeArgs> {
    let hoist = Cli::command();
    let taken: Vec<String> = hoist
        .get_arguments()
        .filter_map(|a| a.get_long().map(str::to_string))
        .collect();
    let mut sub = clap::Command::new(recipe.name.clone())
        .disable_help_flag(true)
        .arg(
            Arg::new(HELP)
                .long("help")
                .short('h')
                .action(ArgAction::SetTrue),
        );
    for p in recipe.params.values() {
        let long = p.flag().trim_start_matches('-').to_string();
        if taken.contains(&long) {
            return Err(Error::usage(format!(
                "recipe `{}`: its parameter {} is one of hoist's own flags",
                recipe.name,
                p.flag()
            ))
            .hint("rename the @param"));
        }
        // A bare `--flag` switches a bool on; any other type then says it needs a value. A
        // list takes every value up to the next flag (`--diff r3 r5`).
        let many = p.ty == crate::recipes::ParamType::Array;
        let mut arg = Arg::new(p.name.clone())
            .long(long.clone())
            .num_args(if many { 0..=usize::MAX } else { 0..=1 })
            .action(ArgAction::Append)
            .allow_negative_numbers(true)
            .value_name(p.ty.name().to_uppercase());
        if long != p.name {
            arg = arg.alias(p.name.clone());
        }
        sub = sub.arg(arg);
    }
    let matches = hoist
        .subcommand(sub)
        .try_get_matches_from(args)
        .map_err(|e| refused(recipe, &taken, &e))?;
    let Some((_, m)) = matches.subcommand() else {
        return Err(Error::usage(format!(
            "recipe `{}` was not given",
            recipe.name
        )));
    };
    let global = Global::from_arg_matches(m).map_err(|e| refused(recipe, &taken, &e))?;
    let mut params = Vec::new();
    for p in recipe.params.values() {
        for occurrence in m.get_occurrences::<String>(&p.name).into_iter().flatten() {
            let mut values: Vec<Value> = occurrence.map(|v| Value::String(v.clone())).collect();
            let value = match values.len() {
                0 => Value::Null,
                1 => values.pop().expect("one value"),
                _ => Value::Array(values),
            };
            params.push((p.name.clone(), value));
        }
    }
    Ok(RecipeArgs {
        global,
        help: m.get_flag(HELP),
        params,
    })
}

/// clap's refusal as hoist's usage error, naming the recipe and where its parameters are told;
/// an unknown flag gets the closest of the recipe's parameters and hoist's own flags (`taken`).
fn refused(recipe: &Recipe, taken: &[String], e: &clap::Error) -> Error {
    let hint = format!("see `hoist {} --help`", recipe.name);
    let invalid = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    match (e.kind(), invalid) {
        (ErrorKind::UnknownArgument, Some(a)) if a.starts_with("--") => {
            let flag = a.split_once('=').map_or(a.as_str(), |(f, _)| f);
            Error::usage(format!(
                "recipe `{}`: {}",
                recipe.name,
                recipe.no_parameter(flag, taken)
            ))
            .hint(hint)
        }
        (ErrorKind::UnknownArgument, Some(a)) => Error::usage(format!(
            "unexpected argument `{a}` for recipe `{}`",
            recipe.name
        ))
        .hint("recipe parameters are --name value"),
        _ => {
            // clap's own sentence, without its "error: " and its usage block.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            let first = first.strip_prefix("error: ").unwrap_or(first);
            Error::usage(format!("recipe `{}`: {first}", recipe.name)).hint(hint)
        }
    }
}
