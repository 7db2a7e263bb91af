//! Recipe parameters are typed by their defaults (or a declared type): every flag is read as
//! its parameter's type before the recipe runs, and a bad one is exit 2 naming the flag and
//! what was expected. Runs the real binary on the local machine.

use std::path::Path;
use std::process::Output;

fn hoist(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env("NO_COLOR", "1")
        .env_remove("HOIST_ENV")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run hoist")
}

fn both(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn value(o: &Output) -> serde_json::Value {
    assert!(o.status.success(), "{}", both(o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    last["value"].clone()
}

const TYPED: &str = "//! Every kind of parameter.\n\
    //! @param port = 8080            an int\n\
    //! @param ratio = 0.5            a float\n\
    //! @param cmd = \"\"               a string\n\
    //! @param on = false             a bool\n\
    //! @param services: array        required, a list\n\
    //! @param ports = [80]           a list of ints\n\
    //! @param labels = {}            a map\n\
    //! @param user = ()              optional\n\
    #{port: vars.port, ratio: vars.ratio, cmd: vars.cmd, on: vars.on, services: vars.services,\n\
      ports: vars.ports, labels: vars.labels, user: vars.user ?? \"none\",\n\
      types: [type_of(vars.port), type_of(vars.ratio), type_of(vars.cmd), type_of(vars.on)]}\n";

fn project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hoist.toml"),
        "[env.dev]\nvars = { ratio = 2 }\n[env.dev.hosts]\nweb = [\"local\"]\n",
    )
    .unwrap();
    std::fs::create_dir(d.path().join("recipes")).unwrap();
    std::fs::write(d.path().join("recipes/typed.rhai"), TYPED).unwrap();
    d
}

#[test]
fn flags_are_read_as_their_parameters_types() {
    let p = project();
    let v = value(&hoist(
        p.path(),
        &[
            "typed",
            "--services",
            "web,worker",
            "--services",
            "db",
            "--cmd",
            "true",
            "--on",
            "--port",
            "81",
            "--ports",
            "80,443",
            "--labels",
            "a=1,b=two",
            "--json",
        ],
    ));
    assert_eq!(
        v,
        serde_json::json!({
            "port": 81, "ratio": 2.0, "cmd": "true", "on": true,
            "services": ["web", "worker", "db"], "ports": [80, 443],
            "labels": {"a": "1", "b": "two"}, "user": "none",
            "types": ["i64", "f64", "string", "bool"]
        }),
        "the inventory's ratio = 2 is read as the float parameter it names"
    );
    let v = value(&hoist(
        p.path(),
        &[
            "typed",
            "--services=[\"a,b\"]",
            "--on",
            "false",
            "--user",
            "me",
            "--json",
        ],
    ));
    assert_eq!(
        (v["services"].clone(), v["on"].clone(), v["user"].clone()),
        (
            serde_json::json!(["a,b"]),
            serde_json::json!(false),
            serde_json::json!("me")
        )
    );
}

#[test]
fn a_bad_value_is_exit_2_naming_the_flag_and_what_was_expected() {
    let p = project();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--services", "a", "--port", "18301x"],
            "recipe `typed`: --port `18301x`: expected an integer (its default is 8080)",
        ),
        (
            &["--services", "a", "--port", "1m"],
            "--port `1m`: expected an integer",
        ),
        (
            &["--services", "a", "--ratio", "fast"],
            "--ratio `fast`: expected a number",
        ),
        (
            &["--services", "a", "--on", "maybe"],
            "--on `maybe`: expected true or false",
        ),
        (
            &["--services", "a", "--ports", "80,http"],
            "--ports: item `http` is not an integer",
        ),
        (
            &["--services", "a", "--labels", "novalue"],
            "--labels `novalue`: expected a map",
        ),
        (
            &["--services", "a", "--cmd"],
            "--cmd needs a value: a string",
        ),
        (&[], "recipe `typed` needs --services (a list"),
        (
            &["--services", "a", "--set", "port=x"],
            "--set port: --port `x`: expected an integer",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["typed"];
        all.extend_from_slice(args);
        let o = hoist(p.path(), &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", both(&o));
        assert!(both(&o).contains(expected), "{args:?}: {}", both(&o));
    }
    // An inventory var named like a parameter is checked too, naming where it is.
    std::fs::write(
        p.path().join("hoist.toml"),
        "[env.dev]\nvars = { port = \"http\" }\n[env.dev.hosts]\nweb = [\"local\"]\n",
    )
    .unwrap();
    let o = hoist(p.path(), &["typed", "--services", "a"]);
    assert_eq!(o.status.code(), Some(2), "{}", both(&o));
    assert!(
        both(&o).contains("hoist.toml env.dev.vars: port: --port `http`: expected an integer"),
        "{}",
        both(&o)
    );
}

#[test]
fn help_shows_each_parameters_type_and_adhoc_keeps_cmd_a_string() {
    let p = project();
    let o = hoist(p.path(), &["typed", "--help"]);
    let out = both(&o);
    for line in [
        "--port      int, default 8080           an int",
        "--services  array, required             required, a list",
        "--ports     array of int, default [80]  a list of ints",
        "--user      string, optional            optional",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    // `true` is the command's text, not a boolean: adhoc runs it.
    let v = value(&hoist(p.path(), &["adhoc", "--cmd", "true", "--json"]));
    assert_eq!(v[0]["code"], 0, "{v}");
    let v = value(&hoist(p.path(), &["adhoc", "--cmd", "echo 42", "--json"]));
    assert_eq!(v[0]["stdout"].as_str().map(str::trim), Some("42"), "{v}");
}
