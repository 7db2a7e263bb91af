//! A rollback restores the whole release, not only its image: the compose file and env files
//! each release ran are kept byte for byte on the host, so going back brings back the files
//! (an env value, a service the later release added goes away) — on compose v2 (host1) and v1
//! (host2). `hoist releases --compare` says what changed between two releases, never an env
//! value; kept files are pruned past --keep-releases, and a release whose files are gone is
//! refused before anything changes.

mod support;

use support::fleet::FleetHost;
use support::release_app::{ReleaseApp, ok, text};

fn compose(port: u16, side: bool) -> String {
    let mut c = format!(
        "services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{port}:8080\"\n    environment:\n      MODE: ${{MODE}}\n    stop_grace_period: 1s\n"
    );
    if side {
        c.push_str("  side:\n    image: ${IMAGE}\n    command: [\"sleep\", \"3600\"]\n    healthcheck:\n      disable: true\n    stop_grace_period: 1s\n");
    }
    c
}

fn mode(a: &ReleaseApp, h: &FleetHost) -> String {
    h.sh_ok(&format!(
        "docker ps -q --filter label=com.docker.compose.project={} --filter label=com.docker.compose.service=web | xargs -I{{}} docker exec {{}} sh -c 'echo $MODE'",
        a.app
    ))
}

fn services(a: &ReleaseApp, h: &FleetHost) -> String {
    h.sh_ok(&format!(
        "docker ps --filter label=com.docker.compose.project={} --format '{{{{.Label \"com.docker.compose.service\"}}}}' | sort | tr '\\n' ' '",
        a.app
    ))
}

#[test]
fn rollback_and_to_restore_the_image_the_env_and_the_services_each_release_ran() {
    let a = ReleaseApp::new("rlrest", 19702, &[1, 2]);
    let env = a.dir.path().join("app.env");
    // r1: one service, MODE=a.
    std::fs::write(&env, "MODE=a\n").unwrap();
    a.compose(&compose(a.port, false));
    a.version("one", "");
    ok(&a.deploy("v1", &["--env-files", "app.env"]));
    // r2: a second service, MODE=b, another image.
    std::fs::write(&env, "MODE=b\n").unwrap();
    a.compose(&compose(a.port, true));
    a.version("two", "");
    ok(&a.deploy("v2", &["--env-files", "app.env"]));
    for h in &a.hosts {
        assert_eq!(
            (mode(&a, h), services(&a, h)),
            ("b".into(), "side web".into()),
            "{}",
            h.name
        );
    }
    assert_eq!(a.served(), "two");

    // --rollback: r1's image, r1's files: MODE=a, no `side`.
    ok(&a.upgrade(&["--rollback"]));
    assert_eq!(a.served(), "one");
    for h in &a.hosts {
        assert_eq!(
            (mode(&a, h), services(&a, h)),
            ("a".into(), "web".into()),
            "{}",
            h.name
        );
        assert_eq!(
            h.read(&format!("{}/app.env", a.remote_dir)),
            "MODE=a\n",
            "{}",
            h.name
        );
        assert_eq!(
            h.read(&format!("{}/docker-compose.yml", a.remote_dir)),
            compose(a.port, false),
            "{}: the compose file r1 ran, byte for byte",
            h.name
        );
        let live = h.live_release(&a.remote_dir);
        assert_eq!(live["id"], "r1", "{}", h.name);
        // Kept copies are private.
        let modes = h.sh_ok(&format!(
            "stat -c '%a' {d}/.hoist/releases {d}/.hoist/releases/* | sort -u | tr '\\n' ' '",
            d = a.remote_dir
        ));
        assert_eq!(modes, "600 700", "{}", h.name);
    }

    // What changed from r1 to r2: the image, the compose file line by line, the env file by key.
    let o = a
        .cmd(&[
            "releases",
            "--env",
            "test",
            "--app",
            &a.app,
            "--dir",
            &a.remote_dir,
            "--compare",
            "r1",
            "r2",
        ])
        .output()
        .unwrap();
    let said = ok(&o);
    assert!(
        said.contains("r1 → r2")
            && said.contains(&format!("image: {}", a.image("v1")))
            && said.contains("+  side:")
            && said.contains("~ MODE (value changed)"),
        "{said}"
    );
    assert!(
        !said.contains("MODE=a") && !said.contains("MODE=b"),
        "an env value was shown: {said}"
    );

    // --to r2 brings r2's files back too.
    ok(&a.upgrade(&["--to", "r2"]));
    for h in &a.hosts {
        assert_eq!(
            (mode(&a, h), services(&a, h)),
            ("b".into(), "side web".into()),
            "{}",
            h.name
        );
    }
    assert_eq!(a.served(), "two");

    // Past --keep-releases the files of old releases go (never the live one's): going back to
    // one of them is refused before anything changes.
    std::fs::write(&env, "MODE=c\n").unwrap();
    a.compose(&compose(a.port, false));
    a.version("three", "");
    ok(&a.deploy("v3", &["--env-files", "app.env", "--keep-releases", "1"]));
    let o = a.upgrade(&["--to", "r1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("the files of release r1") && text(&o).contains("no longer kept"),
        "{}",
        text(&o)
    );
    assert_eq!(a.served(), "three");
    for h in &a.hosts {
        assert_eq!(mode(&a, h), "c", "{}", h.name);
        let kept = h.sh_ok(&format!("ls {}/.hoist/releases | wc -l", a.remote_dir));
        assert_eq!(kept, "2", "{}: r3's compose file and env file only", h.name);
    }
}

/// Checks passed once prove little about the minute after: a release that dies after its
/// cutover, inside the watch window, is rolled back at once and recorded as failed, with why.
#[test]
fn a_release_that_fails_while_watched_is_rolled_back_and_recorded_as_failed() {
    let a = ReleaseApp::new("rlwatch", 19707, &[1, 2]);
    a.version("one", "");
    ok(&a.deploy("v1", &[]));
    // Serves well for 15 s (its pre-flight and cutover checks pass), then crashes.
    a.version(
        "two",
        "CMD [\"sh\", \"-c\", \"httpd -f -p 8080 -h /www & sleep 15; echo out of memory >&2; exit 1\"]",
    );
    let o = a.deploy("v2", &["--watch", "60"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(1), "{said}");
    assert!(
        said.contains("failed while watched")
            && said.contains("exited (exit code 1)")
            && said.contains("rolled back to r1")
            && said.contains("out of memory"),
        "{said}"
    );
    assert_eq!(a.served(), "one");
    for h in &a.hosts {
        let recs = h.releases(&a.remote_dir);
        assert_eq!(recs[0]["outcome"], "live", "{}: {recs:?}", h.name);
        assert_eq!(recs[1]["outcome"], "failed", "{}: {recs:?}", h.name);
        let note = recs[1]["note"].as_str().unwrap();
        assert!(
            note.contains("failed while watched") && note.contains("exited"),
            "{note}"
        );
        assert!(!a.locked_on(h));
    }
}
