//! Watching a release after its cutover. Checks passed once prove little about the minute
//! after: for a window (`--watch SECONDS`) the release's containers are watched, and one that
//! turns unhealthy, exits or restarts is rolled back at once to the release before it (its
//! files, image and containers, through a guarded cutover of its own) and recorded as failed
//! with the reason.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::check;
use super::engine::{Candidate, Release, Stage, now};
use super::readiness::{self, Verdict};
use super::record::Outcome;
use crate::error::{Error, Result};
use crate::report::Level;

impl Release {
    /// Watch `c` (live now) for `secs` seconds; a failure rolls it back to the release it
    /// replaced and is an error saying why.
    pub async fn watch(&self, c: &Candidate, secs: u64) -> Result<()> {
        let h = &self.inner.host;
        let rec = c.record().clone();
        if secs == 0 {
            return Ok(());
        }
        if c.stage() != Stage::Live {
            return Err(Error::usage(format!(
                "{}: release {} is not live ({:?}): only a live release is watched",
                h.name(),
                rec.id,
                c.stage()
            )));
        }
        let effects = h.services().effects();
        if effects.planning() {
            effects.assume(
                h.name(),
                format!("{} stays healthy for {secs}s after its cutover", rec.id),
            );
            return Ok(());
        }
        let expected: Vec<String> = c.inner.config.services.keys().cloned().collect();
        let one_shots = check::one_shots(&c.inner.config);
        let start = Instant::now();
        let mut baseline: HashMap<String, i64> = HashMap::new();
        let failed = loop {
            let seen = check::observe(&self.inner.docker, &self.inner.app).await?;
            for s in &seen {
                baseline.entry(s.name.clone()).or_insert(s.restart_count);
            }
            match readiness::verdict(&expected, &seen, &one_shots, &|n| baseline.get(n).copied()) {
                Verdict::Failed { service, reason } => break Some((service, reason)),
                Verdict::Ready | Verdict::Waiting(_) => {}
            }
            if start.elapsed() >= Duration::from_secs(secs) {
                break None;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        };
        let Some((service, reason)) = failed else {
            return Ok(());
        };
        let after = start.elapsed().as_secs();
        let why = format!("service {service} {reason} {after}s after its cutover");
        let logs = check::logs_tail(&self.inner.docker, &self.inner.app, &service, 15).await;
        let Some(prev) = c.previous().cloned() else {
            return Err(Error::failed(format!(
                "{}: {} ({}) failed while watched: {why}; it was the first release, there is nothing to roll back to{}",
                h.name(),
                rec.id,
                rec.image,
                tail(&service, &logs)
            ))
            .host(h.name()));
        };
        self.say(
            Level::Warn,
            format!(
                "{}: {} ({}) failed while watched ({why}); rolling back to {} ({})",
                h.name(),
                rec.id,
                rec.image,
                prev.id,
                prev.image
            ),
        );
        crate::services::shielded_async(async {
            let back = self.prepare_back(Some(&prev.id)).await?;
            // It was live a moment ago: no pre-flight stands between a failing release and it.
            back.set_stage(Stage::Proven);
            self.cutover(&back).await?;
            let mut history = self.history().await?;
            if let Some(r) = history.records.iter_mut().find(|r| r.id == rec.id) {
                r.outcome = Outcome::Failed;
                r.note = format!(
                    "rolled back to {} after it failed while watched: {why}",
                    prev.id
                );
                r.changed = now();
            }
            self.inner.store.save(&history).await
        })
        .await?;
        c.set_stage(Stage::Failed);
        Err(Error::failed(format!(
            "{}: {} ({}) failed while watched — {why} — and was rolled back to {} ({}), which is live again{}",
            h.name(),
            rec.id,
            rec.image,
            prev.id,
            prev.image,
            tail(&service, &logs)
        ))
        .host(h.name()))
    }
}

fn tail(service: &str, logs: &str) -> String {
    let logs = logs.trim_end();
    if logs.is_empty() {
        String::new()
    } else {
        format!("\n--- last log lines of {service} ---\n{logs}")
    }
}
