//! A forgiving tokenizer for what is being typed: half-written input (an open string, an
//! unclosed block) must still split into tokens, which Rhai's own lexer is not made for.
//! The highlighter colours these tokens; the completer reads where the cursor is from them.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ident,
    Keyword,
    Number,
    /// A string or character literal; `closed` is false while it is still being typed.
    Str {
        quote: char,
        closed: bool,
    },
    Comment,
    /// `#{`, the start of an object map.
    MapOpen,
    Punct,
    Space,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Range<usize>,
}

pub const KEYWORDS: &[&str] = &[
    "let", "const", "fn", "if", "else", "switch", "while", "loop", "do", "until", "for", "in",
    "return", "throw", "try", "catch", "break", "continue", "import", "export", "as", "private",
    "true", "false", "this", "global",
];

/// Split `text` into tokens covering every byte.
pub fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map(|c| c.0).unwrap_or(text.len());
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let next = chars.get(i + 1).map(|c| c.1);
        let (kind, j) = if c.is_whitespace() {
            let mut j = i;
            while j < chars.len() && chars[j].1.is_whitespace() {
                j += 1;
            }
            (Kind::Space, j)
        } else if c == '/' && next == Some('/') {
            let mut j = i;
            while j < chars.len() && chars[j].1 != '\n' {
                j += 1;
            }
            (Kind::Comment, j)
        } else if c == '/' && next == Some('*') {
            let mut j = i + 2;
            while j < chars.len()
                && !(chars[j].1 == '*' && chars.get(j + 1).map(|c| c.1) == Some('/'))
            {
                j += 1;
            }
            (Kind::Comment, (j + 2).min(chars.len()))
        } else if c == '"' || c == '`' || c == '\'' {
            let mut j = i + 1;
            let mut closed = false;
            while j < chars.len() {
                let d = chars[j].1;
                if d == '\\' && c != '`' {
                    j += 2;
                    continue;
                }
                j += 1;
                if d == c {
                    closed = true;
                    break;
                }
            }
            (Kind::Str { quote: c, closed }, j.min(chars.len()))
        } else if c == '#' && next == Some('{') {
            (Kind::MapOpen, i + 2)
        } else if c.is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            // A decimal point followed by a digit belongs to the number (`1.5`, not `1..5`).
            if j + 1 < chars.len() && chars[j].1 == '.' && chars[j + 1].1.is_ascii_digit() {
                j += 1;
                while j < chars.len() && (chars[j].1.is_ascii_alphanumeric() || chars[j].1 == '_') {
                    j += 1;
                }
            }
            (Kind::Number, j)
        } else if c.is_alphabetic() || c == '_' {
            let mut j = i;
            while j < chars.len() && (chars[j].1.is_alphanumeric() || chars[j].1 == '_') {
                j += 1;
            }
            let word = &text[start..end_of(j)];
            let kind = if KEYWORDS.contains(&word) {
                Kind::Keyword
            } else {
                Kind::Ident
            };
            (kind, j)
        } else {
            (Kind::Punct, i + 1)
        };
        out.push(Token {
            kind,
            span: start..end_of(j),
        });
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        tokens(text)
            .into_iter()
            .filter(|t| t.kind != Kind::Space)
            .map(|t| (t.kind, &text[t.span]))
            .collect()
    }

    #[test]
    fn splits_half_written_input() {
        assert_eq!(
            kinds(r#"let x = h.run("ls \"a\"", #{sudo: true}) // done"#),
            vec![
                (Kind::Keyword, "let"),
                (Kind::Ident, "x"),
                (Kind::Punct, "="),
                (Kind::Ident, "h"),
                (Kind::Punct, "."),
                (Kind::Ident, "run"),
                (Kind::Punct, "("),
                (
                    Kind::Str {
                        quote: '"',
                        closed: true
                    },
                    r#""ls \"a\"""#
                ),
                (Kind::Punct, ","),
                (Kind::MapOpen, "#{"),
                (Kind::Ident, "sudo"),
                (Kind::Punct, ":"),
                (Kind::Keyword, "true"),
                (Kind::Punct, "}"),
                (Kind::Punct, ")"),
                (Kind::Comment, "// done"),
            ]
        );
        assert_eq!(
            kinds("ssh(\"root@we"),
            vec![
                (Kind::Ident, "ssh"),
                (Kind::Punct, "("),
                (
                    Kind::Str {
                        quote: '"',
                        closed: false
                    },
                    "\"root@we"
                ),
            ]
        );
        assert_eq!(
            kinds("1.5 + 0..3"),
            vec![
                (Kind::Number, "1.5"),
                (Kind::Punct, "+"),
                (Kind::Number, "0"),
                (Kind::Punct, "."),
                (Kind::Punct, "."),
                (Kind::Number, "3"),
            ]
        );
    }
}
