//! Every Host method on the local machine and on a real sshd.

mod support;

use hoist::command::Command;
use hoist::host::{FileOpts, ForwardTarget, Host, HostSpec};
use support::{runtime, sshd};

/// The same checks run against both kinds of host.
fn both() -> (std::sync::Arc<hoist::Runtime>, Vec<Host>) {
    let (rt, _) = runtime();
    let ssh = rt.host(&HostSpec::parse(&sshd().spec(1)).unwrap());
    let hosts = vec![rt.local(), ssh];
    (rt, hosts)
}

const NASTY: &[&str] = &[
    "plain",
    "with space",
    "single'quote",
    "double\"quote",
    "$(echo pwned)",
    "`echo pwned`",
    "back\\slash\\\\",
    "new\nline",
    "tab\there",
    "unicode ✓ 日本語 🚀",
    "-n",
    "--help",
    "",
    "*",
    "~",
    "$HOME",
    "a;b|c&d>e<f",
    "!bang",
    "#hash",
];

#[test]
fn argv_arrives_byte_exact_through_quoting() {
    let (rt, hosts) = both();
    for h in &hosts {
        // printf '%s\0' prints each argument exactly, NUL-separated.
        let mut argv = vec!["printf".to_string(), "%s\\0".to_string()];
        argv.extend(NASTY.iter().map(|s| s.to_string()));
        let out = rt.block_on(h.run(&Command::argv(argv))).unwrap();
        let got: Vec<&str> = out.stdout.split('\0').collect();
        assert_eq!(&got[..NASTY.len()], NASTY, "on {}", h.name());
    }
}

#[test]
fn run_reports_exit_code_stdout_stderr_apart() {
    let (rt, hosts) = both();
    for h in &hosts {
        let out = rt
            .block_on(h.run(&Command::shell("echo out; echo err >&2; exit 3").check(false)))
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (3, "out\n", "err\n"),
            "on {}",
            h.name()
        );
        // Output without a trailing newline stays without one.
        let out = rt.block_on(h.run(&Command::shell("printf abc"))).unwrap();
        assert_eq!(out.stdout, "abc");
        let out = rt
            .block_on(h.run(&Command::shell("printf 'a\\n\\n'")))
            .unwrap();
        assert_eq!(out.stdout, "a\n\n");
    }
}

#[test]
fn failing_command_error_names_host_command_code_and_stderr() {
    let (rt, hosts) = both();
    for h in &hosts {
        let e = rt
            .block_on(h.run(&Command::shell("echo doing; echo 'disk full' >&2; exit 7")))
            .unwrap_err();
        assert_eq!(e.exit_code, Some(7));
        assert_eq!(e.host.as_deref(), Some(h.name()));
        assert!(e.command.as_deref().unwrap().contains("exit 7"));
        assert!(e.stderr_tail.as_deref().unwrap().contains("disk full"));
        let text = e.render();
        assert!(
            text.contains(h.name()) && text.contains("exit code: 7") && text.contains("disk full"),
            "{text}"
        );
    }
}

#[test]
fn stdin_env_cwd_and_timeout() {
    let (rt, hosts) = both();
    for h in &hosts {
        let out = rt
            .block_on(h.run(&Command::shell("tr a-z A-Z").stdin(b"hello\n".to_vec())))
            .unwrap();
        assert_eq!(out.stdout, "HELLO\n");
        let out = rt
            .block_on(h.run(&Command::shell("echo \"$GREETING\"").env("GREETING", "hi there $(x)")))
            .unwrap();
        assert_eq!(out.stdout, "hi there $(x)\n");
        let out = rt
            .block_on(h.run(&Command::argv(["pwd"]).cwd("/usr/share")))
            .unwrap();
        assert_eq!(out.stdout, "/usr/share\n");
        let started = std::time::Instant::now();
        let e = rt
            .block_on(h.run(
                &Command::shell("sleep 30").timeout(Some(std::time::Duration::from_millis(500))),
            ))
            .unwrap_err();
        assert!(e.message.contains("timed out"), "{}", e.message);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        // The shell is still usable after a timeout.
        assert_eq!(
            rt.block_on(h.run(&Command::shell("echo again")))
                .unwrap()
                .stdout,
            "again\n"
        );
    }
    // The remote sleep was killed, not left behind.
    let ssh = &hosts[1];
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = rt
        .block_on(ssh.run(&Command::shell("pgrep -f '^sleep 30$' || true")))
        .unwrap();
    assert_eq!(out.stdout.trim(), "", "remote sleep still running");
}

