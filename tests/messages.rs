//! Messages a newcomer can act on: a failure names what is wrong and where, and a typo gets
//! "did you mean". Runs the real binary on the local machine (templates render locally; a
//! recipe's flags are refused before anything connects).

use std::path::Path;
use std::process::{Command, Output};

fn hoist(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env("NO_COLOR", "1")
        .env_remove("HOIST_ENV")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run hoist")
}

/// The run failed with `code`; its stderr.
fn refused(o: &Output, code: i32) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {err}",
        String::from_utf8_lossy(&o.stdout)
    );
    err
}

/// `render("Hello {{ nobody }}", #{})` names `nobody`, the template (`render()`) and its line,
/// and the script line that called it.
#[test]
fn an_undefined_variable_in_render_is_named_with_the_script_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("hello.rhai"),
        "let greeting = \"hi\";\nrender(\"Hello {{ nobody }}\", #{})\n",
    )
    .unwrap();
    let err = refused(&hoist(d.path(), &["run", "hello.rhai"]), 1);
    assert!(
        err.contains("template render():1: undefined variable `nobody`"),
        "{err}"
    );
    assert!(err.contains("hello.rhai:2:"), "{err}");
}

/// A file template names the file and the line of the variable, and the closest variable the
/// run did give; a name far from every given one gets no guess. Attributes and filters are
/// named whole, as written.
#[test]
fn an_undefined_variable_in_a_template_file_is_named_with_its_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    std::fs::write(
        p.join("app.conf.j2"),
        "# app\nname = {{ app }}\nport = {{ prot }}\n",
    )
    .unwrap();
    std::fs::write(p.join("far.conf.j2"), "a\nb\n\nx = {{ zzzzzz }}\n").unwrap();
    std::fs::write(p.join("attr.conf.j2"), "{{ db.hots }}\n").unwrap();
    std::fs::write(
        p.join("filter.conf.j2"),
        "{% if 1 %}\n{{ nobody | upper }}{% endif %}\n",
    )
    .unwrap();
    let script = |tpl: &str| {
        format!(
            "local().template(\"{tpl}\", \"{}/out.conf\", #{{app: \"web\", port: 80, db: #{{host: \"db1\"}}}})\n",
            p.display()
        )
    };
    std::fs::write(p.join("t.rhai"), script("app.conf.j2")).unwrap();
    let err = refused(&hoist(p, &["run", "t.rhai"]), 1);
    assert!(
        err.contains("app.conf.j2:3: undefined variable `prot`"),
        "{err}"
    );
    assert!(err.contains("did you mean `port`?"), "{err}");
    assert!(err.contains("t.rhai:1:"), "{err}");
    assert!(!p.join("out.conf").exists(), "nothing written");

    std::fs::write(p.join("t.rhai"), script("far.conf.j2")).unwrap();
    let err = refused(&hoist(p, &["run", "t.rhai"]), 1);
    assert!(
        err.contains("far.conf.j2:4: undefined variable `zzzzzz`"),
        "{err}"
    );
    assert!(!err.contains("did you mean"), "{err}");

    std::fs::write(p.join("t.rhai"), script("attr.conf.j2")).unwrap();
    let err = refused(&hoist(p, &["run", "t.rhai"]), 1);
    assert!(err.contains("attr.conf.j2:1: undefined `db.hots`"), "{err}");

    std::fs::write(p.join("t.rhai"), script("filter.conf.j2")).unwrap();
    let err = refused(&hoist(p, &["run", "t.rhai"]), 1);
    assert!(err.contains("filter.conf.j2:2:"), "{err}");
    assert!(err.contains("`nobody`"), "{err}");
}

/// `hoist deploy --helth-port 1` suggests `--health-port` (a built-in recipe, no project), a
/// project recipe's typo its parameter, a global flag's typo the flag; a flag far from every
/// known one gets no guess. All before anything runs (exit 2).
#[test]
fn a_mistyped_recipe_flag_gets_did_you_mean() {
    let d = tempfile::tempdir().unwrap();
    let err = refused(&hoist(d.path(), &["deploy", "--helth-port", "1"]), 2);
    assert!(
        err.contains("recipe `deploy`: no parameter --helth-port (did you mean --health-port?)"),
        "{err}"
    );
    assert!(err.contains("hoist deploy --help"), "{err}");

    let err = refused(&hoist(d.path(), &["deploy", "--helth-port=1"]), 2);
    assert!(err.contains("did you mean --health-port?"), "{err}");

    let err = refused(&hoist(d.path(), &["deploy", "--dry-rn"]), 2);
    assert!(err.contains("did you mean --dry-run?"), "{err}");

    let err = refused(&hoist(d.path(), &["deploy", "--zzzzqqqq", "1"]), 2);
    assert!(err.contains("no parameter --zzzzqqqq"), "{err}");
    assert!(!err.contains("did you mean"), "{err}");

    std::fs::create_dir(d.path().join("recipes")).unwrap();
    std::fs::write(d.path().join("hoist.toml"), "").unwrap();
    std::fs::write(
        d.path().join("recipes/greet.rhai"),
        "//! Greets.\n//! @param who = \"world\"\n`hi ${vars.who}`\n",
    )
    .unwrap();
    let err = refused(&hoist(d.path(), &["greet", "--whom", "ann"]), 2);
    assert!(
        err.contains("recipe `greet`: no parameter --whom (did you mean --who?)"),
        "{err}"
    );
}

/// The library's way in (`run_recipe` with a parameter list) suggests too.
#[test]
fn run_recipe_suggests_the_closest_parameter() {
    let rt = hoist::Runtime::builder()
        .no_audit_log()
        .inventory(hoist::inventory::Inventory::default())
        .build()
        .unwrap();
    let e = hoist::run_recipe(
        &rt,
        "deploy",
        &[("helth_port".into(), serde_json::json!("1"))],
    )
    .unwrap_err();
    assert!(
        e.message
            .contains("no parameter --helth_port (did you mean --health-port?)"),
        "{}",
        e.message
    );
}
