//! How the long-lived remote shell starts one command: the cheapest way that still keeps what
//! the framing promises (exit code, separate stdout/stderr, the whole process group killed on
//! a timeout or Ctrl-C, background children noticed, the script never in an argv it would not
//! be in anyway).
//!
//! Most commands go through `setsid sh -c 'eval "$HOIST_SCRIPT"'`: two programs started on the
//! host before the command itself, about a millisecond each — most of what a command costs
//! on an open connection. Two common shapes need less:
//!
//! - **One builtin** (`test -d /tmp`, `true`, `printf ...`) with no command substitution,
//!   redirection, pipe, subshell or list: it can start no process, so there is no group to kill and no
//!   child to notice. The waiter every command has (a subshell of the shell) evaluates it
//!   itself — the same `sh`, the same semantics — so no program is started and no further
//!   process forked.
//! - **One external program with plain words** (`uname -a`, `cat /etc/os-release`, `docker
//!   ps`): `sh` would only split the words and start the program, so `setsid` starts it
//!   directly, in its own session as before. The words are exactly the program's own argv.
//!
//! Anything else, and anything the shell would read differently (a builtin or keyword as the
//! program, an assignment, a quote, `~`, a glob, `$`), goes through `sh`.

/// dash's builtins and the shell's reserved words: a first word among these means something
/// other than "run this program".
const SHELL_WORDS: &[&str] = &[
    ".", ":", "[", "alias", "bg", "break", "cd", "chdir", "command", "continue", "echo", "eval",
    "exec", "exit", "export", "false", "fg", "getopts", "hash", "jobs", "kill", "local", "printf",
    "pwd", "read", "readonly", "return", "set", "shift", "test", "times", "trap", "true", "type",
    "ulimit", "umask", "unalias", "unset", "wait", "!", "{", "}", "case", "do", "done", "elif",
    "else", "esac", "fi", "for", "if", "in", "then", "until", "while",
];

/// Builtins that only compute, print or test: run alone they start no process.
const INERT_BUILTINS: &[&str] = &["true", "false", ":", "test", "[", "echo", "printf"];

/// What may start a process (`$(..)`, `` `..` ``, a pipe, a subshell), sequence a second
/// command or redirect in a builtin's line. (`$x` alone only expands, in the subshell.)
const ACTIVE_CHARS: &[char] = &['`', '|', '&', ';', '(', ')', '<', '>', '\n', '\r'];

#[derive(Debug, PartialEq, Eq)]
pub enum Launch {
    /// The waiter, a subshell of the framing shell, evaluates it (`$__h_s`).
    Builtin,
    /// `setsid` starts the program with the script's words as its argv.
    Program,
    /// `setsid sh -c` evaluates it.
    Shell,
}

impl Launch {
    /// How to start `script` (`stdin`: whether data is piped into it: then always a shell).
    pub fn of(script: &str, stdin: bool) -> Launch {
        if stdin {
            return Launch::Shell;
        }
        let first = script.split(' ').next().unwrap_or("");
        if INERT_BUILTINS.contains(&first) && !script.contains(ACTIVE_CHARS) {
            return Launch::Builtin;
        }
        let plain_word = |w: &str| {
            !w.is_empty()
                && w.chars().all(|c| {
                    c.is_ascii_alphanumeric()
                        || matches!(c, '_' | '.' | '/' | ':' | ',' | '@' | '%' | '+' | '=' | '-')
                })
        };
        if plain_word(first)
            && !first.starts_with('-')
            && !first.contains('=')
            && !SHELL_WORDS.contains(&first)
            && script.split(' ').all(plain_word)
        {
            return Launch::Program;
        }
        Launch::Shell
    }
}

#[cfg(test)]
mod tests {
    use super::Launch::{self, *};

    #[test]
    fn only_what_sh_would_read_the_same_way_skips_it() {
        let of = |s: &str| Launch::of(s, false);
        assert_eq!(of("true"), Builtin);
        assert_eq!(of("test -d /tmp"), Builtin);
        assert_eq!(of("printf '%s\\n' 'a b'"), Builtin);
        assert_eq!(of("test -e \"$HOME\"/x"), Builtin, "only expands");
        assert_eq!(of("echo $(id)"), Shell);
        assert_eq!(of("echo `id`"), Shell);
        assert_eq!(of("echo hi > f"), Shell);
        assert_eq!(of("true; rm -rf x"), Shell);
        assert_eq!(of("true && x"), Shell);
        assert_eq!(of("true\nx"), Shell);
        assert_eq!(of("uname -a"), Program);
        assert_eq!(of("cat /etc/os-release"), Program);
        assert_eq!(of("docker ps --format=json"), Program);
        assert_eq!(of("uname  -a"), Shell, "an empty word");
        assert_eq!(of("uname\t-a"), Shell);
        assert_eq!(of("ls ~/x"), Shell);
        assert_eq!(of("ls *"), Shell);
        assert_eq!(of("ls 'a b'"), Shell);
        assert_eq!(of("A=1 env"), Shell);
        assert_eq!(of("cd /tmp"), Shell);
        assert_eq!(of("kill -9 1"), Shell);
        assert_eq!(of("exec sleep 1"), Shell);
        assert_eq!(of("-x"), Shell);
        assert_eq!(of(""), Shell);
        assert_eq!(of("cd -- /x && uname"), Shell);
        assert_eq!(Launch::of("cat", true), Shell, "stdin is piped by a shell");
    }
}
