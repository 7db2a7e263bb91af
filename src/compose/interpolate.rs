//! The compose specification's variable interpolation, done by hoist itself so that a plan
//! (or `p.render()`) needs no server: `${VAR}`, `$VAR`, `${VAR:-default}`, `${VAR-default}`,
//! `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`, `${VAR+alt}`, `$$` for a literal `$`,
//! and nested expressions in defaults (`${A:-${B:-c}}`), evaluated only when used.
//!
//! Semantics follow the compose spec as implemented by compose v2 (compose-go). Compose v1
//! (Debian's `docker-compose` 1.29) differs in a few corners, checked in
//! tests/interpolation.rs: it rejects `:+`/`+`, and it does not nest defaults.

use std::fmt;

/// Why a text could not be interpolated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InterpolateError {
    /// `${VAR:?message}` / `${VAR?message}` with VAR missing.
    Required { variable: String, message: String },
    /// A malformed expression, e.g. `${`, `${}`, `${1A}`, `${A:x}`.
    Invalid { template: String, reason: String },
}

impl fmt::Display for InterpolateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterpolateError::Required { variable, message } if message.is_empty() => {
                write!(f, "required variable {variable} is missing a value")
            }
            InterpolateError::Required { variable, message } => {
                write!(
                    f,
                    "required variable {variable} is missing a value: {message}"
                )
            }
            InterpolateError::Invalid { template, reason } => {
                write!(
                    f,
                    "invalid interpolation format in \"{template}\": {reason}"
                )
            }
        }
    }
}

impl std::error::Error for InterpolateError {}

impl InterpolateError {
    /// The text to look for when pointing at the source line.
    pub fn needle(&self) -> String {
        match self {
            InterpolateError::Required { variable, .. } => variable.clone(),
            InterpolateError::Invalid { template, .. } => template.clone(),
        }
    }
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}
fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// Interpolate `text`, looking variables up with `lookup` (None = unset).
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c != '$' {
            out.push(c);
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some(&n) if is_name_start(n) => {
                let start = i + 1;
                let mut end = start;
                while end < chars.len() && is_name_char(chars[end]) {
                    end += 1;
                }
                let name: String = chars[start..end].iter().collect();
                out.push_str(&lookup(&name).unwrap_or_default());
                i = end;
            }
            Some('{') => {
                let close =
                    matching_brace(&chars, i + 2).ok_or_else(|| InterpolateError::Invalid {
                        template: chars[i..].iter().collect(),
                        reason: "`${` is never closed".into(),
                    })?;
                let inner: String = chars[i + 2..close].iter().collect();
                let whole: String = chars[i..=close].iter().collect();
                out.push_str(&braced(&inner, &whole, lookup)?);
                i = close + 1;
            }
            // `$` before anything else is a literal dollar (compose v2; v1 rejects it).
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Index of the `}` closing the `${` whose content starts at `from` (nested `${..}` counted).
fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'$') => i += 1,
            '$' if chars.get(i + 1) == Some(&'{') => {
                depth += 1;
                i += 1;
            }
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Evaluate the inside of `${...}`.
fn braced(
    inner: &str,
    whole: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    let invalid = |reason: &str| InterpolateError::Invalid {
        template: whole.to_string(),
        reason: reason.to_string(),
    };
    let name_len = inner
        .char_indices()
        .find(|&(_, c)| !is_name_char(c))
        .map(|(i, _)| i)
        .unwrap_or(inner.len());
    let name = &inner[..name_len];
    if name.is_empty() {
        return Err(invalid("a variable name is missing"));
    }
    if !name.starts_with(is_name_start) {
        return Err(invalid("a variable name starts with a letter or `_`"));
    }
    let rest = &inner[name_len..];
    let value = lookup(name);
    if rest.is_empty() {
        return Ok(value.unwrap_or_default());
    }
    let (colon, rest) = match rest.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let mut ops = rest.chars();
    let op = ops.next().ok_or_else(|| invalid("nothing follows `:`"))?;
    let word = ops.as_str();
    // With `:` an empty value counts as missing; without it only an unset one does.
    let missing = match &value {
        None => true,
        Some(v) => colon && v.is_empty(),
    };
    match op {
        '-' if missing => interpolate(word, lookup),
        '-' => Ok(value.unwrap_or_default()),
        '?' if missing => Err(InterpolateError::Required {
            variable: name.to_string(),
            message: word.to_string(),
        }),
        '?' => Ok(value.unwrap_or_default()),
        '+' if missing => Ok(String::new()),
        '+' => interpolate(word, lookup),
        _ => Err(invalid(&format!(
            "`{}{op}` is not an operator (use :- - :? ? :+ +)",
            if colon { ":" } else { "" }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "A" => Some("alpha".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn i(t: &str) -> Result<String, InterpolateError> {
        interpolate(t, &vars)
    }

    #[test]
    fn forms() {
        assert_eq!(i("${A}/$A/$$A/$").unwrap(), "alpha/alpha/$A/$");
        assert_eq!(i("${NOPE:-d}${EMPTY:-e}${EMPTY-f}").unwrap(), "de");
        assert_eq!(i("${A:+x}${EMPTY:+y}${EMPTY+z}${NOPE+w}").unwrap(), "xz");
        assert_eq!(i("${NOPE:-${NADA:-${A}}}").unwrap(), "alpha");
        assert_eq!(i("${A:-${NOPE:?never evaluated}}").unwrap(), "alpha");
        assert_eq!(i("$A-b ${A}_c $1").unwrap(), "alpha-b alpha_c $1");
    }

    #[test]
    fn errors() {
        assert_eq!(
            i("${EMPTY:?set it}").unwrap_err(),
            InterpolateError::Required {
                variable: "EMPTY".into(),
                message: "set it".into()
            }
        );
        assert!(i("${EMPTY?x}").is_ok());
        for bad in ["${", "${}", "${1A}", "${A:x}", "${A:}", "${A!}"] {
            assert!(
                matches!(i(bad), Err(InterpolateError::Invalid { .. })),
                "{bad}"
            );
        }
    }
}
