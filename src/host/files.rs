//! Files on any host, written once on top of `run`: read, write (atomic, reports whether
//! anything changed), upload, download, exists, mkdir, template.

use sha2::{Digest, Sha256};

use super::Host;
use crate::command::{Command, Stdin, quote, quote_path};
use crate::error::{Error, Result};

/// Options of `write`, `upload`, `template` and `mkdir`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOpts {
    /// Octal mode, e.g. "0644" or 420.
    #[serde(default, deserialize_with = "de_mode")]
    pub mode: Option<u32>,
    /// `user` or `user:group`.
    #[serde(default)]
    pub owner: Option<String>,
    #[serde(default)]
    pub sudo: bool,
}

/// `mkdir` takes the same options as a file.
pub type MkdirOpts = FileOpts;

/// Modes come as strings ("0644", "755") or numbers (which users mean in octal when they
/// write 644, and in decimal when they write 0o644 = 420). A number that reads as octal
/// digits is taken as octal.
pub fn de_mode<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<u32>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum M {
        S(String),
        N(i64),
    }
    let m: Option<M> = serde::Deserialize::deserialize(d)?;
    let parse = |s: &str| {
        u32::from_str_radix(s.trim_start_matches("0o"), 8)
            .ok()
            .filter(|m| *m <= 0o7777)
    };
    match m {
        None => Ok(None),
        Some(M::S(s)) => parse(&s).map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!("mode `{s}` is not an octal mode like \"0644\""))
        }),
        Some(M::N(n)) => {
            let s = n.to_string();
            parse(&s)
                .or_else(|| u32::try_from(n).ok().filter(|m| *m <= 0o7777))
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("mode {n} is not a file mode")))
        }
    }
}

