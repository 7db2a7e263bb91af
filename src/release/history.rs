//! The release history of a project on one host, and every decision made from it: which
//! release is live, what the next id is, what `--rollback` / `--to ID` goes back to, what a
//! switch, a rollback, a failure or an undo leaves in the records. Pure: no host, no clock
//! (the caller passes the time), so each rule is a unit test.

use super::record::{Outcome, Record};

/// Why there is nothing to go back to (an error before anything changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoTarget {
    /// `--to ID` names no record.
    Unknown(String),
    /// `--to ID` names a release that never went live.
    NeverLive(String),
    /// Nothing is live, so there is no "previous".
    NothingLive,
    /// The live release was confirmed: a plain `--rollback` does not go past it.
    Confirmed(String),
    /// No release before the live one was live and left for it.
    NoPrevious,
    /// Its files were pruned (`keep_releases`), so it cannot be restored exactly.
    Pruned(String),
}

impl NoTarget {
    /// The sentence a user reads (the caller adds host and app).
    pub fn explain(&self, app: &str) -> String {
        match self {
            NoTarget::Unknown(id) => {
                format!("{app} has no release {id} (`hoist releases --app {app}` lists them)")
            }
            NoTarget::NeverLive(id) => {
                format!("release {id} of {app} never went live (failed): pick another")
            }
            NoTarget::NothingLive => {
                format!("no previous release of {app} to roll back to (none is live)")
            }
            NoTarget::Confirmed(id) => format!(
                "no previous release of {app} to roll back to: {id} was confirmed (--to ID goes to a named release)"
            ),
            NoTarget::NoPrevious => format!("no previous release of {app} to roll back to"),
            NoTarget::Pruned(id) => format!(
                "the files of release {id} of {app} are no longer kept (keep_releases): it cannot be restored exactly"
            ),
        }
    }
}

/// A project's records, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub records: Vec<Record>,
}

