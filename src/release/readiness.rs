//! Whether a release's containers are ready — the decision a check makes from what the engine
//! says of each container, pure so that each way a release can fail is a unit test. A
//! release is ready when every service it runs has a container that is running, healthy when
//! it has a health check, and has stayed up (not restarted, started a while ago). It has
//! failed as soon as one container exits (unless its service is a one-shot others wait for),
//! dies, restarts, or turns unhealthy — never later, never quietly.

/// What the engine says of one container (read by [`super::check`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub service: String,
    pub name: String,
    /// created, running, paused, restarting, removing, exited, dead.
    pub state: String,
    pub exit_code: i64,
    /// "", starting, healthy, unhealthy.
    pub health: String,
    /// The last health probe's output, when it has one.
    pub health_output: String,
    pub restart_count: i64,
    /// Seconds it has been running (0 when not running).
    pub up_secs: f64,
    /// The image its configuration names.
    pub image: String,
}

/// A check's verdict at one moment.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Ready,
    /// Not yet: why (shown when the time runs out).
    Waiting(String),
    /// It will not become ready: the service and why.
    Failed {
        service: String,
        reason: String,
    },
}

/// How long a container must have been running, with no restart, to count as up: a process
/// that dies in its first seconds is caught here, not after it took traffic.
pub const SETTLE_SECS: f64 = 2.0;

/// The verdict for `expected` services given what the engine shows. `one_shots`: services
/// that may exit 0 (another service waits for them to complete). `baseline`: restart counts
/// when the check began (a restart since is a failure).
pub fn verdict(
    expected: &[String],
    seen: &[Seen],
    one_shots: &[String],
    baseline: &dyn Fn(&str) -> Option<i64>,
) -> Verdict {
    let mut waiting = Vec::new();
    for service in expected {
        let mine: Vec<&Seen> = seen.iter().filter(|c| &c.service == service).collect();
        if mine.is_empty() {
            waiting.push(format!("{service}: no container yet"));
            continue;
        }
        for c in mine {
            let fail = |reason: String| Verdict::Failed {
                service: service.clone(),
                reason,
            };
            let restarted = baseline(&c.name).is_some_and(|b| c.restart_count > b);
            match c.state.as_str() {
                "exited" if c.exit_code == 0 && one_shots.contains(service) => {}
                "exited" => {
                    return fail(format!(
                        "its container {} exited (exit code {})",
                        c.name, c.exit_code
                    ));
                }
                "dead" => return fail(format!("its container {} is dead", c.name)),
                "restarting" => {
                    return fail(format!(
                        "its container {} keeps restarting (last exit code {}, {} restart(s))",
                        c.name, c.exit_code, c.restart_count
                    ));
                }
                "running" if restarted => {
                    return fail(format!(
                        "its container {} restarted (last exit code {}, {} restart(s))",
                        c.name, c.exit_code, c.restart_count
                    ));
                }
                "running" if c.health == "unhealthy" => {
                    let out = c.health_output.trim();
                    return fail(if out.is_empty() {
                        format!("its container {} is unhealthy", c.name)
                    } else {
                        format!(
                            "its container {} is unhealthy; its health check said: {out}",
                            c.name
                        )
                    });
                }
                "running" if c.health == "starting" => {
                    waiting.push(format!("{}: health starting", c.name))
                }
                "running" if c.up_secs < SETTLE_SECS => {
                    waiting.push(format!("{}: up {:.0}s", c.name, c.up_secs))
                }
                "running" => {}
                other => waiting.push(format!("{}: {other}", c.name)),
            }
        }
    }
    if waiting.is_empty() {
        Verdict::Ready
    } else {
        Verdict::Waiting(waiting.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(service: &str, state: &str, health: &str) -> Seen {
        Seen {
            service: service.into(),
            name: format!("app-{service}-1"),
            state: state.into(),
            exit_code: 0,
            health: health.into(),
            health_output: String::new(),
            restart_count: 0,
            up_secs: 30.0,
            image: "reg/app@sha256:1".into(),
        }
    }

    fn v(expected: &[&str], seen: &[Seen]) -> Verdict {
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        verdict(&expected, seen, &["migrate".to_string()], &|_| Some(0))
    }

    fn failed(v: Verdict) -> String {
        match v {
            Verdict::Failed { service, reason } => format!("{service}: {reason}"),
            other => panic!("not failed: {other:?}"),
        }
    }

    #[test]
    fn running_and_healthy_services_are_ready() {
        assert_eq!(
            v(
                &["web", "db"],
                &[c("web", "running", "healthy"), c("db", "running", "")]
            ),
            Verdict::Ready
        );
    }

    #[test]
    fn an_image_healthcheck_or_a_compose_healthcheck_that_fails_is_a_failure_with_its_output() {
        let mut bad = c("web", "running", "unhealthy");
        bad.health_output = "wget: server returned error: HTTP/1.0 404 Not Found".into();
        assert_eq!(
            failed(v(&["web"], &[bad])),
            "web: its container app-web-1 is unhealthy; its health check said: wget: server returned error: HTTP/1.0 404 Not Found"
        );
    }

    #[test]
    fn a_container_that_exits_even_with_0_fails_unless_it_is_a_one_shot() {
        let mut gone = c("web", "exited", "");
        gone.exit_code = 3;
        assert!(failed(v(&["web"], &[gone])).contains("exited (exit code 3)"));
        assert!(failed(v(&["web"], &[c("web", "exited", "")])).contains("exit code 0"));
        assert_eq!(
            v(&["migrate"], &[c("migrate", "exited", "")]),
            Verdict::Ready
        );
        let mut bad_migration = c("migrate", "exited", "");
        bad_migration.exit_code = 1;
        assert!(failed(v(&["migrate"], &[bad_migration])).starts_with("migrate:"));
    }

    #[test]
    fn a_crash_loop_fails_whether_it_is_seen_restarting_or_up_again() {
        let mut looping = c("web", "restarting", "");
        looping.exit_code = 1;
        looping.restart_count = 2;
        assert!(failed(v(&["web"], &[looping])).contains("keeps restarting"));
        let mut again = c("web", "running", "");
        again.restart_count = 1;
        assert!(failed(v(&["web"], &[again])).contains("restarted"));
        assert!(failed(v(&["web"], &[c("web", "dead", "")])).contains("dead"));
    }

    #[test]
    fn starting_fresh_or_missing_containers_are_waited_for() {
        let mut fresh = c("web", "running", "");
        fresh.up_secs = 0.5;
        for (seen, why) in [
            (vec![c("web", "running", "starting")], "health starting"),
            (vec![fresh], "up 0s"),
            (vec![c("web", "created", "")], "created"),
            (vec![], "no container yet"),
        ] {
            match v(&["web"], &seen) {
                Verdict::Waiting(w) => assert!(w.contains(why), "{w}"),
                other => panic!("{other:?}"),
            }
        }
    }
}
