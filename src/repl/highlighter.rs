//! Syntax colours while typing: keywords, strings, numbers, comments, meta-commands.

use nu_ansi_term::{Color, Style};
use reedline::{Highlighter, StyledText};

use super::lexer::{self, Kind};

pub struct ReplHighlighter;

/// The style of each kind of token.
fn style(kind: Kind) -> Style {
    match kind {
        Kind::Keyword => Color::Purple.bold(),
        Kind::Str { .. } => Color::Green.normal(),
        Kind::Number => Color::Cyan.normal(),
        Kind::Comment => Style::new().dimmed(),
        Kind::MapOpen => Color::Yellow.normal(),
        Kind::Ident | Kind::Punct | Kind::Space => Style::new(),
    }
}

impl Highlighter for ReplHighlighter {
    fn highlight(&self, line: &str, _cursor: usize) -> StyledText {
        let mut out = StyledText::new();
        if super::meta::is_meta(line) {
            out.push((Color::Yellow.normal(), line.to_string()));
            return out;
        }
        for t in lexer::tokens(line) {
            out.push((style(t.kind), line[t.span].to_string()));
        }
        out
    }
}
