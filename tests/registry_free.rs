//! Registry-free image moves on the test fleet: `docker().send(image, h)` loads a locally built
//! image into a fleet host's own engine over hoist's SSH connection, sending only the layers
//! the host lacks. Every check reads the host's engine through the host.

mod support;

use support::fleet::fleet;
use support::run_script;

/// Build a local image serving `text` over a 1 MB layer (the same for a given seed); its id.
fn build(tag: &str, blob_seed: u32, text: &str) -> String {
    support::images::with_blob_layer(tag, blob_seed, 1_000_000, text);
    let o = std::process::Command::new("docker")
        .args(["image", "inspect", "-f", "{{.Id}}", tag])
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn an_image_moves_to_a_host_without_a_registry_and_only_missing_layers_travel() {
    let f = fleet();
    let h = f.host(2);
    let repo = format!("hoist-test/rf{}", std::process::id());
    let (v1, v2) = (format!("{repo}:v1"), format!("{repo}:v2"));
    let _cleanup = support::fleet::OnDrop(|| {
        h.sh(&format!("docker rmi -f {v1} {v2}"));
    });
    let pid = std::process::id();
    let id1 = build(&v1, pid, &format!("one {pid}"));
    let send = |image: &str| {
        let (rt, _) = f.runtime();
        run_script(
            &rt,
            &format!(r#"docker().send("{image}", ssh("{}"))"#, h.spec()),
        )
        .unwrap_or_else(|e| panic!("{}", e.render()))
    };
    let first = send(&v1);
    assert_eq!(
        h.sh_ok(&format!("docker image inspect -f '{{{{.Id}}}}' {v1}")),
        id1,
        "the host's engine has the same image"
    );
    assert_eq!(
        h.sh_ok(&format!("docker run --rm {v1} cat /www/index.html")),
        format!("one {pid}")
    );
    assert_eq!(first["up_to_date"], false);
    let total = first["layers_sent"].as_i64().unwrap() + first["layers_skipped"].as_i64().unwrap();
    assert!(first["layers_sent"].as_i64().unwrap() >= 2, "{first}");
    assert!(first["bytes"].as_i64().unwrap() > 1_000_000, "{first}");

    // One layer changed: only it travels (the base's chain is on the host now).
    let id2 = build(&v2, pid, &format!("two {pid}"));
    let second = send(&v2);
    assert_eq!(second["layers_sent"], 1, "{second}");
    assert_eq!(
        second["layers_skipped"].as_i64().unwrap(),
        total - 1,
        "{second}"
    );
    assert!(
        second["bytes"].as_i64().unwrap() < 100_000,
        "the 1 MB layer travelled again: {second}"
    );
    assert_eq!(
        h.sh_ok(&format!("docker image inspect -f '{{{{.Id}}}}' {v2}")),
        id2
    );
    assert_eq!(
        h.sh_ok(&format!("docker run --rm {v2} cat /www/index.html")),
        format!("two {pid}")
    );

    // Nothing to do the second time.
    assert_eq!(send(&v2)["up_to_date"], true);

    // A dry run plans the send and loads nothing.
    h.sh_ok(&format!("docker rmi {v2}"));
    let (rt, _) = f.runtime();
    rt.services.effects().set_mode(hoist::effect::Mode::Plan);
    run_script(
        &rt,
        &format!(r#"docker().send("{v2}", ssh("{}"))"#, h.spec()),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    let plan = rt.services.effects().plan();
    assert_eq!(plan.changes.len(), 1, "{:?}", plan.changes);
    assert!(
        plan.changes[0]
            .change
            .summary()
            .starts_with(&format!("send {v2} from local (1 of {total} layers")),
        "{}",
        plan.changes[0].change.summary()
    );
    assert_eq!(
        h.sh(&format!("docker image inspect {v2}")).code,
        1,
        "loaded in a dry run"
    );

    // An image this machine does not have is named.
    let (rt, _) = f.runtime();
    let e = run_script(
        &rt,
        &format!(r#"docker().send("{repo}:nope", ssh("{}"))"#, h.spec()),
    )
    .unwrap_err();
    assert!(
        e.render()
            .contains(&format!("{repo}:nope is not an image of local's engine")),
        "{}",
        e.render()
    );
}

#[test]
fn deploy_with_no_registry_sends_the_image_and_serves_it_on_v1_and_v2_hosts() {
    let f = fleet();
    let hosts = [f.host(1), f.host(2)];
    let pid = std::process::id();
    let app = format!("rfdeploy{pid}");
    let remote = format!("/tmp/hoist-rf-{pid}");
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let _cleanup = support::fleet::OnDrop(|| {
        for h in hosts {
            h.remove_app(&app, &remote);
            h.sh(&format!("docker images -q {app} | xargs -r docker rmi -f"));
        }
    });
    // No registry anywhere: not in hoist.toml, not on the command line.
    std::fs::write(
        dir.path().join("hoist.toml"),
        "[env.test.hosts]\nweb = [\"host1\", \"host2\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("compose.yml"),
        "services:\n  web:\n    image: ${IMAGE}\n    ports:\n      - \"127.0.0.1:18651:8080\"\n    stop_grace_period: 1s\n",
    )
    .unwrap();
    let ctx = support::images::page_context(dir.path(), "");
    let deploy = |tag: &str, text: &str, extra: &[&str]| {
        std::fs::write(ctx.join("index.html"), format!("{text}\n")).unwrap();
        f.hoist_cmd(dir.path())
            .env("HOME", home.path())
            .args([
                "deploy",
                "--watch",
                "0",
                "--env",
                "test",
                "--app",
                &app,
                "--dir",
                &remote,
                "--context",
                "app",
                "--tag",
                tag,
            ])
            .args(extra)
            .output()
            .unwrap()
    };
    // Without --no-registry, a missing registry is named before anything happens.
    let o = deploy("r1", "one", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--no-registry"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    for (tag, text) in [("r1", format!("one {pid}")), ("r2", format!("two {pid}"))] {
        let o = deploy(tag, &text, &["--no-registry"]);
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        for h in hosts {
            assert_eq!(
                h.get("http://127.0.0.1:18651/index.html"),
                text,
                "{}",
                h.name
            );
            // An image sent without a registry has no repo digest: the release pins its image
            // ID (the same on every host: save/load keeps it), and the record says so.
            let id = h.sh_ok(&format!(
                "docker image inspect -f '{{{{.Id}}}}' {app}:{tag}"
            ));
            assert!(id.starts_with("sha256:"), "{id}");
            let live = h.live_release(&remote);
            assert_eq!(
                (
                    live["image"].as_str(),
                    live["pinned"].as_str(),
                    live["pin"].as_str()
                ),
                (
                    Some(format!("{app}:{tag}").as_str()),
                    Some(id.as_str()),
                    Some("image-id")
                ),
                "{}: {live}",
                h.name
            );
            assert_eq!(
                h.sh_ok(&format!(
                    "docker inspect -f '{{{{.Config.Image}}}}' $(docker ps -q --filter label=com.docker.compose.project={app})"
                )),
                id
            );
        }
    }
    // Back to the first: pinned by its ID, which is still in the hosts' engines.
    let o = f
        .hoist_cmd(dir.path())
        .env("HOME", home.path())
        .args([
            "upgrade",
            "--watch",
            "0",
            "--env",
            "test",
            "--app",
            &app,
            "--dir",
            &remote,
            "--rollback",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for h in hosts {
        assert_eq!(
            h.get("http://127.0.0.1:18651/index.html"),
            format!("one {pid}"),
            "{}",
            h.name
        );
    }
}
