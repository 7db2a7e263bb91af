//! Secrets are a type: a [`Secret`] renders as `[REDACTED]` in Display and Debug, and the
//! [`Redactor`] scrubs every known secret value out of text before it is printed, planned,
//! logged or put into an error.

use std::fmt;
use std::sync::{Arc, RwLock};

pub const REDACTED: &str = "[REDACTED]";

/// A value that must never be shown. Only [`Secret::expose`] gives the real text, and the
/// callers of it put the value into stdin or a 0600 file — never into argv.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(Arc::from(value.into()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// The set of secret values seen during a run; shared by the reporter, the audit log and
/// error rendering so a secret that leaked into a command's own output is still hidden.
#[derive(Clone, Default)]
pub struct Redactor {
    values: Arc<RwLock<Vec<String>>>,
}

impl Redactor {
    pub fn register(&self, secret: &Secret) {
        let v = secret.expose();
        // Output reaches the reporter line by line, so a multi-line value (a key, a
        // certificate, a config) never appears whole there: each of its lines is a value
        // of its own too (trimmed, since output may indent it).
        let lines = v.lines().map(str::trim).filter(|l| *l != v);
        let mut values = self.values.write().expect("redactor lock");
        let mut added = false;
        for part in std::iter::once(v).chain(lines) {
            // Very short values would redact half of every line; they are still kept out of
            // argv.
            if part.len() >= 3 && !values.iter().any(|x| x == part) {
                values.push(part.to_string());
                added = true;
            }
        }
        if added {
            // Longest first, so a secret that contains another is replaced whole.
            values.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    pub fn redact(&self, text: &str) -> String {
        self.redact_cow(text).into_owned()
    }

    /// As [`Redactor::redact`], borrowing `text` when it holds no secret (the usual case: a
    /// streamed output line costs no copy here).
    pub fn redact_cow<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let values = self.values.read().expect("redactor lock");
        let mut out = std::borrow::Cow::Borrowed(text);
        for v in values.iter() {
            if out.contains(v.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(v.as_str(), REDACTED));
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.values.read().expect("redactor lock").is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_displays() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "[REDACTED] [REDACTED]");
        assert_eq!(s.expose(), "hunter2");
    }

    #[test]
    fn redactor_scrubs_registered_values() {
        let r = Redactor::default();
        r.register(&Secret::new("hunter2"));
        r.register(&Secret::new("hunter2-long"));
        assert_eq!(
            r.redact("pw=hunter2-long x=hunter2"),
            "pw=[REDACTED] x=[REDACTED]"
        );
    }

    #[test]
    fn a_multi_line_secret_is_redacted_line_by_line_and_whole() {
        let r = Redactor::default();
        r.register(&Secret::new(
            "-----BEGIN KEY-----\n  MIIEabc123\r\nxy\n-----END KEY-----\n",
        ));
        // Whole, as in a captured value.
        assert_eq!(
            r.redact("k=-----BEGIN KEY-----\n  MIIEabc123\r\nxy\n-----END KEY-----\n."),
            "k=[REDACTED]."
        );
        // One line at a time, as output is streamed (`-v`, `--json`).
        assert_eq!(r.redact("-----BEGIN KEY-----"), "[REDACTED]");
        assert_eq!(r.redact("    MIIEabc123"), "    [REDACTED]");
        assert_eq!(r.redact("-----END KEY-----"), "[REDACTED]");
        // A line too short to redact safely stays (it is never in argv either way).
        assert_eq!(r.redact("xy"), "xy");
    }
}
