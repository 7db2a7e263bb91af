//! Requests lost while a release changes, on host1 (compose v2) and host2 (compose v1) at
//! once: a curl loop on each host against the app's published port (one new connection per
//! request, 2 s timeout; tests/support/load.rs) runs during each operation and one second
//! after it, and counts the requests answered and failed:
//!
//! - a good `deploy` (pre-flight passes, then compose recreates the live container),
//! - a bad `deploy` (the new image fails its HTTP check in the pre-flight: nothing changes),
//! - an `upgrade` to a new image,
//! - a `bluegreen` release and switch behind a real nginx (tests/support/proxy.rs), the loop
//!   going through nginx's port;
//! - the same app behind the host's front proxy (`--domain`, Caddy from Debian's package,
//!   scripts/caddy-image), the loop going through the proxy's port 80 with the app's `Host:`
//!   header: a good deploy, a bad one, an upgrade, `--rollback` and `--to`.
//!
//! Each good deploy's wall time is printed too (with and without `--domain`).
//!
//! Run: `cargo bench --bench request_loss` (starts the fleet: `scripts/fleet up 4`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};
use std::time::Duration;

use support::fleet::{FleetHost, OnDrop, fleet};
use support::load::{Load, Seen};
use support::proxy::Proxy;

const PORT: u16 = 18671;
const FRONT: u16 = 18672;
const BLUE: u16 = 18673;
const GREEN: u16 = 18674;

