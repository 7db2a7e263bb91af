//! Caddy's admin API, reached over hoist's SSH connection: `docker exec` into the proxy
//! container runs `wget` against `127.0.0.1:2019` there. The admin endpoint is never
//! published: only who may run `docker` on the host reaches it. GETs are read-only probes
//! (they run in a dry run too); a POST is a change, described by the config before and after.

use std::time::Duration;

use serde_json::Value;

use super::CONTAINER;
use crate::command::Command;
use crate::effect::Change;
use crate::error::{Error, Result};
use crate::host::Host;

const ADMIN: &str = "http://127.0.0.1:2019";

/// `docker exec [-i] hoist-proxy wget … URL`, as argv.
fn wget(path: &str, post: bool) -> Vec<String> {
    let mut argv: Vec<String> = vec!["docker".into(), "exec".into()];
    if post {
        argv.push("-i".into());
    }
    argv.extend([
        CONTAINER.into(),
        "wget".into(),
        "-q".into(),
        "-O".into(),
        "-".into(),
    ]);
    if post {
        argv.extend([
            "--header".into(),
            "Content-Type: application/json".into(),
            "--post-file".into(),
            "/dev/stdin".into(),
        ]);
    }
    argv.push(format!("{ADMIN}{path}"));
    argv
}

/// GET `path` of the admin API, parsed as JSON (a probe).
pub async fn get(host: &Host, path: &str) -> Result<Value> {
    let out = host
        .run(
            &Command::argv(wget(path, false))
                .probe()
                .quiet()
                .timeout(Some(Duration::from_secs(20))),
        )
        .await
        .map_err(|e| unreachable_admin(host, e))?;
    let text = out.stdout.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| {
        Error::failed(format!(
            "{}: Caddy's admin API answered {path} with something that is not JSON ({e}): {}",
            host.name(),
            text.chars().take(200).collect::<String>()
        ))
        .host(host.name())
    })
}

/// POST `body` to `path` (a change: `summary`, and the whole config before and after for the
/// plan's diff). Returns false in a dry run (nothing was sent).
pub async fn post(
    host: &Host,
    path: &str,
    body: &Value,
    summary: String,
    before: String,
    after: String,
) -> Result<bool> {
    let cmd = Command::argv(wget(path, true))
        .stdin(serde_json::to_vec(body).expect("json"))
        .quiet()
        .timeout(Some(Duration::from_secs(60)))
        .describe(Change::Proxy {
            summary,
            before,
            after,
        });
    match host.run(&cmd).await {
        Ok(out) => Ok(!out.planned),
        Err(e) => {
            // wget says only the status line; Caddy's own log line says why.
            let why = host
                .run(
                    &Command::argv(["docker", "logs", "--tail", "3", CONTAINER])
                        .probe()
                        .quiet()
                        .check(false),
                )
                .await
                .map(|o| format!("{}{}", o.stdout, o.stderr))
                .unwrap_or_default();
            Err(e.hint(format!(
                "Caddy refused the change; its last log lines: {}",
                why.trim()
            )))
        }
    }
}

fn unreachable_admin(host: &Host, e: Error) -> Error {
    let m = e.message.clone();
    e.hint(format!(
        "the proxy's admin API on {} did not answer ({m}): `hoist proxy status` shows the container; its image needs Caddy >= 2.6 and wget",
        host.name()
    ))
}

/// Requests in flight to `upstream` as Caddy counts them (`/reverse_proxy/upstreams`);
/// none: Caddy no longer lists it (no route uses it, nothing in flight).
pub async fn in_flight(host: &Host, upstream: &str) -> Result<Option<u64>> {
    let v = get(host, "/reverse_proxy/upstreams").await?;
    Ok(v.as_array().and_then(|list| {
        list.iter()
            .find(|u| u["address"].as_str() == Some(upstream))
            .map(|u| u["num_requests"].as_u64().unwrap_or(0))
    }))
}
