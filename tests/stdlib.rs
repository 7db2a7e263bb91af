//! git checkouts and HTTP health checks against real git and real HTTP; systemd through a
//! stand-in `systemctl`/`journalctl` (systemd cannot run in this container: PID 1 is not
//! systemd), recording the exact commands hoist runs.

mod support;

use support::{hoist_cmd, run_script, runtime, sshd};

fn git(dir: &std::path::Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.org"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// A bare repo with one commit, and a working clone to push more commits from.
fn origin() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let bare = d.path().join("origin.git");
    let work = d.path().join("work");
    std::fs::create_dir(&bare).unwrap();
    git(&bare, &["init", "--bare", "-b", "main"]);
    git(d.path(), &["clone", bare.to_str().unwrap(), "work"]);
    std::fs::write(work.join("app.txt"), "v1\n").unwrap();
    git(&work, &["add", "."]);
    git(&work, &["commit", "-m", "v1"]);
    git(&work, &["push", "origin", "HEAD:main"]);
    (d, bare, work)
}

#[test]
fn git_clone_pull_head_dirty_checkout_on_local_and_ssh() {
    let (_d, bare, work) = origin();
    let (rt, _) = runtime();
    for (i, h) in [
        "local()".to_string(),
        format!("ssh(\"{}\")", sshd().spec(1)),
    ]
    .iter()
    .enumerate()
    {
        let dest = format!("/tmp/hoist-git-{}-{i}", std::process::id());
        let script = format!(
            r#"let h = {h};
let r = h.git("{dest}");
let a = r.clone("{url}");
let b = r.clone("{url}");
[a, b, r.head().len(), r.pull(), r.dirty()]"#,
            url = bare.display()
        );
        assert_eq!(
            run_script(&rt, &script).unwrap(),
            serde_json::json!([true, false, 40, false, false])
        );
        // A new commit upstream: pull moves HEAD.
        std::fs::write(work.join("app.txt"), format!("v2-{i}\n")).unwrap();
        git(&work, &["commit", "-am", "v2"]);
        git(&work, &["push", "origin", "HEAD:main"]);
        let v = run_script(
            &rt,
            &format!("let r = {h}.git(\"{dest}\"); [r.pull(), {h}.read(\"{dest}/app.txt\")]"),
        )
        .unwrap();
        assert_eq!(v, serde_json::json!([true, format!("v2-{i}\n")]));
        let v = run_script(
            &rt,
            &format!("let h = {h}; h.write(\"{dest}/new.txt\", \"x\"); h.git(\"{dest}\").dirty()"),
        )
        .unwrap();
        assert_eq!(v, serde_json::json!(true));
        let e = run_script(
            &rt,
            &format!("{h}.git(\"{dest}\").checkout(\"no-such-branch\")"),
        )
        .unwrap_err();
        assert!(
            e.stderr_tail
                .as_deref()
                .unwrap_or_default()
                .contains("no-such-branch"),
            "{}",
            e.render()
        );
        std::fs::remove_dir_all(&dest).ok();
    }
}

/// An HTTP server that answers 503 for the first `bad` requests, then 200 "ready".
fn flaky_server(bad: usize) -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for (n, s) in l.incoming().flatten().enumerate() {
            use std::io::{Read, Write};
            let mut s = s;
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let (status, body) = if n < bad {
                ("503 Service Unavailable", "starting")
            } else {
                ("200 OK", "ready")
            };
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    port
}

#[test]
fn wait_http_waits_for_health_and_says_what_it_saw() {
    let (rt, _) = runtime();
    let port = flaky_server(3);
    let v = run_script(
        &rt,
        &format!(
            "wait_http(\"http://127.0.0.1:{port}/health\", #{{contains: \"ready\", interval: 0.1}})"
        ),
    )
    .unwrap();
    assert_eq!(v, serde_json::json!(true));
    let port = flaky_server(usize::MAX);
    let e = run_script(
        &rt,
        &format!("wait_http(\"http://127.0.0.1:{port}/\", #{{timeout: 1, interval: 0.1}})"),
    )
    .unwrap_err();
    assert!(
        e.message.contains("HTTP 503") && e.message.contains("starting"),
        "{}",
        e.message
    );
    let e = run_script(&rt, "wait_http(\"http://127.0.0.1:1/\", #{timout: 1})").unwrap_err();
    assert!(e.message.contains("timout"));
}