impl History {
    pub fn new(records: Vec<Record>) -> History {
        History { records }
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The live release (the last one marked live, should a file ever hold two).
    pub fn live(&self) -> Option<&Record> {
        self.records
            .iter()
            .rev()
            .find(|r| r.outcome == Outcome::Live)
    }

    pub fn find(&self, id: &str) -> Option<&Record> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The id the next release gets: one more than the highest `rN` so far.
    pub fn next_id(&self) -> String {
        let n = self.records.iter().map(Record::number).max().unwrap_or(0);
        format!("r{}", n + 1)
    }

    /// What `--rollback` (`to` None) or `--to ID` goes back to. Plain `--rollback`: the newest
    /// release before the live one that was live and was superseded (not left by a rollback),
    /// so a second `--rollback` goes one further back, never forward again.
    pub fn rollback_target(&self, to: Option<&str>) -> Result<&Record, NoTarget> {
        if let Some(id) = to {
            let r = self
                .find(id)
                .ok_or_else(|| NoTarget::Unknown(id.to_string()))?;
            if r.outcome == Outcome::Failed {
                return Err(NoTarget::NeverLive(id.to_string()));
            }
            return Ok(r);
        }
        let live = self.live().ok_or(NoTarget::NothingLive)?;
        if live.confirmed {
            return Err(NoTarget::Confirmed(live.id.clone()));
        }
        let at = self
            .records
            .iter()
            .rposition(|r| r.id == live.id)
            .expect("the live record is in the history");
        self.records[..at]
            .iter()
            .rev()
            .find(|r| r.outcome == Outcome::Superseded)
            .ok_or(NoTarget::NoPrevious)
    }

    /// `release` is live: appended, and the live one before it superseded. Records change
    /// before the containers do, so an interrupt finds the attempt recorded.
    pub fn switched(&self, release: &Record, now: &str) -> History {
        let mut next: Vec<Record> = self
            .records
            .iter()
            .cloned()
            .map(|mut r| {
                if r.outcome == Outcome::Live {
                    r.outcome = Outcome::Superseded;
                    r.changed = now.to_string();
                }
                r
            })
            .collect();
        let mut new = release.clone();
        new.outcome = Outcome::Live;
        next.push(new);
        History::new(next)
    }

    /// Back to the existing record `target_id`: it is live again, the live one rolled back
    /// (noting who left it, and `why`). `target_id` live already: nothing changes (a repair).
    pub fn rolled_to(&self, target_id: &str, user: &str, why: &str, now: &str) -> History {
        let next = self
            .records
            .iter()
            .cloned()
            .map(|mut r| {
                if r.id == target_id {
                    if r.outcome != Outcome::Live {
                        r.outcome = Outcome::Live;
                        r.changed = now.to_string();
                    }
                    // Why it was left no longer holds.
                    if r.note.starts_with("left for") {
                        r.note.clear();
                    }
                } else if r.outcome == Outcome::Live {
                    r.outcome = Outcome::RolledBack;
                    r.changed = now.to_string();
                    r.note = if why.is_empty() {
                        format!("left for {target_id} by {user}")
                    } else {
                        format!("left for {target_id} by {user}: {why}")
                    };
                }
                r
            })
            .collect();
        History::new(next)
    }

    /// A release that never took traffic (its pre-flight failed): appended as failed.
    pub fn failed(&self, release: &Record, why: &str, now: &str) -> History {
        let mut next = self.records.clone();
        let mut r = release.clone();
        r.outcome = Outcome::Failed;
        r.note = why.to_string();
        r.changed = now.to_string();
        next.push(r);
        History::new(next)
    }

    /// The records as they were before an attempt (`self`), with the attempt — a new release
    /// that did not go live — kept as failed. None: the attempt was a rollback, whose records
    /// are put back as they were.
    pub fn undone(&self, attempt: Option<&Record>, why: &str, now: &str) -> History {
        match attempt {
            Some(r) => self.failed(r, why, now),
            None => self.clone(),
        }
    }

    /// `upgrade --confirm`: the live release is kept; a plain `--rollback` no longer goes past it.
    pub fn confirmed(&self, now: &str) -> Result<History, NoTarget> {
        let live = self.live().ok_or(NoTarget::NothingLive)?.id.clone();
        let next = self
            .records
            .iter()
            .cloned()
            .map(|mut r| {
                if r.id == live {
                    r.confirmed = true;
                    r.changed = now.to_string();
                }
                r
            })
            .collect();
        Ok(History::new(next))
    }

    /// The releases whose kept files must stay: the newest `keep` releases that kept files,
    /// plus the live and every confirmed one whatever their age.
    pub fn kept(&self, keep: usize) -> Vec<&Record> {
        let with_files: Vec<&Record> = self.records.iter().filter(|r| r.keeps_files()).collect();
        let cut = with_files.len().saturating_sub(keep);
        with_files
            .iter()
            .enumerate()
            .filter(|(i, r)| *i >= cut || r.outcome == Outcome::Live || r.confirmed)
            .map(|(_, r)| *r)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::record::PinKind;

    fn rec(id: &str, outcome: Outcome) -> Record {
        Record {
            id: id.into(),
            image: format!("reg/app:{id}"),
            pinned: format!("reg/app@sha256:{id}"),
            pin: PinKind::Digest,
            files: Default::default(),
            env_files: vec![],
            profiles: vec![],
            params: Default::default(),
            recipe: "deploy".into(),
            run_id: "run".into(),
            user: "ann".into(),
            controller: "ctl".into(),
            time: "t0".into(),
            changed: "t0".into(),
            outcome,
            note: String::new(),
            confirmed: false,
            compose_file: Some("docker-compose.yml".into()),
            extra: Default::default(),
        }
    }

    fn outcomes(h: &History) -> Vec<(String, Outcome)> {
        h.records
            .iter()
            .map(|r| (r.id.clone(), r.outcome))
            .collect()
    }

    use Outcome::*;

    #[test]
    fn ids_count_up_from_the_highest_and_the_live_one_is_found() {
        let h = History::new(vec![
            rec("r1", Superseded),
            rec("r7", Live),
            rec("x", Failed),
        ]);
        assert_eq!(h.next_id(), "r8");
        assert_eq!(h.live().unwrap().id, "r7");
        assert_eq!(History::default().next_id(), "r1");
        assert!(History::default().live().is_none());
    }

    #[test]
    fn a_switch_supersedes_the_live_release() {
        let h = History::new(vec![rec("r1", Superseded), rec("r2", Live)]);
        let n = h.switched(&rec("r3", Failed), "t1");
        assert_eq!(
            outcomes(&n),
            vec![
                ("r1".into(), Superseded),
                ("r2".into(), Superseded),
                ("r3".into(), Live)
            ]
        );
        assert_eq!(n.records[1].changed, "t1");
        assert_eq!(n.records[0].changed, "t0", "only the live one changes");
    }

    #[test]
    fn rollback_goes_to_the_newest_superseded_one_and_never_forward() {
        let h = History::new(vec![
            rec("r1", Superseded),
            rec("r2", Superseded),
            rec("r3", Failed),
            rec("r4", Live),
        ]);
        assert_eq!(h.rollback_target(None).unwrap().id, "r2");
        let back = h.rolled_to("r2", "ann", "", "t1");
        assert_eq!(back.live().unwrap().id, "r2");
        assert_eq!(back.find("r4").unwrap().outcome, RolledBack);
        assert_eq!(back.find("r4").unwrap().note, "left for r2 by ann");
        // A second --rollback goes further back, not forward to r4.
        assert_eq!(back.rollback_target(None).unwrap().id, "r1");
        let twice = back.rolled_to("r1", "ann", "", "t2");
        assert_eq!(
            twice.rollback_target(None),
            Err(NoTarget::NoPrevious),
            "r2 was left by a rollback, r3 failed, r4 rolled back"
        );
    }

    #[test]
    fn to_names_any_release_that_went_live_and_repairing_the_live_one_changes_nothing() {
        let h = History::new(vec![
            rec("r1", Superseded),
            rec("r2", Failed),
            rec("r3", Live),
        ]);
        assert_eq!(h.rollback_target(Some("r1")).unwrap().id, "r1");
        assert_eq!(
            h.rollback_target(Some("r2")),
            Err(NoTarget::NeverLive("r2".into()))
        );
        assert_eq!(
            h.rollback_target(Some("r9")),
            Err(NoTarget::Unknown("r9".into()))
        );
        assert_eq!(h.rolled_to("r3", "ann", "", "t1"), h, "a repair");
        let mut left = h.rolled_to("r1", "ann", "watched unhealthy", "t1");
        assert_eq!(
            left.find("r3").unwrap().note,
            "left for r1 by ann: watched unhealthy"
        );
        // Going back to r3 again clears why it was left.
        left = left.rolled_to("r3", "bob", "", "t2");
        assert_eq!(left.find("r3").unwrap().note, "");
        assert_eq!(left.find("r1").unwrap().outcome, RolledBack);
    }

    #[test]
    fn confirmed_stops_a_plain_rollback_but_not_to() {
        let h = History::new(vec![rec("r1", Superseded), rec("r2", Live)]);
        let c = h.confirmed("t1").unwrap();
        assert!(c.live().unwrap().confirmed);
        assert_eq!(
            c.rollback_target(None),
            Err(NoTarget::Confirmed("r2".into()))
        );
        assert_eq!(c.rollback_target(Some("r1")).unwrap().id, "r1");
        assert_eq!(
            History::default().confirmed("t"),
            Err(NoTarget::NothingLive)
        );
    }

    #[test]
    fn a_failed_or_undone_attempt_is_kept_as_failed_and_the_live_one_stays() {
        let h = History::new(vec![rec("r1", Live)]);
        let f = h.failed(&rec("r2", Live), "its pre-flight failed", "t1");
        assert_eq!(
            outcomes(&f),
            vec![("r1".into(), Live), ("r2".into(), Failed)]
        );
        assert_eq!(f.records[1].note, "its pre-flight failed");
        assert_eq!(
            h.undone(None, "x", "t1"),
            h,
            "a rollback's records go back as they were"
        );
        assert_eq!(
            h.undone(Some(&rec("r2", Live)), "why", "t1"),
            h.failed(&rec("r2", Live), "why", "t1")
        );
    }

    #[test]
    fn kept_releases_are_the_newest_plus_the_live_and_confirmed_ones() {
        let mut old_live = rec("r1", Live);
        old_live.compose_file = Some("c.yml".into());
        let mut confirmed = rec("r2", RolledBack);
        confirmed.confirmed = true;
        let mut no_files = rec("r3", Superseded);
        no_files.compose_file = None;
        let h = History::new(vec![
            old_live,
            confirmed,
            no_files,
            rec("r4", Failed),
            rec("r5", Superseded),
            rec("r6", Failed),
        ]);
        let ids: Vec<&str> = h.kept(2).iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["r1", "r2", "r5", "r6"]);
        assert_eq!(h.kept(10).len(), 5, "every release that kept files");
    }
}
