//! `d.logs(c, opts)`: a container's output (stdout and stderr as they interleave), like
//! `docker logs`. With `follow` the lines also go to the reporter as they arrive.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use serde::Deserialize;

use super::client::Docker;
use crate::error::{Error, Result};
use crate::host::LineSink;
use crate::report::Stream;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsOpts {
    /// Only the last N lines.
    #[serde(default)]
    pub tail: Option<u64>,
    /// `"10m"` / `"2h"` ago, an RFC 3339 time, or unix seconds.
    #[serde(default)]
    pub since: Option<serde_json::Value>,
    /// Keep reading until the container stops, showing lines as they come.
    #[serde(default)]
    pub follow: bool,
    #[serde(default)]
    pub timestamps: bool,
}

impl Docker {
    pub async fn logs(&self, c: &str, opts: &LogsOpts) -> Result<String> {
        let mut b = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(opts.follow)
            .timestamps(opts.timestamps)
            .tail(
                &opts
                    .tail
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "all".into()),
            );
        if let Some(s) = &opts.since {
            b = b.since(since_unix(s)?);
        }
        let mut stream = self.api().logs(c, Some(b.build()));
        let mut out = String::new();
        // Following logs is asking to watch them: lines go out as they complete, through the
        // same line splitting and redaction as command output.
        let sink = opts.follow.then(|| {
            let svc = self.services();
            LineSink::new(
                self.host_name(),
                svc.reporter.clone(),
                svc.redactor.clone(),
                true,
            )
        });
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => {
                    let (stream_kind, bytes) = match chunk {
                        LogOutput::StdErr { message } => (Stream::Stderr, message),
                        LogOutput::StdOut { message } | LogOutput::Console { message } => {
                            (Stream::Stdout, message)
                        }
                        LogOutput::StdIn { .. } => continue,
                    };
                    if let Some(sink) = &sink {
                        sink.feed(stream_kind, &bytes);
                    }
                    out.push_str(&String::from_utf8_lossy(&bytes));
                }
                Err(e) => return Err(self.container_fail("cannot read the logs of", c, e)),
            }
        }
        if let Some(sink) = &sink {
            sink.flush();
        }
        Ok(out)
    }
}

/// `since` as unix seconds.
pub(crate) fn since_unix(v: &serde_json::Value) -> Result<i32> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let bad = || {
        Error::usage(format!(
            "logs since `{v}`: give a duration (\"10m\", \"1h\"), an RFC 3339 time or unix seconds"
        ))
    };
    let secs = match v {
        serde_json::Value::Number(n) => n.as_i64().ok_or_else(bad)?,
        serde_json::Value::String(s) => {
            if let Ok(d) = humantime::parse_duration(s) {
                now.saturating_sub(d).as_secs() as i64
            } else if let Ok(t) = humantime::parse_rfc3339_weak(s) {
                t.duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO)
                    .as_secs() as i64
            } else if let Ok(n) = s.parse::<i64>() {
                n
            } else {
                return Err(bad());
            }
        }
        _ => return Err(bad()),
    };
    i32::try_from(secs).map_err(|_| bad())
}
