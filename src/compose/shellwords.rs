//! How compose v2 splits a `command:` / `entrypoint:` string into words (compose-go reads it
//! with the go-shellwords rules): not a shell, so hoist reads it the same way to know what
//! runs and which strings compose refuses.
//!
//! - words split at spaces, tabs and line breaks outside quotes;
//! - `'...'` keeps everything literally (a backslash too); `"..."` keeps spaces, and a
//!   backslash there takes the next character as it is (`"a\nb"` is `anb`, not a newline);
//! - a backslash outside single quotes takes the next character as it is;
//! - `;`, `&`, `|`, `<`, `>` outside quotes end the command: what follows is dropped;
//! - `(` outside quotes is an error unless it follows `$`; `$(...)` and `` `...` `` are
//!   kept as text, one word;
//! - a quote, a backslash, a backtick or a `$(` left open at the end is an error (so is a
//!   lone `)`, which opens one).

/// The words of `line`, or why compose refuses it.
pub fn split(line: &str) -> Result<Vec<String>, String> {
    let mut args = Vec::new();
    let mut buf = String::new();
    // Whether `buf` holds a word (an empty quoted word counts).
    let mut got = false;
    let (mut escaped, mut single, mut double, mut back, mut dollar) =
        (false, false, false, false, false);
    let invalid = || Err(format!("invalid command line string: {line}"));
    for c in line.chars() {
        if escaped {
            buf.push(c);
            escaped = false;
            got = true;
            continue;
        }
        if c == '\\' {
            if single {
                buf.push(c);
            } else {
                escaped = true;
            }
            continue;
        }
        if matches!(c, ' ' | '\t' | '\r' | '\n') {
            if single || double || back || dollar {
                buf.push(c);
            } else if got {
                args.push(std::mem::take(&mut buf));
                got = false;
            }
            continue;
        }
        let quoted = single || double;
        match c {
            // Kept as text; what is between them stays one word.
            '`' if !single && !double && !dollar => back = !back,
            ')' if !quoted && !back => dollar = !dollar,
            '(' if !quoted && !back => {
                if !dollar && buf.ends_with('$') {
                    dollar = true;
                    buf.push('(');
                    continue;
                }
                return invalid();
            }
            '"' if !single && !dollar => {
                if double {
                    got = true;
                }
                double = !double;
                continue;
            }
            '\'' if !double && !dollar => {
                if single {
                    got = true;
                }
                single = !single;
                continue;
            }
            ';' | '&' | '|' | '<' | '>' if !(quoted || back || dollar) => {
                // `2>file`: the descriptor number goes with the redirection.
                if c == '>' && !buf.is_empty() && buf.bytes().all(|b| b.is_ascii_digit()) {
                    buf.clear();
                    got = false;
                }
                break;
            }
            _ => {}
        }
        got = true;
        buf.push(c);
    }
    if escaped || single || double || back || dollar {
        return invalid();
    }
    if got {
        args.push(buf);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn words_as_compose_reads_them() {
        let s = |t: &str| split(t).unwrap();
        assert_eq!(s("echo hello  world"), ["echo", "hello", "world"]);
        assert_eq!(s("echo 'a b' \"c d\""), ["echo", "a b", "c d"]);
        assert_eq!(s("echo \"a\\nb\" 'c\\d'"), ["echo", "anb", "c\\d"]);
        assert_eq!(s("a\\ b c"), ["a b", "c"]);
        assert_eq!(s("echo \"\" ''"), ["echo", "", ""]);
        assert_eq!(
            s("echo # not a comment"),
            ["echo", "#", "not", "a", "comment"]
        );
        assert_eq!(s("echo a; rm -rf /"), ["echo", "a"]);
        assert_eq!(s("/bin/echo &a}"), ["/bin/echo"]);
        assert_eq!(s("echo $(a b) `c d` e"), ["echo", "$(a b)", "`c d`", "e"]);
        assert_eq!(s("x 2>&1 y"), ["x"]);
        assert_eq!(s("x a2>y"), ["x", "a2"]);
        assert_eq!(s("  "), Vec::<String>::new());
        for bad in [
            "echo \"open",
            "echo 'open",
            "trailing\\",
            "f(x)",
            "echo `x",
            "a)",
            "$((1))",
        ] {
            assert!(split(bad).is_err(), "{bad}");
        }
    }
}
