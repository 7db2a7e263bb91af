//! The book in `docs/` (mdBook), read as its tests need it: the fenced code blocks of every
//! chapter with the file and line they start at, and the hidden checks a tutorial chapter
//! carries in HTML comments. How chapters mark their blocks:
//!
//! - A block's `{{#include PATH}}` line (mdBook's, PATH relative to the chapter) is read as
//!   the file's text, so a chapter can show a recipe that tests run, not a copy of it.
//! - ```` ```rhai ```` — a recipe or a piece of one: it must pass `hoist check`;
//!   ```` ```rhai,ignore ```` — a fragment that cannot (keep those rare).
//! - A chapter with the line `<!-- ci: run on the fleet -->` is a tutorial: its
//!   ```` ```sh ```` blocks run in order, as one bash script (`set -euo pipefail`), against the
//!   fleet; ```` ```sh,norun ```` is shown but not run (installing, the whole test suite).
//!   A block of any language with `file=PATH` (```` ```yaml,file=compose.yml ````) is a file
//!   the reader saves: the script writes it there (relative to its current directory).
//!   `<!-- check` … `-->` holds commands the reader does not see that check what the blocks
//!   before did (through the hosts: `"$HOIST_REPO"/scripts/fleet exec host1 …`); they run in
//!   place.

use std::path::{Path, PathBuf};

/// The book's sources.
pub fn src_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/src")
}

/// The marker line of a chapter whose commands CI runs against the fleet.
pub const RUN_MARKER: &str = "<!-- ci: run on the fleet -->";

/// A fenced block (or a hidden check) of a chapter.
#[derive(Debug, Clone)]
pub struct Block {
    /// `docs/src/…md`, relative to the repository.
    pub file: String,
    /// The line of its opening fence (1-based).
    pub line: usize,
    /// The info string's first word (`rhai`, `sh`, …); `check` for a hidden check.
    pub lang: String,
    /// The info string's other words (`ignore`, `norun`, …).
    pub attrs: Vec<String>,
    pub text: String,
}

impl Block {
    pub fn has(&self, attr: &str) -> bool {
        self.attrs.iter().any(|a| a == attr)
    }
    /// The value of a `key=value` attribute.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find_map(|a| a.strip_prefix(key)?.strip_prefix('='))
    }
    /// `docs/src/getting-started.md:42`
    pub fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Every markdown file of the book, sorted.
pub fn chapters() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&src_dir(), &mut out);
    out.sort();
    out
}

/// The blocks of one chapter, in order: fenced code blocks and hidden checks.
pub fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = path
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string();
    let mut out = Vec::new();
    let mut open: Option<(String, Block)> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some((fence, b)) = &mut open {
            if line.trim_start().starts_with(fence.as_str()) && line.trim() == fence.as_str() {
                out.push(b.clone());
                open = None;
            } else if let Some(inc) = include(line) {
                let file = path.parent().unwrap().join(inc);
                let text = std::fs::read_to_string(&file).unwrap_or_else(|e| {
                    panic!("{}: cannot include {}: {e}", b.at(), file.display())
                });
                b.text.push_str(&text);
                if !text.ends_with('\n') {
                    b.text.push('\n');
                }
            } else {
                b.text.push_str(line);
                b.text.push('\n');
            }
            continue;
        }
        let trimmed = line.trim_start();
        let fence: String = trimmed
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        if fence.len() >= 3 && (fence.chars().all(|c| c == '`') || fence.chars().all(|c| c == '~'))
        {
            let info = trimmed[fence.len()..].trim();
            let mut words = info.split([',', ' ']).filter(|w| !w.is_empty());
            let lang = words.next().unwrap_or_default().to_string();
            let attrs = words.map(str::to_string).collect();
            open = Some((
                fence,
                Block {
                    file: file.clone(),
                    line: i + 1,
                    lang,
                    attrs,
                    text: String::new(),
                },
            ));
        } else if trimmed == "<!-- check" {
            open = Some((
                "-->".to_string(),
                Block {
                    file: file.clone(),
                    line: i + 1,
                    lang: "check".into(),
                    attrs: Vec::new(),
                    text: String::new(),
                },
            ));
        }
    }
    if let Some((fence, b)) = open {
        panic!("{}: the block opened here never ends with {fence}", b.at());
    }
    out
}

/// The path of a `{{#include PATH}}` line.
fn include(line: &str) -> Option<&str> {
    let inner = line
        .trim()
        .strip_prefix("{{#include ")?
        .strip_suffix("}}")?;
    Some(inner.trim())
}

/// Is this chapter a tutorial that CI runs?
pub fn is_run(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.trim() == RUN_MARKER))
}

/// A tutorial chapter as one bash script: its `sh` blocks (not `norun`) and hidden checks in
/// order, each announced on stderr with its place (`### docs/src/x.md:12`), so a failure
/// names the block it stopped in.
pub fn script(path: &Path) -> String {
    let mut s = String::from("set -euo pipefail\n");
    for b in blocks(path).into_iter().filter(|b| !b.has("norun")) {
        if let Some(file) = b.attr("file") {
            let eof = "HOIST_BOOK_EOF";
            assert!(!b.text.contains(eof), "{}: the file holds {eof}", b.at());
            s.push_str(&format!(
                "echo '### {at}' >&2\nmkdir -p \"$(dirname '{file}')\"\ncat > '{file}' <<'{eof}'\n{text}{eof}\n",
                at = b.at(),
                text = b.text
            ));
        } else if matches!(b.lang.as_str(), "sh" | "bash" | "check") {
            s.push_str(&format!("echo '### {}' >&2\n{}", b.at(), b.text));
        }
    }
    s
}
