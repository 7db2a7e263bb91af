//! The checks a release must pass, on its host: its containers ready (see [`readiness`]:
//! what the Engine API says of each, polled until ready, failed or out of time) and, when the
//! recipe names one, an HTTP check answered by the app (curl on the host). A failure is a
//! [`Failure`]: which service, why, the probe's last response and the service's last log
//! lines — everything the error a person reads must show.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bollard::query_parameters::{ListContainersOptions, LogsOptionsBuilder};
use futures_util::StreamExt;

use super::readiness::{self, Seen, Verdict};
use crate::command::Command;
use crate::compose::labels::{PROJECT_LABEL, SERVICE_LABEL};
use crate::compose::model::{ComposeFile, DependsOn};
use crate::docker::Docker;
use crate::error::{Error, Result};
use crate::host::Host;

/// Why a release did not pass a check.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub service: String,
    pub reason: String,
    /// The HTTP probe's last response (status line, headers, body), or "".
    pub probe: String,
    /// The service's last log lines, or "".
    pub logs: String,
}

impl Failure {
    /// The text under the headline: the probe's response and the last log lines.
    pub fn details(&self) -> String {
        let mut s = String::new();
        let probe = self.probe.trim();
        if !probe.is_empty() {
            s.push_str(&format!("\n--- probe ---\n{probe}"));
        }
        let logs = self.logs.trim_end();
        s.push_str(&format!(
            "\n--- last log lines of {} ---\n{}",
            self.service,
            if logs.is_empty() {
                "(it printed nothing)"
            } else {
                logs
            }
        ));
        s
    }
}

/// An HTTP check: `url` must answer 2xx/3xx.
#[derive(Debug, Clone, PartialEq)]
pub struct Http {
    pub url: String,
}

/// Services others wait for to complete (`depends_on: {X: {condition:
/// service_completed_successfully}}`): they may exit 0.
pub fn one_shots(config: &ComposeFile) -> Vec<String> {
    let mut out = Vec::new();
    for s in config.services.values() {
        if let Some(DependsOn::Map(m)) = &s.depends_on {
            for (name, v) in m {
                if v.get("condition").and_then(|c| c.as_str())
                    == Some("service_completed_successfully")
                    && !out.contains(name)
                {
                    out.push(name.clone());
                }
            }
        }
    }
    out
}

/// What the engine says of every container of compose project `project` (one-offs aside).
pub async fn observe(docker: &Docker, project: &str) -> Result<Vec<Seen>> {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{PROJECT_LABEL}={project}")],
    )]);
    let list = docker
        .api()
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        }))
        .await
        .map_err(|e| {
            Error::wrap(format!("listing the containers of project {project}"), e)
                .host(docker.host_name())
        })?;
    let mut out = Vec::new();
    for c in list {
        let labels = c.labels.clone().unwrap_or_default();
        if labels
            .get("com.docker.compose.oneoff")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            continue;
        }
        let Some(id) = c.id.clone() else { continue };
        // Gone between the list and the inspect (a recreate): not seen this round.
        let Ok(i) = docker.api().inspect_container(&id, None).await else {
            continue;
        };
        let state = i.state.clone().unwrap_or_default();
        let health = state.health.clone();
        let up_secs = match (&state.status, &state.started_at) {
            (Some(s), Some(t)) if s.to_string() == "running" => {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .map(|t| (time::OffsetDateTime::now_utc() - t).as_seconds_f64())
                    .unwrap_or(0.0)
            }
            _ => 0.0,
        };
        out.push(Seen {
            service: labels.get(SERVICE_LABEL).cloned().unwrap_or_default(),
            name: i
                .name
                .clone()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
            state: state.status.map(|s| s.to_string()).unwrap_or_default(),
            exit_code: state.exit_code.unwrap_or(0),
            health: health
                .as_ref()
                .and_then(|h| h.status)
                .map(|s| s.to_string())
                .filter(|s| s != "none")
                .unwrap_or_default(),
            health_output: health
                .and_then(|h| h.log)
                .and_then(|l| l.last().and_then(|r| r.output.clone()))
                .unwrap_or_default(),
            restart_count: i.restart_count.unwrap_or(0),
            up_secs,
            image: i.config.and_then(|c| c.image).unwrap_or_default(),
        });
    }
    out.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    Ok(out)
}

