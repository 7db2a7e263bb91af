//! A running project as its labels show it. Both compose tools (v1 and v2) label every
//! container, network and volume they create with the project's name
//! (`com.docker.compose.project`), and each container with its service, its number and
//! whether it is a one-off `run`. So a project is found through the Engine API by its name
//! alone — without its compose or env files, whoever started it (hoist, a person, another
//! tool) — and the day-2 verbs (`ps`, `logs`, `exec`, `down`) need nothing else.
//!
//! v1 and v2 write the same keys; they differ only in what hoist does not rely on: container
//! names (`app_web_1` / `app-web-1`), one-off names, and v2's extra labels (`depends_on`).

use std::collections::HashMap;

use bollard::models::ContainerSummary;
use bollard::query_parameters::ListContainersOptions;

use crate::docker::Docker;
use crate::error::{Error, Result};

/// A container's run state as the engine reports it (`running`, `exited`, …; serialised as
/// those words).
pub use bollard::models::ContainerSummaryStateEnum as RunState;

pub const PROJECT_LABEL: &str = "com.docker.compose.project";
pub const SERVICE_LABEL: &str = "com.docker.compose.service";
const NUMBER_LABEL: &str = "com.docker.compose.container-number";
const ONEOFF_LABEL: &str = "com.docker.compose.oneoff";
/// v2 only: `db:service_started:false,cache:service_healthy:true`.
const DEPENDS_ON_LABEL: &str = "com.docker.compose.depends_on";

/// The engine's filter for everything of `project`.
pub fn filter(project: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{PROJECT_LABEL}={project}")],
    )])
}

/// One container of a project.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: String,
    /// The engine's name (what `docker ps` shows).
    pub name: String,
    pub service: String,
    /// `container-number` (1, 2 … for a scaled service); 0 for a one-off.
    pub number: u32,
    /// A one-off `run` container (both tools write `True` / `False`).
    pub oneoff: bool,
    pub state: RunState,
    /// The services it depends on (v2's label; none for v1's containers).
    pub depends_on: Vec<String>,
    /// What the engine listed.
    pub summary: ContainerSummary,
}

impl Member {
    fn of(c: ContainerSummary) -> Member {
        let labels = c.labels.clone().unwrap_or_default();
        let label = |k: &str| labels.get(k).cloned().unwrap_or_default();
        let depends_on = label(DEPENDS_ON_LABEL)
            .split(',')
            .filter_map(|d| d.split(':').next())
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect();
        Member {
            id: c.id.clone().unwrap_or_default(),
            name: c
                .names
                .as_ref()
                .and_then(|n| n.first())
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            service: label(SERVICE_LABEL),
            number: label(NUMBER_LABEL).parse().unwrap_or(0),
            oneoff: label(ONEOFF_LABEL).eq_ignore_ascii_case("true"),
            state: c.state.unwrap_or(RunState::EMPTY),
            depends_on,
            summary: c,
        }
    }

    /// How logs name it, the same for both tools: `web-1`, or `web-run-<id>` for a one-off.
    pub fn label(&self) -> String {
        if self.oneoff {
            format!("{}-run-{}", self.service, &self.id[..self.id.len().min(12)])
        } else {
            format!("{}-{}", self.service, self.number)
        }
    }

    /// Running (or restarting): what a graceful stop acts on. (A paused container cannot be
    /// stopped; removing it with force kills it.)
    pub fn up(&self) -> bool {
        matches!(self.state, RunState::RUNNING | RunState::RESTARTING)
    }
}

/// Which containers of a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The services' containers (what `ps`, `logs` and `exec` see).
    Services,
    /// Those and the one-off `run` containers (what `down` removes).
    All,
}

/// The containers of `project` (running or not), by service then number.
pub async fn members(docker: &Docker, project: &str, which: Which) -> Result<Vec<Member>> {
    let list = docker
        .api()
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filter(project)),
            ..Default::default()
        }))
        .await
        .map_err(|e| docker.fail(format!("listing the containers of project {project}"), e))?;
    let mut out: Vec<Member> = list
        .into_iter()
        .map(Member::of)
        .filter(|m| which == Which::All || !m.oneoff)
        .collect();
    out.sort_by(|a, b| {
        (a.oneoff, &a.service, a.number, &a.name).cmp(&(b.oneoff, &b.service, b.number, &b.name))
    });
    Ok(out)
}

