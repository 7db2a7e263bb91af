//! A real registry (Debian's docker-registry with htpasswd auth): login, push, tags, digest,
//! pull back, delete — from the laptop's engine and from the SSH host's engine, whose
//! credentials are the ones `docker login` stored on that host.
//!
//! The local and the remote login write the same ~/.docker/config.json here (the test sshd
//! runs on this machine as root), so the round trips run one after the other in one test.

mod support;

use hoist::docker::{BuildOpts, Docker};
use hoist::host::HostSpec;
use hoist::registry::{Registry, RegistryOpts};
use hoist::secret::Secret;
use support::images::{busybox, unique};
use support::{registry, runtime, sshd};

fn open(addr: &str, user: &str, password: &str) -> Registry {
    Registry::new(
        addr,
        RegistryOpts {
            user: Some(user.into()),
            password: Some(Secret::new(password)),
            ..Default::default()
        },
    )
    .unwrap()
}

fn config_json() -> serde_json::Value {
    let path = hoist::docker::credentials::local_config_path().unwrap();
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|_| "{}".into())).unwrap()
}

/// Build a small app image tagged for the registry with a colour and a commit, push it,
/// check tags and digest, pull it back into a clean name, delete it.
fn round_trip(rt: &hoist::Runtime, d: &Docker, r: &Registry, repo: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {}\nRUN echo {repo} > /app\n", busybox()),
    )
    .unwrap();
    let blue = r.image(repo, "blue");
    let commit = r.image(repo, "1a2b3c4");
    let id = rt
        .block_on(d.build(
            dir.path(),
            &BuildOpts {
                tags: vec![blue.clone(), commit.clone()],
                ..Default::default()
            },
        ))
        .unwrap();
    rt.block_on(d.push(&blue))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    rt.block_on(d.push(&commit)).unwrap();
    assert_eq!(
        rt.block_on(r.tags(repo)).unwrap(),
        vec!["1a2b3c4".to_string(), "blue".to_string()]
    );
    let digest = rt.block_on(r.digest(&format!("{repo}:blue"))).unwrap();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{digest}"
    );
    assert_eq!(
        rt.block_on(r.digest(&format!("{repo}:1a2b3c4"))).unwrap(),
        digest,
        "same image, same manifest"
    );
    assert!(rt.block_on(r.exists(&blue)).unwrap());
    assert!(!rt.block_on(r.exists(&format!("{repo}:green"))).unwrap());

    // Pull back into a clean engine state: remove every local name, then pull.
    rt.block_on(d.rmi(&id, true)).unwrap();
    assert!(!rt.block_on(d.image_exists(&blue)).unwrap());
    rt.block_on(d.pull(&blue))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(rt.block_on(d.image_id(&blue)).unwrap(), id);

    // Delete: the manifest (both tags point to it) is gone.
    rt.block_on(r.delete(&format!("{repo}:blue"))).unwrap();
    assert!(!rt.block_on(r.exists(&format!("{repo}:blue"))).unwrap());
    assert!(!rt.block_on(r.exists(&format!("{repo}:1a2b3c4"))).unwrap());
    let e = rt.block_on(r.digest(&format!("{repo}:blue"))).unwrap_err();
    assert!(e.message.contains(&r.server()), "{}", e.render());
    rt.block_on(d.rmi(&id, true)).unwrap();
}

