//! `secret_cmd` with a real password manager: Debian's `pass` over a throwaway gpg key. The
//! value reaches a command through its environment and is redacted everywhere hoist prints or
//! logs: human output with -v, --json, the audit log, errors.

mod support;

use std::process::Command;

use support::need_bin;

/// A password store with `lab/registry` in it, in a temp dir (GNUPGHOME, PASSWORD_STORE_DIR).
fn store(value: &str) -> (tempfile::TempDir, Vec<(&'static str, String)>) {
    need_bin("pass", "pass");
    need_bin("gpg", "gnupg");
    let d = tempfile::tempdir().unwrap();
    let gnupg = d.path().join("gnupg");
    std::fs::create_dir(&gnupg).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).unwrap();
    let env = vec![
        ("GNUPGHOME", gnupg.display().to_string()),
        (
            "PASSWORD_STORE_DIR",
            d.path().join("store").display().to_string(),
        ),
    ];
    let run = |args: &[&str], stdin: Option<&str>| {
        let mut c = Command::new(args[0]);
        c.args(&args[1..])
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(s) = stdin {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
        }
        drop(child.stdin.take());
        let o = child.wait_with_output().unwrap();
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    run(
        &[
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "hoist-test@example.org",
            "default",
            "default",
            "never",
        ],
        None,
    );
    run(&["pass", "init", "hoist-test@example.org"], None);
    run(
        &["pass", "insert", "-m", "lab/registry"],
        Some(&format!("{value}\n")),
    );
    (d, env)
}

#[test]
fn secret_cmd_reads_pass_and_the_value_is_redacted_everywhere() {
    let value = "s3cr3t-from-pass-7f3a";
    let (dir, env) = store(value);
    let project = dir.path().join("project");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("hoist.toml"),
        "[env.local.hosts]\nme = [\"local\"]\n",
    )
    .unwrap();
    std::fs::write(
        project.join("use.rhai"),
        format!(
            r#"let token = secret_cmd(["pass", "show", "lab/registry"]);
            print(token);
            let out = local().run("echo token=$TOKEN; echo $TOKEN > {f}", #{{env: #{{TOKEN: token}}}});
            out.stdout"#,
            f = dir.path().join("written").display()
        ),
    )
    .unwrap();
    for mode in [&["-v"][..], &["--json"][..]] {
        let o = Command::new(env!("CARGO_BIN_EXE_hoist"))
            .current_dir(&project)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("NO_COLOR", "1")
            .args(["run", "use.rhai"])
            .args(mode)
            .output()
            .unwrap();
        let (out, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert!(o.status.success(), "{out}\n{err}");
        assert!(
            !out.contains(value) && !err.contains(value),
            "{mode:?} leaked:\n{out}\n{err}"
        );
        assert!(out.contains("[REDACTED]"), "{mode:?}: {out}");
    }
    // The command really got the value (through its environment, not argv).
    assert_eq!(
        std::fs::read_to_string(dir.path().join("written")).unwrap(),
        format!("{value}\n")
    );
    let audit = std::fs::read_to_string(project.join(".hoist/audit.jsonl")).unwrap();
    assert!(!audit.contains(value), "audit log leaked: {audit}");

    // A failing command: its stderr and exit code, never a value.
    std::fs::write(
        project.join("bad.rhai"),
        "let t = secret_cmd([\"pass\", \"show\", \"lab/nope\"]);\n",
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .current_dir(&project)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("NO_COLOR", "1")
        .args(["run", "bad.rhai"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("pass show lab/nope")
            && err.contains("exit code 1")
            && err.contains("not in the password store"),
        "{err}"
    );
    assert!(err.contains("bad.rhai:1"), "names the line: {err}");
}
