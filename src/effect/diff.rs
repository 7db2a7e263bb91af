//! Unified diffs of file changes, as a person reads them in a plan or after `--diff`.

use sha2::Digest;

/// Text bigger than this is summarised by size and digest instead of diffed line by line.
const MAX_DIFF_BYTES: usize = 1 << 20;

pub fn sha256(data: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(data))
}

/// The diff from `before` (None: not known) to `after`, headed by `path`. Binary or very big
/// content is shown as sizes and digests, never as bytes on a terminal.
pub fn unified(path: &str, before: Option<&[u8]>, after: &[u8]) -> String {
    let Some(before) = before else {
        return format!(
            "{path}: previous content not read; new content {} bytes, sha256 {}\n",
            after.len(),
            sha256(after)
        );
    };
    let texts = (std::str::from_utf8(before), std::str::from_utf8(after));
    match texts {
        (Ok(old), Ok(new)) if old.len() + new.len() <= MAX_DIFF_BYTES => {
            if old == new {
                return String::new();
            }
            similar::TextDiff::from_lines(old, new)
                .unified_diff()
                .context_radius(3)
                .header(path, path)
                .missing_newline_hint(true)
                .to_string()
        }
        _ => format!(
            "{path}: binary or large content: {} bytes, sha256 {} -> {} bytes, sha256 {}\n",
            before.len(),
            sha256(before),
            after.len(),
            sha256(after)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_content_is_summarised_not_printed() {
        let d = unified("blob", Some(&[0xff, 0x00]), &[0xfe]);
        assert!(d.starts_with("blob: binary or large content: 2 bytes, sha256 "));
        assert!(d.contains("-> 1 bytes"));
    }

    #[test]
    fn the_same_text_has_no_diff() {
        assert_eq!(unified("f", Some(b"x\n"), b"x\n"), "");
    }
}
