//! The `hoist` binary: exit codes, run/check/doc/recipes, --json, project recipes.

mod support;

use support::fleet::fleet;

use std::process::Output;

use support::{hoist_cmd, sshd};

fn hoist(dir: &std::path::Path, args: &[&str]) -> Output {
    hoist_cmd()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run hoist")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn hello_example_runs_on_the_local_machine() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = hoist(root, &["run", "examples/hello.rhai"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("host ") && out.contains("cpus ") && out.contains("memory "),
        "{out}"
    );
}

#[test]
fn exit_codes_are_0_1_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ok.rhai"), "1 + 1").unwrap();
    std::fs::write(d.join("fail.rhai"), "local().run(\"exit 5\");").unwrap();
    std::fs::write(d.join("syntax.rhai"), "let x = ;").unwrap();
    assert_eq!(hoist(d, &["run", "ok.rhai"]).status.code(), Some(0));
    let o = hoist(d, &["run", "fail.rhai"]);
    assert_eq!(o.status.code(), Some(1));
    let (_, err) = text(&o);
    assert!(
        err.contains("fail.rhai:1:") && err.contains("exit code: 5"),
        "{err}"
    );
    assert_eq!(hoist(d, &["run", "syntax.rhai"]).status.code(), Some(2));
    assert_eq!(hoist(d, &["run", "missing.rhai"]).status.code(), Some(2));
    assert_eq!(hoist(d, &["--bogus-flag"]).status.code(), Some(2));
    assert_eq!(
        hoist(d, &["run", "ok.rhai", "--env", "nope"]).status.code(),
        Some(2)
    );
}

#[test]
fn a_bad_ssh_setting_in_the_environment_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("touch.rhai"), "local().run(\"touch ran\");").unwrap();
    for (var, value) in [
        ("HOIST_SSH_KEEPALIVE", "2s"),
        ("HOIST_SSH_KEEPALIVE", "0"),
        ("HOIST_SSH_HANDSHAKES", "-4"),
    ] {
        let o = hoist_cmd()
            .current_dir(d)
            .args(["run", "touch.rhai"])
            .env(var, value)
            .output()
            .unwrap();
        let (_, err) = text(&o);
        assert_eq!(o.status.code(), Some(2), "{var}={value}: {err}");
        assert!(
            err.contains(&format!("{var}=\"{value}\"")) && err.contains("whole number above 0"),
            "{var}={value}: {err}"
        );
        assert!(!d.join("ran").exists(), "{var}={value}: the script ran");
    }
    let o = hoist_cmd()
        .current_dir(d)
        .args(["run", "touch.rhai"])
        .env("HOIST_SSH_KEEPALIVE", "5")
        .env("HOIST_SSH_HANDSHAKES", "")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(d.join("ran").exists());
}

#[test]
fn fan_out_over_the_inventory_prints_host_prefixes_and_a_summary() {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hoist.toml"),
        "[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("r.rhai"),
        "on(hosts(\"web\"), |h| h.run(\"echo hello from $(hostname)\", #{stream: true}));\n",
    )
    .unwrap();
    let o = f
        .hoist_cmd(d)
        .args(["run", "r.rhai", "--env", "test"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    // Each line carries its host's prefix, and each host is its own server.
    assert!(out.contains("[host1] hello from host1"), "{out}");
    assert!(out.contains("[host2] hello from host2"), "{out}");
    assert!(err.contains("2 ok, 0 failed"), "summary table: {err}");
    // The audit log lands beside hoist.toml.
    let log = std::fs::read_to_string(d.join(".hoist/audit.jsonl")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains("echo hello")).count(), 2);
    assert!(log.contains("\"env\":\"test\""));
}

#[test]
fn json_mode_emits_one_object_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("j.rhai"),
        "info(\"hi\");\nstep(\"S\", || local().run(\"echo x\"));\n#{answer: 42}",
    )
    .unwrap();
    let o = hoist(d, &["run", "j.rhai", "--json"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let events: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "message" && e["text"] == "hi")
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "step_finished" && e["name"] == "S" && e["ok"] == true)
    );
    assert_eq!(events.last().unwrap()["value"]["answer"], 42);
    std::fs::write(d.join("bad.rhai"), "local().run(\"exit 3\")").unwrap();
    let o = hoist(d, &["run", "bad.rhai", "--json"]);
    let (out, _) = text(&o);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "error");
    assert_eq!(last["error"]["exit_code"], 3);
    assert_eq!(last["error"]["location"]["line"], 1);
}