#[test]
fn login_push_tags_digest_pull_delete_locally_then_from_the_ssh_host() {
    let (rt, events) = runtime();

    // --- the laptop: local engine, ~/.docker/config.json written by r.login() ---
    let reg = registry::start();
    let d = rt.block_on(rt.docker(&rt.local())).unwrap();

    let wrong = open(&reg.addr, &reg.user, "not-the-password");
    let e = rt.block_on(wrong.login()).unwrap_err();
    assert!(e.message.contains(&reg.addr), "{}", e.render());
    assert!(e.message.contains("refused"), "{}", e.render());
    assert!(e.message.contains(&reg.user), "{}", e.render());
    assert!(!e.render().contains("not-the-password"));
    assert!(
        config_json()["auths"][&reg.addr].is_null(),
        "a refused login stored nothing"
    );

    // Pushing before login: the engine's refusal and a hint to log in.
    let anon_tag = format!("{}/{}:x", reg.addr, "anon/app");
    rt.block_on(d.tag(busybox(), &anon_tag)).unwrap();
    let e = rt.block_on(d.push(&anon_tag)).unwrap_err();
    assert!(
        e.hint.as_deref().unwrap_or("").contains("log in"),
        "{}",
        e.render()
    );
    rt.block_on(d.rmi(&anon_tag, false)).unwrap();

    let r = open(&reg.addr, &reg.user, &reg.password);
    rt.block_on(r.login()).unwrap();
    let auth = config_json()["auths"][&reg.addr]["auth"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(auth)
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        format!("{}:{}", reg.user, reg.password)
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(hoist::docker::credentials::local_config_path().unwrap())
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o077, 0, "config.json must be private");

    round_trip(&rt, &d, &r, &unique("lab/app").replace("hoist-test-", ""));
    // Push progress reached the reporter.
    assert!(events.0.lock().unwrap().iter().any(|e| matches!(e,
        hoist::report::Event::Progress { task, .. } if task.starts_with("push ") && task.contains(&reg.addr))));

    // Unknown repository, unreachable registry: named, with what the registry said.
    let e = rt.block_on(r.tags("no/such/repo")).unwrap_err();
    assert!(
        e.message.contains(&reg.addr) && e.message.contains("NAME_UNKNOWN"),
        "{}",
        e.render()
    );
    let port = support::free_port();
    let gone = open(&format!("127.0.0.1:{port}"), "u", "p");
    let e = rt.block_on(gone.tags("x")).unwrap_err();
    assert!(
        e.message.contains("cannot reach registry") && e.message.contains(&port.to_string()),
        "{}",
        e.render()
    );

    // --- the server: its engine over SSH, its own `docker login` ---
    let reg2 = registry::start();
    let host = rt.host(&HostSpec::parse(&sshd().spec(3)).unwrap());
    let d2 = rt.block_on(rt.docker(&host)).unwrap();
    assert!(d2.is_tunnelled());
    let r2 = open(&reg2.addr, &reg2.user, &reg2.password);
    let wrong2 = open(&reg2.addr, &reg2.user, "nope-nope");
    let e = rt.block_on(d2.login(&wrong2)).unwrap_err();
    assert_eq!(e.host.as_deref(), Some(host.name()));
    assert!(e.message.contains(&reg2.addr), "{}", e.render());
    assert!(!e.render().contains("nope-nope"));
    rt.block_on(d2.login(&r2))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    // The credentials are in the host's docker config (read through the host, as hoist
    // reads them for that engine's pushes and pulls).
    let remote_conf = rt.block_on(host.read("~/.docker/config.json")).unwrap();
    assert!(remote_conf.contains(&reg2.addr), "{remote_conf}");
    // The password never went through argv: the audit log has the command without it.
    let audit = std::fs::read_to_string(rt.services.audit_path().unwrap()).unwrap();
    assert!(audit.contains("--password-stdin"), "{audit}");
    assert!(!audit.contains(&reg2.password));
    // Engine actions are in the audit log too, with their host (a login is not an engine
    // action: it is the `docker login` command above, or a local credentials change).
    for action in ["\"docker push\"", "\"docker pull\"", "\"docker build\""] {
        assert!(audit.contains(action), "{action} not audited: {audit}");
    }

    round_trip(&rt, &d2, &r2, "team/web");
}

#[test]
fn registry_namespaces_and_password_sources() {
    let reg = registry::start();
    let (rt, _) = runtime();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), format!("{}\n", reg.password)).unwrap();
    let r = Registry::new(
        &format!("{}/lab/images", reg.addr),
        RegistryOpts {
            user: Some(reg.user.clone()),
            password_file: Some(file.path().to_path_buf()),
            ..Default::default()
        },
    )
    .unwrap();
    rt.block_on(r.verify()).unwrap();
    assert_eq!(
        r.image("app", "blue"),
        format!("{}/lab/images/app:blue", reg.addr)
    );
    // Anonymous access is refused by this registry, and says it needs a login.
    let anon = Registry::new(&reg.addr, RegistryOpts::default()).unwrap();
    let e = rt.block_on(anon.tags("lab/images/app")).unwrap_err();
    assert!(e.message.contains("needs a login"), "{}", e.render());
    let e = Registry::new(
        &reg.addr,
        RegistryOpts {
            user: Some("u".into()),
            password_env: Some("HOIST_TEST_SURELY_UNSET_VAR".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.message.contains("HOIST_TEST_SURELY_UNSET_VAR"),
        "{}",
        e.render()
    );
}
