//! The book's tutorials run as written: each chapter marked `<!-- ci: run on the fleet -->` is
//! turned into one bash script (its ```sh blocks, the files it asks the reader to save, and its
//! hidden `<!-- check -->` commands, in order; see tests/support/book.rs) and run from the
//! repository's root against the fleet, with the `hoist` under test first on PATH. A block that
//! fails names its chapter and line.

mod support;

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::book;
use support::fleet::{OnDrop, fleet, repo_root};

/// The chapters CI runs, each by a test below.
const TUTORIALS: &[&str] = &["getting-started.md"];

/// Longest a chapter may take (its deploys and rollbacks on a loaded machine).
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[test]
fn every_chapter_marked_to_run_has_its_test() {
    let marked: Vec<String> = book::chapters()
        .into_iter()
        .filter(|c| book::is_run(c))
        .map(|c| {
            c.strip_prefix(book::src_dir())
                .unwrap()
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(
        marked,
        TUTORIALS,
        "chapters marked `{}` and the tests of tests/tutorials.rs differ",
        book::RUN_MARKER
    );
}

/// Run a chapter's script; the output, or a failure naming the block it stopped in.
fn run_chapter(chapter: &str) -> String {
    let path = book::src_dir().join(chapter);
    let script = book::script(&path);
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hoist"), bin.path().join("hoist")).unwrap();
    let path_var = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(repo_root())
        .env("PATH", path_var)
        .env("HOIST_REPO", repo_root())
        .env("NO_COLOR", "1")
        .env_remove("HOIST_ENV")
        .env_remove("HOIST_SSH_CONFIG")
        .stdin(Stdio::null())
        .stdout(out_file.reopen().unwrap())
        .stderr(out_file.reopen().unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if started.elapsed() > TIMEOUT {
            // The whole group: bash and the hoist it is waiting for.
            unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut out = String::new();
    std::fs::File::open(out_file.path())
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let at = out
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("### "))
        .unwrap_or("(before its first block)")
        .to_string();
    let tail: Vec<&str> = out.lines().rev().take(60).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    match status {
        Some(s) if s.success() => out,
        Some(s) => panic!(
            "docs/src/{chapter} stopped ({s}) in the block at {at}; its last output:\n{}",
            tail.join("\n")
        ),
        None => panic!(
            "docs/src/{chapter} took longer than {TIMEOUT:?}, in the block at {at}; its last output:\n{}",
            tail.join("\n")
        ),
    }
}

/// The tutorial's app on the hosts it deploys to, and its images here, are removed whatever
/// happened (the fleet outlives the test).
fn clean_app(app: &'static str, hosts: &[usize]) -> impl Drop {
    let hosts: Vec<_> = hosts.iter().map(|n| fleet().host(*n).clone()).collect();
    OnDrop(move || {
        for h in &hosts {
            h.remove_app(app, &format!("/root/apps/{app}"));
        }
        support::images::remove_repo(app);
    })
}

#[test]
fn getting_started() {
    let f = fleet();
    let _up = f.hosts_up();
    let _clean = clean_app("nc-hello", &[1, 2]);
    let out = run_chapter("getting-started.md");
    // The chapter ran to its end, every block and check of it.
    let blocks = book::blocks(&book::src_dir().join("getting-started.md"));
    let last = blocks.iter().rev().find(|b| {
        !b.has("norun") && (matches!(b.lang.as_str(), "sh" | "check") || b.attr("file").is_some())
    });
    assert!(
        out.contains(&format!("### {}", last.unwrap().at())),
        "{out}"
    );
}
