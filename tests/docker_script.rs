//! The docker and registry primitives from Rhai, as recipes call them.

mod support;

use support::fleet::fleet;
use support::images::{busybox, unique};
use support::{run_script, runtime};

#[test]
fn script_builds_runs_lists_reads_logs_execs_and_removes_locally_and_over_ssh() {
    let base = busybox();
    let f = fleet();
    // The fleet server builds on its own engine: give it the base image under the same name.
    let pushed = f.push(base, "hoist-test/busybox:script");
    f.login_hosts();
    f.host(4).sh_ok(&format!(
        "docker pull -q {pushed} && docker tag {pushed} {base}"
    ));
    let (rt, _) = f.runtime();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!("FROM {base}\nRUN echo v1 > /version\n"),
    )
    .unwrap();
    for (label, engine) in [
        ("local", "docker()".to_string()),
        ("ssh", format!("ssh(\"{}\").docker()", f.host(4).spec())),
    ] {
        let tag = format!("{}:green", unique("script"));
        let name = unique(&format!("script-{label}"));
        let script = format!(
            r#"
            let d = {engine};
            let id = d.build("{dir}", #{{ tag: "{tag}", labels: #{{ "org.hoist.colour": "green" }} }});
            let c = d.run("{tag}", #{{
                name: "{name}",
                env: #{{ APP_SECRET: secret("s3cr3t-value"), MODE: "test" }},
                labels: #{{ "hoist.test": "{name}" }},
                command: ["sh", "-c", "echo started; exec httpd -f -p 8080 -h /www"],
            }});
            d.wait_healthy("{name}", 30);
            let rows = d.ps(#{{ label: "hoist.test={name}" }});
            let out = d.exec("{name}", "cat /version; echo $MODE $APP_SECRET");
            let failed = d.exec("{name}", ["sh", "-c", "exit 5"], #{{ check: false }});
            let bin = d.exec("{name}", ["sh", "-c", "printf '\\000\\200\\377A'"]).stdout_blob;
            let logs = d.logs("{name}", #{{ tail: 10 }});
            let ip = d.ip("{name}");
            let info = d.inspect("{name}");
            d.rm("{name}", #{{ force: true }});
            d.rmi("{tag}");
            #{{
                id: id, container: c, rows: rows, out: out.stdout, code: failed.code,
                bin: [bin.len(), bin[0], bin[1], bin[2], bin[3]],
                logs: logs, ip: ip, running: info.State.Running,
                left: d.ps(#{{ all: true, name: "{name}" }}).len(),
                host: d.host,
            }}
            "#,
            dir = dir.path().display(),
        );
        let v = run_script(&rt, &script).unwrap_or_else(|e| panic!("{}", e.render()));
        assert!(v["id"].as_str().unwrap().starts_with("sha256:"), "{v}");
        assert_eq!(v["rows"].as_array().unwrap().len(), 1, "{v}");
        let row = &v["rows"][0];
        for col in ["id", "name", "image", "state", "status", "ports", "labels"] {
            assert!(row.get(col).is_some(), "column {col} missing: {row}");
        }
        assert_eq!(row["name"], name.as_str());
        assert_eq!(row["state"], "running");
        assert_eq!(v["out"], "v1\ntest s3cr3t-value\n");
        assert_eq!(v["code"], 5);
        assert_eq!(
            v["bin"],
            serde_json::json!([4, 0, 128, 255, 65]),
            "binary exec output"
        );
        assert!(v["logs"].as_str().unwrap().contains("started"), "{v}");
        assert!(!v["ip"].as_str().unwrap().is_empty());
        assert_eq!(v["running"], true);
        assert_eq!(v["left"], 0);
        let want_host = if label == "local" {
            "local".to_string()
        } else {
            let spec = hoist::host::HostSpec::parse(&f.host(4).spec()).unwrap();
            rt.host(&spec).name().to_string()
        };
        assert_eq!(v["host"], want_host.as_str(), "{v}");
    }
}

#[test]
fn a_typod_option_key_is_an_error_naming_the_key_and_the_line() {
    let (rt, _) = runtime();
    let e = run_script(
        &rt,
        "let d = docker();\nd.run(\"x\", #{ nmae: \"web\" });\n",
    )
    .unwrap_err();
    assert!(e.message.contains("nmae"), "{}", e.render());
    assert!(e.message.contains("d.run()"), "{}", e.render());
    assert_eq!(e.kind, hoist::ErrorKind::Usage);
    assert_eq!(
        e.location.as_ref().map(|l| l.line),
        Some(2),
        "{}",
        e.render()
    );

    for (call, key) in [
        ("d.build(\".\", #{ tga: \"x\" })", "tga"),
        ("d.ps(#{ lable: \"x\" })", "lable"),
        ("d.logs(\"c\", #{ tial: 5 })", "tial"),
        ("d.exec(\"c\", \"ls\", #{ usr: \"me\" })", "usr"),
        ("registry(\"127.0.0.1:1\", #{ usr: \"me\" })", "usr"),
    ] {
        let e = run_script(&rt, &format!("let d = docker();\n{call};\n")).unwrap_err();
        assert!(e.message.contains(key), "{call}: {}", e.render());
        assert_eq!(e.kind, hoist::ErrorKind::Usage, "{call}");
    }
}

/// The PsyNet round trip: the laptop logs in and pushes to the fleet's registry (TLS with a test
/// CA, htpasswd auth); a separate server logs its own engine in and pulls.
#[test]
fn script_registry_login_push_and_the_server_pulls() {
    let f = fleet();
    let (rt, _) = f.runtime();
    let repo = format!("psynet/experiment{}", std::process::id());
    let script = format!(
        r#"
        let r = registry("{addr}", #{{ user: "{user}", password: secret("{pw}") }});
        r.login();
        let d = docker();
        let image = r.image("{repo}", "blue-1a2b3c4");
        d.tag("{base}", image);
        d.push(image);
        let server = ssh("{spec}").docker();
        server.login(r);
        let before = server.image_exists(image);
        server.pull(image);
        let pulled = server.image_exists(image);
        server.rmi(image);
        #{{ image: image, tags: r.tags("{repo}"), digest: r.digest(image), pulled: pulled, before: before,
           exists: r.exists("{repo}:nope") }}
        "#,
        addr = f.registry,
        user = f.registry_user,
        pw = f.registry_password,
        base = busybox(),
        spec = f.host(3).spec(),
    );
    let v = run_script(&rt, &script).unwrap_or_else(|e| panic!("{}", e.render()));
    assert_eq!(v["image"], format!("{}/{repo}:blue-1a2b3c4", f.registry));
    assert_eq!(v["tags"], serde_json::json!(["blue-1a2b3c4"]));
    assert!(v["digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(v["before"], false, "a separate server: it had no copy");
    assert_eq!(v["pulled"], true);
    assert_eq!(v["exists"], false);

    // A refused login from a script: the registry, the user, the script line.
    let e = run_script(
        &rt,
        &format!(
            "let r = registry(\"{}\", #{{ user: \"{}\", password: secret(\"wrong-pw\") }});\nr.login();\n",
            f.registry, f.registry_user
        ),
    )
    .unwrap_err();
    assert!(
        e.message.contains(&f.registry) && e.message.contains("refused"),
        "{}",
        e.render()
    );
    assert_eq!(e.location.as_ref().map(|l| l.line), Some(2));
    assert!(!e.render().contains("wrong-pw"));
}