/// A path with a NUL byte cannot be named to any program (the shell would drop the NUL and
/// act on another file): refused, naming it.
fn check_path(host: &str, path: &str) -> Result<()> {
    if path.contains('\0') {
        return Err(Error::usage(format!(
            "path \"{}\" contains a NUL byte, which no file name can hold",
            path.escape_debug()
        ))
        .host(host));
    }
    Ok(())
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Exit code of [`Host::read_bytes_if_present`]'s command when nothing is at the path.
const ABSENT: i32 = 96;
/// Exit codes of the write script when what arrived is not what was sent.
const SHORT: i32 = 97;
const DIGEST: i32 = 98;
/// Printed by the write script when the host has no sha256sum (length checked only).
const NO_DIGEST: &str = "hoist-note:no-sha256sum";

/// Every temp file of a write to `path` starts with this (`DIR/.BASE.hoist-tmp.`): a name
/// known per target, so the next write of the same file finds what a cut write left behind.
fn temp_prefix(path: &str) -> String {
    let (dir, base) = match path.rsplit_once('/') {
        Some(("", b)) => ("", b),
        Some((d, b)) => (d, b),
        None => (".", path),
    };
    format!("{dir}/.{base}.hoist-tmp.")
}

/// What the write script reads: the expected sha256 on a line of its own, then the data.
/// The digest travels with the data rather than in the script, which is shown in errors and
/// the audit log (the digest of a short secret, a password, would let a reader of those
/// guess it offline), or in the environment, which `sudo` may refuse to pass on.
fn with_digest(data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(65 + data.len());
    v.extend_from_slice(sha256_hex(data).as_bytes());
    v.push(b'\n');
    v.extend_from_slice(data);
    v
}

/// The remote half of an atomic write. The data arrives on stdin into a temp file created
/// private (umask 077: no other user can open it while the content is incomplete or before
/// its final mode is set), is checked against the length and digest that were sent — a cut
/// connection ends `cat` with a normal EOF, so its exit status proves nothing — and only
/// then gets its mode and owner and is renamed over the target. Anything else removes the
/// temp file (before saying why: printing may fail once the channel is gone), and so does
/// a timeout, Ctrl-C or a closing channel that signals the script.
fn atomic_write_script(
    path: &str,
    prefix: &str,
    tmp: &str,
    len: u64,
    opts: &FileOpts,
    old_mode: Option<u32>,
) -> String {
    // Every user value is rendered once, by the quoting renderer, into a variable; the rest
    // of the script names only the variables. So no value is ever pasted inside other quotes
    // (the trap's text is single-quoted: a path pasted there would end it at its first `'`).
    let owner = if opts.owner.is_some() {
        "chown -- \"$__ho\" \"$__ht\" && "
    } else {
        ""
    };
    // With no mode asked for, a replaced file keeps its mode and a new one gets what the
    // umask would have given it.
    let mode = match (opts.mode, old_mode) {
        (Some(m), _) | (None, Some(m)) => format!("{m:o}"),
        (None, None) => "\"$__hm\"".to_string(),
    };
    let say = |m: String| quote(&format!("hoist: {m}"));
    format!(
        "__hp={p}; __ht={t}; __hs={stale}; __ho={o}\n\
         __hm=$(printf %o $(( 0666 & ~0$(umask) ))); umask 077\n\
         trap 'rm -f -- \"$__ht\"; exit 143' HUP INT TERM PIPE\n\
         if [ -d \"$__hp\" ]; then echo {isdir} >&2; exit 1; fi\n\
         rm -f -- \"$__hs\"* 2>/dev/null\n\
         IFS= read -r __want || {{ echo {none} >&2; exit {SHORT}; }}\n\
         cat > \"$__ht\" || {{ __rc=$?; rm -f -- \"$__ht\"; exit $__rc; }}\n\
         __n=$(( $(wc -c < \"$__ht\") + 0 ))\n\
         if [ \"$__n\" -ne {len} ]; then rm -f -- \"$__ht\"; echo \"hoist: only $__n of {len} bytes arrived (connection cut?)\" >&2; exit {SHORT}; fi\n\
         if command -v sha256sum >/dev/null 2>&1; then\n\
           __d=$(sha256sum < \"$__ht\"); __d=${{__d%% *}}\n\
           if [ \"$__d\" != \"$__want\" ]; then rm -f -- \"$__ht\"; echo {bad} >&2; exit {DIGEST}; fi\n\
         else echo {NO_DIGEST}; fi\n\
         {{ {owner}chmod {mode} -- \"$__ht\" && mv -f -- \"$__ht\" \"$__hp\"; }} || {{ __rc=$?; rm -f -- \"$__ht\"; exit $__rc; }}\n",
        p = quote_path(path),
        t = quote_path(tmp),
        stale = quote_path(prefix),
        o = quote(opts.owner.as_deref().unwrap_or_default()),
        isdir = say(format!("{path} is a directory")),
        none = say("nothing arrived (connection cut?)".to_string()),
        bad = say(format!(
            "the sha256 of what arrived is not that of the {len} bytes sent"
        )),
    )
}

/// What a write puts in the file: bytes in memory, or a local file streamed (an upload).
enum Content<'a> {
    Bytes(&'a [u8]),
    Local {
        path: &'a str,
        len: u64,
        sha256: String,
    },
}

impl Content<'_> {
    fn sha256(&self) -> String {
        match self {
            Content::Bytes(d) => sha256_hex(d),
            Content::Local { sha256, .. } => sha256.clone(),
        }
    }
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(d) => d.len() as u64,
            Content::Local { len, .. } => *len,
        }
    }
}

/// A local file's size and sha256, read in pieces.
async fn local_digest(path: &str) -> std::io::Result<(u64, String)> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok((len, hex::encode(hasher.finalize())));
        }
        hasher.update(&buf[..n]);
        len += n as u64;
    }
}

impl Host {
    /// Read a file as text.
    pub async fn read(&self, path: &str) -> Result<String> {
        let bytes = self.read_bytes(path, false).await?;
        String::from_utf8(bytes).map_err(|_| {
            Error::failed(format!("{path} is not UTF-8 text (use download)")).host(self.name())
        })
    }

