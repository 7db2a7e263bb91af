//! `wait_http`: poll a URL until it answers as expected (health gates).

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitHttpOpts {
    /// Seconds to keep trying.
    #[serde(
        default = "default_timeout",
        deserialize_with = "crate::options::float"
    )]
    pub timeout: f64,
    /// The status wanted (default: any 2xx).
    #[serde(default)]
    pub status: Option<u16>,
    /// Text the body must contain.
    #[serde(default)]
    pub contains: Option<String>,
    /// Seconds between tries.
    #[serde(
        default = "default_interval",
        deserialize_with = "crate::options::float"
    )]
    pub interval: f64,
}

fn default_timeout() -> f64 {
    30.0
}
fn default_interval() -> f64 {
    0.5
}

impl Default for WaitHttpOpts {
    fn default() -> Self {
        WaitHttpOpts {
            timeout: default_timeout(),
            status: None,
            contains: None,
            interval: default_interval(),
        }
    }
}

/// Poll `url` until it answers; an error after the timeout says what it saw last.
pub async fn wait_http(url: &str, opts: &WaitHttpOpts, cancel: &CancellationToken) -> Result<()> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| Error::wrap("cannot build an HTTP client", e))?;
    let deadline = Instant::now() + Duration::from_secs_f64(opts.timeout.max(0.0));
    let mut last;
    loop {
        last = match client.get(url).send().await {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let body = resp.text().await.unwrap_or_default();
                let status_ok = match opts.status {
                    Some(s) => status == s,
                    None => (200..300).contains(&status),
                };
                let body_ok = opts
                    .contains
                    .as_ref()
                    .is_none_or(|c| body.contains(c.as_str()));
                if status_ok && body_ok {
                    return Ok(());
                }
                let snippet: String = body.chars().take(200).collect();
                format!("HTTP {status}, body: {snippet:?}")
            }
            Err(e) => format!("{e}"),
        };
        if Instant::now() >= deadline {
            let want = match (&opts.status, &opts.contains) {
                (Some(s), Some(c)) => format!("HTTP {s} containing {c:?}"),
                (Some(s), None) => format!("HTTP {s}"),
                (None, Some(c)) => format!("a 2xx answer containing {c:?}"),
                (None, None) => "a 2xx answer".into(),
            };
            return Err(Error::failed(format!(
                "{url} did not give {want} within {}s; last: {last}",
                opts.timeout
            )));
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs_f64(opts.interval.max(0.05))) => {}
            _ = cancel.cancelled() => return Err(Error::cancelled()),
        }
    }
}
