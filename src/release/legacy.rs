//! Releases an older hoist made, read as records. That hoist kept `.hoist/releases.log`
//! ("TIME IMAGE" per release, "TIME IMAGE rolled-back" after a rollback) and the live image in
//! `.hoist/current.env` (older still: `.env`'s `IMAGE=`). Pure; the store reads the files and
//! removes them once the records are written (the project is migrated once).

use super::record::{Outcome, PinKind, Record};

/// The files of an older hoist that the first save of the records replaces.
pub const FILES: [&str; 3] = ["current.env", "previous.env", "releases.log"];

const NOTE: &str = "recorded by an older hoist (.hoist/releases.log): pinned by tag, no digests";

/// Records from the old files' texts (None: the file is absent).
pub fn records(
    current_env: Option<&str>,
    dot_env: Option<&str>,
    releases_log: Option<&str>,
) -> Vec<Record> {
    let mut live = current_env.map(image_in).unwrap_or_default();
    if live.is_empty() && releases_log.is_some() {
        live = dot_env.map(image_in).unwrap_or_default();
    }
    let mut out: Vec<Record> = Vec::new();
    for line in releases_log.unwrap_or_default().lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 2 {
            continue;
        }
        let (time, image) = (parts[0], parts[1]);
        if parts.get(2) == Some(&"rolled-back") {
            match out.last_mut() {
                Some(last) if last.image == image => last.outcome = Outcome::Failed,
                _ => out.push(record(out.len() + 1, time, image, Outcome::Failed)),
            }
        } else {
            out.push(record(out.len() + 1, time, image, Outcome::Superseded));
        }
    }
    if !live.is_empty() {
        match out
            .iter_mut()
            .rev()
            .find(|r| r.image == live && r.outcome == Outcome::Superseded)
        {
            Some(r) => r.outcome = Outcome::Live,
            None => out.push(record(out.len() + 1, "", &live, Outcome::Live)),
        }
    }
    out
}

fn record(n: usize, time: &str, image: &str, outcome: Outcome) -> Record {
    Record {
        id: format!("r{n}"),
        image: image.into(),
        pinned: image.into(),
        pin: PinKind::Tag,
        files: Default::default(),
        env_files: vec![],
        profiles: vec![],
        params: Default::default(),
        recipe: String::new(),
        run_id: String::new(),
        user: String::new(),
        controller: String::new(),
        time: time.into(),
        changed: time.into(),
        outcome,
        note: NOTE.into(),
        confirmed: false,
        compose_file: None,
        extra: Default::default(),
    }
}

/// The value of `IMAGE=` in an env file's text ("" when none).
fn image_in(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("IMAGE="))
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_becomes_records_and_current_env_names_the_live_one() {
        let log = "T1 reg/app:v1\nT2 reg/app:v2\nT3 reg/app:v3\nT3 reg/app:v3 rolled-back\n";
        let r = records(Some("IMAGE=reg/app:v2\n"), None, Some(log));
        let got: Vec<(&str, &str, Outcome)> = r
            .iter()
            .map(|r| (r.id.as_str(), r.image.as_str(), r.outcome))
            .collect();
        assert_eq!(
            got,
            vec![
                ("r1", "reg/app:v1", Outcome::Superseded),
                ("r2", "reg/app:v2", Outcome::Live),
                ("r3", "reg/app:v3", Outcome::Failed),
            ]
        );
        assert!(r.iter().all(|r| r.pin == PinKind::Tag && !r.keeps_files()));
    }

    #[test]
    fn the_oldest_layout_reads_the_live_image_from_dot_env() {
        let r = records(
            None,
            Some("X=1\nIMAGE=reg/app:v9\n"),
            Some("T1 reg/app:v1\n"),
        );
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].image, "reg/app:v9");
        assert_eq!(r[1].outcome, Outcome::Live);
        // Without a log, .env is the project's own file, not a record.
        assert!(records(None, Some("IMAGE=x\n"), None).is_empty());
    }
}