    pub async fn read_bytes(&self, path: &str, sudo: bool) -> Result<Vec<u8>> {
        check_path(self.name(), path)?;
        match self.services().effects().planned_file(self.name(), path) {
            Some(Some(planned)) => return Ok(planned),
            Some(None) => {
                return Err(Error::failed(format!(
                    "cannot read {path}: the dry run removed it earlier"
                ))
                .host(self.name()));
            }
            None => {}
        }
        let cmd = Command::shell(format!("cat -- {}", quote_path(path)))
            .sudo(sudo)
            .quiet()
            .probe();
        Ok(self.run_raw(&cmd).await?.stdout)
    }

    /// The file's bytes, or `None` when nothing is at `path`: one command, and absence is its
    /// exit code ([`ABSENT`]), not `cat`'s message.
    pub async fn read_bytes_if_present(&self, path: &str, sudo: bool) -> Result<Option<Vec<u8>>> {
        check_path(self.name(), path)?;
        if let Some(planned) = self.services().effects().planned_file(self.name(), path) {
            return Ok(planned);
        }
        let p = quote_path(path);
        let cmd = Command::shell(format!(
            "if [ -e {p} ] || [ -L {p} ]; then exec cat -- {p}; fi; exit {ABSENT}"
        ))
        .sudo(sudo)
        .quiet()
        .probe()
        .check(false);
        let out = self.run_raw(&cmd).await?;
        match out.code {
            0 => Ok(Some(out.stdout)),
            ABSENT => Ok(None),
            code => Err(Error::failed(format!("cannot read {path}"))
                .host(self.name())
                .exit_code(code)
                .stderr(&String::from_utf8_lossy(&out.stderr))),
        }
    }

    pub async fn exists(&self, path: &str) -> Result<bool> {
        check_path(self.name(), path)?;
        if let Some(planned) = self.services().effects().planned_file(self.name(), path) {
            return Ok(planned.is_some());
        }
        self.test(
            &Command::shell(format!("test -e {}", quote_path(path)))
                .quiet()
                .probe(),
        )
        .await
    }

    pub async fn mkdir(&self, path: &str, opts: &MkdirOpts) -> Result<()> {
        check_path(self.name(), path)?;
        let p = quote_path(path);
        let mut script = format!("mkdir -p -- {p}");
        if let Some(m) = opts.mode {
            script.push_str(&format!(" && chmod {m:o} -- {p}"));
        }
        if let Some(o) = &opts.owner {
            script.push_str(&format!(" && chown {} -- {p}", quote(o)));
        }
        self.run(&Command::shell(script).sudo(opts.sudo).quiet())
            .await?;
        Ok(())
    }

    /// Write `data` to `path` atomically (temp file in the same directory, then rename).
    /// Returns whether the content or mode changed; an unchanged file is not touched.
    pub async fn write_bytes(&self, path: &str, data: &[u8], opts: &FileOpts) -> Result<bool> {
        self.write_content(path, Content::Bytes(data), opts).await
    }

