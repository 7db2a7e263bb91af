//! A command's result as scripts see it (`Output`: code, ok, stdout, stderr, stdout_blob, ms).
//!
//! Its text lives in Rhai's own shared strings, so `o.stdout` read again and again shares one
//! copy instead of copying the whole output each time; and the move from the transport's
//! buffer into that string hands the buffer's memory back as it goes, so a captured output
//! costs about its own size once, not three times (see [`shared_text`]).

use std::sync::Arc;

use rhai::{ImmutableString, Map};

use crate::host::Output;

#[derive(Debug, Clone)]
pub struct ScriptOutput {
    pub code: i32,
    pub stdout: ImmutableString,
    pub stderr: ImmutableString,
    pub ms: u64,
    /// stdout's exact bytes when they are not UTF-8 (see [`Output::stdout_raw`]).
    stdout_raw: Option<Arc<Vec<u8>>>,
    /// See [`Output::planned`].
    pub planned: bool,
}

impl ScriptOutput {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// `#{code, ok, stdout, stderr, ms}`.
    pub fn to_map(&self) -> Map {
        let mut m = Map::new();
        m.insert("code".into(), (self.code as i64).into());
        m.insert("ok".into(), self.ok().into());
        m.insert("stdout".into(), self.stdout.clone().into());
        m.insert("stderr".into(), self.stderr.clone().into());
        m.insert("ms".into(), (self.ms as i64).into());
        m
    }

    pub fn stdout_bytes(&self) -> &[u8] {
        self.stdout_raw
            .as_deref()
            .map_or(self.stdout.as_bytes(), Vec::as_slice)
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "code": self.code, "ok": self.ok(), "stdout": self.stdout.as_str(),
            "stderr": self.stderr.as_str(), "ms": self.ms
        })
    }
}

impl From<Output> for ScriptOutput {
    fn from(o: Output) -> Self {
        ScriptOutput {
            code: o.code,
            stdout: shared_text(o.stdout),
            stderr: shared_text(o.stderr),
            ms: o.ms,
            stdout_raw: o.stdout_raw.map(Arc::new),
            planned: o.planned,
        }
    }
}

/// Below this, a text is simply copied.
const CHUNK: usize = 4 << 20;

/// `text` as a Rhai string. Rhai's strings cannot adopt a `String`'s allocation, so the text is
/// copied — in chunks, and each chunk's pages of the source are returned to the system once
/// copied (the source is dropped right after anyway). Peak memory is then about one copy of
/// the text plus a chunk, instead of two copies.
fn shared_text(mut text: String) -> ImmutableString {
    if text.len() <= CHUNK {
        return text.into();
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as usize;
    let len = text.len();
    let base = text.as_mut_ptr();
    let mut out = ImmutableString::new();
    let mut at = 0;
    let mut released = (base as usize).next_multiple_of(page);
    while at < len {
        let mut end = (at + CHUNK).min(len);
        // SAFETY: `base..base+len` is `text`'s initialised UTF-8, untouched from `at` on.
        let rest = unsafe { std::slice::from_raw_parts(base.add(at), len - at) };
        while end < len && (rest[end - at] & 0xC0) == 0x80 {
            end += 1; // not inside a character
        }
        // SAFETY: `at` and `end` are character boundaries of valid UTF-8.
        out += unsafe { std::str::from_utf8_unchecked(&rest[..end - at]) };
        at = end;
        let upto = (base as usize + at) & !(page - 1);
        if upto > released {
            // SAFETY: whole pages inside `text`'s buffer, which this function owns and never
            // reads below `at` again; MADV_DONTNEED only makes them read back as zeros, and
            // the allocator keeps no data inside an allocation's pages.
            unsafe {
                libc::madvise(
                    released as *mut libc::c_void,
                    upto - released,
                    libc::MADV_DONTNEED,
                )
            };
            released = upto;
        }
    }
    drop(text);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_texts_arrive_whole_with_multibyte_characters_across_chunks() {
        // "é" is two bytes: with an odd prefix, chunk ends fall inside characters.
        let text = format!("x{}", "é—a\n".repeat(3 * CHUNK / 6 + 7));
        let want = text.clone();
        assert_eq!(shared_text(text).as_str(), want);
        assert_eq!(shared_text("small".into()).as_str(), "small");
    }
}
