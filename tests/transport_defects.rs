//! Three transport defects found by trying hoist as a new user would (issue 32), each shown
//! on the fleet's real sshd: a command that kills its own shell, file names no write could
//! take, and an upload held in memory several times over. Every check about a host reads
//! that host.

mod support;

use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::fleet::{Fleet, fleet};
use support::run_script;

/// Run `text` through the library on another thread; its value, or a panic naming `what` if
/// it has not ended within `limit` (a hang must fail the test, not hold it forever).
fn run_within(f: &'static Fleet, limit: Duration, what: &str, text: String) -> serde_json::Value {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let (rt, _) = f.runtime();
        let v = run_script(&rt, &text).map_err(|e| e.render());
        rt.shutdown();
        let _ = tx.send(v);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => panic!("{what}: the script failed: {e}"),
        Err(_) => panic!(
            "{what}: still running after {}s: hoist hangs",
            limit.as_secs()
        ),
    }
}

/// `kill -9 $PPID` kills the waiter subshell that runs the command and would print its end
/// markers; hoist waited for them forever. Now the run fails at once, naming the host and
/// saying the shell died, and the next command on the host works.
#[test]
fn a_command_that_kills_its_shell_fails_fast_and_the_host_stays_usable() {
    let f = fleet();
    let h = f.host(1);
    let started = Instant::now();
    let v = run_within(
        f,
        Duration::from_secs(40),
        "kill -9 $PPID",
        format!(
            r#"
            let h = ssh("{spec}");
            h.run("true");
            let err = #{{message: "no error", host: ""}};
            try {{ h.run("kill -9 $PPID; sleep 1"); }} catch (e) {{ err = #{{message: e.message, host: e.host}}; }}
            let next = h.run("echo next-$((40+2))").stdout;
            let again = h.run(["printf", "%s", "argv"]).stdout;
            #{{err: err, next: next, again: again}}
            "#,
            spec = h.spec()
        ),
    );
    // Connecting included, well within the keepalive budget (3 probes of 2 s), though
    // nothing was lost on the network.
    let took = started.elapsed();
    let message = v["err"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("shell died") && message.contains(&h.name),
        "the error names the host and says the shell died: {v}"
    );
    assert_eq!(v["err"]["host"], h.name.as_str(), "{v}");
    assert!(
        took < Duration::from_secs(6),
        "the script took {took:?}: {v}"
    );
    assert_eq!(v["next"], "next-42\n", "{v}");
    assert_eq!(v["again"], "argv", "{v}");
}

/// Names a shell reads as syntax: a quote, a space, a newline, `$()`, a backtick, a leading
/// dash, a glob, and all of them together.
const HOSTILE: &[&str] = &[
    "it's",
    "a b",
    "new\nline",
    "$(touch pwned-dollar)",
    "`touch pwned-tick`",
    "-rf",
    "--",
    "*",
    "x'; touch pwned-quote; '",
    "\"double\" & ; |",
    "-it's $(touch pwned-all) `touch pwned-all2`\n*",
];

/// Every name in `dir` (relative, NUL-separated by `find`), sorted, read by `sh` wherever
/// `sh` runs.
const LISTING: &str = "find . -mindepth 1 -printf '%P\\0' | sort -z";

/// write, template and upload to every hostile name, on local() and an SSH host: each file
/// holds what was written, and nothing else appears (no temp file, no file a substitution
/// would have made, neither in the directory nor in the command's working directory).
#[test]
fn write_template_and_upload_take_any_file_name_on_every_host() {
    let f = fleet();
    let h = f.host(2);
    let local_dir = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let tpl = src.path().join("page.j2");
    std::fs::write(&tpl, "name={{ name }}\n").unwrap();
    let up = src.path().join("upload.bin");
    std::fs::write(&up, b"uploaded\0bytes\n").unwrap();
    let remote_dir = format!("/tmp/hoist-hostile-{}", std::process::id());
    h.sh_ok(&format!("rm -rf {remote_dir}; rm -f /root/pwned-*"));
    let names = serde_json::to_string(HOSTILE).unwrap();
    let v = run_within(
        f,
        Duration::from_secs(120),
        "hostile names",
        format!(
            r#"
            let names = {names};
            let hosts = [local(), ssh("{spec}")];
            let dirs = [{local_dir}, "{remote_dir}"];
            let changed = [];
            for i in 0..2 {{
                let h = hosts[i];
                let d = dirs[i];
                for sub in ["w", "t", "u"] {{ h.mkdir(d + "/" + sub); }}
                for n in names {{
                    changed.push(h.write(d + "/w/" + n, "text of " + n));
                    changed.push(h.template({tpl}, d + "/t/" + n, #{{name: n}}));
                    changed.push(h.upload({up}, d + "/u/" + n));
                    changed.push(h.write(d + "/w/" + n, "text of " + n));
                    if h.read(d + "/w/" + n) != "text of " + n {{ throw "read back " + n; }}
                }}
            }}
            changed
            "#,
            spec = h.spec(),
            local_dir = serde_json::to_string(local_dir.path().to_str().unwrap()).unwrap(),
            tpl = serde_json::to_string(tpl.to_str().unwrap()).unwrap(),
            up = serde_json::to_string(up.to_str().unwrap()).unwrap(),
        ),
    );
    // Each write changed the file the first time and not the second.
    let changed: Vec<bool> = serde_json::from_value(v).unwrap();
    let expected: Vec<bool> = (0..2 * HOSTILE.len())
        .flat_map(|_| [true, true, true, false])
        .collect();
    assert_eq!(changed, expected);

    let mut want: Vec<String> = ["t", "u", "w"].iter().map(|s| s.to_string()).collect();
    for sub in ["t", "u", "w"] {
        want.extend(HOSTILE.iter().map(|n| format!("{sub}/{n}")));
    }
    want.sort();
    let parse = |out: &[u8]| -> Vec<String> {
        let mut v: Vec<String> = out
            .split(|b| *b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect();
        v.sort();
        v
    };
    // Local: the directory, read here; and no file a substitution would have made.
    let o = std::process::Command::new("sh")
        .args(["-c", LISTING])
        .current_dir(local_dir.path())
        .output()
        .unwrap();
    assert_eq!(parse(&o.stdout), want, "local");
    for n in HOSTILE {
        let read = |sub: &str| std::fs::read(local_dir.path().join(sub).join(n)).unwrap();
        assert_eq!(read("w"), format!("text of {n}").as_bytes());
        assert_eq!(read("t"), format!("name={n}\n").as_bytes());
        assert_eq!(read("u"), b"uploaded\0bytes\n");
    }
    let here = std::env::current_dir().unwrap();
    for p in [
        "pwned-dollar",
        "pwned-tick",
        "pwned-quote",
        "pwned-all",
        "pwned-all2",
    ] {
        assert!(!here.join(p).exists(), "local: {p} was created");
    }
    // The SSH host: the same, read through the host.
    let listing = std::process::Command::new("docker")
        .args([
            "exec",
            "-w",
            &remote_dir,
            &h.container(),
            "sh",
            "-c",
            LISTING,
        ])
        .stderr(Stdio::inherit())
        .output()
        .unwrap();
    assert_eq!(parse(&listing.stdout), want, "{}", h.name);
    for n in HOSTILE {
        for (sub, content) in [
            ("w", format!("text of {n}").into_bytes()),
            ("t", format!("name={n}\n").into_bytes()),
            ("u", b"uploaded\0bytes\n".to_vec()),
        ] {
            let path = format!("{remote_dir}/{sub}/{n}");
            let o = std::process::Command::new("docker")
                .args(["exec", &h.container(), "cat", "--", &path])
                .output()
                .unwrap();
            assert_eq!(o.stdout, content, "{}: {path:?}", h.name);
        }
    }
    assert_eq!(
        h.sh("ls /root /tmp | grep pwned").stdout,
        "",
        "{}: a substitution ran",
        h.name
    );
    h.sh_ok(&format!("rm -rf {remote_dir}"));
}

/// The peak RSS of `hoist run` uploading 200 MB to a host stays far below the file's size:
/// the file is read in pieces for its digest, then streamed through the channel. The file
/// arrives whole (its sha256 read on the host).
#[test]
fn a_200_mb_upload_is_streamed_in_bounded_memory() {
    let f = fleet();
    let h = f.host(3);
    let project = f.project("");
    let big = project.path().join("big.bin");
    let o = std::process::Command::new("sh")
        .args([
            "-c",
            &format!("head -c 200000000 /dev/urandom > {}", big.display()),
        ])
        .status()
        .unwrap();
    assert!(o.success());
    let want = {
        let o = std::process::Command::new("sha256sum")
            .arg(&big)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout)
            .split(' ')
            .next()
            .unwrap()
            .to_string()
    };
    let remote = "/tmp/hoist-big-upload.bin";
    h.sh(&format!("rm -f {remote}"));
    std::fs::write(
        project.path().join("up.rhai"),
        format!(r#"ssh("{}").upload("big.bin", "{remote}");"#, h.spec()),
    )
    .unwrap();
    let mut c = f.hoist_cmd(project.path());
    c.args(["run", "up.rhai"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let m = support::rusage::run(&mut c);
    assert!(m.ok, "the upload failed: {}", m.stderr);
    println!(
        "upload 200 MB: peak RSS {:.1} MiB, {:.2}s",
        m.peak_rss_mib,
        m.took.as_secs_f64()
    );
    let got = h.sh_ok(&format!("sha256sum {remote} | cut -d' ' -f1"));
    assert_eq!(got, want, "the file arrived changed");
    assert!(
        m.peak_rss_mib < 64.0,
        "uploading 200 MB peaked at {:.1} MiB",
        m.peak_rss_mib
    );

    // And back: a download streams into its file too.
    std::fs::write(
        project.path().join("down.rhai"),
        format!(r#"ssh("{}").download("{remote}", "back.bin");"#, h.spec()),
    )
    .unwrap();
    let mut c = f.hoist_cmd(project.path());
    c.args(["run", "down.rhai"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let m = support::rusage::run(&mut c);
    assert!(m.ok, "the download failed: {}", m.stderr);
    println!(
        "download 200 MB: peak RSS {:.1} MiB, {:.2}s",
        m.peak_rss_mib,
        m.took.as_secs_f64()
    );
    h.sh(&format!("rm -f {remote}"));
    let back = std::process::Command::new("sha256sum")
        .arg(project.path().join("back.bin"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&back.stdout).starts_with(&want),
        "the downloaded file differs"
    );
    assert!(
        m.peak_rss_mib < 64.0,
        "downloading 200 MB peaked at {:.1} MiB",
        m.peak_rss_mib
    );
}

/// A download of a file that is not there fails naming it, and leaves the local target as
/// it was (no partial file, no temp file).
#[test]
fn a_failed_download_leaves_the_local_file_untouched() {
    let f = fleet();
    let h = f.host(3);
    let project = f.project("");
    std::fs::write(project.path().join("keep.txt"), "before\n").unwrap();
    std::fs::write(
        project.path().join("d.rhai"),
        format!(
            r#"ssh("{}").download("/nonexistent/hoist-file", "keep.txt");"#,
            h.spec()
        ),
    )
    .unwrap();
    let out = f
        .hoist_cmd(project.path())
        .args(["run", "d.rhai"])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("/nonexistent/hoist-file"), "{said}");
    assert_eq!(
        std::fs::read_to_string(project.path().join("keep.txt")).unwrap(),
        "before\n"
    );
    let mut names: Vec<String> = std::fs::read_dir(project.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != ".hoist")
        .collect();
    names.sort();
    assert_eq!(names, ["d.rhai", "hoist.toml", "keep.txt"]);
}