#[test]
fn check_flags_unknown_functions_and_bad_imports_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("good.rhai"),
        "fn f(h) { h.run(\"x\") }\nlet h = local();\non([h], |x| f(x));\n",
    )
    .unwrap();
    std::fs::write(d.join("bad.rhai"), "// would delete things if run\nlet h = local();\nh.runn(\"rm -rf /tmp/nothing\");\nfrobnicate(1);\nimport \"missing_mod\" as m;\n").unwrap();
    let o = hoist(d, &["check", "good.rhai"]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = hoist(d, &["check", "bad.rhai"]);
    assert_eq!(o.status.code(), Some(2));
    let (_, err) = text(&o);
    assert!(
        err.contains("unknown function `runn`") && err.contains("bad.rhai:3:"),
        "{err}"
    );
    assert!(
        err.contains("unknown function `frobnicate`") && err.contains("bad.rhai:4:"),
        "{err}"
    );
    assert!(err.contains("missing_mod"), "{err}");
}

/// The Rhai idiom that let a failed pre-flight through in an earlier release engine: a
/// `try … catch` that ends a closure yields `()`, whatever its blocks end with. `hoist check`
/// flags it where a value is meant (a block ending in a value), and no built-in recipe or
/// stdlib module has it.
#[test]
fn check_flags_a_try_catch_that_ends_a_closure_with_a_value_and_no_built_in_has_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("lost.rhai"),
        "// the failure is built, then lost
