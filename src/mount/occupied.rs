//! What a mount would hide. Mounting over a directory hides what is in it until the mount
//! goes (the files are still there, out of sight: a results file a job then cannot find,
//! data a backup skips). So a target that is not a mount point and holds anything is
//! refused, naming a few of its entries and how many there are, unless the mount says
//! `over_nonempty: true` — as runbook 003's `mount.sh` refuses. The look is a read-only probe:
//! a dry run refuses (or, when allowed, notes what would be hidden) exactly as a run does.

use crate::command::{Command, quote};
use crate::error::{Error, Result};

/// How many entries a refusal names.
pub const SHOWN: usize = 5;

/// Exit code of the probe when this user may not list the target.
pub const UNREADABLE: i32 = 21;

/// What is in a directory: its first entries (as `ls -A` sorts them, odd characters escaped)
/// and how many there are.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Contents {
    pub first: Vec<String>,
    pub count: usize,
}

impl Contents {
    /// "results.txt" / "a, b, c, d, e and 7 more (12 entries)".
    pub fn describe(&self) -> String {
        let listed = self.first.join(", ");
        if self.count > self.first.len() {
            format!(
                "{listed} and {} more ({} entries)",
                self.count - self.first.len(),
                self.count
            )
        } else if self.count == 1 {
            format!("{listed} (1 entry)")
        } else {
            format!("{listed} ({} entries)", self.count)
        }
    }
}

/// The probe: nothing when the target is missing or no directory (the mount's own preparation
/// says so); else its first [`SHOWN`] entries, one per line, then their number.
pub fn probe(target: &str, sudo: bool) -> Command {
    let t = quote(target);
    Command::shell(format!(
        "if [ -d {t} ]; then if [ ! -r {t} ] || [ ! -x {t} ]; then exit {UNREADABLE}; fi; \
         LC_ALL=C ls -A1b -- {t} | sed -n '1,{SHOWN}p;$='; fi"
    ))
    .sudo(sudo)
    .check(false)
    .quiet()
    .probe()
}

/// Read the probe's output.
pub fn parse(stdout: &str) -> Contents {
    let mut lines: Vec<&str> = stdout.lines().collect();
    let Some(count) = lines.pop().and_then(|n| n.trim().parse().ok()) else {
        return Contents::default();
    };
    Contents {
        first: lines.iter().map(|l| l.to_string()).collect(),
        count,
    }
}

/// May a mount go over `target` holding `contents`? Refused (naming what is there) unless it
/// is empty or `over_nonempty`.
pub fn allowed(target: &str, contents: &Contents, over_nonempty: bool) -> Result<()> {
    if contents.count == 0 || over_nonempty {
        return Ok(());
    }
    Err(Error::usage(format!(
        "h.mount(): {target} is not a mount point and is not empty: it holds {}; \
         a mount there would hide them",
        contents.describe()
    ))
    .hint("move them away or pick another target; over_nonempty: true mounts over them anyway"))
}

/// The probe could not list the target: it cannot be known to be empty.
pub fn unreadable(target: &str, sudo: bool) -> Error {
    let hint = if sudo {
        "the target's permissions keep even sudo from listing it"
    } else {
        "sudo: true lists it as root; over_nonempty: true mounts over it without looking"
    };
    Error::usage(format!(
        "h.mount(): cannot tell whether {target} is empty: this user may not list it"
    ))
    .hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_target_or_an_allowed_one_may_be_mounted_over() {
        assert_eq!(parse(""), Contents::default());
        assert!(allowed("/mnt/x", &parse(""), false).is_ok());
        let one = parse("results.txt\n1\n");
        assert!(allowed("/mnt/x", &one, true).is_ok());
        let e = allowed("/mnt/x", &one, false).unwrap_err();
        assert!(
            e.message
                .contains("/mnt/x is not a mount point and is not empty")
                && e.message.contains("it holds results.txt (1 entry)"),
            "{}",
            e.message
        );
        assert!(e.hint.as_deref().unwrap().contains("over_nonempty: true"));
    }

    #[test]
    fn a_long_listing_names_a_few_and_counts_all() {
        let c = parse("a\nb\\ c\nd\ne\nf\n12\n");
        assert_eq!(c.count, 12);
        assert_eq!(c.describe(), "a, b\\ c, d, e, f and 7 more (12 entries)");
        assert_eq!(parse("x\ny\n2\n").describe(), "x, y (2 entries)");
    }
}
