//! Unset variables: a compose project that reads a variable without a default while it is
//! unset renders it as "" and hoist says so as compose does (`The "X" variable is not set.
//! Defaulting to a blank string.`), through the reporter: a `warn` message in human output
//! and with `--json`, once per variable however often the run renders the project, and for
//! the same variables the real compose v2 warns about.

mod support;

use std::path::Path;
use std::process::Command;

use support::hoist_cmd;

const COMPOSE: &str = "services:\n  web:\n    image: busybox:${TAG:-1}\n    environment:\n      A: ${UNSET_A}\n      FROM_ENV_FILE: ${E}\n      OPTIONAL: ${UNSET_D:-fine}\n      PLUS: ${UNSET_D:+x}\n      ESCAPED: $${UNSET_E}\n      UNUSED_BRANCH: ${TAG:-$UNSET_C}\n";

/// `.env` reads one unset variable too.
const DOT_ENV: &str = "TAG=2\nE=${UNSET_B}\n";

fn sentence(name: &str) -> String {
    format!("The \"{name}\" variable is not set. Defaulting to a blank string.")
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), COMPOSE).unwrap();
    std::fs::write(dir.path().join(".env"), DOT_ENV).unwrap();
    // Rendered twice: the warnings come once.
    std::fs::write(
        dir.path().join("w.rhai"),
        "let p = local().compose(\".\", #{project: \"warned\"});\np.render();\np.config().services.web.environment",
    )
    .unwrap();
    dir
}

/// The variables the real compose v2 warns about for the same project.
fn compose_v2_warns(dir: &Path) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/compose-v2");
    let out = Command::new(&script)
        .output()
        .expect("run scripts/compose-v2");
    assert!(
        out.status.success(),
        "scripts/compose-v2: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bin = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let out = Command::new(bin)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir)
        .args(["-p", "warned", "config"])
        .output()
        .expect("run compose v2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).replace("\\\"", "\"");
    let mut names: Vec<String> = ["UNSET_A", "UNSET_B", "UNSET_C", "UNSET_D", "UNSET_E"]
        .iter()
        .filter(|n| stderr.contains(&sentence(n)))
        .map(|n| n.to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn unset_variables_are_warned_about_as_compose_does() {
    let dir = project();
    let expected = ["UNSET_A", "UNSET_B", "UNSET_C"];
    assert_eq!(
        compose_v2_warns(dir.path()),
        expected,
        "compose v2 itself warns about these (the eager unused branch included)"
    );

    // --json: one `message` event at level warn per variable, compose's sentence in it.
    let env_clean = |c: &mut Command| {
        for v in [
            "UNSET_A", "UNSET_B", "UNSET_C", "UNSET_D", "UNSET_E", "TAG", "E",
        ] {
            c.env_remove(v);
        }
    };
    let mut c = hoist_cmd();
    env_clean(&mut c);
    let out = c
        .current_dir(dir.path())
        .args(["run", "w.rhai", "--json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let warnings: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "message" && e["level"] == "warn")
        .filter_map(|e| e["text"].as_str())
        .collect();
    for name in expected {
        let n = warnings
            .iter()
            .filter(|w| w.contains(&sentence(name)))
            .count();
        assert_eq!(n, 1, "{name} warned once (rendered twice): {warnings:?}");
    }
    assert!(
        warnings
            .iter()
            .all(|w| w.contains("compose project warned")),
        "each says which project: {warnings:?}"
    );
    for quiet in ["UNSET_D", "UNSET_E"] {
        assert!(
            !warnings.iter().any(|w| w.contains(quiet)),
            "{quiet} has a default/alternative or is escaped: {warnings:?}"
        );
    }
    let env = &events.last().unwrap()["value"];
    assert_eq!(env["A"], "", "rendered as a blank string: {env}");
    assert_eq!(env["FROM_ENV_FILE"], "", "{env}");

    // Human output: a `warn:` line with the same sentence.
    let mut c = hoist_cmd();
    env_clean(&mut c);
    let out = c
        .current_dir(dir.path())
        .args(["run", "w.rhai"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{all}");
    let line = all
        .lines()
        .find(|l| l.contains(&sentence("UNSET_A")))
        .unwrap_or_else(|| panic!("no warning for UNSET_A in:\n{all}"));
    assert!(line.contains("warn"), "{line}");
}
