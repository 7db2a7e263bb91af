//! The docker primitives against the real engines: this machine's, and a fleet server's own
//! engine reached through its SSH connection (the socket forwarded by the ssh master).

mod support;

use hoist::sensitive::SecretOr;
use std::sync::Arc;
use std::time::Duration;

use hoist::docker::{BuildOpts, Docker, ExecOpts, LogsOpts, PsOpts, RmOpts, RunOpts};
use hoist::host::HostSpec;
use hoist::secret::Secret;
use support::fleet::fleet;
use support::images::{busybox, unique};
use support::runtime;

/// The local engine and fleet host1's engine, both from the run's cache; the test image is in
/// both under the same name (host1 pulled it from the fleet registry).
fn engines() -> (Arc<hoist::Runtime>, Vec<Docker>) {
    let f = fleet();
    let image = f.push(busybox(), "hoist-test/busybox:docker");
    f.login_hosts();
    f.host(1).sh_ok(&format!(
        "docker pull -q {image} && docker tag {image} {}",
        busybox()
    ));
    let (rt, _) = f.runtime();
    let ssh = rt.host(&HostSpec::parse(&f.host(1).spec()).unwrap());
    let local = rt.local();
    let d_local = rt.block_on(rt.docker(&local)).unwrap();
    let d_ssh = rt.block_on(rt.docker(&ssh)).unwrap();
    (rt, vec![d_local, d_ssh])
}

fn exec_opts() -> ExecOpts {
    ExecOpts {
        check: true,
        ..Default::default()
    }
}

