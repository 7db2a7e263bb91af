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

fn is_name_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}
fn is_name_char(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric()
}

/// When the unused branches of `${A:-default}`, `${A:+alt}` and `${A:?message}` are read.
///
/// Eager is the default: it is what compose v2.40 (the version hoist is checked against)
/// does, and it is the stricter reading — a project it accepts renders the same under
/// compose-go's newer lazy reading, while one only the lazy reading accepts fails on a host
/// with compose ≤ 2.40 at `up`, after the plan said it was fine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Mode {
    /// Only the branch used is interpolated (compose-go since January 2026): with `A` set,
    /// `${A:-${B:?needed}}` is `A`'s value and no error.
    Lazy,
    /// Every branch is interpolated, and an error in any fails (compose v2.40 and earlier).
    #[default]
    Eager,
}

impl Mode {
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "lazy" => Some(Mode::Lazy),
            "eager" => Some(Mode::Eager),
            _ => None,
        }
    }
}

/// Interpolate `text` lazily (see [`Mode`]), looking variables up with `lookup` (None =
/// unset): for texts hoist only reads (a release's env files), where an error in a branch
/// not taken should not stop it.
pub fn interpolate(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, InterpolateError> {
    interpolate_with(text, lookup, Mode::Lazy)
}

/// Interpolate `text` in `mode`.
pub fn interpolate_with(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    mode: Mode,
) -> Result<String, InterpolateError> {
    interpolate_noting(text, lookup, mode, &mut Vec::new())
}

/// Interpolate `text` in `mode`, adding to `unset` each variable that a plain `${VAR}` or
/// `$VAR` reads while it is unset — the ones compose warns about (`The "VAR" variable is not
/// set. Defaulting to a blank string.`); a form with a default, alternative or message never
/// warns. In eager mode the unused branches are read too, so they warn as in compose v2.40.
///
/// This follows compose-go's reading exactly, quirks included, because a difference here is
/// a difference in what runs: after `${NAME` and an operator the expression reaches the
/// *last* `}` on the line, then the first `}` that balances the braces ends it and the rest
/// is interpolated after it; an expression cannot span a newline; an unbalanced `${` is an
/// error; defaults, alternatives and `:?` messages are interpolated only when used (lazy) or
/// always (eager).
pub fn interpolate_noting(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    mode: Mode,
    unset: &mut Vec<String>,
) -> Result<String, InterpolateError> {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut literal_from = 0;
    while i < b.len() {
        if b[i] != b'$' {
            i += 1;
            continue;
        }
        out.push_str(&text[literal_from..i]);
        match b.get(i + 1) {
            Some(b'$') => {
                out.push('$');
                i += 2;
            }
            Some(&n) if is_name_start(n) => {
                let end = name_end(b, i + 1);
                out.push_str(&plain(&text[i + 1..end], lookup, unset));
                i = end;
            }
            Some(b'{') => {
                let Some(end) = braced_match_end(b, i) else {
                    return Err(InterpolateError::Invalid {
                        template: text.to_string(),
                        reason: "`${` does not start a valid `${NAME...}` expression".into(),
                    });
                };
                out.push_str(&expression(&text[i..=end], lookup, mode, unset)?);
                i = end + 1;
            }
            // `$` before anything else is a literal dollar.
            _ => {
                out.push('$');
                i += 1;
            }
        }
        literal_from = i;
    }
    out.push_str(&text[literal_from..]);
    Ok(out)
}

/// A variable read without a default: unset reads as "" and is noted.
fn plain(name: &str, lookup: &dyn Fn(&str) -> Option<String>, unset: &mut Vec<String>) -> String {
    lookup(name).unwrap_or_else(|| {
        if !unset.iter().any(|u| u == name) {
            unset.push(name.to_string());
        }
        String::new()
    })
}

fn name_end(b: &[u8], from: usize) -> usize {
    let mut end = from;
    while end < b.len() && is_name_char(b[end]) {
        end += 1;
    }
    end
}

/// Where the `${...}` starting at `start` ends (the index of its `}`), as compose's pattern
/// `\$\{NAME(:?[-+?].*)?\}` matches it: with an operator, `.*` is greedy up to the last
/// `}` before a newline.
fn braced_match_end(b: &[u8], start: usize) -> Option<usize> {
    let name_start = start + 2;
    if !b.get(name_start).is_some_and(|&c| is_name_start(c)) {
        return None;
    }
    let after = name_end(b, name_start);
    let op_at = match b.get(after) {
        Some(b':') => after + 1,
        _ => after,
    };
    if b.get(op_at).is_some_and(|c| b"-+?".contains(c)) {
        let line_end = b[op_at..]
            .iter()
            .position(|&c| c == b'\n')
            .map(|p| op_at + p)
            .unwrap_or(b.len());
        if let Some(p) = b[op_at + 1..line_end].iter().rposition(|&c| c == b'}') {
            return Some(op_at + 1 + p);
        }
    }
    (b.get(after) == Some(&b'}')).then_some(after)
}

/// compose's first balancing `}`: every `{` opens (and skips the character after it), every
/// `}` closes.
fn first_balanced_close(b: &[u8]) -> Option<usize> {
    let mut open = 0i32;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            open -= 1;
            if open == 0 {
                return Some(i);
            }
        }
        if b[i] == b'{' {
            open += 1;
            i += 1;
        }
        i += 1;
    }
    None
}

