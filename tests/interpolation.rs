//! hoist's own interpolation (compose spec: `${VAR}`, `$VAR`, defaults, required, alternates,
//! `$$`, nesting; env files with quotes, `export`, comments, multi-line values), checked
//! case by case against the compose tool on this machine (`docker-compose config`, v1) on
//! the same input. hoist follows the compose spec as compose v2 implements it; where v1
//! differs the case says so and checks both answers.

mod support;

use std::process::Command;

use hoist::command::Value;
use hoist::compose::{ComposeOptions, Project};
use support::runtime;

const ENV_FILE: &str = r#"# the project's variables
A=alpha
EMPTY=
export EXP=exported
DQ="dq ${A} \n x"
SQ='sq ${A}'
UQ=unq # a trailing comment
ML="multi
line"
HASH=a#b
PREC=from-file
REF=${A}-ref
"#;

/// What compose v1 does with a case.
enum V1 {
    /// The same value as hoist (and v2).
    Same,
    /// v1 gives this instead (v2 and hoist give the expected value).
    Differs(&'static str),
    /// v1 refuses the whole file ("Invalid interpolation format"); v2 accepts it.
    Rejects,
}

struct Case {
    key: &'static str,
    expr: &'static str,
    expected: &'static str,
    v1: V1,
}

const fn case(key: &'static str, expr: &'static str, expected: &'static str, v1: V1) -> Case {
    Case {
        key,
        expr,
        expected,
        v1,
    }
}

const CASES: &[Case] = &[
    case("brace", "${A}", "alpha", V1::Same),
    case("bare", "$A", "alpha", V1::Same),
    case("bare_then_text", "$A.x-${A}_y", "alpha.x-alpha_y", V1::Same),
    case("default_unset", "${UNSET_XYZ:-def}", "def", V1::Same),
    case("default_empty", "${EMPTY:-def}", "def", V1::Same),
    case("dash_default_empty", "${EMPTY-def}", "", V1::Same),
    case("dash_default_unset", "${UNSET_XYZ-def}", "def", V1::Same),
    case(
        "default_with_spaces",
        "${UNSET_XYZ:-a b c}",
        "a b c",
        V1::Same,
    ),
    case("escaped", "$$A", "$A", V1::Same),
    case("escaped_brace", "$${A}", "${A}", V1::Same),
    case("required_set", "${A:?boom}", "alpha", V1::Same),
    case("question_empty", "${EMPTY?boom}", "", V1::Same),
    case("export_prefix", "${EXP}", "exported", V1::Same),
    case("double_quoted", "${DQ}", "dq alpha \n x", V1::Same),
    case("unquoted_comment", "${UQ}", "unq", V1::Same),
    case("multi_line", "${ML}", "multi\nline", V1::Same),
    case("hash_inside", "${HASH}", "a#b", V1::Same),
    case("env_file_reference", "${REF}", "alpha-ref", V1::Same),
    case("env_beats_env_file", "${PREC}", "from-shell", V1::Same),
    // Single quotes are literal in compose v2's env files; v1 (python-dotenv) expands them.
    case("single_quoted", "${SQ}", "sq ${A}", V1::Differs("sq alpha")),
    // v2 nests defaults; v1 ends the expression at the first `}`.
    case(
        "nested_default",
        "${UNSET_XYZ:-${A}}",
        "alpha",
        V1::Differs("${A}"),
    ),
    case("alternate", "${A:+alt}", "alt", V1::Rejects),
    case("alternate_unset", "${UNSET_XYZ:+alt}", "", V1::Rejects),
    case("plus_alternate", "${EMPTY+alt}", "alt", V1::Rejects),
    case("lone_dollar", "cost $1", "cost $1", V1::Rejects),
];

fn compose_text(cases: &[&Case]) -> String {
    let mut t = String::from("services:\n  s:\n    image: x\n    environment:\n");
    for c in cases {
        // YAML single quotes keep `$` and backslashes as they are.
        t.push_str(&format!("      {}: '{}'\n", c.key, c.expr));
    }
    t
}

fn dir_with(compose: &str) -> String {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(dir.join("docker-compose.yml"), compose).unwrap();
    std::fs::write(dir.join("vars.env"), ENV_FILE).unwrap();
    dir.to_str().unwrap().to_string()
}

/// `docker-compose config` on the directory: the environment of service `s`, or the error.
fn v1_config(dir: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let out = Command::new("docker-compose")
        .args(["--env-file", "vars.env", "config"])
        .current_dir(dir)
        .env("PREC", "from-shell")
        .output()
        .expect(
            "docker-compose is missing: apt-get install -y docker-compose (scripts/test does this)",
        );
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    // Read with hoist's own YAML reader (compose's reading of scalars).
    let doc = hoist::compose::yaml::parse(&String::from_utf8_lossy(&out.stdout)).unwrap();
    Ok(doc.value["services"]["s"]["environment"]
        .as_object()
        .unwrap()
        .clone())
}

fn hoist_env(dir: &str) -> hoist::Result<Vec<(String, Option<String>)>> {
    let (rt, _) = runtime();
    let p = Project::new(
        &rt.local(),
        dir,
        ComposeOptions {
            env_files: vec!["vars.env".into()],
            env: vec![("PREC".into(), Value::Plain("from-shell".into()))],
            ..ComposeOptions::default()
        },
    )?;
    let model = rt.block_on(p.config())?;
    Ok(model.services["s"].environment.as_ref().unwrap().pairs())
}

#[test]
fn values_match_the_compose_tool() {
    let accepted: Vec<&Case> = CASES
        .iter()
        .filter(|c| !matches!(c.v1, V1::Rejects))
        .collect();
    let dir = dir_with(&compose_text(&accepted));
    let v1 = v1_config(&dir).unwrap_or_else(|e| panic!("docker-compose config failed: {e}"));
    let ours = hoist_env(&dir).unwrap();
    for c in &accepted {
        let mine = ours
            .iter()
            .find(|(k, _)| k == c.key)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_default();
        assert_eq!(mine, c.expected, "hoist, case {} ({})", c.key, c.expr);
        // v1's config output escapes `$` as `$$` again.
        let theirs = v1
            .get(c.key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .replace("$$", "$");
        match c.v1 {
            V1::Same => assert_eq!(
                theirs, c.expected,
                "docker-compose, case {} ({})",
                c.key, c.expr
            ),
            V1::Differs(v) => {
                assert_eq!(theirs, v, "docker-compose (v1 difference), case {}", c.key)
            }
            V1::Rejects => unreachable!(),
        }
    }
    // The host's environment is seen too, and wins over nothing else here.
    let home_dir =
        dir_with("services:\n  s:\n    image: x\n    environment:\n      home: ${HOME}\n");
    let ours = hoist_env(&home_dir).unwrap();
    let theirs = v1_config(&home_dir).unwrap();
    assert_eq!(
        ours[0].1.as_deref(),
        theirs.get("home").and_then(|v| v.as_str())
    );
    assert!(!ours[0].1.as_deref().unwrap_or_default().is_empty());
}

#[test]
fn v2_only_forms_work_in_hoist_and_are_refused_by_v1() {
    for c in CASES.iter().filter(|c| matches!(c.v1, V1::Rejects)) {
        let dir = dir_with(&compose_text(&[c]));
        let err = v1_config(&dir).expect_err(c.key);
        assert!(
            err.contains("Invalid interpolation format"),
            "{}: {err}",
            c.key
        );
        let ours = hoist_env(&dir).unwrap();
        assert_eq!(
            ours[0].1.as_deref(),
            Some(c.expected),
            "hoist, case {}",
            c.key
        );
    }
}

#[test]
fn every_error_form_is_an_error_in_both() {
    let required = [
        (
            "${NOPE_XYZ:?must set NOPE_XYZ}",
            "NOPE_XYZ",
            "must set NOPE_XYZ",
        ),
        (
            "${EMPTY:?empty is not enough}",
            "EMPTY",
            "empty is not enough",
        ),
        ("${NOPE_XYZ?}", "NOPE_XYZ", ""),
    ];
    for (expr, var, msg) in required {
        let text = format!(
            "services:\n  s:\n    image: x\n    environment:\n      ok: fine\n      k: '{expr}'\n"
        );
        let dir = dir_with(&text);
        let v1 = v1_config(&dir).expect_err(expr);
        assert!(v1.contains("Missing mandatory value"), "{expr}: {v1}");
        let e = hoist_env(&dir).unwrap_err();
        assert!(
            e.message.contains(&format!("{dir}/docker-compose.yml:6: services.s.environment.k: required variable {var} is missing a value")),
            "{expr}: {}",
            e.message
        );
        assert!(e.message.contains(msg), "{expr}: {}", e.message);
    }
    for expr in ["${", "${}", "${A:x}", "${1A}", "x ${A"] {
        let text = format!("services:\n  s:\n    image: x\n    environment:\n      k: '{expr}'\n");
        let dir = dir_with(&text);
        let v1 = v1_config(&dir).expect_err(expr);
        assert!(v1.contains("Invalid interpolation format"), "{expr}: {v1}");
        let e = hoist_env(&dir).unwrap_err();
        assert!(
            e.message.contains("docker-compose.yml:5")
                && e.message.contains("invalid interpolation format"),
            "{expr}: {}",
            e.message
        );
    }
}

#[test]
fn env_file_errors_name_the_file_and_line() {
    for (text, line) in [
        ("A=1\nB=\"never closed\n", 2),
        ("A=1\n\nbad key=1\n", 3),
        ("A=${NOPE_XYZ:?needed}\n", 1),
    ] {
        let dir = dir_with("services:\n  s:\n    image: x\n");
        std::fs::write(format!("{dir}/vars.env"), text).unwrap();
        let e = hoist_env(&dir).unwrap_err();
        assert!(
            e.message.starts_with(&format!("{dir}/vars.env:{line}: ")),
            "{text:?}: {}",
            e.message
        );
    }
}