#[test]
fn run_ps_logs_exec_inspect_ip_health_stop_rm_on_local_and_ssh() {
    let image = busybox();
    let (rt, engines) = engines();
    for d in &engines {
        let name = unique("life");
        let label = format!("hoist.test={name}");
        let opts = RunOpts {
            name: Some(name.clone()),
            command: Some(hoist::docker::CommandSpec::Line(
                "sh -c 'echo hello-out; echo hello-err >&2; exec httpd -f -p 8080 -h /www'".into(),
            )),
            env: Some(hoist::docker::EnvSpec::Map(
                [
                    ("GREETING".to_string(), SecretOr::Plain("hi there".into())),
                    ("N".to_string(), SecretOr::Plain("3".into())),
                ]
                .into(),
            )),
            labels: [("hoist.test".to_string(), name.clone())].into(),
            restart: Some("unless-stopped".into()),
            cap_drop: vec!["NET_RAW".into()],
            ..Default::default()
        };
        let id = rt.block_on(d.run(image, &opts)).unwrap();
        assert_eq!(id.len(), 64, "a full container id: {id}");

        // ps finds it by label and by name, with the columns a table needs.
        let rows = rt
            .block_on(d.ps(&PsOpts {
                label: Some(hoist::docker::OneOrMany::One(label.clone())),
                ..Default::default()
            }))
            .unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!(rows[0].name, name);
        assert_eq!(rows[0].image, image);
        assert_eq!(rows[0].state, "running");
        assert_eq!(rows[0].labels.get("hoist.test"), Some(&name));
        assert!(rows[0].status.starts_with("Up"), "{}", rows[0].status);

        rt.block_on(d.wait_healthy(&name, Duration::from_secs(30)))
            .unwrap_or_else(|e| panic!("on {}: {}", d.host_name(), e.render()));

        // Logs: both streams, tail honoured.
        let logs = rt.block_on(d.logs(&name, &LogsOpts::default())).unwrap();
        assert!(
            logs.contains("hello-out") && logs.contains("hello-err"),
            "{logs:?}"
        );
        let tail = rt
            .block_on(d.logs(
                &name,
                &LogsOpts {
                    tail: Some(1),
                    since: Some(serde_json::json!("1h")),
                    ..Default::default()
                },
            ))
            .unwrap();
        assert_eq!(tail.lines().count(), 1, "{tail:?}");

        // exec: the same Output as a host's run, stdout and stderr apart.
        let argv = |s: &str| vec!["sh".to_string(), "-c".to_string(), s.to_string()];
        let out = rt
            .block_on(d.exec(
                &name,
                &argv("cat /www/health; echo \"$GREETING $N\""),
                &exec_opts(),
            ))
            .unwrap();
        assert_eq!(out.stdout, "ok\nhi there 3\n");
        // Bytes stay bytes: every value 0..=255 comes back as written.
        let every: Vec<u8> = (0..=255u8).collect();
        let format: String = every.iter().map(|b| format!("\\{b:03o}")).collect();
        let out = rt
            .block_on(d.exec(&name, &["printf".to_string(), format], &exec_opts()))
            .unwrap();
        assert_eq!(out.stdout_bytes(), &every[..]);
        let e = rt
            .block_on(d.exec(&name, &argv("echo a\0b"), &exec_opts()))
            .unwrap_err();
        assert!(
            e.message.contains("argument 2 of `sh` contains a NUL byte"),
            "{e}"
        );
        let out = rt
            .block_on(d.exec(
                &name,
                &argv("echo out; echo err >&2; exit 3"),
                &ExecOpts::default(),
            ))
            .unwrap();
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (3, "out\n", "err\n")
        );
        let e = rt
            .block_on(d.exec(&name, &argv("echo nope >&2; exit 4"), &exec_opts()))
            .unwrap_err();
        assert_eq!(e.exit_code, Some(4));
        assert!(e.message.contains(&name), "{}", e.render());
        assert!(e.stderr_tail.as_deref().unwrap_or("").contains("nope"));
        let out = rt
            .block_on(d.exec(
                &name,
                &argv("pwd; id -u; tr a-z A-Z; echo $TOKEN"),
                &ExecOpts {
                    user: Some("1234".into()),
                    workdir: Some("/www".into()),
                    stdin: Some(Secret::new("from stdin\n")),
                    env: vec![("TOKEN".into(), Secret::new("t0k3n"))],
                    check: true,
                },
            ))
            .unwrap();
        assert_eq!(out.stdout, "/www\n1234\nFROM STDIN\nt0k3n\n");

        // inspect and ip: the web server answers on the container's address.
        let info = rt.block_on(d.inspect(&name)).unwrap();
        assert_eq!(info.state.as_ref().unwrap().running, Some(true));
        assert_eq!(
            info.host_config.as_ref().unwrap().cap_drop,
            Some(vec!["NET_RAW".to_string()])
        );
        let ip = rt.block_on(d.ip(&name, None)).unwrap();
        assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
        assert_eq!(rt.block_on(d.ip(&name, Some("bridge"))).unwrap(), ip);
        // The container's address is on its engine's host: ask from there.
        let body = if d.is_tunnelled() {
            fleet().host(1).get(&format!("http://{ip}:8080/index.html"))
        } else {
            http_get(&format!("{ip}:8080"), "/index.html")
        };
        assert!(body.contains("hello from hoist"), "{body}");

        // stop / start / restart / rm.
        rt.block_on(d.stop(&name, Some(1))).unwrap();
        rt.block_on(d.stop(&name, Some(1))).unwrap(); // already stopped: fine
        let running = rt
            .block_on(d.ps(&PsOpts {
                name: Some(name.clone()),
                ..Default::default()
            }))
            .unwrap();
        assert!(running.is_empty(), "{running:?}");
        let all = rt
            .block_on(d.ps(&PsOpts {
                all: true,
                name: Some(name.clone()),
                ..Default::default()
            }))
            .unwrap();
        assert_eq!(all[0].state, "exited");
        rt.block_on(d.start(&name)).unwrap();
        rt.block_on(d.restart(&name)).unwrap();
        let e = rt.block_on(d.rm(&name, &RmOpts::default())).unwrap_err();
        assert!(
            e.hint.as_deref().unwrap_or("").contains("force"),
            "{}",
            e.render()
        );
        rt.block_on(d.rm(
            &name,
            &RmOpts {
                force: true,
                volumes: true,
            },
        ))
        .unwrap();
        let e = rt.block_on(d.inspect(&name)).unwrap_err();
        assert!(e.message.contains("no such container"), "{}", e.render());
        assert_eq!(e.host.as_deref(), Some(d.host_name()));
    }
}

