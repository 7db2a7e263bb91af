//! Engines where users keep them: `DOCKER_HOST=ssh://...`, docker contexts (DOCKER_CONTEXT and
//! `docker context use`), and on an SSH host the socket a rootless engine listens on — all
//! against fleet servers' own engines, checked through the servers.

mod support;

use std::path::Path;

use sha2::{Digest, Sha256};
use support::fleet::{Fleet, FleetHost, OnDrop, fleet};
use support::images::unique;

/// The test image on `h`'s engine (from the fleet registry), under the local name.
fn image_on(f: &Fleet, h: &FleetHost) -> &'static str {
    let base = support::images::busybox();
    let pushed = f.push(base, "hoist-test/busybox:engines");
    f.login_hosts();
    h.sh_ok(&format!(
        "docker pull -q {pushed} && docker tag {pushed} {base}"
    ));
    base
}

/// `hoist run` of a script that starts a container named `name` with `docker()`.
fn run_local_docker(
    f: &Fleet,
    home: &Path,
    env: &[(&str, &str)],
    name: &str,
) -> std::process::Output {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("x.rhai"),
        format!(
            "let d = docker();\nd.run(\"{}\", #{{name: \"{name}\"}});\nd.ps(#{{name: \"{name}\"}}).len()",
            support::images::busybox()
        ),
    )
    .unwrap();
    let mut c = f.hoist_cmd(d.path());
    c.env("HOME", home)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT");
    for (k, v) in env {
        c.env(k, v);
    }
    c.args(["run", "x.rhai"]).output().unwrap()
}

fn running_on(h: &FleetHost, name: &str) -> bool {
    !h.sh_ok(&format!("docker ps -q --filter name=^{name}$"))
        .is_empty()
}

fn local_has(name: &str) -> bool {
    let o = std::process::Command::new("docker")
        .args(["ps", "-aq", "--filter", &format!("name=^{name}$")])
        .output()
        .unwrap();
    !o.stdout.is_empty()
}

#[test]
fn docker_host_ssh_url_is_that_servers_engine() {
    let f = fleet();
    let h = f.host(3);
    image_on(f, h);
    let home = tempfile::tempdir().unwrap();
    let name = unique("sshurl");
    let _cleanup = OnDrop(|| {
        h.sh(&format!("docker rm -f {name}"));
    });
    let o = run_local_docker(
        f,
        home.path(),
        &[("DOCKER_HOST", "ssh://deploy@host3")],
        &name,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(running_on(h, &name), "host3's engine runs it");
    assert!(!local_has(&name), "not this machine's engine");
}

#[test]
fn docker_contexts_pick_the_engine() {
    let f = fleet();
    let h = f.host(1);
    image_on(f, h);
    let home = tempfile::tempdir().unwrap();
    let docker_dir = home.path().join(".docker");
    let meta = docker_dir
        .join("contexts/meta")
        .join(hex::encode(Sha256::digest(b"fleet-host1")));
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        r#"{"Name":"fleet-host1","Metadata":{},"Endpoints":{"docker":{"Host":"ssh://deploy@host1","SkipTLSVerify":false}}}"#,
    )
    .unwrap();
    let (a, b) = (unique("ctxenv"), unique("ctxuse"));
    let _cleanup = OnDrop(|| {
        h.sh(&format!("docker rm -f {a} {b}"));
    });
    // DOCKER_CONTEXT names it...
    let o = run_local_docker(f, home.path(), &[("DOCKER_CONTEXT", "fleet-host1")], &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(running_on(h, &a) && !local_has(&a));
    // ... or `docker context use` wrote it into config.json.
    std::fs::write(
        docker_dir.join("config.json"),
        r#"{"currentContext": "fleet-host1"}"#,
    )
    .unwrap();
    let o = run_local_docker(f, home.path(), &[], &b);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(running_on(h, &b) && !local_has(&b));
    // An unknown context is a clear error naming it.
    let o = run_local_docker(f, home.path(), &[("DOCKER_CONTEXT", "nope")], &unique("x"));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("docker context `nope`"), "{err}");
}

