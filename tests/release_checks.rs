//! A release that fails a check never takes traffic — every way a pre-flight can fail, on a
//! compose v2 host (host1) and a v1 host (host2) at once, with a request loop on each host
//! against the live port: the broken release must answer no request and no request may fail,
//! the live containers are never touched, nothing of the pre-flight is left, and the error
//! names the service, why, and its last log lines. (The previous engine let every failure but
//! the HTTP check's through: a `try/catch` ending a Rhai closure yields `()`.)

mod support;

use support::load::Load;
use support::release_app::{ReleaseApp, base_compose, ok, text};

/// One way to fail: what the image adds, what the compose file adds to `web`, and words the
/// error must contain.
struct Broken {
    name: &'static str,
    dockerfile: &'static str,
    compose: &'static str,
    said: &'static [&'static str],
}

const BROKEN: &[Broken] = &[
    // The image's own HEALTHCHECK (wget /health) fails: the page is served, /health is gone.
    Broken {
        name: "image-healthcheck",
        dockerfile: "RUN [\"rm\", \"/www/health\"]",
        compose: "",
        said: &["unhealthy", "its health check said"],
    },
    // The compose file's healthcheck fails (the image is fine).
    Broken {
        name: "compose-healthcheck",
        dockerfile: "",
        compose: "    healthcheck:\n      test: [\"CMD\", \"false\"]\n      interval: 1s\n      retries: 2\n",
        said: &["unhealthy"],
    },
    // The container exits at once.
    Broken {
        name: "exits",
        dockerfile: "CMD [\"sh\", \"-c\", \"echo giving up >&2; exit 3\"]",
        compose: "",
        said: &["exited (exit code 3)", "giving up"],
    },
    // It crashes and its restart policy starts it again, and again.
    Broken {
        name: "crash-loop",
        dockerfile: "CMD [\"sh\", \"-c\", \"sleep 1; echo crashed >&2; exit 1\"]",
        compose: "    restart: always\n    healthcheck:\n      disable: true\n",
        said: &["restart", "crashed"],
    },
    // It runs but never listens: only the HTTP check can tell.
    Broken {
        name: "never-listens",
        dockerfile: "CMD [\"sleep\", \"3600\"]",
        compose: "    healthcheck:\n      disable: true\n",
        said: &["HTTP check never passed", "--- probe ---"],
    },
    // Its health never settles within the timeout.
    Broken {
        name: "timeout",
        dockerfile: "",
        compose: "    healthcheck:\n      test: [\"CMD\", \"true\"]\n      interval: 1h\n      start_period: 1h\n",
        said: &["not ready after"],
    },
];

#[test]
fn a_release_that_fails_any_check_never_answers_a_request_on_v1_or_v2() {
    let a = ReleaseApp::new("rlchk", 19701, &[1, 2]);
    a.version("good-v1", "");
    ok(&a.deploy("v1", &[]));
    assert_eq!(a.served(), "good-v1");
    let before: Vec<String> = a.hosts.iter().map(|h| a.container_ids(h, &a.app)).collect();

    for (i, b) in BROKEN.iter().enumerate() {
        let page = format!("bad-{}", b.name);
        a.version(&page, b.dockerfile);
        a.compose(&format!("{}{}", base_compose(a.port), b.compose));
        let url = format!("http://127.0.0.1:{}/index.html", a.port);
        let loops: Vec<Load> = a
            .hosts
            .iter()
            .map(|h| Load::start(h, &url, &format!("{}-{}", a.app, b.name)))
            .collect();
        let out = a.deploy(&format!("bad{i}"), &["--timeout", "12"]);
        let seen: Vec<_> = loops.into_iter().map(Load::stop).collect();
        let said = text(&out);
        eprintln!(
            "{}: (answered, failed, answered by the bad release) per host: {:?}",
            b.name,
            seen.iter()
                .map(|s| (s.answered, s.failed, s.said(&page)))
                .collect::<Vec<_>>()
        );
        assert_eq!(out.status.code(), Some(1), "{}: {said}", b.name);
        for (s, h) in seen.iter().zip(&a.hosts) {
            assert!(s.answered > 0, "{} on {}: the loop ran", b.name, h.name);
            assert_eq!(
                s.said(&page),
                0,
                "{} on {}: the broken release answered: {said}",
                b.name,
                h.name
            );
            assert_eq!(
                s.failed, 0,
                "{} on {}: a request failed ({:?}): {said}",
                b.name, h.name, s.failures
            );
        }
        assert!(
            said.contains("service web") && said.contains("failed its pre-flight check"),
            "{}: {said}",
            b.name
        );
        for w in b.said {
            assert!(
                said.contains(w),
                "{}: the error does not say `{w}`:\n{said}",
                b.name
            );
        }
        for (h, ids) in a.hosts.iter().zip(&before) {
            assert_eq!(
                &a.container_ids(h, &a.app),
                ids,
                "{}: the live containers were touched on {}",
                b.name,
                h.name
            );
            assert!(
                a.no_preflight_left(h),
                "{}: pre-flight left on {}",
                b.name,
                h.name
            );
            assert!(!a.locked_on(h), "{}: lock left on {}", b.name, h.name);
            let live = h.live_release(&a.remote_dir);
            assert_eq!(
                live["image"],
                a.image("v1").as_str(),
                "{}: {}",
                b.name,
                h.name
            );
            let recs = h.releases(&a.remote_dir);
            let last = recs.last().unwrap();
            assert_eq!(
                last["outcome"], "failed",
                "{}: {}: {recs:?}",
                b.name, h.name
            );
            assert_eq!(last["image"], a.image(&format!("bad{i}")).as_str());
        }
        assert_eq!(a.served(), "good-v1", "{}", b.name);
    }
    // A good release still goes through, and the first compose file serves again.
    a.version("good-v2", "");
    a.compose(&base_compose(a.port));
    ok(&a.deploy("v2", &[]));
    assert_eq!(a.served(), "good-v2");
}
