//! Files on the fleet's servers when things go wrong: a write cut half-way leaves the old
//! file (never a partial one) and no temp file after the next write; a secret being written
//! is private from its first byte.
//!
//! To catch a write half-way without guessing at timing, the host's outgoing traffic (the
//! ACKs of the upload) is throttled with `tc` so the upload takes minutes, and the test acts
//! once it sees the temp file growing on the host.

mod support;

use std::time::{Duration, Instant};

use hoist::host::{FileOpts, HostSpec};
use support::fleet::{FleetHost, OnDrop, fleet};

/// The upload of the cut tests (the case).
const BIG: usize = 50 * 1024 * 1024;

/// Slow the host's outgoing packets to a trickle (≈150 KB/s of upload) until dropped.
fn throttle(h: &FleetHost) -> OnDrop<impl FnMut() + '_> {
    h.sh("tc qdisc del dev eth0 root 2>/dev/null");
    h.sh_ok("tc qdisc add dev eth0 root tbf rate 8kbit burst 1600 latency 5s");
    OnDrop(move || {
        h.sh("tc qdisc del dev eth0 root 2>/dev/null");
    })
}

/// Wait for a condition on a host that an action elsewhere brings about; fails after
/// `limit` with `what` (a guard against hanging, not a timing assertion).
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while !cond() {
        if Instant::now() > deadline {
            eprintln!("gave up waiting: {what}");
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// Temp files of writes to `dir/NAME` (every hoist version names them `.NAME.hoist-*`).
fn temps(h: &FleetHost, dir: &str, name: &str) -> Vec<String> {
    h.sh(&format!(
        "cd {dir} && ls -A | grep -F .{name}.hoist- || true"
    ))
    .stdout
    .lines()
    .map(str::to_string)
    .collect()
}

/// Size of the first temp file of `dir/name` (0 when there is none).
fn temp_size(h: &FleetHost, dir: &str, name: &str) -> u64 {
    temps(h, dir, name)
        .first()
        .map(|t| {
            h.sh(&format!("stat -c %s {dir}/{t} 2>/dev/null"))
                .stdout
                .trim()
                .parse()
                .unwrap_or(0)
        })
        .unwrap_or(0)
}

/// A file's content when short, else its size: what the assertions compare (a 50 MB
/// partial file is not worth printing).
fn content(h: &FleetHost, path: &str) -> String {
    let size: u64 = h
        .sh(&format!("stat -c %s {path}"))
        .stdout
        .trim()
        .parse()
        .unwrap_or(0);
    if size > 64 {
        format!("<{size} bytes>")
    } else {
        h.read(path)
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|_| rand::random::<u8>()).collect()
}

#[test]
fn a_write_cut_by_killing_hoist_leaves_the_old_file_and_no_temp_file() {
    let f = fleet();
    let _own = f.exclusive();
    let h = f.host(1);
    let dir = "/tmp/hoist-files-kill";
    h.sh_ok(&format!(
        "rm -rf {dir} && mkdir -p {dir} && printf old > {dir}/target"
    ));
    let project = f.project("");
    std::fs::write(project.path().join("big.bin"), random_bytes(BIG)).unwrap();
    std::fs::write(
        project.path().join("up.rhai"),
        format!(
            "ssh(\"{}\").upload(\"big.bin\", \"{dir}/target\");\n",
            h.spec()
        ),
    )
    .unwrap();

    let slow = throttle(h);
    let mut child = f
        .hoist_cmd(project.path())
        .args(["run", "up.rhai"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mid = wait_for("the upload to start", Duration::from_secs(120), || {
        temp_size(h, dir, "target") > 0
    });
    child.kill().unwrap(); // SIGKILL: hoist gets no chance to clean up
    child.wait().unwrap();
    drop(slow);
    assert!(mid, "the upload never reached the host");

    // The rest of what was in flight arrives, then the end of input: the remote side finds
    // the file short and removes it (old hoist renamed the partial file over the target).
    wait_for(
        "the cut write to end on the host",
        Duration::from_secs(60),
        || temps(h, dir, "target").is_empty(),
    );
    assert_eq!(
        content(h, &format!("{dir}/target")),
        "old",
        "the target must keep its old content"
    );

    // The next write of the same file succeeds and leaves no temp file behind.
    let (rt, _) = f.runtime();
    let host = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    rt.block_on(host.write(&format!("{dir}/target"), "new", &FileOpts::default()))
        .unwrap();
    assert_eq!(content(h, &format!("{dir}/target")), "new");
    assert_eq!(temps(h, dir, "target"), Vec::<String>::new());
    h.sh(&format!("rm -rf {dir}"));
}

#[test]
fn a_write_cut_by_a_dropped_connection_fails_naming_the_file_and_keeps_the_old_one() {
    let f = fleet();
    let _own = f.exclusive();
    let h = f.host(2);
    let dir = "/tmp/hoist-files-cut";
    let target = format!("{dir}/target");
    h.sh_ok(&format!(
        "rm -rf {dir} && mkdir -p {dir} && printf old > {target}"
    ));
    let (rt, _) = f.runtime();
    let host = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    rt.block_on(host.connect()).unwrap();

    let slow = throttle(h);
    let data = random_bytes(BIG);
    let digest = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&data))
    };
    let writer = {
        let (rt, host, target) = (rt.clone(), host.clone(), target.clone());
        std::thread::spawn(move || {
            rt.block_on(host.write_bytes(&target, &data, &FileOpts::default()))
        })
    };
    let mid = wait_for("the upload to start", Duration::from_secs(120), || {
        temp_size(h, dir, "target") > 0
    });
    let mut cut = f.fault("cut", h);
    let err = writer
        .join()
        .unwrap()
        .expect_err("a write over a dead connection must fail");
    cut.undo();
    drop(slow);
    assert!(mid, "the upload never reached the host");
    let said = err.render();
    assert!(
        said.contains(&target) && said.contains("host2"),
        "the error names the file and the host: {said}"
    );
    // The digest would let a reader of errors and the audit log guess a short secret.
    assert!(
        !said.contains(&digest),
        "the content's digest is shown: {said}"
    );
    assert_eq!(content(h, &target), "old");

    // After the connection is back, the next write replaces the file and clears what the
    // cut write left; nothing that write left running can rename a partial file later. (A
    // fresh run: whether one run survives its connection's loss is not this test's matter.)
    let (rt, _) = f.runtime();
    let host = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    rt.block_on(host.write(&target, "new", &FileOpts::default()))
        .unwrap();
    assert_eq!(content(h, &target), "new");
    assert_eq!(temps(h, dir, "target"), Vec::<String>::new());
    h.sh(&format!("rm -rf {dir}"));
}

#[test]
fn a_secret_being_written_is_private_from_the_first_byte() {
    let f = fleet();
    let _own = f.exclusive();
    let h = f.host(3);
    let dir = "/tmp/hoist-files-private";
    let target = format!("{dir}/secret");
    h.sh_ok(&format!("rm -rf {dir} && mkdir -m 755 -p {dir}"));
    let (rt, _) = f.runtime();
    let host = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    rt.block_on(host.connect()).unwrap();

    // Big enough to take the fresh-channel path; the throttle holds it half-way.
    let secret = vec![b's'; 4 * 1024 * 1024];
    let slow = throttle(h);
    let writer = {
        let (rt, host, target, secret) = (rt.clone(), host.clone(), target.clone(), secret.clone());
        std::thread::spawn(move || {
            let o = FileOpts {
                mode: Some(0o600),
                ..Default::default()
            };
            rt.block_on(host.write_bytes(&target, &secret, &o))
        })
    };
    let mid = wait_for("the write to start", Duration::from_secs(120), || {
        temp_size(h, dir, "secret") > 0
    });
    let seen = temps(h, dir, "secret");
    let (mode, read_by_other) = match seen.first() {
        Some(t) => (
            h.sh(&format!("stat -c %a {dir}/{t}"))
                .stdout
                .trim()
                .to_string(),
            h.sh(&format!("runuser -u ops -- head -c 1 {dir}/{t}")),
        ),
        None => (String::new(), h.sh("false")),
    };
    drop(slow);
    let written = writer.join().unwrap();
    assert!(mid, "the write never reached the host");
    assert_eq!(
        mode, "600",
        "the temp file of a secret is private while written"
    );
    assert!(
        read_by_other.code != 0 && read_by_other.stdout.is_empty(),
        "another user must not read the temp file: {}",
        read_by_other.stdout
    );
    written.unwrap();
    assert_eq!(h.sh_ok(&format!("stat -c %a {target}")), "600");
    assert_eq!(
        h.sh_ok(&format!("wc -c < {target}")),
        secret.len().to_string()
    );

    // Private while written, yet a file written without a mode still ends up with what the
    // umask gives (644 for root here), and a replaced file keeps its mode.
    let plain = format!("{dir}/plain");
    rt.block_on(host.write(&plain, "x", &FileOpts::default()))
        .unwrap();
    assert_eq!(h.sh_ok(&format!("stat -c %a {plain}")), "644");
    h.sh_ok(&format!("chmod 640 {plain}"));
    rt.block_on(host.write(&plain, "y", &FileOpts::default()))
        .unwrap();
    assert_eq!(h.sh_ok(&format!("stat -c %a {plain}")), "640");
    h.sh(&format!("rm -rf {dir}"));
}

#[test]
fn stale_temp_files_of_a_target_are_removed_by_its_next_write() {
    let f = fleet();
    let _up = f.hosts_up();
    let h = f.host(4);
    let dir = "/tmp/hoist-files-stale";
    h.sh_ok(&format!(
        "rm -rf {dir} && mkdir -p {dir} && printf half > {dir}/.app.conf.hoist-tmp.0123456789abcdef \
         && printf other > {dir}/.other.conf.hoist-tmp.0123456789abcdef"
    ));
    let (rt, _) = f.runtime();
    let host = rt.host(&HostSpec::parse(&h.spec()).unwrap());
    rt.block_on(host.write(&format!("{dir}/app.conf"), "v=1\n", &FileOpts::default()))
        .unwrap();
    assert_eq!(
        h.sh_ok(&format!("ls -A {dir} | sort")),
        ".other.conf.hoist-tmp.0123456789abcdef\napp.conf",
        "only the temp files of the written target are removed"
    );
    h.sh(&format!("rm -rf {dir}"));
}

#[test]
fn a_sudo_write_by_a_login_user_gets_its_mode_and_owner() {
    let f = fleet();
    let _up = f.hosts_up();
    let h = f.host(4);
    let (rt, _) = f.runtime();
    let deploy = rt.host(&HostSpec::parse(&h.spec_user("deploy")).unwrap());
    let path = "/etc/hoist-files-sudo.conf";
    let _clean = OnDrop(|| {
        h.sh(&format!("rm -f {path}"));
    });
    let o = FileOpts {
        mode: Some(0o640),
        owner: Some("root:ops".into()),
        sudo: true,
    };
    for text in ["a=1\n", "a=2\n"] {
        assert!(rt.block_on(deploy.write(path, text, &o)).unwrap());
        assert_eq!(h.read(path), text);
        assert_eq!(
            h.sh_ok(&format!("stat -c '%a %U:%G' {path}")),
            "640 root:ops"
        );
    }
    assert_eq!(h.sh_ok("ls -A /etc | grep -c hoist-tmp || true"), "0");
}
