//! A command's result as scripts see it (`Output`: code, ok, stdout, stderr, stdout_blob, ms).
//!
//! Its text lives in Rhai's own shared strings, so `o.stdout` read again and again shares one
//! copy instead of copying the whole output each time; and the move from the transport's
//! buffer into that string hands the buffer's memory back as it goes, so a captured output
//! costs about its own size once, not three times (see [`shared_text`]).

use std::sync::Arc;

use rhai::{Engine, ImmutableString, Map, NativeCallContext};

use crate::host::Output;
use crate::script::state::ScriptState;

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

    fn stdout_bytes(&self) -> &[u8] {
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

/// A dry run's placeholder is being read: note where (see [`crate::effect::Uncertainty`]).
pub fn placeholder_read(s: &ScriptState, ctx: &NativeCallContext, planned: bool, what: &str) {
    if !planned {
        return;
    }
    let file = ctx
        .call_source()
        .map(str::to_string)
        .unwrap_or_else(|| s.main_source());
    let line = ctx.call_position().line().unwrap_or(0);
    s.rt.services.effects().uncertain(
        format!("{file}:{line}"),
        None,
        format!(
            "the script reads the {what} of a command the dry run did not run (a placeholder: code 0, no output); use h.capture() for read-only commands so they run in a plan too"
        ),
    );
}

fn to_map(o: &ScriptOutput) -> Map {
    let mut m = Map::new();
    m.insert("code".into(), (o.code as i64).into());
    m.insert("ok".into(), o.ok().into());
    m.insert("stdout".into(), o.stdout.clone().into());
    m.insert("stderr".into(), o.stderr.clone().into());
    m.insert("ms".into(), (o.ms as i64).into());
    m
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    // Reading the result of a command a dry run did not run makes the plan uncertain from
    // that line on: the plan says so instead of guessing.
    let s = st.clone();
    engine.register_get(
        "code",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "exit code");
            o.code as i64
        },
    );
    let s = st.clone();
    engine.register_get("ok", move |ctx: NativeCallContext, o: &mut ScriptOutput| {
        placeholder_read(&s, &ctx, o.planned, "exit status");
        o.ok()
    });
    let s = st.clone();
    engine.register_get(
        "stdout",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "output");
            o.stdout.clone()
        },
    );
    let s = st.clone();
    engine.register_get(
        "stderr",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| {
            placeholder_read(&s, &ctx, o.planned, "error output");
            o.stderr.clone()
        },
    );
    // stdout as the command wrote it, byte for byte (`stdout` is text: invalid UTF-8
    // becomes U+FFFD there).
    let s = st.clone();
    engine.register_get(
        "stdout_blob",
        move |ctx: NativeCallContext, o: &mut ScriptOutput| -> rhai::Blob {
            placeholder_read(&s, &ctx, o.planned, "output");
            o.stdout_bytes().to_vec()
        },
    );
    engine.register_get("ms", |o: &mut ScriptOutput| o.ms as i64);
    engine.register_fn("to_map", |o: &mut ScriptOutput| to_map(o));
    engine.register_fn("to_string", |o: &mut ScriptOutput| {
        o.stdout.trim_end().to_string()
    });
    engine.register_fn("to_debug", |o: &mut ScriptOutput| {
        format!("{:?}", to_map(o))
    });
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