/// Evaluate one matched `${...}` (which may carry text after its balancing `}`).
fn expression(
    matched: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    mode: Mode,
    unset: &mut Vec<String>,
) -> Result<String, InterpolateError> {
    let (head, rest) = match first_balanced_close(matched.as_bytes()) {
        Some(close) => (&matched[..=close], &matched[close + 1..]),
        None => (matched, ""),
    };
    let inner = &head[2..head.len() - 1];
    let name_len = name_end(inner.as_bytes(), 0);
    let name = &inner[..name_len];
    let after = &inner[name_len..];
    if after.is_empty() {
        return Ok(plain(name, lookup, unset));
    }
    let (colon, op_rest) = match after.strip_prefix(':') {
        Some(r) => (true, r),
        None => (false, after),
    };
    let op = op_rest.as_bytes()[0];
    let word = &op_rest[1..];
    let value = lookup(name);
    // With `:` an empty value counts as missing; without it only an unset one does.
    let missing = match &value {
        None => true,
        Some(v) => colon && v.is_empty(),
    };
    let eager = match mode {
        Mode::Eager => Some(interpolate_noting(word, lookup, mode, unset)?),
        Mode::Lazy => None,
    };
    let mut word_value = || match &eager {
        Some(v) => Ok(v.clone()),
        None => interpolate_noting(word, lookup, mode, unset),
    };
    let head_value = match op {
        b'-' if missing => word_value()?,
        b'+' if !missing => word_value()?,
        b'?' if missing => {
            return Err(InterpolateError::Required {
                variable: name.to_string(),
                message: word_value()?,
            });
        }
        _ => value.unwrap_or_default(),
    };
    Ok(head_value + interpolate_noting(rest, lookup, mode, unset)?.as_str())
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
    fn compose_go_quirks() {
        // Braces balance in defaults; what follows the balancing `}` is interpolated after.
        assert_eq!(i("${NOPE:-{\"a\":1}}").unwrap(), "{\"a\":1}");
        assert_eq!(i("${NOPE:-{}x}").unwrap(), "{}x");
        assert_eq!(i("${NOPE:-x}-${A}").unwrap(), "x-alpha");
        // `${A:-{}}-${B}`: the default swallows `}-${B` and `${B` never closes.
        assert!(i("${NOPE:-{}}-${A}").is_err());
        // An expression does not span lines.
        assert!(i("${NOPE:-two\nlines}").is_err());
        // The `:?` message is interpolated.
        assert_eq!(
            i("${NOPE:?set it, ${A}}").unwrap_err(),
            InterpolateError::Required {
                variable: "NOPE".into(),
                message: "set it, alpha".into()
            }
        );
        // Lazy (default) vs eager reading of the unused branch.
        assert_eq!(i("${A:-${NOPE:?x}}").unwrap(), "alpha");
        assert!(interpolate_with("${A:-${NOPE:?x}}", &vars, Mode::Eager).is_err());
    }

    #[test]
    fn unset_variables_are_noted_as_compose_warns() {
        let noted = |t: &str, mode| {
            let mut unset = Vec::new();
            let _ = interpolate_noting(t, &vars, mode, &mut unset);
            unset
        };
        assert_eq!(noted("${X}$Y ${X} ${A} ${EMPTY}", Mode::Lazy), ["X", "Y"]);
        // A default, an alternative or a message: no warning for the variable itself.
        assert!(noted("${X:-d}${X-d}${X:+a}${X+a}${X?m}", Mode::Lazy).is_empty());
        // The branch taken is read either way; the one not taken only eagerly.
        assert_eq!(noted("${X:-$Y}", Mode::Lazy), ["Y"]);
        assert!(noted("${A:-$Y}", Mode::Lazy).is_empty());
        assert_eq!(noted("${A:-$Y}", Mode::Eager), ["Y"]);
        assert!(noted("$$X", Mode::Eager).is_empty());
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
