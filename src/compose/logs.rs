//! `p.logs()` through the Engine API: the output of the project's containers (or of one
//! service's), found by their labels — no compose file, env file or compose tool involved, the
//! same for v1 and v2. Each line is prefixed as compose prints it (`web-1  | ...`). Fetched
//! logs are merged in time order; followed ones go to the reporter as they come, until every
//! container stops or the run is interrupted.

use std::time::{SystemTime, UNIX_EPOCH};

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::StreamExt;
use serde::Deserialize;

use super::labels::{self, Member, Which};
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::report::Stream;

/// The options of `p.logs()`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogsOptions {
    #[serde(default)]
    pub service: Option<String>,
    /// Lines from the end of each container's log.
    #[serde(default)]
    pub tail: Option<u64>,
    /// A duration like "10m" (that long ago), an RFC 3339 time or unix seconds.
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub timestamps: bool,
    /// Stream new lines (prefixed by the host) until the containers stop or Ctrl-C.
    #[serde(default)]
    pub follow: bool,
}

/// One line of a container's output.
struct Line {
    /// When the engine received it (for the merge; the epoch when it gave no time).
    at: SystemTime,
    /// The engine's RFC 3339 timestamp, shown with `timestamps`.
    stamp: String,
    text: String,
}

/// The logs of `project` (one service's with `o.service`): "" when it has no containers.
pub async fn logs(docker: &Docker, project: &str, o: &LogsOptions) -> Result<String> {
    let members = labels::members(docker, project, Which::Services).await?;
    let chosen: Vec<&Member> = match &o.service {
        Some(s) => labels::of_service(docker, project, s, &members)?,
        None => members.iter().collect(),
    };
    let since = o
        .since
        .as_ref()
        .map(|s| crate::docker::since_unix(&serde_json::Value::String(s.clone())))
        .transpose()?;
    let width = chosen.iter().map(|m| m.label().len()).max().unwrap_or(0);
    let prefix = |m: &Member| format!("{:<width$} | ", m.label());
    if o.follow {
        follow(docker, &chosen, o, since, &prefix).await?;
        return Ok(String::new());
    }
    let fetched =
        futures_util::future::try_join_all(chosen.iter().map(|m| fetch(docker, m, o, since)))
            .await?;
    let mut lines: Vec<(SystemTime, usize, usize, String)> = Vec::new();
    for (i, (m, got)) in chosen.iter().zip(fetched).enumerate() {
        let p = prefix(m);
        for (n, l) in got.into_iter().enumerate() {
            let stamp = if o.timestamps {
                format!("{} ", l.stamp)
            } else {
                String::new()
            };
            lines.push((l.at, i, n, format!("{p}{stamp}{}\n", l.text)));
        }
    }
    // In time order across containers; a container's own lines keep their order.
    lines.sort_by_key(|a| (a.0, a.1, a.2));
    Ok(lines.into_iter().map(|l| l.3).collect())
}

fn request(
    o: &LogsOptions,
    since: Option<i32>,
    follow: bool,
    timestamps: bool,
) -> bollard::query_parameters::LogsOptions {
    let mut b = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(follow)
        .timestamps(timestamps)
        .tail(
            &o.tail
                .map(|t| t.to_string())
                .unwrap_or_else(|| "all".into()),
        );
    if let Some(s) = since {
        b = b.since(s);
    }
    b.build()
}

/// Splits a container's output into lines, per stream, as it arrives.
#[derive(Default)]
struct Splitter {
    partial: [Vec<u8>; 2],
}

impl Splitter {
    fn index(stream: Stream) -> usize {
        match stream {
            Stream::Stdout => 0,
            Stream::Stderr => 1,
        }
    }

    /// The lines `bytes` completes.
    fn feed(&mut self, stream: Stream, bytes: &[u8]) -> Vec<String> {
        let buf = &mut self.partial[Self::index(stream)];
        buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(nl) = memchr::memchr(b'\n', buf) {
            let line: Vec<u8> = buf.drain(..=nl).collect();
            out.push(text(&line[..nl]));
        }
        out
    }