#[test]
fn nul_bytes_and_bad_env_names_are_refused_naming_the_argument() {
    let (rt, hosts) = both();
    for h in &hosts {
        let e = rt
            .block_on(h.run(&Command::argv(["printf", "%s", "a\0b"])))
            .unwrap_err();
        assert!(
            e.message
                .contains("argument 2 of `printf` contains a NUL byte"),
            "on {}: {}",
            h.name(),
            e.render()
        );
        assert_eq!(e.host.as_deref(), Some(h.name()));
        let e = rt
            .block_on(h.run(&Command::argv(["env"]).env("K", "v\0w")))
            .unwrap_err();
        assert!(
            e.message.contains("the value of env K contains a NUL"),
            "{e}"
        );
        let e = rt
            .block_on(h.write("/tmp/hoist-nul\0x", "x", &FileOpts::default()))
            .unwrap_err();
        assert!(e.message.contains("contains a NUL byte"), "{e}");
        assert!(
            e.message.contains(r"/tmp/hoist-nul\0x"),
            "names the path: {e}"
        );
        // `A-B` used to become `A_B` and silently merge with it.
        let e = rt
            .block_on(h.run(&Command::argv(["env"]).env("A-B", "1").env("A_B", "2")))
            .unwrap_err();
        assert!(
            e.message
                .contains("env name `A-B` is not a shell identifier"),
            "{e}"
        );
    }
}

#[test]
fn a_relative_cwd_that_looks_like_an_option_is_a_directory() {
    // On a fleet server, whose $HOME (where the shell starts) is the test's to use.
    let f = support::fleet::fleet();
    let h = f.host(1);
    let (rt, _) = f.runtime();
    let ssh = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    let dirs = ["-", "-P", "-L", "--"];
    let _clean = support::fleet::OnDrop(|| {
        h.sh("cd && rm -rf -- ./- ./-P ./-L ./--");
    });
    for d in dirs {
        h.sh_ok(&format!(
            "cd && mkdir -p -- ./{d} && echo {d} > ./{d}/which"
        ));
        let out = rt
            .block_on(ssh.run(&Command::argv(["cat", "which"]).cwd(d)))
            .unwrap_or_else(|e| panic!("cwd {d}: {}", e.render()));
        assert_eq!(out.stdout.trim(), d, "cwd {d} is the directory named {d}");
    }
}

/// `printf` with this format prints every byte value once, 0 to 255.
fn every_byte_format() -> String {
    (0..=255u8).map(|b| format!("\\{b:03o}")).collect()
}

#[test]
fn binary_output_survives_byte_for_byte() {
    let (rt, hosts) = both();
    let every: Vec<u8> = (0..=255u8).collect();
    for h in &hosts {
        let out = rt
            .block_on(h.run(&Command::argv(["printf".to_string(), every_byte_format()])))
            .unwrap();
        assert_eq!(out.stdout_bytes(), &every[..], "on {}", h.name());
        // Text output is exact as text and keeps no second copy.
        let out = rt.block_on(h.run(&Command::shell("echo ✓"))).unwrap();
        assert_eq!(
            (out.stdout_bytes(), out.stdout_raw.as_deref()),
            ("✓\n".as_bytes(), None)
        );
    }
}

#[test]
fn large_stdin_goes_through_intact() {
    let (rt, hosts) = both();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    for h in &hosts {
        let out = rt
            .block_on(h.run(&Command::shell("sha256sum | cut -d' ' -f1").stdin(data.clone())))
            .unwrap();
        let want = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&data))
        };
        assert_eq!(out.stdout.trim(), want, "on {}", h.name());
    }
}

