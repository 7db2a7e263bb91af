//! A lost controller never leaves a host down. `kill -9` of hoist (as a laptop that sleeps or
//! a dropped VPN would leave it) at several moments of `deploy` and `upgrade`, and a network
//! cut of a host mid-cutover: each host finishes the switch it started or returns to the
//! recorded live release on its own (its guard), so 10 s later the app answers on every host,
//! the live record names what runs, no pre-flight is left — and, once the host has settled,
//! no lock and no guard either. Re-running the same command afterwards converges. Host1 runs
//! compose v2, host2 v1; every check reads the hosts.

mod support;

use std::time::{Duration, Instant};

use support::fleet::FleetHost;
use support::release_app::{ReleaseApp, base_compose, ok, text};

/// SIGKILL to hoist's pid: no handler runs, its connections die with it.
fn kill9(run: &std::process::Child) {
    // SAFETY: kill(2) on the pid of a child this test spawned.
    unsafe { libc::kill(run.id() as libc::pid_t, libc::SIGKILL) };
}

/// Poll `cond` until it holds; fails with `what` and the run's output if the run ends first
/// or `secs` pass.
fn until(what: &str, secs: u64, run: &mut std::process::Child, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if cond() {
            return;
        }
        if let Some(status) = run.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = run.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the run ended ({status}) before {what}:\n{err}");
        }
        assert!(Instant::now() < deadline, "{what}: not within {secs}s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every container of the app on `h` runs the image its live record pins (what answers is
/// what the records say is live).
fn runs_what_is_recorded(a: &ReleaseApp, h: &FleetHost) -> Result<String, String> {
    let live = h.live_release(&a.remote_dir);
    let pinned = live["pinned"].as_str().unwrap_or_default().to_string();
    let seen = a.containers(h);
    let bad: Vec<&str> = seen
        .lines()
        .filter(|l| !l.ends_with(&format!("{pinned} running")))
        .collect();
    if seen.is_empty() || !bad.is_empty() {
        return Err(format!(
            "live {} pins {pinned}; containers:\n{seen}",
            live["id"]
        ));
    }
    Ok(live["id"].as_str().unwrap_or_default().to_string())
}

/// After a lost run: within 10 s every host answers (one of the releases) and runs what its
/// live record names; within 30 s no pre-flight, no lock and no guard of the app are left. (A
/// pre-flight publishes no port: one that lingers while its guard's undo stops it serves no
/// user, and under load that stop can outlast 10 s.)
fn settled(a: &ReleaseApp, pages: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for h in &a.hosts {
        loop {
            let page = h.get(&format!("http://127.0.0.1:{}/index.html", a.port));
            let state = runs_what_is_recorded(a, h);
            if pages.contains(&page.as_str()) && state.is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: 10 s after the run was lost: serves `{page}`, {state:?}",
                h.name
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    for h in &a.hosts {
        while (a.locked_on(h) || a.guards_left(h).contains(&a.app) || !a.no_preflight_left(h))
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(250));
        }
        assert!(
            a.no_preflight_left(h),
            "{}: a pre-flight is left 30 s after the run was lost",
            h.name
        );
        assert!(!a.locked_on(h), "{}: the lost run's lock is left", h.name);
        assert!(
            !a.guards_left(h).contains(&a.app),
            "{}: guards left: {}",
            h.name,
            a.guards_left(h)
        );
        let left = h.sh("pgrep -af hoist-guard || true").stdout;
        assert!(
            !left.contains(&a.app),
            "{}: a guard watcher is left: {left}",
            h.name
        );
    }
}

/// A slow stop (busybox httpd ignores SIGTERM): a recreate takes seconds, a window to be lost in.
fn slow_stopping(a: &ReleaseApp) {
    a.compose(&base_compose(a.port).replace("stop_grace_period: 1s", "stop_grace_period: 3s"));
}

#[test]
fn kill_9_mid_cutover_of_a_deploy_leaves_every_host_serving_what_its_records_say() {
    // Not alongside the test that cuts a host off.
    let _up = support::fleet::fleet().hosts_up();
    let a = ReleaseApp::new("rlkill", 19703, &[1, 2]);
    slow_stopping(&a);
    a.version("one", "");
    ok(&a.deploy("v1", &[]));
    a.version("two", "");
    let mut run = a.spawn_deploy("v2", &[]);
    // The cutover has begun on both hosts once their live record names v2 (compose then
    // recreates the container, stopping the old one for its grace period): kill there.
    let v2 = a.image("v2");
    until("both hosts began the cutover", 180, &mut run, || {
        a.hosts
            .iter()
            .all(|h| h.live_release(&a.remote_dir)["image"] == v2.as_str())
    });
    std::thread::sleep(Duration::from_millis(500));
    kill9(&run);
    run.wait().unwrap();
    let lost = Instant::now();
    settled(&a, &["one", "two"]);
    eprintln!("settled {:?} after the kill", lost.elapsed());
    // Re-running the same command converges: v2 goes live everywhere.
    ok(&a.deploy("v2", &[]));
    assert_eq!(a.served(), "two");
}

#[test]
fn kill_9_during_the_preflight_leaves_no_preflight_and_the_live_release_untouched() {
    // Not alongside the test that cuts a host off.
    let _up = support::fleet::fleet().hosts_up();
    let a = ReleaseApp::new("rlkpre", 19704, &[1, 2]);
    a.version("one", "");
    ok(&a.deploy("v1", &[]));
    let before: Vec<String> = a.hosts.iter().map(|h| a.container_ids(h, &a.app)).collect();
    // A release whose health never settles: its pre-flight stays up until the timeout.
    a.version(
        "two",
        "HEALTHCHECK --interval=1h --start-period=1h CMD true",
    );
    let mut run = a.spawn_deploy("v2", &["--timeout", "120"]);
    until("both hosts run the pre-flight", 180, &mut run, || {
        a.hosts.iter().all(|h| {
            !a.container_ids(h, &format!("{}-preflight", a.app))
                .is_empty()
        })
    });
    kill9(&run);
    run.wait().unwrap();
    settled(&a, &["one"]);
    for (h, ids) in a.hosts.iter().zip(&before) {
        assert_eq!(
            &a.container_ids(h, &a.app),
            ids,
            "{}: the live containers were touched",
            h.name
        );
        assert_eq!(h.live_release(&a.remote_dir)["id"], "r1", "{}", h.name);
    }
}

#[test]
fn kill_9_mid_cutover_of_an_upgrade_and_a_rerun_converges() {
    // Not alongside the test that cuts a host off.
    let _up = support::fleet::fleet().hosts_up();
    let a = ReleaseApp::new("rlkup", 19705, &[1, 2]);
    slow_stopping(&a);
    a.version("one", "");
    ok(&a.deploy("v1", &[]));
    a.f.login_hosts();
    let v2 = a.f.page_image(&format!("{}:v2", a.app), "two");
    use std::os::unix::process::CommandExt;
    let mut run = a
        .upgrade_cmd(&["--image", &v2])
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    until("both hosts began the cutover", 180, &mut run, || {
        a.hosts
            .iter()
            .all(|h| h.live_release(&a.remote_dir)["image"] == v2.as_str())
    });
    std::thread::sleep(Duration::from_millis(500));
    kill9(&run);
    run.wait().unwrap();
    settled(&a, &["one", "two"]);
    let o = a.upgrade(&["--image", &v2]);
    ok(&o);
    assert_eq!(a.served(), "two", "{}", text(&o));
}

#[test]
fn a_host_cut_off_mid_cutover_answers_and_the_next_run_takes_over_its_lock() {
    let f = support::fleet::fleet();
    let _alone = f.exclusive();
    let a = ReleaseApp::new("rlcut", 19706, &[1, 2]);
    slow_stopping(&a);
    a.version("one", "");
    ok(&a.deploy("v1", &[]));
    a.version("two", "");
    let mut run = a.spawn_deploy("v2", &["--timeout", "20"]);
    let v2 = a.image("v2");
    until("both hosts began the cutover", 180, &mut run, || {
        a.hosts
            .iter()
            .all(|h| h.live_release(&a.remote_dir)["image"] == v2.as_str())
    });
    let h2 = f.host(2);
    let cut = f.fault("cut", h2);
    let cut_at = Instant::now();
    let out = run.wait_with_output().unwrap();
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "host2 was cut off: {said}");
    assert!(said.contains("host2"), "{said}");
    // The cut host goes on by itself: 10 s after the cut it answers, and runs what its
    // records say (the switch it started finished, or it went back).
    std::thread::sleep(Duration::from_secs(10).saturating_sub(cut_at.elapsed()));
    let page = h2.get(&format!("http://127.0.0.1:{}/index.html", a.port));
    assert!(
        page == "one" || page == "two",
        "host2 serves `{page}` 10 s after the cut"
    );
    runs_what_is_recorded(&a, h2).unwrap();
    assert!(a.no_preflight_left(h2));
    assert_eq!(
        a.served_within("two", 1).split(" | ").next(),
        Some("two"),
        "host1 finished"
    );
    drop(cut);
    // The lost run's lock on host2 belongs to a process that is gone from this controller:
    // the next run takes it over, settles what the lost run left armed there, and converges.
    // (Or finds it free: host2's guard may have finished and given the lock back first.)
    let o = a.deploy("v2", &[]);
    let said = ok(&o);
    assert!(
        said.contains("host2: took over the lock") || !said.contains("lock"),
        "{said}"
    );
    assert_eq!(a.served(), "two");
    for h in &a.hosts {
        runs_what_is_recorded(&a, h).unwrap();
        assert!(!a.locked_on(h), "{}", h.name);
        assert!(
            !a.guards_left(h).contains(&a.app),
            "{}: {}",
            h.name,
            a.guards_left(h)
        );
    }
}
