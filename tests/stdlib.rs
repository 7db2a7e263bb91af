//! git checkouts and HTTP health checks against real git and real HTTP; the gitpull recipe
//! against a fleet server's real systemd unit and journald.

mod support;

use support::plan::{audited_last_run, host_state, plan_of, planned};

use support::fleet::fleet;
use support::{run_script, runtime, sshd};

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

/// The JACoW `gitpull.sh` as a recipe, on a fleet server: a real systemd unit (run as the
/// `deploy` user, logging to journald) serving a git checkout; hoist connects as `deploy` and
/// uses sudo for systemctl/journalctl. Everything is checked through the host.
#[test]
fn gitpull_recipe_stops_pulls_installs_starts_and_scans_the_journal_with_real_systemd() {
    let f = fleet();
    let h = f.host(4);
    let id = std::process::id();
    let (unit, origin, work, checkout) = (
        format!("hoistgp{id}.service"),
        format!("/home/deploy/hoistgp{id}.git"),
        format!("/home/deploy/hoistgp{id}-work"),
        format!("/home/deploy/hoistgp{id}"),
    );
    let git = "git -c user.name=t -c user.email=t@example.org";
    // An origin with v1, the deploy user's checkout, and a unit serving it. The git work is
    // done as `deploy` (git refuses repositories owned by another user).
    let as_deploy = |script: &str| {
        h.sh_ok(&format!(
            "su deploy -c {}",
            hoist::command::quote(&format!("set -e; {script}"))
        ))
    };
    as_deploy(&format!(
        "git init -q --bare -b main {origin}; git clone -q {origin} {work}; cd {work}; \
         echo v1 > app.txt; printf '#!/bin/sh\\necho started $(cat app.txt)\\nexec sleep infinity\\n' > start.sh; \
         chmod +x start.sh; {git} add .; {git} commit -qm v1; git push -q origin HEAD:main; \
         git clone -q {origin} {checkout}"
    ));
    h.sh_ok(&format!(
        "set -e; \
         printf '[Unit]\\nDescription=gitpull test\\n[Service]\\nUser=deploy\\nWorkingDirectory={checkout}\\nExecStart={checkout}/start.sh\\n[Install]\\nWantedBy=multi-user.target\\n' > /etc/systemd/system/{unit}; \
         systemctl daemon-reload; systemctl start {unit}"
    ));
    let push = |text: &str, msg: &str| {
        as_deploy(&format!(
            "cd {work}; {text}; {git} commit -qam {msg}; git push -q origin HEAD:main"
        ))
    };
    push("echo v2 > app.txt", "v2");
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("hoist.toml"),
        format!(
            "[env.test.hosts]\napp = [\"{0}\"]\n[env.test.host_vars.\"{0}\"]\ndir = \"~/hoistgp{id}\"\n",
            h.spec_user("deploy")
        ),
    )
    .unwrap();
    // The checkout is named from the deploy user's home (`~` is that user's home in git, cd and
    // every other primitive): first by the host's own `dir` var in hoist.toml, later by --dir.
    let tilde_checkout = format!("~/hoistgp{id}");
    let run = |extra: &[&str]| {
        f.hoist_cmd(project.path())
            .args([
                "gitpull",
                "--env",
                "test",
                "--service",
                &unit,
                "--settle",
                "1",
                "--json",
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // Planned first: nothing changes, and the plan knows the pull brings a commit (the remote
    // is asked, nothing fetched), so it names the install and the restart the run then does.
    let before = host_state(h, &[&checkout, &origin], &format!("hoistgp{id}"));
    let dry = run(&["--install", "echo installed > deps.txt", "--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let plan = plan_of(&String::from_utf8_lossy(&dry.stdout));
    assert_eq!(
        host_state(h, &[&checkout, &origin], &format!("hoistgp{id}")),
        before,
        "gitpull --dry-run changed the host"
    );
    assert_eq!(plan["uncertain"], serde_json::json!([]), "{plan}");
    let want = planned(&plan);
    assert!(
        want.iter().any(|(_, _, s)| s.contains("echo installed")),
        "the plan reinstalls: {want:#?}"
    );
    let o = run(&["--install", "echo installed > deps.txt"]);
    let mut got = audited_last_run(project.path());
    got.sort_by_key(|(h, _, _)| h.clone());
    assert_eq!(got, want, "gitpull: plan and run differ");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let row = &last["value"][&h.spec_user("deploy")];
    assert_eq!(row["changed"], true, "{last}");
    assert_eq!(row["active"], true, "{last}");
    assert_eq!(h.read(&format!("{checkout}/app.txt")), "v2\n");
    assert_eq!(h.read(&format!("{checkout}/deps.txt")), "installed\n");
    assert_eq!(h.sh_ok(&format!("systemctl is-active {unit}")), "active");
    // systemd really restarted it on the new code: journald has both starts, in order.
    let journal = h.sh_ok(&format!("journalctl --no-pager -o cat -u {unit}"));
    let starts: Vec<&str> = journal
        .lines()
        .filter(|l| l.starts_with("started"))
        .collect();
    assert_eq!(starts, ["started v1", "started v2"], "{journal}");

    // An error in the journal since the restart fails the update, naming the word.
    push(
        "printf '#!/bin/sh\\necho Traceback: boom\\nexec sleep infinity\\n' > start.sh",
        "broken",
    );
    let o = run(&["--dir", &tilde_checkout]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("Traceback") && out.contains(h.spec_user("deploy").as_str()),
        "{out}"
    );

    // A pull that cannot fast-forward starts the service again on the old code.
    as_deploy(&format!(
        "cd {checkout}; {git} commit -q --allow-empty -m local"
    ));
    push("echo v3 > app.txt", "v3");
    let o = run(&["--dir", &tilde_checkout]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(h.sh_ok(&format!("systemctl is-active {unit}")), "active");
    assert_eq!(h.read(&format!("{checkout}/app.txt")), "v2\n");

    h.sh(&format!(
        "systemctl stop {unit}; rm -rf /etc/systemd/system/{unit} {origin} {work} {checkout}; systemctl daemon-reload"
    ));
}
