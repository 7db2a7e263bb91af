//! A request loop on a fleet host against a URL there — curl on the host itself, one new
//! connection per request, 2 s timeout each — running until [`Load::stop`]. Each request is
//! one line of a log kept on the host (`ok BODY` or `FAIL`), read back through the host, so
//! what is counted is what a client beside the app saw, independent of the code under test.

use super::fleet::FleetHost;

pub struct Load<'a> {
    h: &'a FleetHost,
    base: String,
}

/// What a loop saw: requests answered (2xx) and failed (no answer, refused, timed out, or an
/// error status), the answers' first lines in order, and for each failure when it happened and
/// why (curl's exit code and message: 7 refused, 28 timed out, 52/56 reset or empty answer, 22
/// an error status), so a failed request in a test's message says what went wrong.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub answered: usize,
    pub failed: usize,
    pub bodies: Vec<String>,
    pub failures: Vec<String>,
}

impl Seen {
    /// `answered / failed`, as the tables print it.
    pub fn cell(&self) -> String {
        format!("{} / {}", self.answered, self.failed)
    }
    /// How many answers said `body`.
    pub fn said(&self, body: &str) -> usize {
        self.bodies.iter().filter(|b| *b == body).count()
    }
}

impl<'a> Load<'a> {
    /// Start the loop; `name` keeps loops of different tests apart (files /tmp/load-NAME.*).
    /// Returns once the loop runs.
    pub fn start(h: &'a FleetHost, url: &str, name: &str) -> Load<'a> {
        Self::start_for(h, url, None, name)
    }

    /// [`Load::start`] with a `Host:` header (a front proxy routing by host name).
    pub fn start_for(h: &'a FleetHost, url: &str, host: Option<&str>, name: &str) -> Load<'a> {
        let base = format!("/tmp/load-{name}");
        // The loop is itself single-quoted shell text: the URL goes in as it is, so it may hold
        // only characters no shell treats specially.
        assert!(
            url.chars()
                .chain(host.unwrap_or_default().chars())
                .all(|c| c.is_ascii_alphanumeric() || ":/._-".contains(c)),
            "load URL or host with shell characters: {url} {host:?}"
        );
        let header = host.map(|h| format!("-H Host:{h} ")).unwrap_or_default();
        h.sh_ok(&format!(
            "rm -f {base}.stop {base}.log {base}.pid; \
             setsid sh -c 'echo $$ > {base}.pid; while [ ! -f {base}.stop ]; do \
               if b=$(curl -fsS -m 2 {header}{url} 2>/tmp/load-{name}.err); then echo \"ok $b\" | head -1; \
               else echo \"FAIL $? $(date +%T.%N | cut -c1-12) $(head -c 200 /tmp/load-{name}.err | tr -d \\\\n)\"; fi; \
             done > {base}.log' </dev/null >/dev/null 2>&1 & \
             while [ ! -s {base}.pid ]; do sleep 0.1; done"
        ));
        Load { h, base }
    }

    /// Stop the loop (it finishes its current request) and count.
    pub fn stop(self) -> Seen {
        let b = &self.base;
        self.h.sh_ok(&format!(
            "touch {b}.stop; while kill -0 \"$(cat {b}.pid)\" 2>/dev/null; do sleep 0.2; done"
        ));
        let log = self.h.read(&format!("{b}.log"));
        self.h
            .sh(&format!("rm -f {b}.stop {b}.log {b}.pid {b}.err"));
        let mut seen = Seen::default();
        for line in log.lines() {
            if let Some(body) = line.strip_prefix("ok ") {
                seen.answered += 1;
                seen.bodies.push(body.trim().to_string());
            } else if line == "ok" {
                seen.answered += 1;
                seen.bodies.push(String::new());
            } else if let Some(why) = line.strip_prefix("FAIL") {
                seen.failed += 1;
                seen.failures.push(format!("curl exit{why}"));
            }
        }
        seen
    }
}
