//! Compose's env-file syntax (the `.env` / `--env-file` files whose values fill `${VARS}`),
//! read the way compose v2 reads it (compose-go's dotenv parser):
//! - statements, not lines: `KEY=value`, `KEY: value`, `export KEY=value`, a bare `KEY`
//!   (its value comes from the environment; nothing if unset), `# comments`;
//! - keys are letters and digits of any script, `_ . - [ ]`; a UTF-8 BOM is skipped;
//! - unquoted values end at the line's end; ` #` starts a comment (a tab before `#` does not);
//! - 'single quotes' are literal except `\'`; "double quotes" take the escapes
//!   `\a \b \c \f \n \r \t \v \\ \" \$` and octal `\0NNN`, and may span lines;
//! - `${VAR}` interpolation in unquoted and double-quoted values, from the environment first,
//!   then from keys defined earlier.
//!
//! v1's differences are listed in tests/interpolation.rs.

use indexmap::IndexMap;

use crate::interpolate::{Mode, interpolate_noting};

/// A problem in an env file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    pub line: usize,
    pub message: String,
}

/// Not a line break, but blank: where compose skips space inside a statement.
fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\u{0b}' | '\u{0c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    )
}

/// Parse `text`. `lookup` gives the environment (checked before keys defined earlier in the
/// files, as compose does); `known` holds values from earlier env files and is extended.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    known: &mut IndexMap<String, String>,
) -> Result<(), EnvFileError> {
    parse_with(text, lookup, known, Mode::Lazy, &mut Vec::new())
}

/// [`parse`] with the interpolation `mode` of `${...}` in values; the variables a value
/// reads without a default while unset are added to `unset` (compose warns about them).
pub fn parse_with(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    known: &mut IndexMap<String, String>,
    mode: Mode,
    unset: &mut Vec<String>,
) -> Result<(), EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let line_at = |rest: &str| text[..text.len() - rest.len()].matches('\n').count() + 1;
    let mut rest = text;
    loop {
        // The next statement: skip blanks and comment lines.
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(());
        }
        if rest.starts_with('#') {
            match rest.find('\n') {
                Some(i) => {
                    rest = &rest[i..];
                    continue;
                }
                None => return Ok(()),
            }
        }
        let line = line_at(rest);
        let err = |message: String| EnvFileError { line, message };
        if let Some(after) = rest.strip_prefix("export")
            && after.starts_with(char::is_whitespace)
        {
            rest = after.trim_start_matches(is_space);
        }
        // The key runs to `=`, `:` or the end of the line (a bare key).
        let mut end = None;
        for (i, c) in rest.char_indices() {
            if is_space(c) {
                continue;
            }
            match c {
                '=' | ':' | '\n' => {
                    end = Some((i, c));
                    break;
                }
                '_' | '.' | '-' | '[' | ']' => {}
                c if c.is_alphanumeric() => {}
                c => {
                    let first_line = rest.split('\n').next().unwrap_or_default();
                    return Err(err(format!(
                        "unexpected character `{c}` in variable name `{first_line}`"
                    )));
                }
            }
        }
        let Some((end, sep)) = end else {
            // A bare key on the last line without a line break: compose ignores it.
            return Ok(());
        };
        let key = rest[..end].trim_end();
        if key.contains(' ') {
            return Err(err(format!("key `{key}` cannot contain a space")));
        }
        rest = rest[end + 1..].trim_start_matches(is_space);
        if sep == '\n' {
            if let Some(v) = lookup(key) {
                known.insert(key.to_string(), v);
            }
            continue;
        }
        let resolve = |name: &str| lookup(name).or_else(|| known.get(name).cloned());
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
        let value = match quote {
            None => {
                let (line_text, after) = rest.split_once('\n').unwrap_or((rest, ""));
                rest = after;
                let bare = line_text.split(" #").next().unwrap_or_default();
                interpolate_noting(bare.trim_end(), &resolve, mode, unset)
                    .map_err(|e| err(e.to_string()))?
            }
            Some(q) => {
                let (body, after) = quoted(&rest[1..], q).ok_or_else(|| {
                    let first_line = rest.split('\n').next().unwrap_or_default();
                    err(format!("unterminated quoted value {first_line}"))
                })?;
                rest = after;
                if q == '"' {
                    interpolate_noting(&unescape(&body), &resolve, mode, unset)
                        .map_err(|e| err(e.to_string()))?
                } else {
                    body
                }
            }
        };
        known.insert(key.to_string(), value);
    }
}

