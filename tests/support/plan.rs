//! Reading `--dry-run` plans and the audit log of the run that follows, to check that a
//! plan names exactly the changes the real run then makes.

use serde_json::Value;

use super::fleet::{Fleet, FleetHost};

/// What a run could change on a host, read through the host: the files under `dirs` with
/// their digests and modes; and, of the containers (name, image, id, state), images, volumes,
/// networks, crontabs of root and deploy, units in /etc/systemd/system, users, groups,
/// installed packages and locks, the lines that match the extended regexp `mine` (other tests
/// share the hosts). `tests/dry_run_snapshot.rs` reads more (swarm objects, the registry).
pub fn host_state(h: &FleetHost, dirs: &[&str], mine: &str) -> String {
    let mut script = String::new();
    for d in dirs {
        script.push_str(&format!(
            "(cd {d} 2>/dev/null && find . -type f -exec sha256sum {{}} + | sort); \
             find {d} -printf '%p %m %u\\n' 2>/dev/null | sort; "
        ));
    }
    script.push_str(
        "{ docker ps -a --format '{{.Names}} {{.Image}} {{.ID}} {{.State}}' | sort; \
         docker images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort; \
         docker volume ls --format 'volume {{.Name}}' | sort; \
         docker network ls --format 'network {{.Name}} {{.ID}}' | sort; \
         crontab -l 2>/dev/null; crontab -u deploy -l 2>/dev/null; \
         ls -l --time-style=+%s /etc/systemd/system; getent passwd; getent group; \
         dpkg-query -W -f='${Package} ${Version} ${Status}\\n' | sort; \
         ls -la /root/.hoist/locks /home/deploy/.hoist/locks 2>/dev/null; } | grep -E -- ",
    );
    script.push_str(&hoist::command::quote(mine));
    script.push_str(" || true");
    h.sh_ok(&script)
}

/// `hoist run SCRIPT --env production --dry-run` in `project` changes nothing `state` reads
/// and plans with no uncertain line; the real run then makes exactly the planned changes
/// (the project's audit log). The real run's output.
pub fn planned_then_run(
    f: &Fleet,
    project: &std::path::Path,
    script: &str,
    state: &dyn Fn() -> String,
) -> std::process::Output {
    let before = state();
    let dry = f
        .hoist_cmd(project)
        .args(["run", script, "--env", "production", "--dry-run", "--json"])
        .output()
        .unwrap();
    assert!(
        dry.status.success(),
        "{script} --dry-run failed:\n{}\n{}",
        String::from_utf8_lossy(&dry.stdout),
        String::from_utf8_lossy(&dry.stderr)
    );
    let plan = plan_of(&String::from_utf8_lossy(&dry.stdout));
    assert_eq!(state(), before, "{script} --dry-run changed a host");
    assert_eq!(plan["uncertain"], Value::Array(vec![]), "{script}: {plan}");
    let mut want = planned(&plan);
    assert!(!want.is_empty(), "{script}: an empty plan");
    want.sort_by_key(|(h, _, _)| h.clone());
    let out = f
        .hoist_cmd(project)
        .args(["run", script, "--env", "production"])
        .output()
        .unwrap();
    if out.status.success() {
        // A name stamped with the time (a backup file) differs by the seconds between the two.
        let stamp = regex::Regex::new(r"\d{8}-\d{6}").unwrap();
        let unstamped = |v: Vec<(String, String, String)>| -> Vec<(String, String, String)> {
            v.into_iter()
                .map(|(h, k, s)| (h, k, stamp.replace_all(&s, "STAMP").into_owned()))
                .collect()
        };
        assert_eq!(
            unstamped(audited_last_run(project)),
            unstamped(want),
            "{script}: plan and run differ"
        );
    }
    out
}

/// The `{"event":"plan"}` object of a `--json` run.
pub fn plan_of(stdout: &str) -> Value {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "plan")
        .unwrap_or_else(|| panic!("no plan in the output:\n{stdout}"))
}

/// Per host, the (kind, summary) of each planned change, in order.
pub fn planned(plan: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for (host, list) in plan["hosts"].as_object().unwrap() {
        for c in list.as_array().unwrap() {
            out.push((
                host.clone(),
                c["kind"].as_str().unwrap().to_string(),
                c["summary"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

/// Per host, the (kind, summary) of each change the last run recorded in the audit log.
pub fn audited_last_run(project: &std::path::Path) -> Vec<(String, String, String)> {
    let log = std::fs::read_to_string(project.join(".hoist/audit.jsonl")).unwrap();
    let entries: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = entries.last().unwrap()["run"].as_str().unwrap().to_string();
    let mut by_host: Vec<(String, String, String)> = entries
        .iter()
        .filter(|e| e["run"] == last.as_str() && e["probe"] == false)
        .map(|e| {
            (
                e["host"].as_str().unwrap().to_string(),
                e["change"]["kind"].as_str().unwrap().to_string(),
                e["change"]["summary"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // The plan lists hosts one after another; the log interleaves them as they ran.
    by_host.sort_by_key(|(h, _, _)| h.clone());
    by_host
}