fn http_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(addr) {
            let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n");
            let mut body = String::new();
            let _ = s.read_to_string(&mut body);
            if !body.is_empty() {
                return body;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no answer from {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn remote_engine_traffic_goes_through_the_forwarded_socket_of_the_ssh_master() {
    let f = fleet();
    let image = f.push(busybox(), "hoist-test/busybox:tunnel");
    f.login_hosts();
    let host = f.host(2);
    host.sh_ok(&format!("docker pull -q {image}"));
    let (rt, _) = f.runtime();
    let ssh = rt.host(&HostSpec::parse(&host.spec()).unwrap());
    let d = rt.block_on(rt.docker(&ssh)).unwrap();
    assert!(d.is_tunnelled());
    let path = d
        .endpoint()
        .strip_prefix("unix://")
        .expect("a unix socket endpoint")
        .to_string();
    assert_ne!(path, "/var/run/docker.sock");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&path).unwrap().file_type().is_socket());
    // The run keeps one engine per host: a second docker() reuses the tunnel.
    let again = rt.block_on(rt.docker(&ssh)).unwrap();
    assert_eq!(again.endpoint(), d.endpoint());

    // The process listening on that socket is the host's ssh ControlMaster.
    let ss = std::process::Command::new("ss")
        .args(["-xlp"])
        .output()
        .expect("ss (iproute2) is needed to show who listens on the socket");
    let ss = String::from_utf8_lossy(&ss.stdout);
    let line = ss
        .lines()
        .find(|l| l.contains(&path))
        .unwrap_or_else(|| panic!("nobody listens on {path}:\n{ss}"));
    assert!(line.contains("\"ssh\""), "not the ssh master: {line}");

    // What hoist starts through that socket runs on host2's own engine: host2's docker CLI
    // sees it; neither host1's engine nor this machine's has it.
    let name = unique("tunnel");
    let opts = RunOpts {
        name: Some(name.clone()),
        ..Default::default()
    };
    rt.block_on(d.run(&image, &opts)).unwrap();
    let on =
        |h: &support::fleet::FleetHost| h.sh_ok(&format!("docker ps -q --filter name=^{name}$"));
    assert_ne!(on(host), "", "host2's engine runs it");
    assert_eq!(on(f.host(1)), "", "host1's engine does not");
    let local = rt.block_on(rt.docker(&rt.local())).unwrap();
    assert!(!local.is_tunnelled());
    assert_eq!(local.endpoint(), "unix:///var/run/docker.sock");
    let here = rt
        .block_on(local.ps(&PsOpts {
            name: Some(name.clone()),
            all: true,
            ..Default::default()
        }))
        .unwrap();
    assert!(here.is_empty(), "this machine's engine does not: {here:?}");
    rt.block_on(d.rm(
        &name,
        &RmOpts {
            force: true,
            ..Default::default()
        },
    ))
    .unwrap();
    assert_eq!(on(host), "");
}

#[test]
fn build_honours_dockerignore_tags_labels_args_and_target() {
    let base = busybox();
    let (rt, engines) = engines();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(
        p.join("Dockerfile.app"),
        format!(
            "FROM {base} AS first\nARG GREETING=none\nRUN echo \"$GREETING\" > /greeting\nCOPY . /ctx\n\
             FROM first AS second\nRUN echo second > /stage\n"
        ),
    )
    .unwrap();
    std::fs::write(p.join("keep.txt"), "kept").unwrap();
    std::fs::write(p.join("secret.env"), "TOKEN=x").unwrap();
    std::fs::create_dir(p.join("node_modules")).unwrap();
    std::fs::write(p.join("node_modules/big.js"), "x").unwrap();
    std::fs::write(p.join(".dockerignore"), "*.env\nnode_modules\n").unwrap();
    for d in &engines {
        let t1 = format!("{}:blue", unique("build"));
        let t2 = format!("{}:1a2b3c4", unique("build"));
        let id = rt
            .block_on(d.build(
                p,
                &BuildOpts {
                    tags: vec![t1.clone(), t2.clone()],
                    dockerfile: Some("Dockerfile.app".into()),
                    build_args: [("GREETING".to_string(), "hello arg".to_string())].into(),
                    labels: [("org.hoist.colour".to_string(), "blue".to_string())].into(),
                    target: Some("first".into()),
                    ..Default::default()
                },
            ))
            .unwrap_or_else(|e| panic!("{}", e.render()));
        assert!(id.starts_with("sha256:"), "{id}");
        assert_eq!(rt.block_on(d.image_id(&t1)).unwrap(), id);
        assert_eq!(rt.block_on(d.image_id(&t2)).unwrap(), id);
        let img = rt.block_on(d.api().inspect_image(&t1)).unwrap();
        let labels = img.config.unwrap().labels.unwrap();
        assert_eq!(
            labels.get("org.hoist.colour").map(String::as_str),
            Some("blue")
        );

        let name = unique("built");
        rt.block_on(d.run(
            &t1,
            &RunOpts {
                name: Some(name.clone()),
                ..Default::default()
            },
        ))
        .unwrap();
        let out = rt
            .block_on(d.exec(
                &name,
                &[
                    "sh".into(),
                    "-c".into(),
                    "cat /greeting; ls -a /ctx; ls /stage 2>&1 || true".into(),
                ],
                &exec_opts(),
            ))
            .unwrap();
        assert!(out.stdout.starts_with("hello arg\n"), "{}", out.stdout);
        assert!(out.stdout.contains("keep.txt") && out.stdout.contains("Dockerfile.app"));
        assert!(
            !out.stdout.contains("secret.env"),
            "ignored file sent: {}",
            out.stdout
        );
        assert!(
            !out.stdout.contains("node_modules"),
            "ignored dir sent: {}",
            out.stdout
        );
        assert!(
            out.stdout.contains("No such file"),
            "target stage not honoured: {}",
            out.stdout
        );
        rt.block_on(d.rm(
            &name,
            &RmOpts {
                force: true,
                volumes: false,
            },
        ))
        .unwrap();

        // Progress went to the reporter as events.
        rt.block_on(d.rmi(&t2, false)).unwrap();
        assert!(!rt.block_on(d.image_exists(&t2)).unwrap());
        rt.block_on(d.rmi(&t1, true)).unwrap();
    }
}

#[test]
fn build_progress_is_reported_as_events() {
    let base = busybox();
    let (rt, events) = runtime();
    let d = rt.block_on(rt.docker(&rt.local())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {base}\nRUN echo built\n"),
    )
    .unwrap();
    let tag = format!("{}:1", unique("progress"));
    rt.block_on(d.build(
        dir.path(),
        &BuildOpts {
            tag: Some(tag.clone()),
            no_cache: true,
            ..Default::default()
        },
    ))
    .unwrap();
    let ev = events.0.lock().unwrap();
    let task = format!("build {tag}");
    let steps: Vec<(String, Option<u64>, Option<u64>)> = ev
        .iter()
        .filter_map(|e| match e {
            hoist::report::Event::Progress {
                task: t,
                status,
                current,
                total,
                ..
            } if *t == task => Some((status.clone(), *current, *total)),
            _ => None,
        })
        .collect();
    assert!(
        steps
            .iter()
            .any(|(s, c, t)| s.starts_with("Step 2/2") && *c == Some(2) && *t == Some(2)),
        "{steps:?}"
    );
    assert!(steps.iter().any(|(s, _, _)| s == "built"), "{steps:?}");
    assert!(
        ev.iter()
            .any(|e| matches!(e, hoist::report::Event::ProgressDone { task: t, .. } if *t == task))
    );
    drop(ev);
    rt.block_on(d.rmi(&tag, true)).unwrap();
}

#[test]
fn bad_input_gives_clear_errors() {
    let base = busybox();
    let (rt, engines) = engines();
    for d in &engines {
        let host = d.host_name().to_string();
        // A missing Dockerfile.
        let empty = tempfile::tempdir().unwrap();
        let e = rt
            .block_on(d.build(empty.path(), &BuildOpts::default()))
            .unwrap_err();
        assert!(e.message.contains("no Dockerfile at"), "{}", e.render());
        assert_eq!(e.kind, hoist::ErrorKind::Usage);

        // A build that fails at step 3: the step, the engine's message, the step's output.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Dockerfile"),
            format!(
                "FROM {base}\nRUN echo fine\nRUN echo boom-output >&2; exit 7\nRUN echo never\n"
            ),
        )
        .unwrap();
        let e = rt
            .block_on(d.build(
                dir.path(),
                &BuildOpts {
                    tag: Some(format!("{}:x", unique("fails"))),
                    ..Default::default()
                },
            ))
            .unwrap_err();
        let text = e.render();
        assert!(e.message.contains("Step 3/4"), "{text}");
        assert!(e.message.contains("returned a non-zero code: 7"), "{text}");
        assert!(
            e.stderr_tail
                .as_deref()
                .unwrap_or("")
                .contains("boom-output"),
            "{text}"
        );
        assert_eq!(e.host.as_deref(), Some(host.as_str()));

        // An unknown image.
        let e = rt
            .block_on(d.run("hoist-test/no-such-image:42", &RunOpts::default()))
            .unwrap_err();
        assert!(
            e.message.contains("hoist-test/no-such-image:42"),
            "{}",
            e.render()
        );
        assert!(
            e.message.to_lowercase().contains("no such image"),
            "{}",
            e.render()
        );
        assert!(
            e.hint.as_deref().unwrap_or("").contains("d.pull"),
            "{}",
            e.render()
        );

        // A port already taken on the engine's host: the engine's message, a hint, and no
        // container left behind.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut port = taken.local_addr().unwrap().port();
        if d.is_tunnelled() {
            port = 18499;
            fleet().host(1).sh_ok(&format!(
                "nohup python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & \
                 for i in $(seq 50); do curl -s -o /dev/null 127.0.0.1:{port} && exit 0; sleep 0.1; done; exit 1"
            ));
        }
        let name = unique("port");
        let e = rt
            .block_on(d.run(
                base,
                &RunOpts {
                    name: Some(name.clone()),
                    ports: vec![format!("127.0.0.1:{port}:8080")],
                    ..Default::default()
                },
            ))
            .unwrap_err();
        assert!(
            e.message.contains("address already in use"),
            "{}",
            e.render()
        );
        assert!(
            e.hint.as_deref().unwrap_or("").contains("port"),
            "{}",
            e.render()
        );
        let left = rt
            .block_on(d.ps(&PsOpts {
                all: true,
                name: Some(name.clone()),
                ..Default::default()
            }))
            .unwrap();
        assert!(left.is_empty(), "container left behind: {left:?}");
        drop(taken);
        if d.is_tunnelled() {
            fleet()
                .host(1)
                .sh(&format!("pkill -f 'http.server {port}'"));
        }

        // A bad port spec and a bad restart policy are usage errors before anything runs.
        let e = rt
            .block_on(d.run(
                base,
                &RunOpts {
                    ports: vec!["web".into()],
                    ..Default::default()
                },
            ))
            .unwrap_err();
        assert_eq!(e.kind, hoist::ErrorKind::Usage, "{}", e.render());

        // exec into a stopped container.
        let name = unique("stopped");
        rt.block_on(d.run(
            base,
            &RunOpts {
                name: Some(name.clone()),
                command: Some(hoist::docker::CommandSpec::Argv(vec!["true".into()])),
                ..Default::default()
            },
        ))
        .unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while rt
            .block_on(d.inspect(&name))
            .unwrap()
            .state
            .unwrap()
            .running
            == Some(true)
        {
            assert!(std::time::Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(100));
        }
        let e = rt
            .block_on(d.exec(&name, &["ls".into()], &exec_opts()))
            .unwrap_err();
        assert!(e.message.contains("is not running"), "{}", e.render());
        assert!(e.message.contains(&name), "{}", e.render());
        assert!(
            e.hint.as_deref().unwrap_or("").contains("start"),
            "{}",
            e.render()
        );
        // wait_healthy on an exited container fails at once, not at the timeout.
        let started = std::time::Instant::now();
        let e = rt
            .block_on(d.wait_healthy(&name, Duration::from_secs(60)))
            .unwrap_err();
        assert!(e.message.contains("exited"), "{}", e.render());
        assert!(started.elapsed() < Duration::from_secs(10));
        rt.block_on(d.rm(&name, &RmOpts::default())).unwrap();

        // A container that does not exist.
        let e = rt.block_on(d.stop("hoist-test-nobody", None)).unwrap_err();
        assert!(
            e.message.contains("hoist-test-nobody") && e.message.contains(&host),
            "{}",
            e.render()
        );
    }
}

