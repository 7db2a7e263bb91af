//! A release record: one JSON object per line of `.hoist/releases.jsonl` in the project
//! directory on each host, oldest first. It says what a release ran (the image, what pins it,
//! the digests of its files, its env files and profiles), who made it and what became of it.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// What became of a release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// It is what the project runs (exactly one record per project, or none).
    Live,
    /// It never took traffic: a check failed, or it was undone while it replaced the live one.
    Failed,
    /// It was live, then `upgrade --rollback` / `--to` (or a watch that saw it fail) left it.
    RolledBack,
    /// A newer release replaced it.
    Superseded,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Outcome::Live => "live",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled-back",
            Outcome::Superseded => "superseded",
        })
    }
}

/// What a release's `pinned` reference is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinKind {
    /// `repo@sha256:…`: the image's RepoDigests entry, read on the host after its pull.
    Digest,
    /// `sha256:…`: the image ID (an image that came without a registry has no repo digest).
    ImageId,
    /// The tag itself: a record migrated from an older hoist, which kept no digest.
    Tag,
}

/// One release of an app on one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// `r1`, `r2`, … per host: what `upgrade --to ID` names.
    pub id: String,
    /// The image as asked for (`registry/app:tag`).
    pub image: String,
    /// What the release runs: see [`PinKind`].
    pub pinned: String,
    pub pin: PinKind,
    /// sha256 of each file the release ran (compose file, env files, hoist's override), by
    /// name relative to the project directory. Kept byte for byte under `.hoist/releases/`
    /// when [`Record::compose_file`] is set.
    #[serde(default, deserialize_with = "null_default")]
    pub files: IndexMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    pub env_files: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub profiles: Vec<String>,
    /// The recipe's parameters (never a secret: passwords do not reach a recipe's vars).
    #[serde(default, deserialize_with = "null_default")]
    pub params: Map<String, Value>,
    #[serde(default, deserialize_with = "null_default")]
    pub recipe: String,
    #[serde(default, deserialize_with = "null_default")]
    pub run_id: String,
    #[serde(default, deserialize_with = "null_default")]
    pub user: String,
    #[serde(default, deserialize_with = "null_default")]
    pub controller: String,
    /// When the release was made (UTC, RFC 3339, the controller's clock).
    #[serde(default, deserialize_with = "null_default")]
    pub time: String,
    /// When its outcome last changed.
    #[serde(default, deserialize_with = "null_default")]
    pub changed: String,
    pub outcome: Outcome,
    /// Why, when there is something to say (the check that failed, who rolled it back, …).
    #[serde(default, deserialize_with = "null_default")]
    pub note: String,
    /// `upgrade --confirm`: a plain `--rollback` does not go past it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub confirmed: bool,
    /// The compose file among `files` (the others are env files and hoist's override). Set
    /// only for releases whose files hoist kept: those a rollback restores exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compose_file: Option<String>,
    /// Fields a newer hoist wrote, kept as they are.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Older records wrote `null` (Rhai's `()`) where a value was absent.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Record {
    /// Whether hoist kept this release's files, so going back to it restores them too.
    pub fn keeps_files(&self) -> bool {
        self.compose_file.is_some()
    }

    /// The number in `rN` (0 for an id of another shape).
    pub fn number(&self) -> u64 {
        self.id
            .strip_prefix('r')
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// One line of `releases.jsonl`.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("a record serializes")
    }

    /// The lines of `releases.jsonl`, oldest first; blank lines are skipped. A line that is not
    /// a record is an error naming it: the records decide what a rollback does, so a torn file
    /// is not guessed around.
    pub fn parse_lines(text: &str) -> Result<Vec<Record>, String> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
            .collect()
    }

    /// The whole file for `records`.
    pub fn to_text(records: &[Record]) -> String {
        records.iter().map(|r| r.to_line() + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record as the Rhai engine of the previous hoist wrote it (nulls, no compose_file).
    const OLD: &str = r#"{"id":"r2","image":"reg/app:v2","pinned":"reg/app@sha256:ab","pin":"digest","files":{"docker-compose.yml":"11",".env":"22"},"env_files":[],"profiles":null,"params":{"tag":"v2"},"recipe":"deploy","run_id":"ctl-0000042-1","user":"ann","controller":"ctl","time":"2026-12-01T10:00:00Z","changed":"2026-12-01T10:00:00Z","outcome":"live","note":""}"#;

    #[test]
    fn a_record_of_the_previous_format_reads_and_writes_back_the_same_fields() {
        let r: Record = serde_json::from_str(OLD).unwrap();
        assert_eq!(r.outcome, Outcome::Live);
        assert_eq!(r.pin, PinKind::Digest);
        assert!(r.profiles.is_empty());
        assert!(!r.keeps_files(), "no files were kept by that hoist");
        assert_eq!(r.number(), 2);
        let back: Value = serde_json::from_str(&r.to_line()).unwrap();
        assert_eq!(back["files"][".env"], "22");
        assert_eq!(back["outcome"], "live");
        assert!(back.get("confirmed").is_none());
    }

    #[test]
    fn unknown_fields_survive_and_outcomes_are_kebab_case() {
        let line = OLD.replace(r#""note":"""#, r#""note":"","future":{"x":1},"outcome2":3"#);
        let mut r: Record = serde_json::from_str(&line).unwrap();
        r.outcome = Outcome::RolledBack;
        let back = r.to_line();
        assert!(back.contains(r#""future":{"x":1}"#), "{back}");
        assert!(back.contains(r#""outcome":"rolled-back""#), "{back}");
    }

    #[test]
    fn a_torn_file_is_an_error_naming_the_line() {
        let text = format!("{OLD}\n\n{{\"id\":\"r3\",\"ima\n");
        let e = Record::parse_lines(&text).unwrap_err();
        assert!(e.starts_with("line 3:"), "{e}");
        assert_eq!(Record::parse_lines(&format!("{OLD}\n")).unwrap().len(), 1);
    }
}
