//! `h.line_in_file(path, #{line, regexp, state, after, before})` and
//! `h.block_in_file(path, text, #{marker, state})`: edit one line or one marked block of a
//! text file and keep every other line as it was. The edits are pure functions of the old
//! text; the host part reads, edits and writes back (atomically, mode kept) only on a change.

use regex::Regex;

use super::Presence;
use crate::error::{Error, Result};
use crate::host::{FileOpts, Host};

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineOpts {
    /// The line that should be in the file (required for `state: "present"`).
    #[serde(default)]
    pub line: Option<String>,
    /// Lines matching it are replaced (present: the last one) or removed (absent).
    #[serde(default)]
    pub regexp: Option<String>,
    #[serde(default)]
    pub state: Presence,
    /// Insert a new line after the last line matching this regexp (else at the end).
    #[serde(default)]
    pub after: Option<String>,
    /// Insert a new line before the first line matching this regexp.
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub sudo: bool,
    /// Mode for a file that does not exist yet (an existing file keeps its own).
    #[serde(default, deserialize_with = "crate::host::de_mode")]
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockOpts {
    /// The marker lines' text; `{mark}` becomes BEGIN / END.
    #[serde(default)]
    pub marker: Option<String>,
    #[serde(default)]
    pub state: Presence,
    #[serde(default)]
    pub sudo: bool,
    #[serde(default, deserialize_with = "crate::host::de_mode")]
    pub mode: Option<u32>,
}

fn regex(what: &str, pattern: &str) -> Result<Regex> {
    Regex::new(pattern).map_err(|e| {
        Error::usage(format!(
            "line_in_file(): `{what}` is not a valid regexp: {e}"
        ))
    })
}

/// The file's lines, and whether it ended with a newline.
fn split(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return vec![];
    }
    text.strip_suffix('\n')
        .unwrap_or(text)
        .split('\n')
        .collect()
}

fn join(lines: &[String]) -> String {
    if lines.is_empty() {
        String::new()
    } else {
        format!("{}\n", lines.join("\n"))
    }
}

/// The text with the line edit applied.
pub fn edit_line(text: &str, o: &LineOpts) -> Result<String> {
    let mut lines: Vec<String> = split(text).into_iter().map(str::to_string).collect();
    let re = o
        .regexp
        .as_deref()
        .map(|r| regex("regexp", r))
        .transpose()?;
    match o.state {
        Presence::Absent => {
            if re.is_none() && o.line.is_none() {
                return Err(Error::usage(
                    "line_in_file(): state \"absent\" needs `line` or `regexp`",
                ));
            }
            lines.retain(|l| {
                !(re.as_ref().is_some_and(|r| r.is_match(l)) || o.line.as_deref() == Some(l))
            });
        }
        Presence::Present => {
            let Some(line) = o.line.clone() else {
                return Err(Error::usage(
                    "line_in_file(): state \"present\" needs `line`",
                ));
            };
            if line.contains('\n') {
                return Err(Error::usage(
                    "line_in_file(): `line` is one line (use block_in_file for several)",
                ));
            }
            if let Some(i) = re
                .as_ref()
                .and_then(|r| lines.iter().rposition(|l| r.is_match(l)))
            {
                lines[i] = line;
            } else if !lines.contains(&line) {
                let after = o.after.as_deref().map(|r| regex("after", r)).transpose()?;
                let before = o
                    .before
                    .as_deref()
                    .map(|r| regex("before", r))
                    .transpose()?;
                let at = if let Some(a) = after {
                    lines.iter().rposition(|l| a.is_match(l)).map(|i| i + 1)
                } else if let Some(b) = before {
                    lines.iter().position(|l| b.is_match(l))
                } else {
                    None
                };
                lines.insert(at.unwrap_or(lines.len()), line);
            }
        }
    }
    Ok(join(&lines))
}

/// The text with the marked block set to `block` (or removed).
pub fn edit_block(text: &str, block: &str, o: &BlockOpts) -> Result<String> {
    let marker = o
        .marker
        .as_deref()
        .unwrap_or("# {mark} hoist managed block");
    if !marker.contains("{mark}") {
        return Err(Error::usage(
            "block_in_file(): `marker` must contain {mark} (it becomes BEGIN and END)",
        ));
    }
    let (begin, end) = (
        marker.replace("{mark}", "BEGIN"),
        marker.replace("{mark}", "END"),
    );
    let mut lines: Vec<String> = split(text).into_iter().map(str::to_string).collect();
    let start = lines.iter().position(|l| *l == begin);
    let stop = start.and_then(|s| lines[s..].iter().position(|l| *l == end).map(|e| s + e));
    let new: Vec<String> = match o.state {
        Presence::Absent => vec![],
        Presence::Present => std::iter::once(begin.clone())
            .chain(split(block).into_iter().map(str::to_string))
            .chain(std::iter::once(end.clone()))
            .collect(),
    };
    match (start, stop) {
        (Some(s), Some(e)) => {
            lines.splice(s..=e, new);
        }
        (Some(_), None) => {
            return Err(Error::failed(format!(
                "block_in_file(): the file has `{begin}` but no `{end}`: fix it by hand"
            )));
        }
        _ => lines.extend(new),
    }
    Ok(join(&lines))
}