#[test]
fn ten_megabyte_upload_download_round_trip() {
    let (rt, hosts) = both();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    let data: Vec<u8> = (0..10 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();
    for (i, h) in hosts.iter().enumerate() {
        let remote = format!("/tmp/hoist-test-big-{}-{i}.bin", std::process::id());
        let changed = rt
            .block_on(h.upload(src.to_str().unwrap(), &remote, &FileOpts::default()))
            .unwrap();
        assert!(changed);
        let back = dir.path().join(format!("back-{i}.bin"));
        rt.block_on(h.download(&remote, back.to_str().unwrap()))
            .unwrap();
        assert!(
            std::fs::read(&back).unwrap() == data,
            "round trip differs on {}",
            h.name()
        );
        rt.block_on(h.run(&Command::argv(["rm", "-f", &remote])))
            .unwrap();
    }
}

#[test]
fn write_is_atomic_and_reports_changed() {
    let (rt, hosts) = both();
    for (i, h) in hosts.iter().enumerate() {
        let dir = format!("/tmp/hoist-write-{}-{i}", std::process::id());
        let path = format!("{dir}/sub/conf.txt");
        rt.block_on(h.mkdir(&format!("{dir}/sub"), &Default::default()))
            .unwrap();
        let opts = FileOpts {
            mode: Some(0o640),
            ..Default::default()
        };
        assert!(
            rt.block_on(h.write(&path, "a=1\n", &opts)).unwrap(),
            "first write changes"
        );
        assert!(
            !rt.block_on(h.write(&path, "a=1\n", &opts)).unwrap(),
            "same content: unchanged"
        );
        assert!(rt.block_on(h.write(&path, "a=2\n", &opts)).unwrap());
        assert_eq!(rt.block_on(h.read(&path)).unwrap(), "a=2\n");
        let mode = rt
            .block_on(h.run(&Command::argv(["stat", "-c", "%a", &path])))
            .unwrap();
        assert_eq!(mode.stdout.trim(), "640");
        // Mode alone changing counts as a change.
        let opts2 = FileOpts {
            mode: Some(0o600),
            ..Default::default()
        };
        assert!(rt.block_on(h.write(&path, "a=2\n", &opts2)).unwrap());
        // No temp files left behind.
        let ls = rt
            .block_on(h.run(&Command::argv(["ls", "-A", &format!("{dir}/sub")])))
            .unwrap();
        assert_eq!(ls.stdout, "conf.txt\n");
        // A failed write (directory not writable: path is a directory) keeps the old file.
        let e = rt
            .block_on(h.write(&format!("{dir}/sub"), "x", &FileOpts::default()))
            .unwrap_err();
        assert!(e.exit_code.is_some(), "{e}");
        assert_eq!(rt.block_on(h.read(&path)).unwrap(), "a=2\n");
        assert!(rt.block_on(h.exists(&path)).unwrap());
        assert!(!rt.block_on(h.exists(&format!("{dir}/nope"))).unwrap());
        rt.block_on(h.run(&Command::argv(["rm", "-rf", &dir])))
            .unwrap();
    }
}

#[test]
fn template_renders_locally_and_names_missing_variables() {
    let (rt, hosts) = both();
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("app.conf.j2");
    std::fs::write(&tpl, "name={{ app }}\nport={{ port }}\n").unwrap();
    for (i, h) in hosts.iter().enumerate() {
        let dest = format!("/tmp/hoist-tpl-{}-{i}.conf", std::process::id());
        let vars = serde_json::json!({"app": "web", "port": 8080});
        assert!(
            rt.block_on(h.template(tpl.to_str().unwrap(), &dest, &vars, &FileOpts::default()))
                .unwrap()
        );
        assert_eq!(rt.block_on(h.read(&dest)).unwrap(), "name=web\nport=8080\n");
        assert!(
            !rt.block_on(h.template(tpl.to_str().unwrap(), &dest, &vars, &FileOpts::default()))
                .unwrap()
        );
        let e = rt
            .block_on(h.template(
                tpl.to_str().unwrap(),
                &dest,
                &serde_json::json!({"app": "web"}),
                &FileOpts::default(),
            ))
            .unwrap_err();
        assert!(e.message.contains("`port`"), "{}", e.message);
        assert_eq!(
            rt.block_on(h.read(&dest)).unwrap(),
            "name=web\nport=8080\n",
            "failed render leaves the file"
        );
        rt.block_on(h.run(&Command::argv(["rm", "-f", &dest])))
            .unwrap();
    }
}

#[test]
fn sudo_runs_as_root_and_a_password_prompt_is_a_clear_error() {
    let (rt, hosts) = both();
    for h in &hosts {
        let out = rt
            .block_on(h.run(&Command::argv(["id", "-u"]).sudo(true)))
            .unwrap();
        assert_eq!(out.stdout.trim(), "0", "on {}", h.name());
        let out = rt
            .block_on(h.run(&Command::shell("echo \"$X\"").sudo(true).env("X", "kept")))
            .unwrap();
        assert_eq!(out.stdout.trim(), "kept");
    }
    let nosudo = rt.host(&HostSpec::parse(&sshd().spec_user(support::NOSUDO_USER, 1)).unwrap());
    let started = std::time::Instant::now();
    let e = rt
        .block_on(nosudo.run(&Command::argv(["true"]).sudo(true)))
        .unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "must not hang on a prompt"
    );
    assert!(
        e.message.contains("sudo needs a password"),
        "{}",
        e.render()
    );
    assert!(e.hint.as_deref().unwrap().contains("NOPASSWD"));
}

