//! The build context: a tar of a local directory minus what `.dockerignore` excludes. The
//! context is always read on the machine hoist runs on (like `docker build` with
//! DOCKER_HOST pointing elsewhere), whichever engine builds it.

use std::path::Path;

use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::error::{Error, Result};

/// The tar bytes of `dir`, honouring `dir/.dockerignore`. The Dockerfile and .dockerignore
/// are sent even when ignored (the engine needs the first; docker does the same).
pub fn tar_context(dir: &Path, dockerfile: &str) -> Result<Vec<u8>> {
    let ignore = dockerignore(dir)?;
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    tar.follow_symlinks(false);
    let walker = ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .follow_links(false)
        .sort_by_file_name(|a, b| a.cmp(b))
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| Error::wrap("cannot read the build context", e))?;
        let path = entry.path();
        let Ok(rel) = path.strip_prefix(dir) else {
            continue;
        };
        if rel.as_os_str().is_empty() {
            continue;
        }
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        let always = rel == Path::new(dockerfile) || rel == Path::new(".dockerignore");
        if !always && excluded(&ignore, rel, is_dir) {
            continue;
        }
        tar.append_path_with_name(path, rel).map_err(|e| {
            Error::wrap(
                format!("cannot add {} to the build context", path.display()),
                e,
            )
        })?;
    }
    tar.into_inner()
        .map_err(|e| Error::wrap("cannot finish the build context", e))
}

/// Excluded by .dockerignore? A path is also excluded when a parent directory is (but
/// the walk still descends, so `!exceptions` inside an ignored directory are kept).
fn excluded(ignore: &Gitignore, rel: &Path, is_dir: bool) -> bool {
    ignore.matched_path_or_any_parents(rel, is_dir).is_ignore()
}

/// .dockerignore patterns are relative to the context root (`*.log` means top-level logs
/// only; `**/*.log` means everywhere), unlike .gitignore where a bare name matches at any
/// depth — so every pattern is anchored at the root.
fn dockerignore(dir: &Path) -> Result<Gitignore> {
    let mut b = GitignoreBuilder::new(dir);
    let path = dir.join(".dockerignore");
    if let Ok(text) = std::fs::read_to_string(&path) {
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (neg, pat) = match line.strip_prefix('!') {
                Some(p) => ("!", p.trim()),
                None => ("", line),
            };
            let pat = pat.trim_start_matches("./").trim_start_matches('/');
            b.add_line(Some(path.clone()), &format!("{neg}/{pat}"))
                .map_err(|e| {
                    Error::usage(format!("{}: bad pattern `{line}`: {e}", path.display()))
                })?;
        }
    }
    b.build()
        .map_err(|e| Error::usage(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(tar_bytes: &[u8]) -> Vec<String> {
        let mut a = tar::Archive::new(tar_bytes);
        a.entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn dockerignore_is_anchored_and_keeps_exceptions_and_the_dockerfile() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path();
        std::fs::create_dir_all(p.join("sub/deep")).unwrap();
        std::fs::create_dir_all(p.join("secrets")).unwrap();
        for f in [
            "Dockerfile",
            "app.log",
            "sub/app.log",
            "sub/deep/x.tmp",
            "keep.txt",
            "secrets/key",
            "README.md",
        ] {
            std::fs::write(p.join(f), "x").unwrap();
        }
        std::fs::write(
            p.join(".dockerignore"),
            "# comment\n*.log\n**/*.tmp\nsecrets\n*.md\n!README.md\nDockerfile\n",
        )
        .unwrap();
        let got = names(&tar_context(p, "Dockerfile").unwrap());
        for want in [
            "Dockerfile",
            ".dockerignore",
            "sub/app.log",
            "keep.txt",
            "README.md",
        ] {
            assert!(got.iter().any(|g| g == want), "{want} missing from {got:?}");
        }
        for gone in ["app.log", "sub/deep/x.tmp", "secrets/key", "secrets"] {
            assert!(!got.iter().any(|g| g == gone), "{gone} sent: {got:?}");
        }
    }
}