/// Read `path` (empty when missing; through a dry run's planned files), apply `edit`, write
/// back when the text changed (a new file gets `mode`).
async fn apply(
    h: &Host,
    path: &str,
    sudo: bool,
    mode: Option<u32>,
    edit: impl FnOnce(&str) -> Result<String>,
) -> Result<bool> {
    let file = h.begin_edit(path, sudo).await?;
    let new = edit(&file.old).map_err(|e| e.host(h.name()))?;
    let opts = FileOpts {
        // A new file gets `mode`; an existing one keeps its own.
        mode: if file.existed { None } else { mode },
        sudo,
        ..FileOpts::default()
    };
    h.finish_edit(&file, &new, &opts).await
}

impl Host {
    pub async fn line_in_file(&self, path: &str, o: &LineOpts) -> Result<bool> {
        apply(self, path, o.sudo, o.mode, |t| edit_line(t, o)).await
    }
    pub async fn block_in_file(&self, path: &str, block: &str, o: &BlockOpts) -> Result<bool> {
        apply(self, path, o.sudo, o.mode, |t| edit_block(t, block, o)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(l: &str) -> LineOpts {
        LineOpts {
            line: Some(l.into()),
            ..LineOpts::default()
        }
    }

    #[test]
    fn present_appends_once_and_replaces_the_last_match() {
        let t = "a=1\nb=2\n";
        assert_eq!(edit_line(t, &line("c=3")).unwrap(), "a=1\nb=2\nc=3\n");
        assert_eq!(edit_line("a=1\nc=3\n", &line("c=3")).unwrap(), "a=1\nc=3\n");
        let o = LineOpts {
            regexp: Some("^b=".into()),
            ..line("b=9")
        };
        assert_eq!(edit_line("b=1\nx\nb=2\n", &o).unwrap(), "b=1\nx\nb=9\n");
        assert_eq!(edit_line("", &line("only")).unwrap(), "only\n");
        assert_eq!(
            edit_line("no newline", &line("x")).unwrap(),
            "no newline\nx\n"
        );
    }

    #[test]
    fn after_and_before_place_a_new_line() {
        let o = LineOpts {
            after: Some(r"^\[Service\]".into()),
            ..line("User=app")
        };
        assert_eq!(
            edit_line("[Unit]\n[Service]\nExecStart=x\n", &o).unwrap(),
            "[Unit]\n[Service]\nUser=app\nExecStart=x\n"
        );
        let o = LineOpts {
            before: Some("^b".into()),
            ..line("new")
        };
        assert_eq!(edit_line("a\nb\nb2\n", &o).unwrap(), "a\nnew\nb\nb2\n");
    }

    #[test]
    fn absent_removes_matches_and_bad_input_is_refused() {
        let o = LineOpts {
            regexp: Some("^#".into()),
            state: Presence::Absent,
            ..LineOpts::default()
        };
        assert_eq!(edit_line("#c\na\n#d\n", &o).unwrap(), "a\n");
        assert!(
            edit_line("", &LineOpts::default())
                .unwrap_err()
                .message
                .contains("needs `line`")
        );
        let bad = LineOpts {
            regexp: Some("(".into()),
            ..line("x")
        };
        assert!(edit_line("", &bad).unwrap_err().message.contains("regexp"));
        assert!(edit_line("", &line("a\nb")).is_err());
    }

    #[test]
    fn blocks_are_added_replaced_and_removed_in_place() {
        let o = BlockOpts::default();
        let t = edit_block("top\n", "x=1\ny=2", &o).unwrap();
        assert_eq!(
            t,
            "top\n# BEGIN hoist managed block\nx=1\ny=2\n# END hoist managed block\n"
        );
        let t2 = edit_block(&format!("{t}bottom\n"), "z=3\n", &o).unwrap();
        assert_eq!(
            t2,
            "top\n# BEGIN hoist managed block\nz=3\n# END hoist managed block\nbottom\n"
        );
        assert_eq!(edit_block(&t2, "z=3\n", &o).unwrap(), t2, "idempotent");
        let gone = BlockOpts {
            state: Presence::Absent,
            ..BlockOpts::default()
        };
        assert_eq!(edit_block(&t2, "", &gone).unwrap(), "top\nbottom\n");
        let half = "# BEGIN hoist managed block\nx\n";
        assert!(edit_block(half, "y", &o).is_err());
    }
}
