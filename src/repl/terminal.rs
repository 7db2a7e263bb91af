//! At a terminal: reedline with Rhai-aware Enter (an unfinished statement continues on the
//! next line), Tab completion, syntax colours, hints from history, history kept in the
//! user's state directory. Ctrl-C at the prompt clears the line; Ctrl-C while an input runs
//! cancels it (the CLI's signal handler cancels the run's token; the host layer kills the
//! remote process); Ctrl-D leaves.

use std::path::PathBuf;

use nu_ansi_term::Style;
use reedline::{
    ColumnarMenu, DefaultHinter, Emacs, FileBackedHistory, KeyCode, KeyModifiers, MenuBuilder,
    Reedline, ReedlineEvent, ReedlineMenu, Signal, default_emacs_keybindings,
};

use super::completer::ReplCompleter;
use super::highlighter::ReplHighlighter;
use super::prompt::ReplPrompt;
use super::reporter;
use super::session::Session;
use super::validator::ReplValidator;
use crate::error::{Error, Result};

const MENU: &str = "completion_menu";
const HISTORY_SIZE: usize = 10_000;

/// `$XDG_STATE_HOME/hoist/repl_history` (or `~/.local/state/hoist/repl_history`).
pub fn history_path() -> Option<PathBuf> {
    let base = dirs::state_dir().or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))?;
    Some(base.join("hoist").join("repl_history"))
}

fn editor(session: &Session) -> Reedline {
    let mut keys = default_emacs_keybindings();
    keys.add_binding(
        KeyModifiers::NONE,
        KeyCode::Tab,
        ReedlineEvent::UntilFound(vec![
            ReedlineEvent::Menu(MENU.to_string()),
            ReedlineEvent::MenuNext,
        ]),
    );
    keys.add_binding(
        KeyModifiers::SHIFT,
        KeyCode::BackTab,
        ReedlineEvent::MenuPrevious,
    );
    let menu = ColumnarMenu::default().with_name(MENU);
    let mut ed = Reedline::create()
        .with_edit_mode(Box::new(Emacs::new(keys)))
        .with_validator(Box::new(ReplValidator {
            engine: session.engine.clone(),
        }))
        .with_completer(Box::new(ReplCompleter {
            catalog: session.catalog.clone(),
            known: session.known.clone(),
        }))
        .with_menu(ReedlineMenu::EngineCompleter(Box::new(menu)))
        .with_quick_completions(true)
        .with_partial_completions(true)
        .with_highlighter(Box::new(ReplHighlighter))
        .with_hinter(Box::new(
            DefaultHinter::default().with_style(Style::new().dimmed()),
        ))
        .with_ansi_colors(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()));
    if let Some(path) = history_path() {
        let _ = std::fs::create_dir_all(path.parent().unwrap_or(&path));
        match FileBackedHistory::with_file(HISTORY_SIZE, path.clone()) {
            Ok(h) => ed = ed.with_history(Box::new(h)),
            Err(e) => eprintln!("warn: no history ({}: {e})", path.display()),
        }
    }
    ed
}

pub fn run(session: &mut Session) -> Result<()> {
    let mut ed = editor(session);
    eprintln!("hoist repl: :help for help, Tab completes, Ctrl-C cancels, Ctrl-D leaves");
    for (var, h) in &session.bound {
        eprintln!("  {var} = {}", h.name());
    }
    loop {
        let bound: Vec<(String, String)> = session
            .bound
            .iter()
            .map(|(v, h)| (v.clone(), h.name().to_string()))
            .collect();
        let prompt = ReplPrompt::new(session.rt().env_name(), &bound);
        reporter::prompt_shown();
        let signal = ed.read_line(&prompt);
        reporter::prompt_gone();
        match signal.map_err(|e| Error::wrap("cannot read from the terminal", e))? {
            Signal::Success(text) => {
                if text.trim().is_empty() {
                    continue;
                }
                if super::handle(session, &text).quit {
                    break;
                }
            }
            Signal::CtrlD => break,
            _ => continue,
        }
    }
    Ok(())
}
