//! The book in `docs/` cannot drift from the code: every ```rhai block passes `hoist check`,
//! the book builds with mdBook, Chromium opens it and shows the headings it should (its
//! screenshots are kept under target/tmp/book-shots/ to be looked at), and the reference
//! page is what `hoist doc --markdown` prints. The tutorial chapters run against the fleet in
//! tests/tutorials.rs.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use support::book;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A program on PATH or in cargo's bin directory, or a failure saying how to get it.
fn program(name: &str, how: &str) -> PathBuf {
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|c| c.join("bin"));
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(cargo_bin)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is missing: {how} (scripts/test does this)"))
}

/// The book, built once per test binary into target/tmp/book.
fn built() -> &'static Path {
    static BOOK: OnceLock<PathBuf> = OnceLock::new();
    BOOK.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("book");
        let mdbook = program(
            "mdbook",
            "cargo install --locked mdbook --version 0.5.4 --no-default-features --features search",
        );
        let o = Command::new(mdbook)
            .args(["build", "docs", "--dest-dir"])
            .arg(&out)
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "mdbook build docs failed:\n{}",
            text(&o)
        );
        // mdBook reports a missing file, a broken link to a chapter or a bad SUMMARY as
        // errors; anything it only warns about is a problem of the book too.
        let said = text(&o);
        assert!(!said.contains("WARN") && !said.contains("ERROR"), "{said}");
        out
    })
}

#[test]
fn every_rhai_block_of_the_book_passes_hoist_check() {
    let dir = tempfile::tempdir().unwrap();
    let mut files: Vec<(PathBuf, book::Block)> = Vec::new();
    let mut ignored = 0;
    for ch in book::chapters() {
        for b in book::blocks(&ch).into_iter().filter(|b| b.lang == "rhai") {
            if b.has("ignore") {
                ignored += 1;
                continue;
            }
            let name = b.at().replace(['/', ':', '.'], "_") + ".rhai";
            let path = dir.path().join(name);
            std::fs::write(&path, &b.text).unwrap();
            files.push((path, b));
        }
    }
    assert!(
        files.len() >= 10,
        "the book has only {} rhai blocks: are its examples still marked ```rhai?",
        files.len()
    );
    assert!(
        ignored * 5 <= files.len(),
        "{ignored} of {} rhai blocks are marked ignore: fragments should be rare",
        files.len() + ignored
    );
    let o = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .env("NO_COLOR", "1")
        .env_remove("HOIST_ENV")
        .current_dir(dir.path())
        .args(["check", "--json"])
        .args(files.iter().map(|(p, _)| p))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let mut failed = Vec::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| {
            panic!("hoist check --json printed a line that is not JSON ({e}): {line}")
        });
        if v["ok"] == true || v.get("file").is_none() {
            continue;
        }
        let (_, block) = files
            .iter()
            .find(|(p, _)| p.display().to_string() == v["file"].as_str().unwrap_or_default())
            .unwrap_or_else(|| panic!("hoist check named a file it was not given: {line}"));
        for p in v["problems"].as_array().into_iter().flatten() {
            let at = p["location"]["line"]
                .as_u64()
                .map(|l| format!(" (line {l} of the block)"))
                .unwrap_or_default();
            failed.push(format!("{}{at}: {}", block.at(), p["message"]));
        }
    }
    assert!(
        failed.is_empty(),
        "rhai blocks of the book that hoist check refuses:\n{}",
        failed.join("\n")
    );
    assert!(o.status.success(), "hoist check failed: {}", text(&o));
}

/// Every chapter file is in SUMMARY.md (mdBook would leave one that is not out of the book,
/// unseen, while its examples were still checked).
#[test]
fn every_chapter_is_in_the_summary() {
    let summary = std::fs::read_to_string(book::src_dir().join("SUMMARY.md")).unwrap();
    for ch in book::chapters() {
        let rel = ch
            .strip_prefix(book::src_dir())
            .unwrap()
            .display()
            .to_string();
        if rel == "SUMMARY.md" {
            continue;
        }
        assert!(
            summary.contains(&format!("({rel})")),
            "docs/src/{rel} is not in docs/src/SUMMARY.md"
        );
    }
}

/// The text of every `<hN>` of a page's content (its `<main>`, not the menu bar's title),
/// tags stripped.
fn headings(dom: &str, level: u8) -> Vec<String> {
    let main = dom
        .split_once("<main")
        .and_then(|(_, rest)| rest.split_once("</main>"))
        .map_or("", |(m, _)| m);
    let dom = main;
    let re = regex::Regex::new(&format!(r"(?s)<h{level}\b[^>]*>(.*?)</h{level}>")).unwrap();
    let tags = regex::Regex::new(r"<[^>]+>").unwrap();
    re.captures_iter(dom)
        .map(|c| tags.replace_all(&c[1], "").trim().to_string())
        .collect()
}

