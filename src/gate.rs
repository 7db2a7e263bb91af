//! The gate: [`Services::perform`] is the one way a change reaches the world. It admits the
//! change (a dry run records it in the plan and goes no further), or runs it, times it,
//! audits how it ended (exit code, or the error) and, with `--diff`, shows a file's diff.
//! The handles that can change things (the engine's write calls, a host's command runner,
//! the registry's changing requests) are handed out only inside the operation it runs, so a
//! primitive cannot change the world without passing here. Probes (reads) do not pass the
//! gate: they run in both modes. It sits above both the effect boundary's data
//! ([`crate::effect`]) and the run's services, which know nothing of it.

use std::future::Future;
use std::time::Instant;

use crate::effect::{Change, Performed};
use crate::error::Result;
use crate::report::Event;
use crate::services::Services;

impl Services {
    /// Make `change` on `host` by running `op`, or plan it (see the module docs). `op` gives
    /// its value and the exit code to audit (0 for an API call that answered).
    pub async fn perform_coded<T>(
        &self,
        host: &str,
        change: Change,
        op: impl Future<Output = Result<(T, i32)>>,
    ) -> Result<Performed<T>> {
        if !self.effects().admit(host, &change) {
            return Ok(Performed::Planned);
        }
        let step = crate::step::current();
        let started = Instant::now();
        let result = op.await;
        let (code, error) = match &result {
            Ok((_, code)) => (Some(*code), None),
            Err(e) => (e.exit_code, Some(e.message.clone())),
        };
        self.audit(crate::audit::Entry {
            host: host.to_string(),
            step,
            action: change.kind(),
            command: change.summary(),
            exit_code: code,
            ms: started.elapsed().as_millis() as u64,
            error,
            probe: false,
            change: Some(change.to_json()),
        });
        if code == Some(0)
            && self.effects().wants_diffs()
            && let Some(diff) = change.diff()
        {
            self.reporter.event(Event::Diff {
                host: host.to_string(),
                diff: self.redactor.redact(&diff),
            });
        }
        result.map(|(v, _)| Performed::Done(v))
    }

    /// [`Services::perform_coded`] for an operation that has no exit code of its own: it
    /// succeeded (0) or failed (its error).
    pub async fn perform<T>(
        &self,
        host: &str,
        change: Change,
        op: impl Future<Output = Result<T>>,
    ) -> Result<Performed<T>> {
        self.perform_coded(host, change, async { op.await.map(|v| (v, 0)) })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change() -> Change {
        Change::Command {
            command: "touch /x".into(),
        }
    }

    #[test]
    fn a_dry_run_plans_the_change_and_never_runs_the_operation() {
        let s = Services::silent();
        s.effects().set_mode(crate::effect::Mode::Plan);
        let ran = std::sync::atomic::AtomicBool::new(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = rt
            .block_on(s.perform("h", change(), async {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(7)
            }))
            .unwrap();
        assert!(r.planned());
        assert_eq!(r.or_placeholder(), 0);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(s.effects().plan().changes.len(), 1);
    }

    #[test]
    fn a_real_run_runs_the_operation_and_audits_its_exit_code() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let audit = crate::audit::Audit::open(&log, None).unwrap();
        let s = Services::new(
            std::sync::Arc::new(crate::report::Silent),
            crate::secret::Redactor::default(),
            Some(audit),
        );
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let r = rt
            .block_on(s.perform_coded("h", change(), async { Ok(("out", 3)) }))
            .unwrap();
        assert_eq!(r, Performed::Done("out"));
        let line: serde_json::Value =
            serde_json::from_str(std::fs::read_to_string(&log).unwrap().trim()).unwrap();
        assert_eq!(line["exit_code"], 3);
        assert_eq!(line["command"], "touch /x");
        assert_eq!(line["probe"], false);
        assert!(s.effects().plan().changes.is_empty());
    }
}