    /// What is left without a newline, per stream.
    fn rest(&mut self) -> Vec<(Stream, String)> {
        [Stream::Stdout, Stream::Stderr]
            .into_iter()
            .filter_map(|s| {
                let buf = std::mem::take(&mut self.partial[Self::index(s)]);
                (!buf.is_empty()).then(|| (s, text(&buf)))
            })
            .collect()
    }
}

fn text(bytes: &[u8]) -> String {
    let t = String::from_utf8_lossy(bytes);
    t.strip_suffix('\r').unwrap_or(&t).to_string()
}

fn kind(chunk: LogOutput) -> Option<(Stream, bytes::Bytes)> {
    match chunk {
        LogOutput::StdErr { message } => Some((Stream::Stderr, message)),
        LogOutput::StdOut { message } | LogOutput::Console { message } => {
            Some((Stream::Stdout, message))
        }
        LogOutput::StdIn { .. } => None,
    }
}

/// A container's lines so far, with the engine's timestamps (for the merge).
async fn fetch(
    docker: &Docker,
    m: &Member,
    o: &LogsOptions,
    since: Option<i32>,
) -> Result<Vec<Line>> {
    let mut stream = docker
        .api()
        .logs(&m.id, Some(request(o, since, false, true)));
    let mut split = Splitter::default();
    let mut out = Vec::new();
    let stamped = |line: String| {
        let (stamp, text) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        Line {
            at: humantime::parse_rfc3339_weak(stamp).unwrap_or(UNIX_EPOCH),
            stamp: stamp.to_string(),
            text: text.to_string(),
        }
    };
    while let Some(item) = stream.next().await {
        let chunk =
            item.map_err(|e| docker.container_fail("cannot read the logs of", &m.name, e))?;
        if let Some((s, bytes)) = kind(chunk) {
            out.extend(split.feed(s, &bytes).into_iter().map(stamped));
        }
    }
    out.extend(split.rest().into_iter().map(|(_, l)| stamped(l)));
    Ok(out)
}

/// Stream every chosen container's new lines to the reporter (prefixed by the host, as a
/// command's streamed output is) until they all stop, or the run is interrupted.
async fn follow(
    docker: &Docker,
    chosen: &[&Member],
    o: &LogsOptions,
    since: Option<i32>,
    prefix: &dyn Fn(&Member) -> String,
) -> Result<()> {
    let svc = docker.services();
    let cancel = svc.cancel_token();
    let one = |m: &Member| {
        let p = prefix(m);
        let name = m.name.clone();
        let mut stream = docker
            .api()
            .logs(&m.id, Some(request(o, since, true, o.timestamps)));
        async move {
            let mut split = Splitter::default();
            let show = |s: Stream, lines: Vec<String>| {
                if lines.is_empty() {
                    return;
                }
                let shown: Vec<String> = lines
                    .iter()
                    .map(|l| svc.redactor.redact(&format!("{p}{l}")))
                    .collect();
                let refs: Vec<&str> = shown.iter().map(String::as_str).collect();
                svc.reporter.output(docker.host_name(), s, &refs, true);
                svc.reporter.flush();
            };
            while let Some(item) = stream.next().await {
                let chunk =
                    item.map_err(|e| docker.container_fail("cannot follow the logs of", &name, e))?;
                if let Some((s, bytes)) = kind(chunk) {
                    show(s, split.feed(s, &bytes));
                }
            }
            for (s, l) in split.rest() {
                show(s, vec![l]);
            }
            Ok::<(), Error>(())
        }
    };
    let all = futures_util::future::try_join_all(chosen.iter().map(|m| one(m)));
    tokio::select! {
        r = all => r.map(|_| ()),
        _ = cancel.cancelled() => Err(Error::cancelled()),
    }
}