/// The compose projects that have containers on this engine, sorted.
async fn projects(docker: &Docker) -> Result<Vec<String>> {
    let list = docker
        .api()
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(HashMap::from([(
                "label".to_string(),
                vec![PROJECT_LABEL.to_string()],
            )])),
            ..Default::default()
        }))
        .await
        .map_err(|e| docker.fail("listing the compose projects", e))?;
    let mut names: Vec<String> = list
        .into_iter()
        .filter_map(|c| c.labels.and_then(|mut l| l.remove(PROJECT_LABEL)))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// "No containers of this project here", naming the projects that are (a mistyped name, or
/// a project compose named after its directory, shows at once).
pub async fn no_containers(docker: &Docker, project: &str) -> Error {
    let host = docker.host_name();
    let there = match projects(docker).await {
        Ok(p) if p.is_empty() => "no compose project has containers there".to_string(),
        Ok(p) => format!("compose projects there: {}", p.join(", ")),
        Err(e) => e.message.clone(),
    };
    Error::failed(format!(
        "no containers of compose project {project} on {host} ({there})"
    ))
    .host(host)
    .hint(
        "a project's name is the com.docker.compose.project label of its containers: \
         compose takes it from -p, COMPOSE_PROJECT_NAME or the directory's name",
    )
}

/// `service` has no container in the project: name the services that do.
pub fn unknown_service(docker: &Docker, project: &str, service: &str, members: &[Member]) -> Error {
    let mut services: Vec<&str> = members.iter().map(|m| m.service.as_str()).collect();
    services.dedup();
    Error::failed(format!(
        "no service `{service}` in compose project {project} on {} (services: {})",
        docker.host_name(),
        services.join(", ")
    ))
    .host(docker.host_name())
}

/// The containers of `service` (an error naming the others when it has none).
pub fn of_service<'a>(
    docker: &Docker,
    project: &str,
    service: &str,
    members: &'a [Member],
) -> Result<Vec<&'a Member>> {
    let mine: Vec<&Member> = members.iter().filter(|m| m.service == service).collect();
    if mine.is_empty() {
        return Err(unknown_service(docker, project, service, members));
    }
    Ok(mine)
}

/// The container of `service` that `exec` goes to: its first running one, as compose's exec
/// picks (an error saying which state each is in when none runs).
pub fn running<'a>(
    docker: &Docker,
    project: &str,
    service: &str,
    members: &'a [Member],
) -> Result<&'a Member> {
    let mine = of_service(docker, project, service, members)?;
    if let Some(up) = mine.iter().find(|m| m.state == RunState::RUNNING) {
        return Ok(up);
    }
    let states: Vec<String> = mine
        .iter()
        .map(|m| {
            let status = m.summary.status.clone();
            format!(
                "{}: {}",
                m.name,
                status.unwrap_or_else(|| m.state.to_string())
            )
        })
        .collect();
    Err(Error::failed(format!(
        "service `{service}` of compose project {project} is not running on {} ({})",
        docker.host_name(),
        states.join(", ")
    ))
    .host(docker.host_name())
    .hint("start it first (p.start / p.up): exec needs a running container"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(labels: &[(&str, &str)], state: RunState) -> ContainerSummary {
        ContainerSummary {
            id: Some("0123456789abcdef0123".into()),
            names: Some(vec!["/app_web_1".into()]),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            state: Some(state),
            ..Default::default()
        }
    }

    #[test]
    fn v1_and_v2_labels_read_alike() {
        // compose v1 (1.29) writes no depends_on; v2 does.
        let v1 = Member::of(summary(
            &[
                (PROJECT_LABEL, "app"),
                (SERVICE_LABEL, "web"),
                (NUMBER_LABEL, "2"),
                (ONEOFF_LABEL, "False"),
            ],
            RunState::RUNNING,
        ));
        assert_eq!(
            (v1.name.as_str(), v1.label().as_str()),
            ("app_web_1", "web-2")
        );
        assert!(!v1.oneoff && v1.up() && v1.depends_on.is_empty());
        let v2 = Member::of(summary(
            &[
                (SERVICE_LABEL, "worker"),
                (NUMBER_LABEL, "1"),
                (ONEOFF_LABEL, "False"),
                (
                    DEPENDS_ON_LABEL,
                    "web:service_started:false,db:service_healthy:true",
                ),
            ],
            RunState::EXITED,
        ));
        assert_eq!(v2.depends_on, ["web", "db"]);
        assert!(!v2.up());
        let run = Member::of(summary(
            &[(SERVICE_LABEL, "worker"), (ONEOFF_LABEL, "True")],
            RunState::RUNNING,
        ));
        assert!(run.oneoff);
        assert_eq!(run.label(), "worker-run-0123456789ab");
    }
}
