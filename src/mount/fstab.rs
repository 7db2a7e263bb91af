//! fstab lines: written for a mount spec, and kept one per target (added or replaced,
//! never duplicated).

use super::spec::{MountSpec, MountType};

/// fstab fields escape white space and backslashes in octal (fstab(5)).
pub fn escape(field: &str) -> String {
    let mut out = String::new();
    for c in field.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

/// Undo [`escape`] (also used for /proc/self/mountinfo, which escapes the same way).
pub fn unescape(field: &str) -> String {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|d| (b'0'..=b'7').contains(d))
        {
            let v = (b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0');
            out.push(v);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The options written to fstab: the spec's, plus what a boot-time mount needs.
pub fn options(spec: &MountSpec) -> Vec<String> {
    let mut o = Vec::new();
    if spec.kind == MountType::Bind {
        o.push("bind".to_string());
    }
    if let Some(file) = spec.credentials_file() {
        o.push(format!("credentials={file}"));
    }
    o.extend(spec.options.iter().cloned());
    if spec.kind.is_network() && !o.iter().any(|x| x == "_netdev") {
        // Network filesystems wait for the network at boot.
        o.push("_netdev".to_string());
    }
    if o.is_empty() {
        o.push("defaults".to_string());
    }
    o
}

/// The fstab line for a spec.
pub fn line(spec: &MountSpec) -> String {
    format!(
        "{} {} {} {} 0 0",
        escape(&spec.source()),
        escape(&spec.target),
        spec.kind.fstype(),
        escape(&options(spec).join(","))
    )
}

/// `text` with exactly one line for `target`, equal to `line`: an existing line for the
/// target is replaced in place, extra ones are dropped, else the line is appended.
/// Returns None when the text already is that way.
pub fn upsert(text: &str, target: &str, line: &str) -> Option<String> {
    let mut out: Vec<String> = Vec::new();
    let mut placed = false;
    let mut changed = false;
    for l in text.lines() {
        if targets(l) == Some(target.to_string()) {
            if placed {
                changed = true;
                continue;
            }
            placed = true;
            if l != line {
                changed = true;
            }
            out.push(line.to_string());
        } else {
            out.push(l.to_string());
        }
    }
    if !placed {
        out.push(line.to_string());
        changed = true;
    }
    if !changed {
        return None;
    }
    Some(out.join("\n") + "\n")
}

/// The target (second field) of an fstab line, or None for comments and blank lines.
pub fn targets(l: &str) -> Option<String> {
    let t = l.trim_start();
    if t.is_empty() || t.starts_with('#') {
        return None;
    }
    t.split_whitespace().nth(1).map(unescape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_adds_replaces_and_dedupes() {
        let line = "tmpfs /mnt/x tmpfs size=1m 0 0";
        let base = "# fstab\nUUID=1 / ext4 defaults 0 1\n";
        let added = upsert(base, "/mnt/x", line).unwrap();
        assert_eq!(added, format!("{base}{line}\n"));
        assert_eq!(upsert(&added, "/mnt/x", line), None);
        let dup = format!(
            "{base}tmpfs /mnt/x tmpfs size=2m 0 0\nother /y none bind 0 0\ntmpfs /mnt/x tmpfs ro 0 0\n"
        );
        let fixed = upsert(&dup, "/mnt/x", line).unwrap();
        assert_eq!(fixed, format!("{base}{line}\nother /y none bind 0 0\n"));
    }

    #[test]
    fn escapes_spaces() {
        assert_eq!(escape("/mnt/my dir"), "/mnt/my\\040dir");
        assert_eq!(unescape("/mnt/my\\040dir"), "/mnt/my dir");
        assert_eq!(
            targets("a /mnt/my\\040dir none bind 0 0").unwrap(),
            "/mnt/my dir"
        );
    }
}
