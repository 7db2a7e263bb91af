//! The recipe author's shortcuts on a real host: capture, try_capture, append, remove,
//! env_file / set_env (read back by compose's own parser on the host), utc_stamp, and a
//! tunnel that closes itself even when its closure throws.

mod support;

use support::fleet::fleet;
use support::run_script;

#[test]
fn shortcuts_do_on_the_host_what_recipes_did_by_hand() {
    let f = fleet();
    let h = f.host(1);
    let dir = format!("/tmp/hoist-edits-{}", std::process::id());
    h.sh_ok(&format!(
        "mkdir -p {dir}/sub && printf '# settings\\nPORT=18403\\nIMAGE=app:v1\\nSECRET=x\\n' > {dir}/.env && chmod 600 {dir}/.env"
    ));
    let (rt, _) = f.runtime();
    let v = run_script(
        &rt,
        &format!(
            r#"
            let h = ssh("{spec}");
            let r = #{{}};
            r.cap = h.capture("printf 'a\nb\n\n'");
            r.try_ok = h.try_capture("echo yes");
            r.try_fail = h.try_capture("echo no; exit 3") ?? "fallback";
            try {{ h.capture("exit 4"); }} catch (e) {{ r.cap_err = e.code; }}
            h.append("{dir}/log", "one\n");
            h.append("{dir}/log", "two\n");
            r.changed = h.set_env("{dir}/.env", #{{IMAGE: "app:v2", NOTE: "a b $c"}});
            r.again = h.set_env("{dir}/.env", #{{IMAGE: "app:v2"}});
            r.env = h.env_file("{dir}/.env");
            r.missing_env = h.env_file("{dir}/none.env");
            r.removed = h.remove("{dir}/log");
            r.removed_again = h.remove("{dir}/log");
            try {{ h.remove("{dir}/sub"); }} catch (e) {{ r.dir_err = e.message; }}
            r.removed_dir = h.remove("{dir}/sub", #{{recursive: true}});
            r.stamp = utc_stamp();
            r.now = now();
            let port = 0;
            try {{
                h.with_tunnel(22, |t| {{ port = t.port; throw "inside"; }});
            }} catch (e) {{ r.thrown = e; }}
            r.port = port;
            r
            "#,
            spec = h.spec()
        ),
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    rt.shutdown();
    assert_eq!(v["cap"], "a\nb");
    assert_eq!(v["try_ok"], "yes");
    assert_eq!(v["try_fail"], "fallback");
    assert_eq!(v["cap_err"], 4);
    assert_eq!(v["changed"], true);
    assert_eq!(v["again"], false, "setting the same value is no change");
    assert_eq!(v["env"]["PORT"], "18403");
    assert_eq!(v["env"]["IMAGE"], "app:v2");
    assert_eq!(v["env"]["NOTE"], "a b $c");
    assert_eq!(v["missing_env"], serde_json::json!({}));
    // Read through the host: the other lines stay, in order.
    assert_eq!(
        h.read(&format!("{dir}/.env")),
        "# settings\nPORT=18403\nIMAGE=app:v2\nSECRET=x\nNOTE=\"a b \\$c\"\n"
    );
    // compose on the host reads the edited file as hoist meant it.
    let config = h.sh_ok(&format!(
        "cd {dir} && printf 'services:\\n  a:\\n    image: busybox\\n    environment:\\n      NV: ${{NOTE}}\\n      I: ${{IMAGE}}\\n' > c.yml && docker compose -f c.yml config"
    ));
    assert!(config.contains("I: app:v2"), "{config}");
    assert!(config.contains("NV: a b $$c"), "{config}");
    assert_eq!(v["removed"], true);
    assert_eq!(v["removed_again"], false);
    assert!(v["dir_err"].as_str().unwrap().contains("recursive"), "{v}");
    assert_eq!(v["removed_dir"], true);
    assert_eq!(h.sh(&format!("test -e {dir}/sub")).code, 1);
    assert_eq!(v["stamp"].as_str().unwrap().len(), 15, "{v}");
    assert!(v["now"].as_str().unwrap().ends_with('Z'), "{v}");
    assert_eq!(v["thrown"], "inside");
    let port = v["port"].as_i64().unwrap();
    assert!(port > 0);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port as u16)).is_err(),
        "the tunnel closed when its closure threw"
    );
    h.sh_ok(&format!("rm -rf {dir}"));
}