fn succeeded(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The loop's counts on each host while `op` runs (and one second after it).
fn under_load(hosts: &[&FleetHost], url: &str, name: &str, op: impl FnOnce()) -> Vec<Seen> {
    under_load_for(hosts, url, None, name, op)
}

/// [`under_load`] with a `Host:` header.
fn under_load_for(
    hosts: &[&FleetHost],
    url: &str,
    host: Option<&str>,
    name: &str,
    op: impl FnOnce(),
) -> Vec<Seen> {
    let loads: Vec<Load> = hosts
        .iter()
        .map(|h| Load::start_for(h, url, host, &format!("{name}-{}", h.name)))
        .collect();
    op();
    std::thread::sleep(Duration::from_secs(1));
    loads.into_iter().map(Load::stop).collect()
}

fn main() {
    let f = fleet();
    f.login_hosts();
    let hosts: Vec<&FleetHost> = vec![f.host(1), f.host(2)];
    let pid = std::process::id();
    let app = format!("hlloss{pid}");
    let bg = format!("hllossbg{pid}");
    let px = format!("hllosspx{pid}");
    let pxdir = format!("/tmp/hl-losspx-{pid}");
    let domain = format!("{px}.test");
    let caddy = support::caddy::image(f);
    let (dir, bgdir) = (
        format!("/tmp/hl-loss-{pid}"),
        format!("/tmp/hl-lossbg-{pid}"),
    );
    let proxies: Vec<Proxy> = hosts.iter().map(|h| Proxy::start(h, &bg, FRONT)).collect();
    let _clean = OnDrop(|| {
        for h in &hosts {
            h.remove_app(&app, &dir);
            for colour in ["blue", "green"] {
                h.remove_app(&format!("{bg}-{colour}"), &format!("{bgdir}/{colour}"));
            }
            h.sh(&format!("rm -rf {bgdir} /root/.hoist/locks/{bg}"));
            h.remove_app(&px, &pxdir);
            support::caddy::remove_proxy(h);
        }
        support::images::remove_matching(&px);
        support::images::remove_matching(&app);
        support::images::remove_matching(&bg);
    });

    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let home = tempfile::tempdir().unwrap();
    std::fs::write(
        w.join("hoist.toml"),
        format!(
            "[env.bench]\nvars = {{ registry = \"{}\" }}\n[env.bench.hosts]\nweb = [\"host1\", \"host2\"]\n",
            f.registry
        ),
    )
    .unwrap();
    std::fs::write(
        w.join("compose.yml"),
        format!("services:\n  web:\n    image: ${{IMAGE}}\n    ports:\n      - \"127.0.0.1:{PORT}:8080\"\n    stop_grace_period: 1s\n"),
    )
    .unwrap();
    std::fs::write(
        w.join("bluegreen.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:${PORT}:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let hoist = |args: &[&str]| -> Output {
        f.hoist_cmd(w)
            .env("HOME", home.path())
            .args(args)
            .output()
            .unwrap()
    };
    std::fs::write(
        w.join("routed.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    restart: unless-stopped\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let port = PORT.to_string();
    // `deploy` of `tag` (a bad one fails its HTTP check): the published-port app, or with
    // `routed` the app behind the proxy.
    let deploy_as = |tag: &str, good: bool, routed: bool| -> Output {
        let ctx = w.join("app");
        std::fs::create_dir_all(&ctx).unwrap();
        let layer = if good {
            "COPY index.html /www/index.html\n"
        } else {
            "RUN [\"rm\", \"/www/index.html\"]\n"
        };
        std::fs::write(
            ctx.join("Dockerfile"),
            format!("FROM {}\n{layer}", support::images::busybox()),
        )
        .unwrap();
        std::fs::write(ctx.join("index.html"), format!("{tag}\n")).unwrap();
        let mut args = vec![
            "deploy",
            "--watch",
            "0",
            "--env",
            "bench",
            "--user",
            &f.registry_user,
            "--context",
            "app",
            "--tag",
            tag,
            "--health-path",
            "/index.html",
            "--timeout",
            "20",
        ];
        if routed {
            args.extend([
                "--app",
                &px,
                "--dir",
                &pxdir,
                "--compose",
                "routed.yml",
                "--domain",
                &domain,
                "--drain",
                "5",
                "--proxy-image",
                &caddy,
            ]);
        } else {
            args.extend(["--app", &app, "--dir", &dir, "--health-port", &port]);
        }
        hoist(&args)
    };
    let deploy = |tag: &str, good: bool| deploy_as(tag, good, false);
    let timed = |what: &str, op: &dyn Fn() -> Output| {
        let t = std::time::Instant::now();
        succeeded(&op(), what);
        t.elapsed()
    };
    let (conf, reload) = (proxies[0].upstream_conf(), proxies[0].reload_cmd());
    let (bp, gp) = (BLUE.to_string(), GREEN.to_string());
    let bluegreen = |image: &str| -> Output {
        hoist(&[
            "bluegreen",
            "--env",
            "bench",
            "--app",
            &bg,
            "--dir",
            &bgdir,
            "--compose",
            "bluegreen.yml",
            "--image",
            image,
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
        ])
    };
    let served = |url: &str, want: &str| {
        for h in &hosts {
            assert_eq!(h.get(url), want, "{}: {url}", h.name);
        }
    };
    let app_url = format!("http://127.0.0.1:{PORT}/index.html");
    let front_url = proxies[0].url("/index.html");

    let uptime = || {
        String::from_utf8_lossy(&Command::new("uptime").output().unwrap().stdout)
            .trim()
            .to_string()
    };
    println!("load before: {}", uptime());
    // The live releases the operations replace.
    succeeded(&deploy("v1", true), "the first deploy");
    let bg1 = f.page_image(&format!("{bg}:v1"), "v1");
    let bg2 = f.page_image(&format!("{bg}:v2"), "v2");
    succeeded(&bluegreen(&bg1), "the first bluegreen release");
    served(&front_url, "v1");

    let mut rows: Vec<(&str, Vec<Seen>)> = Vec::new();
    let mut plain_secs = 0.0;
    let seen = under_load(&hosts, &app_url, &app, || {
        plain_secs = timed("the good deploy", &|| deploy("v2", true)).as_secs_f64();
    });
    served(&app_url, "v2");
    rows.push(("good deploy", seen));

    let seen = under_load(&hosts, &app_url, &app, || {
        let o = deploy("v3", false);
        assert_eq!(o.status.code(), Some(1), "the bad deploy must fail");
    });
    served(&app_url, "v2");
    rows.push(("bad deploy (fails its check)", seen));

    let up = f.page_image(&format!("{app}:v4"), "v4");
    let seen = under_load(&hosts, &app_url, &app, || {
        succeeded(
            &hoist(&[
                "upgrade",
                "--watch",
                "0",
                "--env",
                "bench",
                "--app",
                &app,
                "--dir",
                &dir,
                "--image",
                &up,
                "--health-port",
                &port,
                "--health-path",
                "/index.html",
                "--timeout",
                "20",
            ]),
            "the upgrade",
        )
    });
    served(&app_url, "v4");
    rows.push(("upgrade", seen));

    let seen = under_load(&hosts, &front_url, &bg, || {
        succeeded(&bluegreen(&bg2), "the bluegreen switch")
    });
    served(&front_url, "v2");
    rows.push(("bluegreen switch (nginx)", seen));

    // Behind the front proxy.
    for h in &hosts {
        support::caddy::remove_proxy(h);
    }
    succeeded(&deploy_as("p1", true, true), "the first deploy --domain");
    let px_url = "http://127.0.0.1/index.html";
    let through = |want: &str| {
        for h in &hosts {
            assert_eq!(
                support::caddy::through(h, &domain, "/index.html"),
                want,
                "{}",
                h.name
            );
        }
    };
    through("p1");
    let mut routed_secs = 0.0;
    let seen = under_load_for(&hosts, px_url, Some(&domain), &px, || {
        routed_secs =
            timed("the good deploy --domain", &|| deploy_as("p2", true, true)).as_secs_f64();
    });
    through("p2");
    rows.push(("good deploy --domain", seen));
    let seen = under_load_for(&hosts, px_url, Some(&domain), &px, || {
        let o = deploy_as("p3", false, true);
        assert_eq!(
            o.status.code(),
            Some(1),
            "the bad deploy --domain must fail"
        );
    });
    through("p2");
    rows.push(("bad deploy --domain", seen));
    let pup = f.page_image(&format!("{px}:p4"), "p4");
    let upgrade_px = |extra: &[&str]| {
        let mut args = vec![
            "upgrade",
            "--watch",
            "0",
            "--env",
            "bench",
            "--app",
            &px,
            "--dir",
            &pxdir,
            "--health-path",
            "/index.html",
            "--timeout",
            "20",
            "--drain",
            "5",
        ];
        args.extend_from_slice(extra);
        hoist(&args)
    };
    let seen = under_load_for(&hosts, px_url, Some(&domain), &px, || {
        succeeded(&upgrade_px(&["--image", &pup]), "the upgrade --domain")
    });
    through("p4");
    rows.push(("upgrade --domain", seen));
    let seen = under_load_for(&hosts, px_url, Some(&domain), &px, || {
        succeeded(&upgrade_px(&["--rollback"]), "the rollback --domain")
    });
    through("p2");
    rows.push(("rollback --domain", seen));
    let seen = under_load_for(&hosts, px_url, Some(&domain), &px, || {
        succeeded(&upgrade_px(&["--to", "r1"]), "--to r1 --domain")
    });
    through("p1");
    rows.push(("--to r1 --domain", seen));

    println!(
        "requests during each operation (curl loop on the host; published port, nginx, or Caddy with Host:): answered / failed"
    );
    println!(
        "  {:<30} {:<20} {:<20}",
        "operation", "host1 (compose v2)", "host2 (compose v1)"
    );
    for (what, seen) in &rows {
        println!("  {what:<30} {:<20} {:<20}", seen[0].cell(), seen[1].cell());
    }
    println!(
        "good deploy wall time on both hosts: {plain_secs:.1} s published port, {routed_secs:.1} s --domain (x{:.2})",
        routed_secs / plain_secs.max(0.001)
    );
    println!("load after: {}", uptime());
}