/// Chromium (headless) opens a page of the built book: its DOM after scripts ran, and a
/// screenshot saved as `shot`.
fn chromium(page: &Path, shot: &Path) -> String {
    let chromium = program("chromium", "apt-get install -y chromium");
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    let run = |what: &[String]| {
        let o = Command::new("timeout")
            .arg("120")
            .arg(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(what)
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "chromium {what:?} {url} failed: {}",
            text(&o)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    run(&[format!("--screenshot={}", shot.display())]);
    let png =
        std::fs::read(shot).unwrap_or_else(|e| panic!("no screenshot {}: {e}", shot.display()));
    assert_eq!(
        &png[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        shot.display()
    );
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 900), "{}", shot.display());
    // A page of text compresses far less than an empty one (about 4 KB at this size).
    assert!(
        png.len() > 20_000,
        "{} looks empty ({} bytes)",
        shot.display(),
        png.len()
    );
    run(&["--dump-dom".to_string()])
}

#[test]
fn chromium_shows_the_books_first_page_and_a_reference_page() {
    let book = built();
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("book-shots");
    std::fs::create_dir_all(&shots).unwrap();

    let dom = chromium(&book.join("index.html"), &shots.join("first-page.png"));
    assert_eq!(
        headings(&dom, 1).first().map(String::as_str),
        Some("hoist"),
        "{dom}"
    );
    // The sidebar: the book's five parts, in order.
    let plain = regex::Regex::new(r"<[^>]+>")
        .unwrap()
        .replace_all(&dom, "\n");
    let lines: Vec<&str> = plain
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let parts = [
        "Getting started",
        "From runbook to recipe",
        "Concepts",
        "Reference",
        "Benchmarks",
    ];
    let at: Vec<Option<usize>> = parts
        .iter()
        .map(|p| lines.iter().position(|l| l == p))
        .collect();
    assert!(
        at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1]),
        "the sidebar does not show the parts {parts:?} in order: {at:?}\n{lines:?}"
    );

    let dom = chromium(
        &book.join("reference/cli.html"),
        &shots.join("reference-cli.png"),
    );
    assert_eq!(
        headings(&dom, 1).first().map(String::as_str),
        Some("The command line"),
        "{dom}"
    );
    assert!(
        headings(&dom, 2).len() >= 3,
        "the command line reference has fewer than 3 sections: {:?}",
        headings(&dom, 2)
    );
}

/// The reference pages are generated from the engine and the recipe files by `hoist doc
/// --markdown [--recipes]`; a page that is not that output is stale, and this fails saying how
/// to regenerate it (HOIST_BLESS=1 writes them).
#[test]
fn the_reference_pages_are_what_hoist_doc_markdown_prints() {
    for (page, args) in [
        ("reference/functions.md", &["doc", "--markdown"][..]),
        (
            "reference/recipes.md",
            &["doc", "--markdown", "--recipes"][..],
        ),
    ] {
        let page_path = book::src_dir().join(page);
        let o = Command::new(env!("CARGO_BIN_EXE_hoist"))
            .env_remove("HOIST_ENV")
            .current_dir(std::env::temp_dir())
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "hoist {args:?} failed: {}", text(&o));
        let generated = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            generated.contains("\n## "),
            "hoist {args:?} printed no section:\n{generated}"
        );
        // Every function declares what it does under --dry-run (src/script/fidelity.rs).
        let undeclared: Vec<&str> = generated
            .split("\n```text\n")
            .skip(1)
            .filter(|entry| entry.contains("*Dry run:* not declared."))
            .filter_map(|entry| entry.lines().next())
            .collect();
        assert!(
            undeclared.is_empty(),
            "functions with no plan fidelity declared in src/script/fidelity.rs: {undeclared:#?}"
        );
        if std::env::var_os("HOIST_BLESS").is_some() {
            std::fs::write(&page_path, &generated).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&page_path).unwrap();
        assert!(
            on_disk == generated,
            "docs/src/{page} is stale: it is not what `hoist {}` prints. Regenerate it: \
             hoist {} > docs/src/{page} (or HOIST_BLESS=1 cargo test --test book)",
            args.join(" "),
            args.join(" ")
        );
    }
}
