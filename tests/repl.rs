//! `hoist repl` against the real test sshd: piped sessions (for scripting) and a real
//! terminal (tmux) for completion, continuation lines and Ctrl-C.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::sshd;
use support::tmux::Tmux;

struct Run {
    stdout: String,
    stderr: String,
    code: i32,
}

/// `hoist repl ARGS` with `input` on stdin, in `dir`, with a private HOME (history, audit).
fn repl_piped(dir: &Path, args: &[&str], input: &str) -> Run {
    let mut c = support::hoist_cmd();
    c.arg("repl")
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_STATE_HOME", dir.join("state"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("start hoist repl");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code().unwrap_or(-1),
    }
}

fn position(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` not in output:\n{haystack}"))
}

#[test]
fn piped_session_keeps_definitions_survives_errors_and_runs_remote_commands() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sshd().spec(1);
    let input = r#"let greeting = "hello";
fn shout(s) {
    s.to_upper() + "!"
}
shout(greeting)
no_such_function(1)
let words = [
    "a",
    "b",
]
host.run("echo remote-$(whoami); echo warn-line >&2").code
shout(words[1])
"#;
    let r = repl_piped(dir.path(), &[&spec], input);
    // The multi-line function and array were each one input; the error did not end the session.
    let hello = position(&r.stdout, "HELLO!\n");
    let remote = position(&r.stdout, &format!("[{spec}] remote-root\n"));
    let after = position(&r.stdout, "B!\n");
    assert!(hello < remote && remote < after, "order:\n{}", r.stdout);
    assert!(
        r.stdout.contains("\n0\n"),
        "the exit code value is printed:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains(&format!("[{spec}] warn-line")),
        "stderr streamed with the host prefix:\n{}",
        r.stderr
    );
    // The error shows the input line with a caret under the call.
    assert!(
        r.stderr
            .contains("error: unknown function or wrong argument types: no_such_function"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("| no_such_function(1)\n"), "{}", r.stderr);
    assert!(r.stderr.contains("| ^\n"), "{}", r.stderr);
    // Scripting: the exit status says an input failed.
    assert_eq!(r.code, 1, "stderr:\n{}", r.stderr);
    assert!(r.stderr.contains("1 of 7 inputs failed"), "{}", r.stderr);
}

#[test]
fn piped_session_without_errors_exits_zero_and_prints_tables() {
    let dir = tempfile::tempdir().unwrap();
    let input = r#"[#{name: "web", state: "running"}, #{name: "worker-1", state: "exited"}]
#{ a: 1,
   b: "two" }
"#;
    let r = repl_piped(dir.path(), &[], input);
    assert_eq!(r.code, 0, "stderr:\n{}", r.stderr);
    assert!(
        r.stdout
            .contains("NAME      STATE\nweb       running\nworker-1  exited\n"),
        "an array of maps is a table:\n{}",
        r.stdout
    );
    assert!(r.stdout.contains("\"b\": \"two\""), "{}", r.stdout);
}

#[test]
fn save_writes_the_successful_inputs_as_a_recipe_hoist_run_runs() {
    let dir = tempfile::tempdir().unwrap();
    let spec = sshd().spec(1);
    let recipe = dir.path().join("saved.rhai");
    let input = format!(
        r#"let n = 21
fn double(x) {{ x * 2 }}
bogus_call()
let out = host.run("echo $((" + double(n) + " + 0))")
let s = out.stdout; s.trim(); s
:save {}
"#,
        recipe.display()
    );
    let r = repl_piped(dir.path(), &[&spec], &input);
    assert!(r.stdout.contains("\n42\n"), "{}", r.stdout);
    assert!(r.stdout.contains("saved 4 input(s)"), "{}", r.stdout);
    let text = std::fs::read_to_string(&recipe).unwrap();
    assert!(
        text.contains(&format!("let host = ssh(\"{spec}\");")),
        "{text}"
    );
    assert!(
        !text.contains("bogus_call"),
        "failed inputs are not saved:\n{text}"
    );
    let run = support::hoist_cmd()
        .arg("run")
        .arg(&recipe)
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "hoist run {}: {}\n{text}",
        recipe.display(),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(stdout.trim(), "42", "{text}");
}

#[test]
fn host_group_arguments_bind_h1_h2_and_meta_commands_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (sshd().spec(1), sshd().spec(2));
    std::fs::write(
        dir.path().join("hoist.toml"),
        format!(
            "[env.test]\nvars = {{ app = \"shop\" }}\n[env.test.hosts]\nweb = [\"{a}\", \"{b}\"]\n"
        ),
    )
    .unwrap();
    let input = "h1.name\nh2.run(\"echo second\").code\nvars.app\nenv\n:hosts\n:help ssh\n:vars\n";
    let r = repl_piped(dir.path(), &["--env", "test", "web"], input);
    assert_eq!(r.code, 0, "stderr:\n{}", r.stderr);
    let out = &r.stdout;
    assert!(out.contains(&format!("{a}\n")), "{out}");
    assert!(out.contains(&format!("[{b}] second\n")), "{out}");
    assert!(out.contains("shop\ntest\n"), "{out}");
    assert!(out.contains(&format!("h1     {a}\nh2     {b}\n")), "{out}");
    assert!(out.contains(&format!("group web: {a}, {b}")), "{out}");
    assert!(out.contains("ssh(spec: String) -> Host"), "{out}");
    assert!(out.contains("\"app\": \"shop\""), "{out}");
}

#[test]
fn an_unknown_host_argument_fails_before_the_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let r = repl_piped(dir.path(), &["no such host"], "1\n");
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("not a host name"), "{}", r.stderr);
}

/// The last non-empty line of the screen.
fn last_line(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default()
        .trim_end()
}

#[test]
fn terminal_tab_completion_continuation_and_ctrl_c() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let spec = sshd().spec(1);
    let cmd = format!(
        "cd '{home}' && env HOME='{home}' XDG_STATE_HOME='{state}' HOIST_SSH_CONFIG='{cfg}' NO_COLOR=1 TERM=xterm '{bin}' repl '{spec}'; echo REPL-EXITED-$?; sleep 600",
        home = home.path().display(),
        state = state.display(),
        cfg = sshd().config.display(),
        bin = env!("CARGO_BIN_EXE_hoist"),
    );
    let t = Tmux::start(&cmd);
    let prompt = format!("hoist [{spec}]> ");
    let long = Duration::from_secs(20);
    t.wait_for("the prompt", long, |s| s.contains(prompt.trim_end()));

    // Tab completes a method of the variable's type.
    t.type_text("host.uplo");
    t.keys(&["Tab"]);
    t.wait_for("host.upload( completed", long, |s| {
        s.contains(&format!("{prompt}host.upload("))
    });
    t.keys(&["C-c"]);
    t.wait_for("a fresh prompt", long, |s| {
        last_line(s) == prompt.trim_end()
    });
    // ... and a key of the option map the method takes.
    t.type_text("host.run(\"id\", #{su");
    t.keys(&["Tab"]);
    t.wait_for("the sudo key completed", long, |s| {
        s.contains("host.run(\"id\", #{sudo:")
    });
    t.keys(&["C-c"]);
    t.wait_for("a fresh prompt", long, |s| {
        last_line(s) == prompt.trim_end()
    });

    // An unclosed block continues on the next line; the function works afterwards.
    t.type_text("fn twice(x) {");
    t.keys(&["Enter"]);
    t.wait_for("a continuation line", long, |s| {
        s.lines().any(|l| l.trim_end() == "…")
    });
    t.type_text("x * 2");
    t.keys(&["Enter"]);
    t.type_text("}");
    t.keys(&["Enter"]);
    t.type_text("twice(21)");
    t.keys(&["Enter"]);
    t.wait_for("the function's result", long, |s| {
        s.lines().any(|l| l.trim_end() == "42")
    });

    // Ctrl-C while a remote command runs: back at the prompt quickly, the remote process gone.
    let marker = "sleep 3217";
    t.type_text(&format!("host.run(\"{marker}\")"));
    t.keys(&["Enter"]);
    let deadline = Instant::now() + long;
    while !support::running(marker) {
        assert!(
            Instant::now() < deadline,
            "the remote sleep never started:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pressed = Instant::now();
    t.keys(&["C-c"]);
    t.wait_for("the prompt after Ctrl-C", long, |s| {
        s.contains("error: interrupted") && last_line(s) == prompt.trim_end()
    });
    let took = pressed.elapsed();
    eprintln!("Ctrl-C to prompt: {took:?}");
    assert!(
        took < Duration::from_secs(5),
        "Ctrl-C took {took:?} to return to the prompt"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    while support::running(marker) {
        assert!(
            Instant::now() < deadline,
            "the remote `{marker}` survived Ctrl-C"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // The session (and its SSH connection) goes on.
    t.type_text("host.run(\"echo after-\" + \"cancel\").code");
    t.keys(&["Enter"]);
    t.wait_for("a command after the cancel", long, |s| {
        s.contains(&format!("[{spec}] after-cancel"))
    });

    // Ctrl-D leaves; history went to the private state dir.
    t.keys(&["C-d"]);
    t.wait_for("the REPL to exit", long, |s| s.contains("REPL-EXITED-0"));
    let history = std::fs::read_to_string(state.join("hoist/repl_history"))
        .expect("history in $XDG_STATE_HOME/hoist/repl_history");
    assert!(history.contains("twice(21)"), "{history}");
}

#[test]
fn interactive_commands_get_the_terminal_on_ssh_and_local_hosts() {
    let home = tempfile::tempdir().unwrap();
    let spec = sshd().spec(2);
    let cmd = format!(
        "cd '{home}' && env HOME='{home}' XDG_STATE_HOME='{home}/state' HOIST_SSH_CONFIG='{cfg}' NO_COLOR=1 TERM=xterm '{bin}' repl '{spec}'; echo REPL-EXITED-$?; sleep 600",
        home = home.path().display(),
        cfg = sshd().config.display(),
        bin = env!("CARGO_BIN_EXE_hoist"),
    );
    let t = Tmux::start(&cmd);
    let prompt = format!("hoist [{spec}]> ");
    let long = Duration::from_secs(20);
    t.wait_for("the prompt", long, |s| s.contains(prompt.trim_end()));
    for (i, who) in ["host", "local()"].iter().enumerate() {
        // The command sees a real terminal, reads what is typed, and its exit code comes back.
        t.type_text(&format!(
            "{who}.interactive(\"tty; printf 'name{i}? '; read x; echo got-{i}:$x; exit 3\", #{{env: #{{GREETING: \"hi\"}}}})"
        ));
        t.keys(&["Enter"]);
        t.wait_for("the question", long, |s| s.contains(&format!("name{i}? ")));
        t.type_text("abc");
        t.keys(&["Enter"]);
        let screen = t.wait_for("the answer and the exit code", long, |s| {
            s.contains(&format!("got-{i}:abc")) && last_line(s) == prompt.trim_end()
        });
        assert!(
            screen.contains("/dev/pts/"),
            "no terminal on {who}:\n{screen}"
        );
        let after: Vec<&str> = screen
            .rsplit(&format!("got-{i}:abc"))
            .next()
            .unwrap()
            .lines()
            .map(str::trim_end)
            .collect();
        assert!(
            after.contains(&"3"),
            "exit code 3 shown after the command on {who}:\n{screen}"
        );
    }
    // No private script file is left on the host.
    let left = std::fs::read_dir("/tmp")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".hoist-tty-"))
        .count();
    assert_eq!(left, 0, "the interactive script file was removed");
    t.keys(&["C-d"]);
    t.wait_for("the REPL to exit", long, |s| s.contains("REPL-EXITED-0"));
}

#[test]
fn interactive_without_a_terminal_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = repl_piped(dir.path(), &["local"], "host.interactive(\"sh\")\n");
    assert!(run.stderr.contains("needs a terminal"), "{}", run.stderr);
}

/// A REPL whose terminal goes away (the tmux pane, an ssh session) gets SIGHUP and leaves.
/// It used to treat the hang-up as Ctrl-C, cancel nothing, and go back to reading the dead
/// terminal, where the terminal library spins at full CPU forever.
#[test]
fn terminal_hang_up_ends_the_session() {
    let home = tempfile::tempdir().unwrap();
    let pid_file = home.path().join("pid");
    let cmd = format!(
        "echo $$ > '{pid}'; cd '{home}' && exec env HOME='{home}' XDG_STATE_HOME='{home}/state' NO_COLOR=1 TERM=xterm '{bin}' repl",
        pid = pid_file.display(),
        home = home.path().display(),
        bin = env!("CARGO_BIN_EXE_hoist"),
    );
    let t = Tmux::start(&cmd);
    t.wait_for("the prompt", Duration::from_secs(20), |s| {
        s.contains("hoist>")
    });
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    drop(t); // kills the tmux server: the pane's terminal is gone
    let alive = || std::path::Path::new(&format!("/proc/{pid}")).exists();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while alive() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let left = alive();
    if left {
        // Do not leave it spinning for the rest of the suite.
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert!(!left, "the REPL (pid {pid}) outlived its terminal");
}