let f = || {
    try { throw \"x\"; } catch (e) { #{reason: e} }
};
if f.call() != () { print(\"failed\"); }
",
    )
    .unwrap();
    let o = hoist(d, &["check", "lost.rhai"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    let (_, err) = text(&o);
    assert!(
        err.contains("a closure ends with a `try … catch`") && err.contains("lost.rhai:3:"),
        "{err}"
    );
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for sub in ["recipes", "stdlib"] {
        for e in std::fs::read_dir(repo.join(sub)).unwrap() {
            files.push(e.unwrap().path().display().to_string());
        }
    }
    files.sort();
    assert!(files.len() > 10, "{files:?}");
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = hoist(d, &args);
    assert!(o.status.success(), "{:?}", text(&o));
}

#[test]
fn doc_comes_from_the_engine() {
    let d = std::env::temp_dir();
    let o = hoist(&d, &["doc", "run"]);
    let (out, _) = text(&o);
    assert!(o.status.success());
    assert!(
        out.contains("run(h: Host, cmd: Dynamic[, opts: #{sudo, cwd, env, stdin, timeout, check, stream, capture, probe}]) -> Output"),
        "the option keys come from the option type: {out}"
    );
    let o = hoist(&d, &["doc", "--json"]);
    let all: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    for name in [
        "local", "ssh", "hosts", "on", "step", "secret", "render", "confirm", "write", "forward",
        "facts",
    ] {
        assert!(
            all.iter().any(|f| f["name"] == name),
            "`{name}` missing from hoist doc"
        );
    }
    assert_eq!(hoist(&d, &["doc", "no_such_fn"]).status.code(), Some(2));
}

#[test]
fn project_recipes_override_builtins_and_take_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hoist.toml"), "[env.dev.hosts]\nweb = [\"local\"]\n").unwrap();
    std::fs::create_dir(d.join("recipes")).unwrap();
    std::fs::write(
        d.join("recipes/greet.rhai"),
        "//! Say hello.\n//! @param who = \"world\" whom to greet\n`hello ${vars.who}`\n",
    )
    .unwrap();
    std::fs::write(
        d.join("recipes/facts.rhai"),
        "//! Project facts override.\n\"overridden\"\n",
    )
    .unwrap();
    let o = hoist(d, &["recipes"]);
    let (out, _) = text(&o);
    assert!(
        out.contains("greet")
            && out.contains("Say hello.")
            && out.contains("Project facts override."),
        "{out}"
    );
    let o = hoist(d, &["greet"]);
    assert_eq!(text(&o).0.trim(), "hello world");
    let o = hoist(d, &["greet", "--who", "lab"]);
    assert_eq!(text(&o).0.trim(), "hello lab");
    let o = hoist(d, &["greet", "--who", "lab", "--set", "who=override"]);
    assert_eq!(
        text(&o).0.trim(),
        "hello override",
        "--set beats recipe parameters"
    );
    assert_eq!(text(&hoist(d, &["facts"])).0.trim(), "overridden");
    let o = hoist(d, &["greet", "--whom", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("--whom"));
    let o = hoist(d, &["greet", "--help"]);
    assert!(text(&o).0.contains("--who") && text(&o).0.contains("whom to greet"));
    assert_eq!(hoist(d, &["nosuchrecipe"]).status.code(), Some(2));
}

#[test]
fn builtin_adhoc_recipe_fans_out_over_the_inventory() {
    let f = fleet();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hoist.toml"),
        "[env.t.hosts]\nall = [\"host1\", \"host2\", \"host3\"]\n",
    )
    .unwrap();
    let o = f
        .hoist_cmd(d)
        .args(["adhoc", "--cmd", "hostname", "--json"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    let rows = last["value"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{last}");
    assert!(rows.iter().all(|r| r["code"] == 0), "{last}");
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r["stdout"].as_str().unwrap_or_default().trim().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["host1", "host2", "host3"], "{last}");
}

#[test]
fn unknown_host_key_fails_by_default_and_accept_new_host_keys_trusts_a_first_seen_host() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A private known_hosts copy without the test hosts, so the host is new to ssh.
    let kh = d.join("known_hosts");
    std::fs::write(&kh, "").unwrap();
    let cfg = d.join("ssh_config");
    let base = std::fs::read_to_string(&sshd().config).unwrap();
    let kh_line = base
        .lines()
        .find(|l| l.contains("UserKnownHostsFile"))
        .unwrap()
        .to_string();
    std::fs::write(
        &cfg,
        base.replace(&kh_line, &format!("  UserKnownHostsFile {}", kh.display())),
    )
    .unwrap();
    std::fs::write(
        d.join("r.rhai"),
        format!("ssh(\"{}\").run(\"true\");", sshd().spec(7)),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let mut c = hoist_cmd();
        c.current_dir(d)
            .env("HOIST_SSH_CONFIG", &cfg)
            .args(["run", "r.rhai"])
            .args(extra);
        c.output().unwrap()
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).1.contains("host key verification failed"),
        "{}",
        text(&o).1
    );
    let o = run(&["--accept-new-host-keys"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(
        std::fs::read_to_string(&kh).unwrap().contains("127.0.0.7"),
        "key remembered"
    );
    let o = run(&[]);
    assert!(o.status.success(), "known now: {}", text(&o).1);
}

#[test]
fn a_dry_run_that_stops_on_an_error_shows_the_plan_so_far_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.txt");
    std::fs::write(
        dir.path().join("x.rhai"),
        format!(
            "local().write(\"{}\", \"new\\n\");\nfail(\"stop here\");\n",
            target.display()
        ),
    )
    .unwrap();
    let o = hoist(dir.path(), &["run", "x.rhai", "--dry-run", "--json"]);
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    assert!(!target.exists(), "the dry run wrote the file");
    let (out, err) = text(&o);
    let plan: serde_json::Value = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "plan")
        .unwrap_or_else(|| panic!("no plan: {out}"));
    assert_eq!(plan["complete"], false);
    assert_eq!(plan["changes"], 1);
    assert_eq!(
        plan["hosts"]["local"][0]["summary"],
        format!("create {} (4 bytes)", target.display())
    );
    assert!(
        err.contains("stop here") || out.contains("stop here"),
        "{err}"
    );
}

#[test]
fn every_builtin_recipe_and_example_passes_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(root.join("recipes"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    for e in std::fs::read_dir(root.join("examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "rhai") {
            files.push(p.display().to_string());
        }
    }
    let o = hoist_cmd()
        .current_dir(root)
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok: ")).count(),
        files.len()
    );
}

#[test]
fn sigint_stops_the_run_and_the_remote_command_with_exit_130() {
    let dir = tempfile::tempdir().unwrap();
    // A sleep length no other test uses, so pgrep finds exactly this command.
    let marker = "^sleep 8801$";
    std::fs::write(
        dir.path().join("long.rhai"),
        format!(
            "let h = ssh(\"{}\");\nh.run(\"sleep 8801\");\n",
            sshd().spec(8)
        ),
    )
    .unwrap();
    let child = hoist_cmd()
        .current_dir(dir.path())
        .args(["run", "long.rhai"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the remote sleep runs, then press Ctrl-C.
    support::wait_running(marker);
    // SAFETY: signalling our own child process.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted"));
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(!support::running(marker), "remote sleep survived Ctrl-C");
}

#[test]
fn facts_recipe_tabulates_the_inventory_or_the_local_machine() {
    let dir = tempfile::tempdir().unwrap();
    let o = hoist(dir.path(), &["facts", "--json"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(last["value"][0]["host"], "local");
    assert!(last["value"][0]["cpus"].as_i64().unwrap() >= 1);
    std::fs::write(
        dir.path().join("hoist.toml"),
        "[env.t.hosts]\nweb = [\"host1\"]\ndb = [\"deploy@host2\"]\n",
    )
    .unwrap();
    let o = fleet()
        .hoist_cmd(dir.path())
        .args(["facts", "--group", "db"])
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        out.starts_with("HOST") && out.contains("deploy@host2") && !out.contains("host1"),
        "{out}"
    );
    // The row is the server's own: its hostname and the user hoist logged in as.
    let row = out.lines().find(|l| l.contains("deploy@host2")).unwrap();
    assert!(row.contains("host2") && row.contains("deploy"), "{row}");
}

#[test]
fn a_multi_line_secret_stays_hidden_with_verbose_output_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines = ["first-s3cr3t-line", "  second-s3cr3t-line", "third"];
    std::fs::write(
        d.join("m.rhai"),
        format!(
            "let s = secret(\"{}\");\n\
             local().run(\"printf '%s\\\\n' \\\"$S\\\"; printf '%s\\\\n' \\\"$S\\\" >&2; exit 3\", #{{env: #{{S: s}}}});\n",
            lines.join("\\n")
        ),
    )
    .unwrap();
    for args in [&["run", "m.rhai", "-v"][..], &["run", "m.rhai", "--json"]] {
        let o = hoist(d, args);
        let (out, err) = text(&o);
        assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
        assert!(
            out.contains("[REDACTED]"),
            "{args:?}: the lines were shown: {out}"
        );
        for l in lines {
            let l = l.trim();
            assert!(
                !out.contains(l) && !err.contains(l),
                "{args:?}: `{l}` shown in clear:\n{out}\n{err}"
            );
        }
    }
}

/// Ask bash's completion function what it offers for `words` (the last one being typed).
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let quoted: Vec<String> = words.iter().map(|w| hoist::command::quote(w)).collect();
    let prog = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_LINE={}; COMP_POINT={}; \
         _hoist hoist {} {}; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        hoist::command::quote(&line),
        line.len(),
        hoist::command::quote(words[words.len() - 1]),
        hoist::command::quote(words[words.len().saturating_sub(2)]),
    );
    let o = std::process::Command::new("bash")
        .args(["-c", &prog])
        .output()
        .expect("bash");
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn completions_cover_project_recipes_and_their_parameters_and_bash_loads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("hoist.toml"), "[env.dev.hosts]\nweb = [\"local\"]\n").unwrap();
    std::fs::create_dir(d.join("recipes")).unwrap();
    std::fs::write(
        d.join("recipes/greet.rhai"),
        "//! Say hello.\n//! @param who_else = \"world\" whom to greet\n`hello ${vars.who_else}`\n",
    )
    .unwrap();
    let o = hoist(d, &["completions", "bash"]);
    assert!(o.status.success(), "{}", text(&o).1);
    let script = d.join("hoist.bash");
    std::fs::write(&script, &o.stdout).unwrap();
    assert_eq!(bash_completes(&script, &["hoist", "gre"]), ["greet"]);
    assert_eq!(bash_completes(&script, &["hoist", "upg"]), ["upgrade"]);
    assert_eq!(
        bash_completes(&script, &["hoist", "greet", "--who"]),
        ["--who-else"]
    );
    let mut health = bash_completes(&script, &["hoist", "deploy", "--health-p"]);
    health.sort();
    assert_eq!(health, ["--health-path", "--health-port"]);
    for shell in ["zsh", "fish"] {
        let o = hoist(d, &["completions", shell]);
        assert!(
            o.status.success() && text(&o).0.contains("greet"),
            "{shell}"
        );
    }
    let o = hoist(d, &["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("bash|zsh|fish"), "{}", text(&o).1);
    let o = hoist(d, &["man"]);
    let (man, _) = text(&o);
    assert!(
        man.starts_with(".ie") && man.contains(".TH hoist 1") && man.contains("greet"),
        "{man}"
    );
}

#[test]
fn quiet_shows_only_prints_warnings_and_failures_and_clicolor_forces_colour() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("job.rhai"),
        "step(\"Quietly\", || local().run(\"echo streamed\", #{stream: true}));\ninfo(\"an info\");\nwarn(\"a warning\");\nprint(\"printed\");\n",
    )
    .unwrap();
    let o = hoist(d, &["run", "job.rhai", "-q"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    assert!(out.contains("printed"), "{out}");
    assert!(err.contains("a warning"), "{err}");
    for hushed in ["Quietly", "streamed", "an info"] {
        assert!(
            !out.contains(hushed) && !err.contains(hushed),
            "-q shows {hushed}: {out}{err}"
        );
    }
    let o = hoist(d, &["run", "job.rhai"]);
    let (out, err) = text(&o);
    assert!(
        err.contains("Quietly") && out.contains("streamed"),
        "{out}{err}"
    );
    assert!(!err.contains('\u{1b}'), "no colour off a terminal: {err}");
    let o = hoist_cmd()
        .current_dir(d)
        .args(["run", "job.rhai"])
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(
        text(&o).1.contains("\u{1b}["),
        "CLICOLOR_FORCE colours a pipe"
    );
    let o = hoist(d, &["run", "job.rhai", "-q", "-v"]);
    assert_eq!(o.status.code(), Some(2), "-q and -v conflict");
}

#[test]
fn a_secret_written_into_an_env_file_is_redacted_in_plans_diffs_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hoist.toml"), "").unwrap();
    let env = dir.path().join("app.env");
    std::fs::write(
        dir.path().join("s.rhai"),
        format!(
            "local().set_env(\"{}\", #{{DB_PASSWORD: secret_env(\"PW\"), OTHER: \"x\"}})",
            env.display()
        ),
    )
    .unwrap();
    let run = |extra: &[&str]| {
        hoist_cmd()
            .current_dir(dir.path())
            .env("PW", "hunter2-plan-secret")
            .args(["run", "s.rhai"])
            .args(extra)
            .output()
            .unwrap()
    };
    for flags in [
        &["--dry-run"][..],
        &["--dry-run", "--json"],
        &["--diff", "-v"],
    ] {
        let o = run(flags);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{flags:?}: {err}");
        assert!(
            !out.contains("hunter2") && !err.contains("hunter2"),
            "{flags:?} shows the secret:\n{out}\n{err}"
        );
        assert!(out.contains("DB_PASSWORD=[REDACTED]"), "{flags:?}:\n{out}");
    }
    // The file holds the value itself; the audit log never does.
    assert_eq!(
        std::fs::read_to_string(&env).unwrap(),
        "DB_PASSWORD=hunter2-plan-secret\nOTHER=x\n"
    );
    let log = std::fs::read_to_string(dir.path().join(".hoist/audit.jsonl")).unwrap();
    assert!(!log.contains("hunter2"), "{log}");
}

/// A recipe's flags are parsed with hoist's global flags: those work before and after the
/// recipe's name, and a flag that is neither is refused naming it, before anything runs.
#[test]
fn recipe_flags_and_global_flags_parse_together() {
    let d = tempfile::tempdir().unwrap();
    let script = d.path().join("recipes");
    std::fs::create_dir_all(&script).unwrap();
    std::fs::write(
        script.join("greet.rhai"),
        "//! Greets.\n//! @param who = \"world\"\n//! @param times = 1\nlet out = [];\nfor i in 0..vars.times { out.push(`hi ${vars.who}`); }\nout\n",
    )
    .unwrap();
    std::fs::write(d.path().join("hoist.toml"), "").unwrap();
    for args in [
        vec!["--json", "greet", "--who", "ann", "--times", "2"],
        vec!["greet", "--who=ann", "--json", "--times", "2"],
        vec!["greet", "--times", "2", "--who", "ann", "--json", "-q"],
    ] {
        let o = hoist(d.path(), &args);
        let (out, err) = text(&o);
        assert!(o.status.success(), "{args:?}: {out}\n{err}");
        let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
        assert_eq!(
            last["value"],
            serde_json::json!(["hi ann", "hi ann"]),
            "{args:?}: {out}"
        );
    }
    let o = hoist(d.path(), &["greet", "--whom", "ann"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("recipe `greet`: no parameter --whom") && err.contains("hoist greet --help"),
        "{err}"
    );
    let o = hoist(d.path(), &["greet", "ann"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("unexpected argument `ann` for recipe `greet`"),
        "{err}"
    );
    let o = hoist(d.path(), &["greet", "--times", "two"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("--times `two`: expected an integer"), "{err}");
    let o = hoist(d.path(), &["greet", "--forks", "many"]);
    let (_, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("'many' for '--forks"), "{err}");
}
