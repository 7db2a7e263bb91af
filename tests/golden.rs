//! What people read, checked whole: the CLI's error reports, `hoist recipes`, `hoist doc X` and
//! a recipe's `--help` are compared with the expected text in `tests/golden/*.txt` (stdout,
//! stderr and exit code of each run), so any change to them shows as a diff in review.
//!
//! After an intended change: `HOIST_BLESS=1 cargo test --test golden` rewrites the files; read
//! their diff before committing it.

mod support;

use std::path::Path;

use support::hoist_cmd;

/// Run hoist in `dir` and compare its exit code, stdout and stderr with `tests/golden/NAME.txt`.
/// The temp directory's path reads `$DIR`.
fn golden(name: &str, dir: &Path, args: &[&str]) {
    let o = hoist_cmd()
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("HOIST_ENV")
        .output()
        .expect("run hoist");
    // Paths of the temp project and times vary from run to run; nothing else may.
    let times = regex::Regex::new(r"\(\d+\.\d\ds\)").unwrap();
    let shown = |b: &[u8]| {
        let text =
            String::from_utf8_lossy(b).replace(dir.to_str().expect("utf-8 temp path"), "$DIR");
        times.replace_all(&text, "(T s)").into_owned()
    };
    let got = format!(
        "$ hoist {}\nexit code: {}\n--- stdout\n{}--- stderr\n{}",
        args.join(" "),
        o.status.code().map_or("signal".into(), |c| c.to_string()),
        shown(&o.stdout),
        shown(&o.stderr),
    );
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.txt"));
    if std::env::var_os("HOIST_BLESS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&file).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (HOIST_BLESS=1 cargo test --test golden writes it)",
            file.display()
        )
    });
    if got != want {
        let diff = similar::TextDiff::from_lines(&want, &got)
            .unified_diff()
            .header("expected", "got")
            .to_string();
        panic!(
            "{name}: output differs from {} (HOIST_BLESS=1 rewrites it after an intended change):\n{diff}",
            file.display()
        );
    }
}

fn empty_project() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("hoist.toml"), "[env.dev]\nhosts = {}\n").unwrap();
    d
}

#[test]
fn recipes_list() {
    let d = empty_project();
    std::fs::create_dir(d.path().join("recipes")).unwrap();
    std::fs::write(
        d.path().join("recipes/greet.rhai"),
        "//! Say hello to someone.\n//! @param who = \"world\"   whom to greet\nprint(`hello ${vars.who}`);\n",
    )
    .unwrap();
    golden("recipes", d.path(), &["recipes"]);
}

#[test]
fn recipe_help() {
    let d = empty_project();
    golden("deploy-help", d.path(), &["deploy", "--help"]);
    golden("gitpull-help", d.path(), &["gitpull", "--help"]);
}

#[test]
fn doc_of_a_function_a_recipe_and_nothing() {
    let d = empty_project();
    golden("doc-capture", d.path(), &["doc", "capture"]);
    golden("doc-deploy", d.path(), &["doc", "deploy"]);
    golden("doc-gitpull", d.path(), &["doc", "gitpull"]);
    golden("doc-unknown", d.path(), &["doc", "no_such_thing"]);
}

#[test]
fn error_reports() {
    let d = empty_project();
    let p = d.path();
    std::fs::write(
        p.join("fail.rhai"),
        "// a command fails on the local machine\nlet h = local();\nstep(\"Migrate\", || {\n    h.run(\"echo starting; echo 'no such table: users' >&2; exit 3\");\n});\n",
    )
    .unwrap();
    golden("error-command", p, &["run", "fail.rhai"]);
    std::fs::write(p.join("syntax.rhai"), "let x = ;\n").unwrap();
    golden("error-syntax", p, &["run", "syntax.rhai"]);
    std::fs::write(
        p.join("thrown.rhai"),
        "fn check(n) {\n    if n > 2 { fail(`too many: ${n}`); }\n}\ncheck(3);\n",
    )
    .unwrap();
    golden("error-fail", p, &["run", "thrown.rhai"]);
    golden(
        "error-param",
        p,
        &["deploy", "--app", "web", "--timeout", "1m"],
    );
    golden("error-unknown-recipe", p, &["deplyo"]);
}
