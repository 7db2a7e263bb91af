//! Engines where users keep them: `DOCKER_HOST=ssh://...`, docker contexts (DOCKER_CONTEXT and
//! `docker context use`), a TLS engine on tcp (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`, a
//! context's TLS material), and on an SSH host the socket a rootless engine listens on — all
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
    write_context(&docker_dir, "fleet-host1", "ssh://deploy@host1", None);
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
    // A container only host1's engine has must be listed (other tests add and remove theirs
    // meanwhile, so the lists are not compared whole).
    let image = f.push(support::images::busybox(), "hoist-fleet/busybox:engines");
    f.login_hosts();
    let probe = unique("engines-probe");
    let probe_id = h.sh_ok(&format!(
        "docker pull -q {image} >/dev/null && docker create --name {probe} {image} true"
    ));
    let _probe = OnDrop(|| {
        h.sh(&format!("docker rm -f {probe}"));
    });
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
    // `ps` gives ids as `docker ps` does: their first 12 characters.
    assert!(
        ids.iter()
            .any(|id| id.len() == 12 && probe_id.trim().starts_with(id.as_str())),
        "the engine behind ops's socket is host1's: {probe_id} not in {ids:?}"
    );
}

/// A context as `docker context create` stores it: meta.json under the name's sha256, and its
/// TLS material (if any) under contexts/tls.
fn write_context(docker_dir: &Path, name: &str, host: &str, tls: Option<&Path>) {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta = docker_dir.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("meta.json"),
        format!(
            r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
        ),
    )
    .unwrap();
    if let Some(certs) = tls {
        let dir = docker_dir.join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&dir).unwrap();
        for f in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::copy(certs.join(f), dir.join(f)).unwrap();
        }
    }
}

/// Every fleet engine also listens on tcp 2376 with TLS verified both ways (scripts/fleet): the
/// client's certificates come from DOCKER_CERT_PATH or a context; a wrong CA or no TLS at all
/// is an error naming the endpoint, and nothing runs.
#[test]
fn a_tls_engine_on_tcp_is_reached_with_the_clients_certificates() {
    let f = fleet();
    let h = f.host(2);
    image_on(f, h);
    let certs = f.dir.join("engine-tls");
    assert!(
        certs.join("cert.pem").exists(),
        "scripts/fleet up makes the client's certificates in {}",
        certs.display()
    );
    let url = format!("tcp://{}:2376", h.ip);
    let home = tempfile::tempdir().unwrap();
    let (a, b, c, d) = (
        unique("tlsenv"),
        unique("tlsctx"),
        unique("tlsbadca"),
        unique("tlsplain"),
    );
    let _cleanup = OnDrop(|| {
        h.sh(&format!("docker rm -f {a} {b} {c} {d}"));
    });
    let certs_s = certs.to_str().unwrap();
    let tls_env = [
        ("DOCKER_HOST", url.as_str()),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", certs_s),
    ];
    let o = run_local_docker(f, home.path(), &tls_env, &a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(running_on(h, &a), "host2's engine runs it");
    assert!(!local_has(&a), "not this machine's engine");

    // A context holding the TLS material, as `docker context create --docker
    // host=...,ca=...,cert=...,key=...` stores it.
    let docker_dir = home.path().join(".docker");
    write_context(&docker_dir, "fleet-tls", &url, Some(&certs));
    let o = run_local_docker(f, home.path(), &[("DOCKER_CONTEXT", "fleet-tls")], &b);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(running_on(h, &b) && !local_has(&b));

    // A CA that did not sign the engine's certificate: refused, naming the endpoint.
    let bad = tempfile::tempdir().unwrap();
    for f in ["cert.pem", "key.pem"] {
        std::fs::copy(certs.join(f), bad.path().join(f)).unwrap();
    }
    let made = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=some other CA", "-keyout"])
        .arg(bad.path().join("ca.key"))
        .arg("-out")
        .arg(bad.path().join("ca.pem"))
        .output()
        .expect("openssl (apt-get install -y openssl; scripts/test installs it)");
    assert!(made.status.success(), "{made:?}");
    let bad_s = bad.path().to_str().unwrap();
    let o = run_local_docker(
        f,
        home.path(),
        &[
            ("DOCKER_HOST", url.as_str()),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", bad_s),
        ],
        &c,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success(),
        "an engine signed by another CA is refused"
    );
    assert!(
        err.contains(&url) && err.contains("invalid peer certificate"),
        "the error names the endpoint and why: {err}"
    );
    assert!(!running_on(h, &c));

    // Plain HTTP to the TLS port (DOCKER_TLS_VERIFY unset): an error naming it, not a hang.
    let o = run_local_docker(f, home.path(), &[("DOCKER_HOST", url.as_str())], &d);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "plain HTTP to a TLS engine fails");
    assert!(
        err.contains(&url) && err.contains("DOCKER_TLS_VERIFY=1"),
        "the error names the endpoint and what to set: {err}"
    );
    assert!(!running_on(h, &d));
}
