//! Compose's env-file syntax (the `.env` / `--env-file` files whose values fill `${VARS}`):
//! `KEY=value`, `export KEY=value`, `# comments`, inline ` # comments` after unquoted values,
//! 'single quotes' (literal), "double quotes" (escapes `\n \t \r \\ \" \$`, may span lines),
//! `${VAR}` interpolation in unquoted and double-quoted values (from the environment, then
//! from keys defined earlier), and a bare `KEY` that takes its value from the environment.
//! This is compose v2's reading; v1's differences are listed in tests/interpolation.rs.

use indexmap::IndexMap;

use super::interpolate::interpolate;

/// A problem in an env file, with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    pub line: usize,
    pub message: String,
}

/// Parse `text`. `lookup` gives the environment (checked before keys defined earlier in the
/// files, as compose does); `known` holds values from earlier env files and is extended.
pub fn parse(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    known: &mut IndexMap<String, String>,
) -> Result<(), EnvFileError> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut n = 0;
    while n < lines.len() {
        let line_no = n + 1;
        let raw = lines[n].trim_end_matches('\r');
        n += 1;
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(line);
        let err = |message: String| EnvFileError {
            line: line_no,
            message,
        };
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v.trim_start())),
            None => (line.trim(), None),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        {
            return Err(err(format!("`{key}` is not a variable name")));
        }
        let Some(value) = value else {
            // A bare KEY passes the environment's value through (nothing if unset).
            if let Some(v) = lookup(key) {
                known.insert(key.to_string(), v);
            }
            continue;
        };
        let resolve = |name: &str| lookup(name).or_else(|| known.get(name).cloned());
        let value = if let Some(rest) = value.strip_prefix('\'') {
            quoted(rest, '\'', &lines, &mut n)
                .ok_or_else(|| err("a single quote is never closed".into()))?
        } else if let Some(rest) = value.strip_prefix('"') {
            let body = quoted(rest, '"', &lines, &mut n)
                .ok_or_else(|| err("a double quote is never closed".into()))?;
            let escaped = unescape(&body);
            interpolate(&escaped, &resolve).map_err(|e| err(e.to_string()))?
        } else {
            let bare = match value.find(" #").or_else(|| value.find("\t#")) {
                Some(i) => &value[..i],
                None => value,
            };
            interpolate(bare.trim_end(), &resolve).map_err(|e| err(e.to_string()))?
        };
        known.insert(key.to_string(), value);
    }
    Ok(())
}

/// The body of a quoted value starting right after the opening quote; it may continue on
/// the following lines (advancing `next`). Escape sequences are kept for [`unescape`].
fn quoted(first: &str, q: char, lines: &[&str], next: &mut usize) -> Option<String> {
    let mut body = String::new();
    let mut text = first.to_string();
    loop {
        let mut escaped = false;
        for (i, c) in text.char_indices() {
            if q == '"' && c == '\\' && !escaped {
                escaped = true;
                continue;
            }
            if c == q && !escaped {
                body.push_str(&text[..i]);
                return Some(body);
            }
            escaped = false;
        }
        body.push_str(&text);
        body.push('\n');
        if *next >= lines.len() {
            return None;
        }
        text = lines[*next].trim_end_matches('\r').to_string();
        *next += 1;
    }
}

/// Double-quote escapes. `\$` becomes `$$` so the interpolation that follows keeps a `$`.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push_str("$$"),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
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
    fn errors_name_the_line() {
        let mut known = IndexMap::new();
        let e = parse("A=1\nB=\"open\n", &|_| None, &mut known).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse("\n\nbad key=1\n", &|_| None, &mut known).unwrap_err();
        assert_eq!(e.line, 3);
    }
}
