//! Without a terminal (stdin piped, for scripting): read lines, gather them until they make
//! a complete input (the same rule as Enter at the prompt), run it, print the result. An
//! error is printed and the session goes on; the exit status says whether any input failed.

use std::io::BufRead;

use super::session::Session;
use super::validator::is_incomplete;
use crate::error::{Error, Result};

#[derive(Default)]
struct Tally {
    total: usize,
    failed: usize,
}

impl Tally {
    /// Run one input; true when the session should end (`:quit`).
    fn run(&mut self, session: &mut Session, text: &str) -> bool {
        self.total += 1;
        let done = super::handle(session, text);
        if !done.ok {
            self.failed += 1;
        }
        done.quit
    }

    fn finish(self) -> Result<()> {
        if self.failed == 0 {
            Ok(())
        } else {
            Err(Error::failed(format!(
                "{} of {} inputs failed",
                self.failed, self.total
            )))
        }
    }
}

pub fn run(session: &mut Session) -> Result<()> {
    let mut pending = String::new();
    let mut tally = Tally::default();
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        if pending.trim().is_empty() {
            pending.clear();
            continue;
        }
        if is_incomplete(&session.engine, &pending) {
            continue;
        }
        let text = std::mem::take(&mut pending);
        if tally.run(session, &text) {
            return tally.finish();
        }
    }
    // The input ended in the middle of a statement: run it, so the error shows.
    if !pending.trim().is_empty() {
        tally.run(session, &pending);
    }
    tally.finish()
}
