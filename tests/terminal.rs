//! What a person sees in an 80-column terminal (a real one: tmux), for the three outputs read
//! most: a deploy's progress, a plan, and the release table. Each screen is kept under
//! target/tmp/terminal-80/ to be looked at. Checked: progress bars leave nothing behind once
//! done, and hoist's own lines (banners, summary) fit; every line of a plan starts with its
//! host (a long command wraps, it does not tear); the release table fits in 80 columns,
//! naming the columns it had to leave out.

mod support;

use std::path::Path;
use std::time::Duration;

use support::fleet::{OnDrop, fleet};
use support::tmux::Tmux;

/// Published on host1 by this test's app.
const PORT: u16 = 19502;
const APP: &str = "nc-term";

/// Run `hoist ARGS` in `dir` in an 80x30 terminal until it exits; what it wrote, line by line.
fn at_80_columns(dir: &Path, args: &str, keep_as: &str) -> String {
    let f = fleet();
    let cmd = format!(
        "cd {} && HOIST_SSH_CONFIG={} {} {args}; echo \"[exit $?]\"; sleep 600",
        dir.display(),
        f.ssh_config.display(),
        env!("CARGO_BIN_EXE_hoist"),
    );
    let t = Tmux::start_sized(&cmd, 80, 30);
    t.wait_for(
        &format!("hoist {args} to exit"),
        Duration::from_secs(300),
        |s| s.contains("[exit "),
    );
    let text = t.written_lines();
    let keep = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("terminal-80");
    std::fs::create_dir_all(&keep).unwrap();
    std::fs::write(keep.join(format!("{keep_as}.txt")), &text).unwrap();
    assert!(text.contains("[exit 0]"), "hoist {args} failed:\n{text}");
    text
}

fn width(line: &str) -> usize {
    line.trim_end().chars().count()
}

#[test]
fn progress_plan_and_release_table_at_80_columns() {
    let f = fleet();
    let _up = f.hosts_up();
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join(APP);
    support::images::deploy_project(&dir, "at 80 columns", "compose.yml", PORT);
    let h1 = f.host(1);
    let _clean = OnDrop(|| {
        h1.remove_app(APP, &format!("/root/apps/{APP}"));
        support::images::remove_repo(APP);
    });
    let init = f.hoist_cmd(&dir).args(["init", "host1"]).output().unwrap();
    assert!(init.status.success(), "{init:?}");

    // Progress: the bars of the image's send are cleared once done; banners and the summary fit.
    let deploy = at_80_columns(&dir, "deploy --no-registry", "deploy");
    assert!(deploy.contains("✓ Start on host1"), "{deploy}");
    let lines: Vec<&str> = deploy.lines().collect();
    for l in &lines {
        assert!(
            !l.contains("send nc-term")
                || l.starts_with('✓')
                || l.starts_with('▶')
                || l.contains(": load: "),
            "a progress bar was left on the screen: {l:?}\n{deploy}"
        );
        let hoists_own = l.starts_with('✓')
            || l.starts_with('▶')
            || l.starts_with("HOST ")
            || l.starts_with("host1 ")
            || l.ends_with("failed");
        assert!(!hoists_own || width(l) <= 80, "{} columns: {l:?}", width(l));
    }

    // The plan: every change is one line starting with its host, however long it is.
    let plan = at_80_columns(&dir, "destroy --dry-run --yes", "plan");
    let body: Vec<&str> = plan
        .lines()
        .skip_while(|l| !l.starts_with("Plan (dry run"))
        .skip(1)
        .take_while(|l| !l.contains("change(s) on"))
        .collect();
    assert!(!body.is_empty(), "{plan}");
    for l in &body {
        assert!(
            l.starts_with("[host1] "),
            "a plan line without its host: {l:?}\n{plan}"
        );
    }

    // The release table: at most 80 columns, the ones left out named.
    let table = at_80_columns(&dir, "releases", "releases");
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("HOST   ID"))
        .take_while(|l| !l.starts_with("[exit"))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(rows.len() >= 3, "{table}");
    assert!(rows[0].starts_with("HOST   ID  IMAGE"), "{table}");
    assert!(rows[1].starts_with("host1  r1  nc-term:"), "{table}");
    for r in &rows {
        assert!(width(r) <= 80, "{} columns: {r:?}\n{table}", width(r));
    }
    assert!(rows.last().unwrap().starts_with("(not shown: "), "{table}");
}
