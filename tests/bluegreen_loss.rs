//! Blue/green switches cost zero failed requests, on the test fleet: host1 (compose v2) and
//! host2 (compose v1) each run a real nginx in front of the app (tests/support/proxy.rs),
//! whose upstream `bluegreen` rewrites and reloads. A curl loop on each host against nginx's
//! published port runs through a switch to a new release, a `--switch-back`, and a release
//! that recreates the idle colour while the other one serves; every request must be answered,
//! and the new colour serve afterwards. Every check reads the hosts themselves.

mod support;

use std::process::Output;

use support::fleet::{FleetHost, OnDrop, fleet};
use support::load::Load;
use support::proxy::Proxy;

fn ok(o: &Output) -> String {
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(o.status.success(), "hoist failed:\n{out}\n{err}");
    out.into_owned()
}

#[test]
fn bluegreen_switches_lose_no_request_behind_nginx() {
    let f = fleet();
    f.login_hosts();
    let hosts: Vec<&FleetHost> = vec![f.host(1), f.host(2)];
    let pid = std::process::id();
    let app = format!("hlbgloss{pid}");
    let remote = format!("/tmp/hoist-bgloss-{pid}");
    let (blue, green, front) = (18461, 18462, 18460);
    let v1 = f.page_image(&format!("{app}:v1"), "v1");
    let v2 = f.page_image(&format!("{app}:v2"), "v2");
    let v3 = f.page_image(&format!("{app}:v3"), "v3");

    let proxies: Vec<Proxy> = hosts.iter().map(|h| Proxy::start(h, &app, front)).collect();
    let _clean = OnDrop(|| {
        for h in &hosts {
            for colour in ["blue", "green"] {
                h.remove_app(&format!("{app}-{colour}"), &format!("{remote}/{colour}"));
            }
            h.sh(&format!("rm -rf {remote} /root/.hoist/locks/{app}"));
        }
        support::images::remove_matching(&app);
    });
    // Same paths on both hosts: one run of the recipe switches both.
    let (conf, reload) = (proxies[0].upstream_conf(), proxies[0].reload_cmd());

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hoist.toml"),
        "[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let (bp, gp) = (blue.to_string(), green.to_string());
    let run = |extra: &[&str]| {
        let mut args = vec![
            "bluegreen",
            "--env",
            "test",
            "--app",
            &app,
            "--dir",
            &remote,
            "--blue-port",
            &bp,
            "--green-port",
            &gp,
            "--proxy-conf",
            &conf,
            "--reload",
            &reload,
            "--health-path",
            "/index.html",
            "--timeout",
            "30",
        ];
        args.extend_from_slice(extra);
        f.hoist_cmd(d).args(&args).output().unwrap()
    };
    let served = |p: &Proxy| p.h.get(&p.url("/index.html"));
    let live = |h: &FleetHost| h.read(&format!("{remote}/live")).trim().to_string();

    ok(&run(&["--image", &v1]));
    for p in &proxies {
        assert_eq!(served(p), "v1", "{}: nginx serves blue", p.h.name);
    }

    // (what the run does, its flags, the text served before and after, the colour after)
    let steps: [(&str, Vec<&str>, &str, &str, &str); 3] = [
        (
            "switch to a new release",
            vec!["--image", &v2],
            "v1",
            "v2",
            "green",
        ),
        ("switch back", vec!["--switch-back"], "v2", "v1", "blue"),
        // Green still runs v2: it is recreated with v3 while blue serves, then takes over.
        (
            "recreate the idle colour and switch",
            vec!["--image", &v3],
            "v1",
            "v3",
            "green",
        ),
    ];
    for (what, flags, before, after, colour) in steps {
        let loads: Vec<Load> = proxies
            .iter()
            .map(|p| Load::start(p.h, &p.url("/index.html"), &format!("{app}-{}", p.h.name)))
            .collect();
        let out = run(&flags);
        // Requests after the switch are part of it: old nginx workers finish theirs then.
        std::thread::sleep(std::time::Duration::from_secs(1));
        let seen: Vec<_> = loads.into_iter().map(Load::stop).collect();
        ok(&out);
        for (p, s) in proxies.iter().zip(&seen) {
            let h = p.h;
            eprintln!(
                "{what} on {} ({}): answered {}, failed {} ({} said {before}, {} said {after})",
                h.name,
                h.compose_cli(),
                s.answered,
                s.failed,
                s.said(before),
                s.said(after)
            );
            assert_eq!(s.failed, 0, "{}: {what} lost requests: {s:?}", h.name);
            assert!(
                s.said(before) > 0 && s.said(after) > 0,
                "{}: the loop ran across the switch ({what}): {s:?}",
                h.name
            );
            assert_eq!(
                s.answered,
                s.said(before) + s.said(after),
                "{}: only the two releases answered: {s:?}",
                h.name
            );
            assert_eq!(served(p), after, "{}: after {what}", h.name);
            assert_eq!(live(h), colour, "{}: after {what}", h.name);
            assert!(
                h.read(&conf).contains(&format!(
                    "127.0.0.1:{}",
                    if colour == "blue" { blue } else { green }
                )),
                "{}: {}",
                h.name,
                h.read(&conf)
            );
        }
    }
}
