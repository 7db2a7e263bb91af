//! `p.ps()` as data, the same for v1 and v2: read from the Engine API by the labels both
//! tools put on their containers (see labels.rs), instead of parsing either tool's table
//! output.

use serde::Serialize;

use super::labels::{self, Member, RunState, Which};
use crate::docker::Docker;
use crate::error::Result;

/// One container of a compose project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContainerState {
    pub service: String,
    pub name: String,
    /// created, running, paused, restarting, removing, exited, dead.
    pub state: RunState,
    /// healthy, unhealthy, starting, or "" when the service has no healthcheck.
    pub health: Health,
    pub image: String,
    /// "127.0.0.1:8080->80/tcp", or "80/tcp" when not published.
    pub ports: Vec<String>,
    /// The engine's human status, e.g. "Up 3 seconds (healthy)".
    pub status: String,
}

impl ContainerState {
    /// A one-shot that finished well: exited with code 0.
    pub fn completed(&self) -> bool {
        self.state == RunState::EXITED && self.status.starts_with("Exited (0)")
    }

    /// Failed: exited with an error (or died), or its health check says unhealthy.
    pub fn failed(&self) -> bool {
        (matches!(self.state, RunState::EXITED | RunState::DEAD) && !self.completed())
            || self.health == Health::Unhealthy
    }

    /// Up and, if it has a health check, healthy — or a one-shot that completed.
    pub fn ready(&self) -> bool {
        self.completed()
            || (self.state == RunState::RUNNING
                && matches!(self.health, Health::None | Health::Healthy))
    }
}

/// What a container's health check says; `None` (shown as "") without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Health {
    #[serde(rename = "")]
    None,
    #[serde(rename = "starting")]
    Starting,
    #[serde(rename = "healthy")]
    Healthy,
    #[serde(rename = "unhealthy")]
    Unhealthy,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Health::None => "",
            Health::Starting => "starting",
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
        })
    }
}

/// Every container (running or not) of `project`'s services, by service then number;
/// one-off `run` containers are left out.
pub async fn ps(docker: &Docker, project: &str) -> Result<Vec<ContainerState>> {
    let members = labels::members(docker, project, Which::Services).await?;
    Ok(members.iter().map(state_of).collect())
}

/// A container as `p.ps()` shows it.
pub fn state_of(m: &Member) -> ContainerState {
    let c = &m.summary;
    let status = c.status.clone().unwrap_or_default();
    let mut ports: Vec<String> = c
        .ports
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|p| {
            let typ = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
            match p.public_port {
                Some(pp) => format!(
                    "{}:{pp}->{}/{typ}",
                    p.ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                    p.private_port
                ),
                None => format!("{}/{typ}", p.private_port),
            }
        })
        .collect();
    ports.sort();
    ports.dedup();
    ContainerState {
        service: m.service.clone(),
        name: m.name.clone(),
        state: m.state,
        health: health_of(&status),
        image: c.image.clone().unwrap_or_default(),
        ports,
        status,
    }
}

/// The engine puts the health in the status text ("Up 5 seconds (health: starting)").
fn health_of(status: &str) -> Health {
    if status.contains("(healthy)") {
        Health::Healthy
    } else if status.contains("(unhealthy)") {
        Health::Unhealthy
    } else if status.contains("(health: starting)") {
        Health::Starting
    } else {
        Health::None
    }
}