/// The body of a quoted value (after the opening quote) and what follows the closing one.
/// A backslash before the quote character keeps the quote; other escapes are kept for
/// [`unescape`].
fn quoted(text: &str, q: char) -> Option<(String, &str)> {
    let mut body = String::new();
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if c != q {
            if !escaped && c == '\\' {
                escaped = true;
                continue;
            }
            if escaped {
                escaped = false;
                body.push('\\');
            }
            body.push(c);
            continue;
        }
        if escaped {
            escaped = false;
            body.push(c);
            continue;
        }
        return Some((body, &text[i + 1..]));
    }
    None
}

/// Double-quote escapes. `\$` becomes `$$` so the interpolation that follows keeps a `$`.
/// Unknown escapes (and `\c`, octal values above 255) stay as written.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            i += 1;
            continue;
        }
        let simple = match b[i + 1] {
            b'a' => Some("\u{07}"),
            b'b' => Some("\u{08}"),
            b'f' => Some("\u{0c}"),
            b'n' => Some("\n"),
            b'r' => Some("\r"),
            b't' => Some("\t"),
            b'v' => Some("\u{0b}"),
            b'\\' => Some("\\"),
            b'"' => Some("\""),
            b'$' => Some("$$"),
            _ => None,
        };
        if let Some(r) = simple {
            out.push_str(&s[from..i]);
            out.push_str(r);
            i += 2;
            from = i;
            continue;
        }
        if b[i + 1] == b'0' {
            // `\0` and up to three more digits; exactly three octal digits make a byte.
            let digits = b[i + 2..]
                .iter()
                .take(3)
                .take_while(|c| c.is_ascii_digit())
                .count();
            let oct = &s[i + 2..i + 2 + digits];
            out.push_str(&s[from..i]);
            match u32::from_str_radix(oct, 8) {
                Ok(v) if digits == 3 && v <= 255 => out.push(char::from_u32(v).unwrap_or('?')),
                // compose drops the `0` even when the rest is no octal byte: `\08` is `\8`.
                _ => {
                    out.push('\\');
                    out.push_str(oct);
                }
            }
            i += 2 + digits;
            from = i;
            continue;
        }
        i += 2;
    }
    out.push_str(&s[from..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax() {
        let text = "# c\nA=alpha\nexport B=beta # note\nC=\"x ${A} \\n y\"\nD='lit ${A}'\nE=\"two\nlines\"\nF\nG=\nH=a#b\n";
        let env = |k: &str| (k == "F").then(|| "from-env".to_string());
        let mut known = IndexMap::new();
        parse(text, &env, &mut known).unwrap();
        let get = |k: &str| known.get(k).cloned();
        assert_eq!(get("A").as_deref(), Some("alpha"));
        assert_eq!(get("B").as_deref(), Some("beta"));
        assert_eq!(get("C").as_deref(), Some("x alpha \n y"));
        assert_eq!(get("D").as_deref(), Some("lit ${A}"));
        assert_eq!(get("E").as_deref(), Some("two\nlines"));
        assert_eq!(get("F").as_deref(), Some("from-env"));
        assert_eq!(get("G").as_deref(), Some(""));
        assert_eq!(get("H").as_deref(), Some("a#b"));
    }

    #[test]
    fn compose_v2_syntax() {
        let text = "\u{feff}A=v\t# kept\nB='it\\'s'\nC: 1\nexport\tD=tab\ne[1]=x\nÉTÉ=été\nF=\"\\a|\\0101|\\08|\\c\"\nG=${HOST}/x\n";
        let env = |k: &str| (k == "HOST").then(|| "h".to_string());
        let mut known = IndexMap::new();
        parse(text, &env, &mut known).unwrap();
        let get = |k: &str| known.get(k).cloned().unwrap_or_default();
        assert_eq!(get("A"), "v\t# kept");
        assert_eq!(get("B"), "it's");
        assert_eq!(get("C"), "1");
        assert_eq!(get("D"), "tab");
        assert_eq!(get("e[1]"), "x");
        assert_eq!(get("ÉTÉ"), "été");
        assert_eq!(get("F"), "\u{7}|A|\\8|\\c");
        assert_eq!(get("G"), "h/x");
        let e = parse("A='value\\'\n", &|_| None, &mut known).unwrap_err();
        assert!(e.message.contains("unterminated"), "{}", e.message);
    }

    #[test]
    fn errors_name_the_line() {
        let mut known = IndexMap::new();
        let e = parse("A=1\nB=\"open\n", &|_| None, &mut known).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("\n\nbad key=1\n", &|_| None, &mut known).unwrap_err();
        assert_eq!(e.line, 3);
    }
}
