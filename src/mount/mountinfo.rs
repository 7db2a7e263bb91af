//! What is mounted: /proc/self/mountinfo of the host, parsed (the same data findmnt reads).

use serde::Serialize;

use super::fstab::unescape;

/// One line of mountinfo.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MountEntry {
    pub target: String,
    pub source: String,
    pub fstype: String,
    /// Per-mount options then the filesystem's (super block) options, comma-joined.
    pub options: String,
    /// The directory of the filesystem that is mounted here (differs from "/" for binds).
    #[serde(skip)]
    pub root: String,
    /// major:minor of the filesystem's device.
    #[serde(skip)]
    pub device: String,
}

impl MountEntry {
    pub fn option_list(&self) -> Vec<&str> {
        self.options.split(',').filter(|o| !o.is_empty()).collect()
    }
}

/// Parse mountinfo text; malformed lines are skipped.
pub fn parse(text: &str) -> Vec<MountEntry> {
    text.lines().filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<MountEntry> {
    // id parent major:minor root mount-point mount-options [optional...] - fstype source super-options
    let (left, right) = line.split_once(" - ")?;
    let l: Vec<&str> = left.split(' ').collect();
    let r: Vec<&str> = right.split(' ').collect();
    if l.len() < 6 || r.len() < 3 {
        return None;
    }
    let mut options: Vec<String> = l[5].split(',').map(str::to_string).collect();
    for o in r[2].split(',') {
        if !options.iter().any(|x| x == o) {
            options.push(o.to_string());
        }
    }
    Some(MountEntry {
        device: l[2].to_string(),
        root: unescape(l[3]),
        target: unescape(l[4]),
        fstype: r[0].to_string(),
        source: unescape(r[1]),
        options: options.join(","),
    })
}

/// The mount visible at `target` (the last one mounted there).
pub fn at<'a>(entries: &'a [MountEntry], target: &str) -> Option<&'a MountEntry> {
    let target = normalize(target);
    entries.iter().rev().find(|e| e.target == target)
}

/// The mount a path lives on (longest mount point that is a prefix of it).
pub fn containing<'a>(entries: &'a [MountEntry], path: &str) -> Option<&'a MountEntry> {
    entries
        .iter()
        .rev()
        .filter(|e| {
            e.target == "/" || path == e.target || path.starts_with(&format!("{}/", e.target))
        })
        .max_by_key(|e| e.target.len())
}

pub fn normalize(p: &str) -> String {
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        "/".to_string()
    } else {
        t.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_with_escapes() {
        let text = "36 35 98:0 /mnt1 /mnt/my\\040dir rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n\
                    40 1 0:50 / /tmp/t rw,relatime - tmpfs tmpfs rw,size=1024k\n";
        let e = parse(text);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].target, "/mnt/my dir");
        assert_eq!(e[0].root, "/mnt1");
        assert_eq!(e[0].options, "rw,noatime,errors=continue");
        assert_eq!(at(&e, "/tmp/t/").unwrap().fstype, "tmpfs");
        assert_eq!(containing(&e, "/tmp/t/x").unwrap().target, "/tmp/t");
    }
}
