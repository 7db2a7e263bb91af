//! Pieces the fleet benchmarks share: the app each round builds, compose v2 on every host for
//! a run, the inventory groups of 1..N hosts, and medians.

use std::path::Path;
use std::process::Command;

use super::fleet::FleetHost;

/// Median, min and max of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

/// The build context of a round: the busybox test image serving `text` at /index.html.
pub fn write_context(ctx: &Path, text: &str) {
    std::fs::create_dir_all(ctx).unwrap();
    std::fs::write(
        ctx.join("Dockerfile"),
        format!(
            "FROM {}\nCOPY index.html /www/index.html\n",
            super::images::busybox()
        ),
    )
    .unwrap();
    std::fs::write(ctx.join("index.html"), format!("{text}\n")).unwrap();
}

const V2_PLUGIN: &str = "/usr/local/lib/docker/cli-plugins/docker-compose";

/// Give the even fleet hosts (Debian's compose v1) the compose v2 plugin that odd hosts have,
/// for a benchmark that needs v2 everywhere; returns them for [`take_compose_v2`].
pub fn give_compose_v2<'a>(hosts: &[&'a FleetHost]) -> Vec<&'a FleetHost> {
    let v2 = String::from_utf8(
        Command::new(super::fleet::repo_root().join("scripts/compose-v2"))
            .output()
            .expect("scripts/compose-v2")
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    assert!(
        !v2.is_empty(),
        "scripts/compose-v2 found no compose v2 binary"
    );
    let even: Vec<&FleetHost> = hosts.iter().copied().filter(|h| !h.compose_v2()).collect();
    for h in &even {
        h.sh_ok("mkdir -p /usr/local/lib/docker/cli-plugins");
        let copied = Command::new("docker")
            .args(["cp", &v2, &format!("{}:{V2_PLUGIN}", h.container())])
            .status()
            .is_ok_and(|s| s.success());
        assert!(copied, "cannot copy compose v2 to {}", h.name);
    }
    even
}

/// Take the plugin [`give_compose_v2`] gave back from those hosts.
pub fn take_compose_v2(even: &[&FleetHost]) {
    for h in even {
        h.sh(&format!("rm -f {V2_PLUGIN}"));
    }
}

/// hoist.toml's `[env.bench]`: the fleet registry as a var, a group `gN` of host1..hostN for
/// each count.
pub fn bench_inventory(registry: &str, counts: &[usize]) -> String {
    let groups: String = counts
        .iter()
        .map(|&n| {
            let names: Vec<String> = (1..=n).map(|i| format!("\"host{i}\"")).collect();
            format!("g{n} = [{}]\n", names.join(", "))
        })
        .collect();
    format!("[env.bench]\nvars = {{ registry = \"{registry}\" }}\n[env.bench.hosts]\n{groups}")
}

/// `hoist deploy` of `app` (context directory `context`, image tag `tag`) to group `gN` of
/// [`bench_inventory`], no watch; a benchmark adds its check and proxy flags.
pub fn deploy_args(
    n: usize,
    app: &str,
    dir: &str,
    user: &str,
    context: &str,
    tag: &str,
) -> Vec<String> {
    [
        "deploy",
        "--watch",
        "0",
        "--env",
        "bench",
        "--group",
        &format!("g{n}"),
        "--app",
        app,
        "--dir",
        dir,
        "--user",
        user,
        "--context",
        context,
        "--tag",
        tag,
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Median (min, max) rows `(hosts, a, b)`: for each count, `rounds` rounds of `a` then `b`
/// (alternating, so a slow spell of the machine hits both), each given the count and a tag.
pub type SideBySide = Vec<(usize, (f64, f64, f64), (f64, f64, f64))>;

pub fn side_by_side(
    counts: &[usize],
    rounds: usize,
    mut a: impl FnMut(usize, &str) -> f64,
    mut b: impl FnMut(usize, &str) -> f64,
) -> SideBySide {
    let mut rows = Vec::new();
    for &n in counts {
        let (mut ta, mut tb) = (Vec::new(), Vec::new());
        for r in 0..rounds {
            let tag = format!("n{n}r{r}");
            ta.push(a(n, &tag));
            tb.push(b(n, &tag));
        }
        rows.push((n, median(&mut ta), median(&mut tb)));
    }
    rows
}

/// This machine's load, as `uptime` says it (benchmarks print it before and after).
pub fn uptime() -> String {
    String::from_utf8_lossy(&Command::new("uptime").output().unwrap().stdout)
        .trim()
        .to_string()
}
