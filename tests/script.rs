//! The script runtime end to end: errors with positions, typed options, steps, secrets, the
//! audit log, vars precedence, fan-out, cancellation — against the real sshd.

mod support;

use std::time::{Duration, Instant};

use hoist::ErrorKind;
use hoist::report::Event;
use support::{run_script, runtime, runtime_with, sshd};

#[test]
fn syntax_error_shows_file_line_and_caret() {
    let (rt, _) = runtime();
    let e = run_script(&rt, "let a = 1;\nlet b = (2 + ;\n").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Usage);
    let loc = e.location.clone().expect("location");
    assert_eq!((loc.file.as_str(), loc.line), ("test.rhai", 2));
    let text = e.render();
    assert!(
        text.contains("test.rhai:2:") && text.contains("let b = (2 + ;") && text.contains('^'),
        "{text}"
    );
}

#[test]
fn unknown_option_key_is_an_error_naming_the_key_and_line() {
    let (rt, _) = runtime();
    let e = run_script(
        &rt,
        "let h = local();\n\nh.run(\"true\", #{sudo: false, cdw: \"/tmp\"});\n",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(
        e.message.contains("cdw") && e.message.contains("h.run()"),
        "{}",
        e.message
    );
    assert_eq!(e.location.as_ref().unwrap().line, 3);
}

/// Secrets go only where an option keeps them hidden: env and stdin take them (and plain
/// values), a password takes nothing else, and any other option refuses one by its key.
#[test]
fn secrets_fill_only_the_options_made_for_them() {
    let (rt, _) = runtime();
    let v = run_script(
        &rt,
        "let h = local();\nlet o = h.run(\"test \\\"$T\\\" = s3cr3t-token && cat\", #{env: #{T: secret(\"s3cr3t-token\"), N: 3}, stdin: secret(\"via-stdin\")});\no.code\n",
    )
    .unwrap();
    assert_eq!(v, serde_json::json!(0));
    let e = run_script(
        &rt,
        "let h = local();\n\nh.run(\"true\", #{cwd: secret(\"/tmp\")});\n",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(
        e.message.contains("`cwd` cannot hold a secret") && e.message.contains("h.run()"),
        "{}",
        e.message
    );
    assert_eq!(e.location.as_ref().unwrap().line, 3);
    let e = run_script(
        &rt,
        "registry(\"127.0.0.1:5999\", #{user: \"u\", password: \"plain-pw\"});\n",
    )
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Usage);
    assert!(
        e.message.contains("password") && e.message.contains("must be a secret"),
        "{}",
        e.message
    );
    assert!(
        !e.render().contains("plain-pw") || e.render().contains("password"),
        "{}",
        e.render()
    );
}

#[test]
fn failing_remote_command_names_line_host_step_command_code_stderr() {
    let (rt, _) = runtime();
    let script = format!(
        "let h = ssh(\"{}\");\nstep(\"Migrate\", || {{\n    h.run(\"echo boom >&2; exit 4\");\n}});\n",
        sshd().spec(1)
    );
    let e = run_script(&rt, &script).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!(e.exit_code, Some(4));
    assert_eq!(e.step.as_deref(), Some("Migrate"));
    assert_eq!(e.host.as_deref(), Some(sshd().spec(1).as_str()));
    assert_eq!(e.location.as_ref().unwrap().line, 3);
    let text = e.render();
    for want in [
        "exit 4",
        "boom",
        "Migrate",
        "test.rhai:3:",
        "h.run(\"echo boom >&2; exit 4\");",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
}

#[test]
fn argv_from_a_script_arrives_byte_exact() {
    let (rt, _) = runtime();
    let script = format!(
        r#"let h = ssh("{}");
let args = ["a b", "it's", "$(id)", "`id`", "\\", "new\nline", "-n", "", "✓"];
let out = h.run(["printf", "%s|"] + args);
out.stdout"#,
        sshd().spec(1)
    );
    let v = run_script(&rt, &script).unwrap();
    assert_eq!(
        v,
        serde_json::json!("a b|it's|$(id)|`id`|\\|new\nline|-n||✓|")
    );
}

#[test]
fn output_fields_and_check_false() {
    let (rt, _) = runtime();
    let v = run_script(&rt, "let o = local().run(\"echo hi; exit 2\", #{check: false}); [o.code, o.ok, o.stdout, o.ms >= 0]").unwrap();
    assert_eq!(v, serde_json::json!([2, false, "hi\n", true]));
    let v = run_script(&rt, "[local().test(\"true\"), local().test([\"false\"])]").unwrap();
    assert_eq!(v, serde_json::json!([true, false]));
    // Seconds may be written as integers or floats.
    let e = run_script(&rt, "local().run(\"sleep 5\", #{timeout: 1})").unwrap_err();
    assert!(e.message.contains("timed out after 1s"), "{}", e.message);
    let v = run_script(&rt, "local().run(\"echo ok\", #{timeout: 2.5}).stdout").unwrap();
    assert_eq!(v, serde_json::json!("ok\n"));
}

#[test]
fn secrets_never_reach_output_errors_argv_or_the_audit_log() {
    let audit_dir = tempfile::tempdir().unwrap();
    let audit = audit_dir.path().join("audit.jsonl");
    let a2 = audit.clone();
    let (rt, events) = runtime_with(move |b| b.audit_log(a2));
    rt.services.set_echo_output(true);
    let script = format!(
        r#"let h = ssh("{}");
let pw = secret("hunter2-topsecret");
print("the password is " + pw);
let o = h.run("echo got:$PW; cat; ps -eo args | grep -c hunter2-topsecret || true", #{{env: #{{PW: pw}}, stdin: pw}});
h.run(["echo", "x"], #{{env: #{{PW: pw}}, sudo: true}});
h.run("echo $PW >&2; exit 3", #{{env: #{{PW: pw}}}});
"#,
        sshd().spec(1)
    );
    let e = run_script(&rt, &script).unwrap_err();
    // The secret leaked into the command's own output: still redacted everywhere.
    let events = events.0.lock().unwrap();
    let all = format!("{events:?}");
    assert!(!all.contains("hunter2"), "secret in events: {all}");
    assert!(all.contains("the password is [REDACTED]"));
    assert!(all.contains("got:[REDACTED]"));
    let err = e.render();
    assert!(
        !err.contains("hunter2") && err.contains("[REDACTED]"),
        "{err}"
    );
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(!log.contains("hunter2"), "secret in audit log: {log}");
    // A secret cannot be put into argv.
    let e = run_script(&rt, "local().run([\"echo\", secret(\"abcdef\")])").unwrap_err();
    assert!(e.message.contains("argv"), "{}", e.message);
}

#[test]
fn audit_log_records_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let audit = dir.path().join("a.jsonl");
    let a2 = audit.clone();
    let (rt, _) = runtime_with(move |b| b.audit_log(a2));
    run_script(
        &rt,
        &format!(
            "step(\"Check\", || ssh(\"{}\").run([\"uname\", \"-s\"]));",
            sshd().spec(1)
        ),
    )
    .unwrap();
    let log = std::fs::read_to_string(&audit).unwrap();
    let entry: serde_json::Value = log
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["command"] == "uname -s")
        .unwrap_or_else(|| panic!("uname not logged in {log}"));
    assert_eq!(entry["host"], sshd().spec(1));
    assert_eq!(entry["step"], "Check");
    assert_eq!(entry["action"], "command");
    assert_eq!(entry["change"]["kind"], "command");
    assert_eq!(entry["probe"], false);
    assert_eq!(entry["run"].as_str().unwrap().len(), 12, "a run id");
    assert_eq!(entry["exit_code"], 0);
    assert_eq!(entry["user"], "root");
    assert!(entry["time"].as_str().unwrap().contains('T'));
    assert!(entry["ms"].is_u64());
}

#[test]
fn vars_precedence_inventory_then_set() {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[env.staging]\nvars = {{ app = \"inv\", replicas = 1 }}\n[env.staging.hosts]\nweb = [\"{}\", \"{}\"]\ndb = [\"local\"]\n",
        sshd().spec(1),
        sshd().spec(2)
    );
    std::fs::write(dir.path().join("hoist.toml"), toml).unwrap();
    let inv = hoist::inventory::Inventory::discover(dir.path()).unwrap();
    let (rt, _) = runtime_with(move |b| {
        b.inventory(inv)
            .env(Some("staging".into()))
            .set("replicas", serde_json::json!(3))
    });
    let v = run_script(&rt, "[env, vars.app, vars.replicas, hosts(\"web\").len(), hosts(\"web\")[1].name, hosts().len()]").unwrap();
    assert_eq!(
        v,
        serde_json::json!(["staging", "inv", 3, 2, sshd().spec(2), 3])
    );
    let e = run_script(&rt, "hosts(\"wbe\")").unwrap_err();
    assert!(
        e.message.contains("`wbe`") && e.hint.as_deref().unwrap().contains("web"),
        "{}",
        e.render()
    );
}

#[test]
fn fan_out_runs_concurrently_and_names_every_failed_host() {
    let (rt, events) = runtime();
    let specs: Vec<String> = (1..=6).map(|n| sshd().spec(n)).collect();
    let list = specs
        .iter()
        .map(|s| format!("ssh(\"{s}\")"))
        .collect::<Vec<_>>()
        .join(", ");
    // Each host records when its command started and ended (on the host's clock): run
    // concurrently, every start comes before every end.
    let v = run_script(&rt, &format!("let hs = [{list}];\non(hs, |h| {{ let s = h.run(\"date +%s%N; sleep 1; date +%s%N\").stdout; s.split(\"\\n\") }})")).unwrap();
    let spans = spans(&v);
    assert_eq!(spans.len(), 6);
    let last_start = spans.iter().map(|s| s.0).max().unwrap();
    let first_end = spans.iter().map(|s| s.1).min().unwrap();
    assert!(
        last_start < first_end,
        "fan-out was not concurrent: {spans:?}"
    );
    // Hosts 2 and 5 fail; the others still run to the end; one error names both.
    let script = format!(
        "let hs = [{list}];\non(hs, |h| {{\n  if h.name.contains(\"127.0.0.2:\") || h.name.contains(\"127.0.0.5:\") {{ h.run(\"echo nope >&2; exit 9\"); }}\n  h.run(\"touch /tmp/hoist-fan-$PPID-done\"); 1\n}})"
    );
    let e = run_script(&rt, &script).unwrap_err();
    assert!(e.message.contains("2 of 6 hosts failed"), "{}", e.render());
    assert!(e.message.contains(&specs[1]) && e.message.contains(&specs[4]));
    assert_eq!(e.causes.len(), 2);
    for c in &e.causes {
        assert_eq!(c.exit_code, Some(9));
        assert!(c.stderr_tail.as_deref().unwrap().contains("nope"));
        assert_eq!(
            c.location.as_ref().unwrap().line,
            3,
            "position of the failing call inside the closure"
        );
    }
    let finished = events
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|e| matches!(e, Event::HostFinished { .. }))
        .count();
    assert!(finished >= 12, "a HostFinished event per host per fan-out");
}

#[test]
fn a_caught_error_is_data_with_its_fields() {
    let (rt, _) = runtime();
    let spec2 = sshd().spec(2);
    let spec3 = sshd().spec(3);
    let v = run_script(
        &rt,
        &format!(
            r#"
            let r = #{{}};
            try {{ fail("my message"); }} catch (e) {{ r.failed = `${{e}}`; r.failed_kind = e.kind; r.failed_host = e.host; }}
            try {{ step("Probe", || ssh("{spec2}").run("echo oops >&2; exit 3")); }}
            catch (e) {{
                r.message = e.message; r.code = e.code; r.stderr = e.stderr; r.host = e.host;
                r.step = e.step; r.command = e.command; r.text = e.to_string();
            }}
            try {{ on([ssh("{spec2}"), ssh("{spec3}")], |h| h.run("exit 4")); }}
            catch (e) {{ r.causes = e.causes.map(|c| [c.host, c.code, c.line]); }}
            try {{ throw "plain"; }} catch (e) {{ r.plain = e; }}
            r
            "#
        ),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(v["failed"], "my message");
    assert_eq!(v["failed_kind"], "failed");
    assert_eq!(v["failed_host"], serde_json::Value::Null);
    assert_eq!(v["message"], "command failed");
    assert_eq!(v["code"], 3);
    assert!(v["stderr"].as_str().unwrap().contains("oops"), "{v}");
    assert_eq!(v["host"], spec2.as_str());
    assert_eq!(v["step"], "Probe");
    assert!(v["command"].as_str().unwrap().contains("exit 3"), "{v}");
    let text = v["text"].as_str().unwrap();
    assert!(
        text.contains(&spec2) && text.contains("exit code 3") && text.contains("oops"),
        "{text}"
    );
    let causes = v["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 2, "{v}");
    for (c, spec) in causes.iter().zip([&spec2, &spec3]) {
        assert_eq!(c[0], spec.as_str());
        assert_eq!(c[1], 4);
        assert_eq!(c[2], 9, "the line of the failing call inside the closure");
    }
    assert_eq!(v["plain"], "plain");
}

/// (start, end) in ns of each host's command, from `date +%s%N` lines.
fn spans(v: &serde_json::Value) -> Vec<(u128, u128)> {
    v.as_object()
        .unwrap()
        .values()
        .map(|lines| {
            let l: Vec<u128> = lines
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x.as_str()?.trim().parse().ok())
                .collect();
            (l[0], l[1])
        })
        .collect()
}

#[test]
fn forks_bounds_concurrency() {
    let (rt, _) = runtime_with(|b| {
        let settings = hoist::Settings {
            forks: 2,
            ssh: sshd().ssh_options(),
            ..Default::default()
        };
        b.settings(settings)
    });
    let list = (1..=5)
        .map(|n| format!("ssh(\"{}\")", sshd().spec(n)))
        .collect::<Vec<_>>()
        .join(", ");
    let v = run_script(&rt, &format!("on([{list}], |h| {{ let s = h.run(\"date +%s%N; sleep 0.3; date +%s%N\").stdout; s.split(\"\\n\") }})")).unwrap();
    let spans = spans(&v);
    // At no instant do more than 2 commands run at once.
    let most = spans
        .iter()
        .map(|(t, _)| spans.iter().filter(|(s, e)| s <= t && t < e).count())
        .max()
        .unwrap();
    assert_eq!(
        most, 2,
        "--forks 2 must allow 2 at once, never more: {spans:?}"
    );
}

#[test]
fn ctrl_c_stops_the_script_and_kills_the_remote_command() {
    let (rt, _) = runtime();
    let rt2 = rt.clone();
    // A sleep length no other test uses, so pgrep finds exactly this command.
    let marker = "^sleep 7701$";
    let script = format!(
        "let h = ssh(\"{}\");\nh.run(\"sleep 7701\");\n\"finished\"",
        sshd().spec(3)
    );
    let t = std::thread::spawn(move || {
        support::wait_running(marker);
        rt2.services.cancel();
    });
    let started = Instant::now();
    let e = run_script(&rt, &script).unwrap_err();
    t.join().unwrap();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{}", e.render());
    assert!(started.elapsed() < Duration::from_secs(6));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(!support::running(marker), "remote sleep survived Ctrl-C");
}

#[test]
fn run_control_render_fail_confirm() {
    let (rt, events) = runtime();
    assert_eq!(
        run_script(&rt, "render(\"hi {{ who }}\", #{who: \"there\"})").unwrap(),
        "hi there"
    );
    let e = run_script(&rt, "render(\"hi {{ whom }}\", #{who: 1})").unwrap_err();
    assert!(e.message.contains("whom"), "{}", e.message);
    let e = run_script(&rt, "info(\"a\");\nwarn(\"b\");\nfail(\"stop here\");").unwrap_err();
    assert_eq!(
        (e.message.as_str(), e.location.as_ref().unwrap().line),
        ("stop here", 3)
    );
    let e = run_script(&rt, "confirm(\"Deploy?\")").unwrap_err();
    assert!(e.hint.as_deref().unwrap().contains("--yes"));
    let msgs = format!("{:?}", events.0.lock().unwrap());
    assert!(msgs.contains("Info") && msgs.contains("Warn"));
    let (rt, _) = runtime_with(|b| {
        b.settings(hoist::Settings {
            yes: true,
            ssh: sshd().ssh_options(),
            ..Default::default()
        })
    });
    assert_eq!(run_script(&rt, "confirm(\"Deploy?\")").unwrap(), true);
}

#[test]
fn host_file_methods_from_a_script() {
    let (rt, _) = runtime();
    let dir = format!("/tmp/hoist-script-files-{}", std::process::id());
    let script = format!(
        r#"let h = ssh("{spec}");
h.mkdir("{dir}/a", #{{mode: "0750"}});
let c1 = h.write("{dir}/a/f.txt", "one\n");
let c2 = h.write("{dir}/a/f.txt", "one\n");
[c1, c2, h.read("{dir}/a/f.txt"), h.exists("{dir}/a"), h.exists("{dir}/zz"), h.name, h.user, h.addr]"#,
        spec = sshd().spec(1)
    );
    let v = run_script(&rt, &script).unwrap();
    assert_eq!(
        v,
        serde_json::json!([
            true,
            false,
            "one\n",
            true,
            false,
            sshd().spec(1),
            "root",
            "127.0.0.1"
        ])
    );
    let e = run_script(
        &rt,
        &format!(
            "ssh(\"{}\").write(\"{dir}/b\", \"x\", #{{mdoe: 1}})",
            sshd().spec(1)
        ),
    )
    .unwrap_err();
    assert!(e.message.contains("mdoe"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn imports_resolve_relative_files_and_the_embedded_stdlib() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lib.rhai"), "fn double(x) { x * 2 }\n").unwrap();
    let main = dir.path().join("main.rhai");
    std::fs::write(&main, "import \"lib\" as l;\nimport \"util\" as u;\nlet m = #{b: 1, a: 2};\n[l::double(21), u::sorted_keys(m)]").unwrap();
    let (rt, _) = runtime();
    assert_eq!(
        hoist::run_file(&rt, &main).unwrap(),
        serde_json::json!([42, ["a", "b"]])
    );
    std::fs::write(&main, "import \"nope\" as n;\n1").unwrap();
    let e = hoist::run_file(&rt, &main).unwrap_err();
    assert!(e.message.contains("nope"), "{}", e.render());
    assert!(e.location.as_ref().unwrap().file.ends_with("main.rhai"));
}

#[test]
fn results_holding_hoist_values_read_as_data() {
    let (rt, _) = runtime();
    let v = run_script(
        &rt,
        r#"let o = local().run("echo hi"); let e = (); try { fail("x"); } catch (err) { e = err; } #{out: o, list: [o, local()], err: e}"#,
    )
    .unwrap();
    assert_eq!(v["out"]["stdout"], "hi\n");
    assert_eq!(v["out"]["code"], 0);
    assert_eq!(v["list"][0]["ok"], true);
    assert_eq!(v["list"][1], "local");
    assert_eq!(v["err"]["message"], "x");
}