/// Stand-ins for systemctl/journalctl that log their argv and keep unit state in files.
fn systemd_stand_in(dir: &std::path::Path) {
    let log = dir.join("calls.log");
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let systemctl = format!(
        "#!/bin/sh\necho \"systemctl $*\" >> {log}\nverb=$1; [ \"$verb\" = --user ] && verb=$2\nunit=$(eval echo \\${{$#}})\ncase $verb in\n  start|restart) touch {state}/$unit; echo \"$(date '+%Y-%m-%d %H:%M:%S') started $unit\" >> {state}/journal;;\n  stop) rm -f {state}/$unit;;\n  is-active) [ -e {state}/$unit ];;\nesac\n",
        log = log.display(),
        state = state.display()
    );
    let journalctl = format!(
        "#!/bin/sh\necho \"journalctl $*\" >> {log}\ncat {state}/journal 2>/dev/null\n",
        log = log.display(),
        state = state.display()
    );
    for (name, body) in [("systemctl", systemctl), ("journalctl", journalctl)] {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn gitpull_recipe_stops_pulls_installs_starts_and_scans_the_journal() {
    let (_d, bare, work) = origin();
    let stubs = tempfile::tempdir().unwrap();
    systemd_stand_in(stubs.path());
    let app = tempfile::tempdir().unwrap();
    let checkout = app.path().join("app");
    git(app.path(), &["clone", bare.to_str().unwrap(), "app"]);
    std::fs::write(work.join("app.txt"), "v2\n").unwrap();
    git(&work, &["commit", "-am", "v2"]);
    git(&work, &["push", "origin", "HEAD:main"]);
    let path = format!(
        "{}:{}",
        stubs.path().display(),
        std::env::var("PATH").unwrap()
    );
    let run = |extra: &[&str]| {
        let mut c = hoist_cmd();
        c.current_dir(app.path())
            .env("PATH", &path)
            .args([
                "gitpull",
                "--dir",
                checkout.to_str().unwrap(),
                "--service",
                "app.service",
                "--sudo",
                "false",
                "--settle",
                "0",
                "--json",
            ])
            .args(extra);
        c.output().unwrap()
    };
    let o = run(&["--install", "echo installed > deps.txt"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["value"]["local"]["changed"], true);
    assert_eq!(last["value"]["local"]["active"], true);
    assert_eq!(
        std::fs::read_to_string(checkout.join("app.txt")).unwrap(),
        "v2\n"
    );
    assert_eq!(
        std::fs::read_to_string(checkout.join("deps.txt")).unwrap(),
        "installed\n"
    );
    let calls = std::fs::read_to_string(stubs.path().join("calls.log")).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert_eq!(calls[0], "systemctl stop -- app.service");
    assert_eq!(calls[1], "systemctl start -- app.service");
    assert!(
        calls[2].starts_with("journalctl --no-pager -u app.service --since "),
        "{calls:?}"
    );
    // An error in the journal fails the update, naming the word.
    std::fs::write(
        stubs.path().join("state/journal"),
        "2000-01-01 00:00:00 Traceback (most recent call last)\n",
    )
    .unwrap();
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Traceback"));
    // A pull that cannot fast-forward starts the service again on the old code.
    std::fs::write(stubs.path().join("state/journal"), "").unwrap();
    git(
        &checkout,
        &[
            "-c",
            "user.name=t",
            "commit",
            "--allow-empty",
            "-m",
            "local",
        ],
    );
    std::fs::write(work.join("app.txt"), "v3\n").unwrap();
    git(&work, &["commit", "-am", "v3"]);
    git(&work, &["push", "origin", "HEAD:main"]);
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    let calls = std::fs::read_to_string(stubs.path().join("calls.log")).unwrap();
    assert!(
        calls.trim_end().ends_with("systemctl start -- app.service"),
        "service restarted after the failed pull: {calls}"
    );
    assert!(stubs.path().join("state/app.service").exists());
}
