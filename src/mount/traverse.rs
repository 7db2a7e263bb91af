//! Can a user get to a directory? Every directory on the way needs the x (search) bit for
//! that user — the "chmod o+x all the way down" problem of bind-mounted volumes.

use serde::Serialize;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;

/// A directory the user cannot enter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocked {
    pub path: String,
    /// Octal mode, e.g. "750".
    pub mode: String,
    pub owner: String,
    pub group: String,
    /// The chmod that would let the user through: "o+x", "g+x" or "u+x".
    pub needs: String,
}

/// Who is asking: a uid and its groups, or "anyone" (others' bits).
enum Who {
    Anyone,
    User { uid: u32, gids: Vec<u32> },
}

/// `/a/b/c` -> ["/", "/a", "/a/b", "/a/b/c"].
pub fn ancestors(path: &str) -> Vec<String> {
    let mut out = vec!["/".to_string()];
    let mut cur = String::new();
    for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
        cur.push('/');
        cur.push_str(part);
        out.push(cur.clone());
    }
    out
}

/// Every directory from `/` down to `path` that `user` (None = any user, via the
/// others' bits) cannot enter. Symlinks are followed. Root passes everywhere.
pub async fn check_traversable(
    host: &Host,
    path: &str,
    user: Option<&str>,
) -> Result<Vec<Blocked>> {
    if !path.starts_with('/') {
        return Err(Error::usage(format!(
            "check_traversable(): `{path}` must be an absolute path"
        )));
    }
    let who = match user {
        None => Who::Anyone,
        Some(u) => {
            let out = host
                .run(&Command::argv(["id", "-u", u]).check(false).quiet().probe())
                .await?;
            if !out.ok() {
                return Err(Error::usage(format!(
                    "check_traversable(): no user `{u}` on this host"
                ))
                .host(host.name())
                .stderr(&out.stderr));
            }
            let uid: u32 = out.stdout.trim().parse().unwrap_or(u32::MAX);
            let groups = host
                .run(&Command::argv(["id", "-G", u]).quiet().probe())
                .await?;
            let gids = groups
                .stdout
                .split_whitespace()
                .filter_map(|g| g.parse().ok())
                .collect();
            if uid == 0 {
                return Ok(Vec::new());
            }
            Who::User { uid, gids }
        }
    };
    let dirs = ancestors(path);
    let mut argv = vec![
        "stat".to_string(),
        "-L".into(),
        "-c".into(),
        "%a|%u|%g|%U|%G|%F".into(),
        "--".into(),
    ];
    argv.extend(dirs.iter().cloned());
    let out = host
        .run(&Command::argv(argv).check(false).quiet().probe())
        .await?;
    let lines: Vec<&str> = out.stdout.lines().collect();
    if !out.ok() || lines.len() != dirs.len() {
        // stat stops at nothing: name the first path that is missing.
        let missing = dirs
            .get(lines.len())
            .cloned()
            .unwrap_or_else(|| path.to_string());
        return Err(Error::failed(format!(
            "check_traversable(): {missing} does not exist or cannot be read"
        ))
        .host(host.name())
        .stderr(&out.stderr));
    }
    let mut blocked = Vec::new();
    for (dir, line) in dirs.iter().zip(lines) {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() < 6 {
            continue;
        }
        let mode = u32::from_str_radix(f[0], 8).unwrap_or(0);
        let (uid, gid): (u32, u32) = (f[1].parse().unwrap_or(0), f[2].parse().unwrap_or(0));
        let (bit, needs) = match &who {
            Who::Anyone => (0o001, "o+x"),
            Who::User { uid: u, .. } if *u == uid => (0o100, "u+x"),
            Who::User { gids, .. } if gids.contains(&gid) => (0o010, "g+x"),
            Who::User { .. } => (0o001, "o+x"),
        };
        if f[5] == "directory" && mode & bit == 0 {
            blocked.push(Blocked {
                path: dir.clone(),
                mode: f[0].to_string(),
                owner: f[3].to_string(),
                group: f[4].to_string(),
                needs: needs.to_string(),
            });
        }
    }
    Ok(blocked)
}
