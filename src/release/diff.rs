//! What changed between two releases (`hoist releases --app A --diff r3 r5`): the image and
//! what pins it, the profiles, the compose file as a unified diff, and each env file by key —
//! added, removed, changed — never by value (env files hold secrets).

use indexmap::IndexMap;

use super::engine::Release;
use super::record::Record;
use crate::error::{Error, Result};

impl Release {
    /// The difference from release `from` to release `to` (ids), as text.
    pub async fn diff(&self, from: &str, to: &str) -> Result<String> {
        let h = &self.inner.host;
        let history = self.history().await?;
        let find = |id: &str| {
            history.find(id).cloned().ok_or_else(|| {
                Error::usage(format!(
                    "{}: {} has no release {id} (`hoist releases --app {}` lists them)",
                    h.name(),
                    self.inner.app,
                    self.inner.app
                ))
                .host(h.name())
            })
        };
        let (a, b) = (find(from)?, find(to)?);
        let (fa, fb) = (self.kept_texts(&a).await?, self.kept_texts(&b).await?);
        Ok(describe(&a, &fa, &b, &fb))
    }

    /// The kept texts of a release's files (None: not kept).
    async fn kept_texts(&self, r: &Record) -> Result<IndexMap<String, Option<String>>> {
        let mut out = IndexMap::new();
        for (name, sha) in &r.files {
            let text = self
                .inner
                .store
                .kept(sha)
                .await?
                .map(|b| String::from_utf8_lossy(&b).into_owned());
            out.insert(name.clone(), text);
        }
        Ok(out)
    }
}

/// The diff as a person reads it (pure).
pub fn describe(
    a: &Record,
    fa: &IndexMap<String, Option<String>>,
    b: &Record,
    fb: &IndexMap<String, Option<String>>,
) -> String {
    let mut s = format!("{} → {}\n", a.id, b.id);
    if a.image == b.image && a.pinned == b.pinned {
        s.push_str(&format!("image: {} (unchanged)\n", a.image));
    } else {
        s.push_str(&format!(
            "image: {} ({}) → {} ({})\n",
            a.image, a.pinned, b.image, b.pinned
        ));
    }
    if a.profiles != b.profiles {
        s.push_str(&format!(
            "profiles: [{}] → [{}]\n",
            a.profiles.join(","),
            b.profiles.join(",")
        ));
    }
    let mut names: Vec<&String> = fa.keys().collect();
    for n in fb.keys() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    for name in names {
        let compose =
            a.compose_file.as_deref() == Some(name) || b.compose_file.as_deref() == Some(name);
        let (x, y) = (fa.get(name), fb.get(name));
        match (x, y) {
            (Some(Some(x)), Some(Some(y))) if x == y => s.push_str(&format!("{name}: unchanged\n")),
            (Some(None), _) | (_, Some(None)) => s.push_str(&format!(
                "{name}: {} (its copy is no longer kept)\n",
                if a.files.get(name) == b.files.get(name) {
                    "unchanged"
                } else {
                    "changed"
                }
            )),
            (None, Some(Some(_))) => s.push_str(&format!("{name}: only in {}\n", b.id)),
            (Some(Some(_)), None) => s.push_str(&format!("{name}: only in {}\n", a.id)),
            (Some(Some(x)), Some(Some(y))) if compose => s.push_str(&crate::effect::diff::unified(
                name,
                Some(x.as_bytes()),
                y.as_bytes(),
            )),
            (Some(Some(x)), Some(Some(y))) => s.push_str(&env_diff(name, x, y)),
            (None, None) => {}
        }
    }
    s
}

/// An env file's change by key; values are never shown.
fn env_diff(name: &str, old: &str, new: &str) -> String {
    let read = |t: &str| {
        let mut m = IndexMap::new();
        let _ = crate::env_file::parse(t, &|_| None, &mut m);
        m
    };
    let (o, n) = (read(old), read(new));
    let mut lines = Vec::new();
    for (k, v) in &n {
        match o.get(k) {
            None => lines.push(format!("  + {k}")),
            Some(ov) if ov != v => lines.push(format!("  ~ {k} (value changed)")),
            _ => {}
        }
    }
    for k in o.keys() {
        if !n.contains_key(k) {
            lines.push(format!("  - {k}"));
        }
    }
    if lines.is_empty() {
        format!("{name}: same keys and values, other lines changed (comments, order)\n")
    } else {
        format!("{name} (values not shown):\n{}\n", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::record::{Outcome, PinKind};

    fn rec(id: &str, image: &str, files: &[(&str, &str)]) -> Record {
        Record {
            id: id.into(),
            image: image.into(),
            pinned: format!("{image}@sha256:x"),
            pin: PinKind::Digest,
            files: files
                .iter()
                .map(|(n, s)| (n.to_string(), s.to_string()))
                .collect(),
            env_files: vec!["prod.env".into()],
            profiles: vec![],
            params: Default::default(),
            recipe: String::new(),
            run_id: String::new(),
            user: String::new(),
            controller: String::new(),
            time: String::new(),
            changed: String::new(),
            outcome: Outcome::Live,
            note: String::new(),
            confirmed: false,
            compose_file: Some("compose.yml".into()),
            extra: Default::default(),
        }
    }

    #[test]
    fn images_compose_lines_and_env_keys_but_never_env_values() {
        let a = rec(
            "r1",
            "reg/app:v1",
            &[("compose.yml", "1"), ("prod.env", "2")],
        );
        let b = rec(
            "r2",
            "reg/app:v2",
            &[("compose.yml", "3"), ("prod.env", "4")],
        );
        let fa = IndexMap::from([
            (
                "compose.yml".to_string(),
                Some("services:\n  web: {}\n".to_string()),
            ),
            (
                "prod.env".to_string(),
                Some("MODE=a\nTOKEN=s3cret\nOLD=1\n".to_string()),
            ),
        ]);
        let fb = IndexMap::from([
            (
                "compose.yml".to_string(),
                Some("services:\n  web: {}\n  side: {}\n".to_string()),
            ),
            (
                "prod.env".to_string(),
                Some("MODE=b\nTOKEN=s3cret\nNEW=2\n".to_string()),
            ),
        ]);
        let d = describe(&a, &fa, &b, &fb);
        assert!(d.starts_with("r1 → r2\nimage: reg/app:v1"), "{d}");
        assert!(d.contains("+  side: {}"), "{d}");
        assert!(
            d.contains("~ MODE (value changed)") && d.contains("+ NEW") && d.contains("- OLD"),
            "{d}"
        );
        assert!(
            !d.contains("TOKEN") && !d.contains("s3cret") && !d.contains("=b"),
            "{d}"
        );
    }
}