    async fn write_content(
        &self,
        path: &str,
        content: Content<'_>,
        opts: &FileOpts,
    ) -> Result<bool> {
        check_path(self.name(), path)?;
        let sha = content.sha256();
        let p = quote_path(path);
        // One round trip to learn the current hash and mode (empty when absent). The file is
        // hashed from stdin: given a name, sha256sum escapes one with a newline (`\HASH`).
        let probe = Command::shell(format!(
            "if [ -f {p} ]; then sha256sum < {p} | cut -d' ' -f1; stat -c %a -- {p}; fi"
        ))
        .sudo(opts.sudo)
        .check(false)
        .quiet()
        .probe();
        let out = self.run(&probe).await?;
        let mut lines = out.stdout.lines();
        let (mut old_hash, old_mode) = (
            lines.next().map(str::to_string),
            lines
                .next()
                .and_then(|m| u32::from_str_radix(m.trim(), 8).ok()),
        );
        // A dry run compares with what its own earlier writes left there.
        let effects = self.services().effects();
        if let Some(planned) = effects.planned_file(self.name(), path) {
            old_hash = planned.map(|b| sha256_hex(&b));
        }
        let same_content = old_hash.as_deref() == Some(sha.as_str());
        let same_mode = opts.mode.is_none() || opts.mode == old_mode;
        if same_content && same_mode && opts.owner.is_none() {
            return Ok(false);
        }
        if same_content && same_mode {
            // Only the owner may differ: chown is idempotent and cheap.
            let o = opts.owner.as_deref().unwrap_or_default();
            self.run(
                &Command::shell(format!("chown {} -- {p}", quote(o)))
                    .sudo(opts.sudo)
                    .quiet(),
            )
            .await?;
            return Ok(false);
        }
        // What the write changes, with the old content when a person will read a diff of it
        // (a plan, or `--diff`): one more read, only then.
        let mode = opts.mode.filter(|m| Some(*m) != old_mode);
        let (change, stdin) = match &content {
            Content::Bytes(data) => {
                let before = match &old_hash {
                    Some(_) if !same_content && self.services().effects().wants_diffs() => {
                        Some(self.read_bytes(path, opts.sudo).await?)
                    }
                    _ => None,
                };
                let change = crate::effect::Change::File {
                    path: path.to_string(),
                    existed: old_hash.is_some(),
                    before: if same_content {
                        Some(data.to_vec())
                    } else {
                        before
                    },
                    after: data.to_vec(),
                    mode,
                    owner: opts.owner.clone(),
                };
                (change, Stdin::Bytes(with_digest(data)))
            }
            // A local file is described by its size and digest, and streamed.
            Content::Local {
                path: local, len, ..
            } => (
                crate::effect::Change::Upload {
                    path: path.to_string(),
                    local: local.to_string(),
                    existed: old_hash.is_some(),
                    size: *len,
                    sha256: sha.clone(),
                    mode,
                    owner: opts.owner.clone(),
                },
                Stdin::File {
                    head: format!("{sha}\n").into_bytes(),
                    path: local.into(),
                },
            ),
        };
        let tmp_prefix = temp_prefix(path);
        let tmp = format!("{tmp_prefix}{:016x}", rand::random::<u64>());
        let len = content.len();
        let script = atomic_write_script(path, &tmp_prefix, &tmp, len, opts, old_mode);
        let mut cmd = Command::shell(script);
        cmd.stdin = Some(stdin);
        let out = self
            .run_raw(&cmd.sudo(opts.sudo).check(false).quiet().describe(change))
            .await
            .map_err(|e| {
                let mut e = e.host(self.name());
                e.message = format!(
                    "writing {path}: {} ({path} holds its old content or the whole new one)",
                    e.message
                );
                e
            })?;
        if out.planned {
            // A later read in the same dry run sees what this write would leave.
            let planned = match content {
                Content::Bytes(data) => data.to_vec(),
                Content::Local { path: local, .. } => tokio::fs::read(local).await?,
            };
            effects.plan_file(self.name(), path, Some(planned));
            return Ok(true);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said = stderr
            .lines()
            .filter_map(|l| l.strip_prefix("hoist: "))
            .collect::<Vec<_>>()
            .join("; ");
        match out.code {
            0 => {}
            SHORT | DIGEST => {
                return Err(Error::failed(format!(
                    "writing {path} on {}: {said}; {path} was left unchanged and the temp file removed",
                    self.name()
                ))
                .host(self.name())
                .exit_code(out.code));
            }
            code => {
                let stderr = self.services().redactor.redact(&stderr);
                return Err(Error::failed(format!("cannot write {path}"))
                    .host(self.name())
                    .exit_code(code)
                    .stderr(&stderr));
            }
        }
        if String::from_utf8_lossy(&out.stdout).contains(NO_DIGEST) {
            self.services().reporter.event(crate::report::Event::Message {
                level: crate::report::Level::Warn,
                text: format!(
                    "{}: sha256sum is missing there, so only the length of {path} was verified before it was replaced",
                    self.name()
                ),
            });
        }
        Ok(true)
    }

    pub async fn write(&self, path: &str, text: &str, opts: &FileOpts) -> Result<bool> {
        self.write_bytes(path, text.as_bytes(), opts).await
    }

    /// Copy a local file to the host (atomic on the host). Streamed: the file is read twice
    /// in pieces (its digest, then the data), never held whole in memory.
    pub async fn upload(&self, local: &str, remote: &str, opts: &FileOpts) -> Result<bool> {
        check_path(self.name(), remote)?;
        check_path("local", local)?;
        let cannot =
            |e: std::io::Error| Error::failed(format!("cannot read local file {local}: {e}"));
        let (len, sha256) = local_digest(local).await.map_err(cannot)?;
        let content = Content::Local {
            path: local,
            len,
            sha256,
        };
        self.write_content(remote, content, opts).await
    }

    /// Copy a file from the host to a local path (atomic locally). Streamed: the bytes go
    /// into a temp file beside the target as they arrive, which is renamed over it once the
    /// whole file came (a failed read leaves the target as it was).
    pub async fn download(&self, remote: &str, local: &str) -> Result<()> {
        check_path("local", local)?;
        check_path(self.name(), remote)?;
        let local_path = std::path::Path::new(local);
        let dir = local_path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        let cannot =
            |e: &dyn std::fmt::Display| Error::failed(format!("cannot write {local}: {e}"));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| cannot(&e))?;
        match self.services().effects().planned_file(self.name(), remote) {
            // A dry run's earlier write: what it planned.
            Some(_) => {
                let data = self.read_bytes(remote, false).await?;
                std::io::Write::write_all(&mut tmp, &data)?;
            }
            None => {
                let file = tmp.as_file().try_clone().map_err(|e| cannot(&e))?;
                let to = std::sync::Arc::new(std::sync::Mutex::new(crate::command::RawFile {
                    file,
                    error: None,
                }));
                let cmd = Command::shell(format!("cat -- {}", quote_path(remote)))
                    .quiet()
                    .probe()
                    .stdout_to(to.clone());
                self.run_raw(&cmd).await?;
                if let Some(e) = to.lock().expect("raw stdout lock").error.take() {
                    return Err(cannot(&e));
                }
            }
        }
        let change = crate::effect::Change::Local {
            op: "write".into(),
            path: local.to_string(),
        };
        let write = async {
            tmp.persist(local_path).map_err(|e| cannot(&e))?;
            Ok(())
        };
        let _ = self.services().perform("local", change, write).await?;
        Ok(())
    }