/// Poll until `expected` services of `project` are ready (Ok), one fails, or `timeout`
/// passes (both a [`Failure`], with the service's last log lines).
pub async fn wait_ready(
    docker: &Docker,
    project: &str,
    expected: &[String],
    one_shots: &[String],
    timeout: Duration,
) -> Result<std::result::Result<(), Failure>> {
    let start = Instant::now();
    let mut baseline: HashMap<String, i64> = HashMap::new();
    loop {
        let seen = observe(docker, project).await?;
        for c in &seen {
            baseline.entry(c.name.clone()).or_insert(c.restart_count);
        }
        let v = readiness::verdict(expected, &seen, one_shots, &|n| baseline.get(n).copied());
        match v {
            Verdict::Ready => return Ok(Ok(())),
            Verdict::Failed { service, reason } => {
                let logs = logs_tail(docker, project, &service, 15).await;
                return Ok(Err(Failure {
                    service,
                    reason,
                    probe: String::new(),
                    logs,
                }));
            }
            Verdict::Waiting(why) if start.elapsed() >= timeout => {
                let service = expected.first().cloned().unwrap_or_default();
                let logs = logs_tail(docker, project, &service, 15).await;
                return Ok(Err(Failure {
                    service,
                    reason: format!("not ready after {}s ({why})", timeout.as_secs()),
                    probe: String::new(),
                    logs,
                }));
            }
            Verdict::Waiting(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// Ask `http.url` with curl on the host until it answers 2xx/3xx (Ok) or `timeout` passes
/// (the last response as the failure's probe).
pub async fn http(
    host: &Host,
    check: &Http,
    service: &str,
    timeout: Duration,
) -> Result<std::result::Result<(), Failure>> {
    let start = Instant::now();
    loop {
        let out = host
            .run(
                &Command::argv([
                    "curl",
                    "-sS",
                    "-i",
                    "-m",
                    "3",
                    "--fail-with-body",
                    &check.url,
                ])
                .check(false)
                .quiet()
                .probe(),
            )
            .await?;
        if out.code == 127 {
            return Err(Error::failed(format!(
                "curl is missing on {}: the HTTP check of {service} needs it there",
                host.name()
            ))
            .host(host.name())
            .hint("install curl on the host, or drop --health-port"));
        }
        if out.ok() {
            return Ok(Ok(()));
        }
        if start.elapsed() >= timeout {
            let response = format!("{}{}", out.stdout, out.stderr);
            let lines: Vec<&str> = response.lines().take(20).collect();
            return Ok(Err(Failure {
                service: service.to_string(),
                reason: format!("its HTTP check never passed in {}s", timeout.as_secs()),
                probe: format!("{} -> {}", check.url, lines.join("\n")),
                logs: String::new(),
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The last `lines` log lines of `service`'s containers in `project` ("" when none).
pub async fn logs_tail(docker: &Docker, project: &str, service: &str, lines: u64) -> String {
    let Ok(seen) = observe(docker, project).await else {
        return String::new();
    };
    let mut out = String::new();
    for c in seen.iter().filter(|c| c.service == service) {
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail(&lines.to_string())
            .build();
        let mut stream = docker.api().logs(&c.name, Some(opts));
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&chunk.to_string());
        }
    }
    docker.services().redactor.redact(&out)
}

/// The IP address of a container (its first network with one), for a check of a container
/// that publishes no port.
pub async fn container_ip(docker: &Docker, container: &str) -> Result<String> {
    docker.ip(container, None).await
}