#[test]
fn facts_describe_the_host() {
    let (rt, hosts) = both();
    for h in &hosts {
        let f = rt.block_on(h.facts()).unwrap();
        assert!(!f.hostname.is_empty() && f.cpus >= 1 && f.mem_mb > 0);
        assert_eq!(f.user, "root");
        assert_eq!(f.arch, std::env::consts::ARCH);
    }
}

#[test]
fn tunnel_carries_real_traffic_to_tcp_and_unix_targets() {
    let (rt, hosts) = both();
    // A tiny HTTP-ish echo server on the "remote" side (same machine, other port).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut s = s;
                let mut buf = [0u8; 5];
                if s.read_exact(&mut buf).is_ok() {
                    let _ = s.write_all(&[b"pong:", &buf[..]].concat());
                }
            });
        }
    });
    let sock_dir = tempfile::tempdir().unwrap();
    let sock = sock_dir.path().join("echo.sock");
    let ul = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        for s in ul.incoming().flatten() {
            use std::io::{Read, Write};
            let mut s = s;
            let mut buf = [0u8; 5];
            if s.read_exact(&mut buf).is_ok() {
                let _ = s.write_all(&[b"unix:", &buf[..]].concat());
            }
        }
    });
    for h in &hosts {
        for (target, want) in [
            (
                ForwardTarget::Tcp {
                    host: "127.0.0.1".into(),
                    port,
                },
                "pong:hello",
            ),
            (
                ForwardTarget::Unix(sock.display().to_string()),
                "unix:hello",
            ),
        ] {
            let mut t = rt.block_on(h.forward(0, &target)).unwrap();
            let local_port = t.port().unwrap();
            use std::io::{Read, Write};
            let mut c = std::net::TcpStream::connect(("127.0.0.1", local_port)).unwrap();
            c.write_all(b"hello").unwrap();
            let mut got = String::new();
            c.read_to_string(&mut got).unwrap();
            assert_eq!(got, want, "through {} to {target}", h.name());
            rt.block_on(t.close());
        }
    }
}

#[test]
fn unreachable_host_and_unknown_host_key_are_clear_errors() {
    let (rt, _) = runtime();
    // Nothing listens on this port.
    let dead =
        rt.host(&HostSpec::parse(&format!("root@127.0.0.1:{}", support::free_port())).unwrap());
    let e = rt.block_on(dead.connect()).unwrap_err();
    assert!(
        e.message
            .ends_with(": connection refused (no sshd on that port?)"),
        "{}",
        e.render()
    );
    assert!(e.host.is_some());
    // A name nothing resolves (.invalid is reserved for that).
    let nowhere = rt.host(&HostSpec::parse("nobody.invalid").unwrap());
    let e = rt.block_on(nowhere.connect()).unwrap_err();
    assert_eq!(
        e.message,
        "cannot connect to nobody.invalid: its name does not resolve (not in DNS, /etc/hosts or the ssh config)"
    );
    // A host whose key is not in known_hosts (127.0.0.1 under another name).
    let stranger = rt.host(&HostSpec::parse(&format!("root@localhost:{}", sshd().port)).unwrap());
    let e = rt.block_on(stranger.connect()).unwrap_err();
    assert!(
        e.message.contains("host key verification failed"),
        "{}",
        e.render()
    );
    assert!(
        e.hint
            .as_deref()
            .unwrap()
            .contains("--accept-new-host-keys")
    );
}

#[test]
fn one_connection_per_host_and_per_command_overhead_is_small() {
    let (rt, _) = runtime();
    let h = rt.host(&HostSpec::parse(&sshd().spec(2)).unwrap());
    rt.block_on(h.run(&Command::argv(["true"]))).unwrap();
    let same = rt.host(&HostSpec::parse(&sshd().spec(2)).unwrap());
    for _ in 0..20 {
        rt.block_on(same.run(&Command::argv(["true"]))).unwrap();
    }
    // Exactly one ControlMaster ssh process exists for this host (one connection).
    let spec = "127.0.0.2".to_string();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ps -eo args | grep -- '-M' | grep -c ' {spec}$' || true"
        ))
        .output()
        .unwrap();
    let n: i32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(-1);
    assert_eq!(n, 1, "one master connection for the host");
}
