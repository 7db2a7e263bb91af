//! The tag a build gets when none is given: the git commit of its context (`-dirty` when the
//! work tree has changes), else the time. Read-only probes, so a dry run plans the tag the
//! run will use.

use crate::command::Command;
use crate::error::Result;
use crate::host::Host;

/// The tag for the build context `context` on `local` (the machine hoist runs on).
pub async fn for_context(local: &Host, context: &str) -> Result<String> {
    let git = |args: &[&str]| {
        let mut argv = vec!["git", "-C", context];
        argv.extend_from_slice(args);
        Command::argv(argv).check(false).quiet().probe()
    };
    let head = local
        .run(&git(&["rev-parse", "--short=12", "HEAD"]))
        .await?;
    if head.ok() && !head.stdout.trim().is_empty() {
        let dirty = local.run(&git(&["status", "--porcelain"])).await?;
        let mut tag = head.stdout.trim().to_string();
        if !dirty.stdout.trim().is_empty() {
            tag.push_str("-dirty");
        }
        return Ok(tag);
    }
    let f = time::macros::format_description!("[year][month][day][hour][minute][second]");
    Ok(time::OffsetDateTime::now_utc()
        .format(&f)
        .unwrap_or_default())
}
