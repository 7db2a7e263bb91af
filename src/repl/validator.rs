//! When is an input finished? Rhai decides: an input is incomplete when it fails to parse
//! at its very end (an unclosed block, call or map; a dangling operator) or inside a string
//! that may go on (a backtick string, a `"...\` continuation). Anything else — including a
//! real syntax error — is complete, so the error is shown instead of waiting for more.
//! The terminal (reedline Validator) and piped input use the same rule.

use std::sync::Arc;

use reedline::{ValidationResult, Validator};
use rhai::{Engine, LexError, ParseErrorType};

/// True when more lines could still make `text` valid.
pub fn is_incomplete(engine: &Engine, text: &str) -> bool {
    let text = text.trim_end();
    if text.is_empty() || super::meta::is_meta(text) {
        return false;
    }
    let Err(err) = engine.compile(text) else {
        return false;
    };
    let (kind, pos) = (&*err.0, err.1);
    let (Some(line), Some(col)) = (pos.line(), pos.position()) else {
        // No position: Rhai ran out of input.
        return matches!(kind, ParseErrorType::UnexpectedEOF);
    };
    let lines: Vec<&str> = text.split('\n').collect();
    if let ParseErrorType::BadInput(LexError::UnterminatedString) = kind {
        // The position is where the string starts.
        let Some(l) = lines.get(line - 1) else {
            return true;
        };
        let quote = l.chars().nth(col - 1);
        let last = lines.last().copied().unwrap_or_default();
        return quote == Some('`') || (line == lines.len() && last.ends_with('\\'));
    }
    // An error at (or past) the end of the input: more input could fix it.
    let last_len = lines.last().map(|l| l.chars().count()).unwrap_or(0);
    line > lines.len() || (line == lines.len() && col > last_len)
}

/// The terminal's Enter key: submit, or open a continuation line.
pub struct ReplValidator {
    pub engine: Arc<Engine>,
}

impl Validator for ReplValidator {
    fn validate(&self, line: &str) -> ValidationResult {
        if is_incomplete(&self.engine, line) {
            ValidationResult::Incomplete
        } else {
            ValidationResult::Complete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_input_waits_for_more() {
        let e = Engine::new();
        for text in [
            "fn f() {",
            "if x {\n  1\n",
            "f(1,",
            "let m = #{a: 1,",
            "for i in 0..3",
            "1 +",
            "let s = `multi",
            "let s = \"continued\\",
        ] {
            assert!(is_incomplete(&e, text), "{text:?} should wait for more");
        }
        for text in [
            "",
            "1 + 2",
            "fn f() { 1 }",
            "f(1 2)",
            "let s = \"abc",
            "let s = \"ab\ncd\";",
            "let x = 1 +\n 2",
            ":help run",
            "} + 1",
        ] {
            assert!(!is_incomplete(&e, text), "{text:?} is complete");
        }
    }
}
