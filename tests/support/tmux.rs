//! A real terminal for interactive tests: a program runs in a tmux pane on a private tmux
//! server (`-L`), keys are sent with `send-keys` and the screen is read with `capture-pane`.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

fn tmux_bin() -> PathBuf {
    super::need_bin("tmux", "tmux")
}

impl Tmux {
    /// Start `shell_command` (run by sh) in a fresh 160x40 pane on a private server.
    pub fn start(shell_command: &str) -> Tmux {
        Self::start_sized(shell_command, 160, 40)
    }

    /// Start `shell_command` in a pane of `columns` x `rows` (an 80-column terminal: 80, 24).
    pub fn start_sized(shell_command: &str, columns: u16, rows: u16) -> Tmux {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "hoist-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let t = Tmux { socket };
        t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-x",
            &columns.to_string(),
            "-y",
            &rows.to_string(),
            shell_command,
        ]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new(tmux_bin())
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run tmux: {e}"));
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Type text literally (no key names interpreted).
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-l", text]);
    }

    /// Press keys by tmux name: "Enter", "Tab", "C-c", "C-d".
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// The visible screen plus scrollback.
    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-S", "-200"])
    }

    /// Everything the pane showed (scrollback included), each line as the program wrote it:
    /// lines the terminal wrapped are joined again, so their length is what was written.
    pub fn written_lines(&self) -> String {
        self.run(&["capture-pane", "-p", "-J", "-S", "-"])
    }

    /// Wait until the screen satisfies `pred`; the screen, or a panic showing it.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new(tmux_bin())
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