    /// Render a minijinja template file locally and write the result (see [`crate::template`]).
    pub async fn template(
        &self,
        src: &str,
        dest: &str,
        vars: &serde_json::Value,
        opts: &FileOpts,
    ) -> Result<bool> {
        let text = crate::template::render_file(src, vars)?;
        self.write(dest, &text, opts).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run the write script with `sh` here, feeding `stdin` in place of what was sent.
    fn run(script: &str, stdin: &[u8], path_env: Option<&str>) -> (i32, String, String) {
        use std::io::Write;
        let mut c = std::process::Command::new("/bin/sh");
        c.arg("-c")
            .arg(script)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(p) = path_env {
            c.env("PATH", p);
        }
        let mut child = c.spawn().unwrap();
        // The digest line is that of what the script was made for; the data may differ.
        let mut fed = with_digest(SENT);
        fed.truncate(65);
        fed.extend_from_slice(stdin);
        child.stdin.take().unwrap().write_all(&fed).unwrap();
        let o = child.wait_with_output().unwrap();
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    }

    /// What every script of these tests was made for.
    const SENT: &[u8] = b"new content";

    fn listing(dir: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn the_write_script_renames_only_what_arrived_whole() {
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("t.conf");
        std::fs::write(&target, "old").unwrap();
        let path = target.to_str().unwrap();
        let prefix = temp_prefix(path);
        let tmp = format!("{prefix}0000000000000001");
        let data = SENT;
        let script = atomic_write_script(
            path,
            &prefix,
            &tmp,
            data.len() as u64,
            &FileOpts::default(),
            None,
        );

        // Cut short (what a dropped connection looks like to `cat`): refused, cleaned up.
        let (code, _, err) = run(&script, b"new con", None);
        assert_eq!(code, SHORT, "{err}");
        assert!(err.contains("only 7 of 11 bytes arrived"), "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(listing(d.path()), ["t.conf"]);

        // Whole length, other bytes: the digest catches it.
        let (code, _, err) = run(&script, b"new contenX", None);
        assert_eq!(code, DIGEST, "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(listing(d.path()), ["t.conf"]);

        let (code, out, err) = run(&script, data, None);
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains(NO_DIGEST));
        assert_eq!(std::fs::read(&target).unwrap(), data);
        assert_eq!(listing(d.path()), ["t.conf"]);
    }

    #[test]
    fn a_write_stopped_by_a_signal_removes_its_temp_file() {
        use std::io::Write;
        use std::os::unix::process::CommandExt;
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("t.conf");
        std::fs::write(&target, "old").unwrap();
        let path = target.to_str().unwrap();
        let prefix = temp_prefix(path);
        let tmp = format!("{prefix}0000000000000003");
        let script = atomic_write_script(
            path,
            &prefix,
            &tmp,
            SENT.len() as u64,
            &FileOpts::default(),
            None,
        );
        let mut child = std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(&script)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        // Half the data, and stdin left open: the write is under way when the signal comes.
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&with_digest(SENT)[..65 + 4]).unwrap();
        stdin.flush().unwrap();
        while std::fs::metadata(&tmp).map(|m| m.len()).unwrap_or(0) < 4 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // As a timeout or Ctrl-C stops a command: TERM to its process group.
        // SAFETY: kill(2) on the process group of a child this test started.
        unsafe { libc::kill(-(child.id() as i32), libc::SIGTERM) };
        let status = child.wait().unwrap();
        assert!(!status.success());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(listing(d.path()), ["t.conf"]);
    }

    #[test]
    fn without_sha256sum_the_length_is_still_checked_and_a_note_is_printed() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        for tool in ["cat", "wc", "rm", "chmod", "mv"] {
            let real = ["/usr/bin", "/bin"]
                .iter()
                .map(|p| std::path::Path::new(p).join(tool))
                .find(|p| p.exists())
                .unwrap();
            std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
        }
        let files = d.path().join("files");
        std::fs::create_dir(&files).unwrap();
        let target = files.join("t");
        let path = target.to_str().unwrap();
        let prefix = temp_prefix(path);
        let tmp = format!("{prefix}0000000000000002");
        let script = atomic_write_script(
            path,
            &prefix,
            &tmp,
            SENT.len() as u64,
            &FileOpts::default(),
            None,
        );
        let only = bin.to_str();
        let (code, _, err) = run(&script, b"new", only);
        assert_eq!(code, SHORT, "{err}");
        assert!(!target.exists());
        // Not caught without a digest: the note says so.
        let (code, out, err) = run(&script, b"new contenX", only);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(NO_DIGEST), "{out}");
        assert_eq!(std::fs::read(&target).unwrap(), b"new contenX");
        assert_eq!(listing(&files), ["t"]);
    }

    #[test]
    fn temp_files_are_named_per_target() {
        assert_eq!(temp_prefix("/etc/app.conf"), "/etc/.app.conf.hoist-tmp.");
        assert_eq!(temp_prefix("/x"), "/.x.hoist-tmp.");
        assert_eq!(temp_prefix("x"), "./.x.hoist-tmp.");
        assert_eq!(temp_prefix("~/x"), "~/.x.hoist-tmp.");
    }
}