/// A user outside the `docker` group, with a rootless-style engine socket in
/// `$XDG_RUNTIME_DIR` (a proxy to the host's engine, owned by that user).
#[test]
fn a_rootless_socket_is_found_and_the_error_says_which_sockets_were_tried() {
    let f = fleet();
    let h = f.host(1);
    let uid = h.sh_ok("id -u ops");
    let sock = format!("/run/user/{uid}/docker.sock");
    let (rt, _) = f.runtime();
    let ops = || {
        hoist::host::HostSpec::parse(&h.spec_user("ops"))
            .map(|s| rt.host(&s))
            .unwrap()
    };
    // No socket ops may use: the error lists what was tried.
    // ops's runtime directory, as logind makes it at login.
    h.sh_ok(&format!(
        "install -d -m 0700 -o ops -g ops /run/user/{uid}; rm -f {sock}"
    ));
    let _cleanup = OnDrop(|| {
        // ops's logins start a user manager that fails in a container: leave no failed unit.
        h.sh(&format!(
            "pkill -f hoist-rootless-proxy; rm -f {sock}; systemctl reset-failed 'user@*' 'user-runtime-dir@*'"
        ));
    });
    let e = rt.block_on(rt.docker(&ops())).unwrap_err();
    let msg = e.render();
    assert!(
        msg.contains("/var/run/docker.sock (no permission)")
            && msg.contains(&format!("{sock} (missing)")),
        "{msg}"
    );
    assert!(msg.contains("ops@host1"), "{msg}");
    // The rootless socket appears: hoist uses it.
    let proxy = format!(
        "import os, socket, threading, sys\n\
         sys.argv[0] = 'hoist-rootless-proxy'\n\
         path = '{sock}'\n\
         srv = socket.socket(socket.AF_UNIX)\n\
         srv.bind(path); os.chown(path, {uid}, {uid}); os.chmod(path, 0o600); srv.listen(16)\n\
         def pipe(a, b):\n\
         \x20   try:\n\
         \x20       while True:\n\
         \x20           d = a.recv(65536)\n\
         \x20           if not d: break\n\
         \x20           b.sendall(d)\n\
         \x20   except OSError: pass\n\
         \x20   try: b.shutdown(socket.SHUT_WR)\n\
         \x20   except OSError: pass\n\
         while True:\n\
         \x20   c, _ = srv.accept()\n\
         \x20   u = socket.socket(socket.AF_UNIX); u.connect('/var/run/docker.sock')\n\
         \x20   threading.Thread(target=pipe, args=(c, u), daemon=True).start()\n\
         \x20   threading.Thread(target=pipe, args=(u, c), daemon=True).start()\n"
    );
    h.sh_ok(&format!(
        "cat > /tmp/hoist-rootless-proxy.py <<'EOF'\n{proxy}EOF\n\
         nohup python3 /tmp/hoist-rootless-proxy.py >/tmp/hoist-rootless-proxy.log 2>&1 &\n\
         for i in $(seq 50); do [ -S {sock} ] && exit 0; sleep 0.1; done; cat /tmp/hoist-rootless-proxy.log; exit 1"
    ));
    let (rt2, _) = f.runtime();
    let ops2 = hoist::host::HostSpec::parse(&h.spec_user("ops"))
        .map(|s| rt2.host(&s))
        .unwrap();
    let d = rt2.block_on(rt2.docker(&ops2)).unwrap();
    let ids: Vec<String> = rt2
        .block_on(d.ps(&hoist::docker::PsOpts {
            all: true,
            ..Default::default()
        }))
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let want = h.sh_ok("docker ps -aq --no-trunc");
    let mut want: Vec<&str> = want.lines().collect();
    let mut got: Vec<&str> = ids.iter().map(String::as_str).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the engine behind ops's socket is host1's");
}