#[test]
fn networks_and_volumes_ensure_list_remove() {
    let (rt, engines) = engines();
    for d in &engines {
        let net = unique("net");
        assert!(
            rt.block_on(d.ensure_network(&net, &Default::default()))
                .unwrap()
        );
        assert!(
            !rt.block_on(d.ensure_network(&net, &Default::default()))
                .unwrap()
        );
        assert!(
            rt.block_on(d.networks())
                .unwrap()
                .iter()
                .any(|n| n.name == net && n.driver == "bridge")
        );
        let vol = unique("vol");
        assert!(
            rt.block_on(d.ensure_volume(&vol, &Default::default()))
                .unwrap()
        );
        assert!(
            !rt.block_on(d.ensure_volume(&vol, &Default::default()))
                .unwrap()
        );
        assert!(
            rt.block_on(d.volumes())
                .unwrap()
                .iter()
                .any(|v| v.name == vol)
        );

        // A container on that network with that volume: its IP on the network, data kept.
        let name = unique("netvol");
        rt.block_on(d.run(
            busybox(),
            &RunOpts {
                name: Some(name.clone()),
                network: Some(net.clone()),
                volumes: vec![format!("{vol}:/data")],
                ..Default::default()
            },
        ))
        .unwrap();
        let ip = rt.block_on(d.ip(&name, Some(&net))).unwrap();
        assert!(ip.parse::<std::net::Ipv4Addr>().is_ok(), "{ip}");
        let e = rt.block_on(d.ip(&name, Some("bridge"))).unwrap_err();
        assert!(
            e.message.contains("no IP address on network bridge"),
            "{}",
            e.render()
        );
        rt.block_on(d.exec(
            &name,
            &["sh".into(), "-c".into(), "echo kept > /data/f".into()],
            &exec_opts(),
        ))
        .unwrap();
        // In use: removing the volume fails with the engine's reason.
        let e = rt.block_on(d.remove_volume(&vol, false)).unwrap_err();
        assert!(
            e.message.contains(&vol) && e.message.contains("in use"),
            "{}",
            e.render()
        );
        rt.block_on(d.rm(
            &name,
            &RmOpts {
                force: true,
                volumes: false,
            },
        ))
        .unwrap();
        assert!(rt.block_on(d.remove_volume(&vol, false)).unwrap());
        assert!(!rt.block_on(d.remove_volume(&vol, false)).unwrap());
        assert!(rt.block_on(d.remove_network(&net)).unwrap());
        assert!(!rt.block_on(d.remove_network(&net)).unwrap());
    }
}
