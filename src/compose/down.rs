//! `p.down()` from the labels, as `docker compose -p NAME down` does without the project's
//! files: every container of the project is stopped (those that depend on others first, each
//! with its own stop signal and grace period, which compose stored in it) and removed, then
//! the networks compose created for it; with `volumes`, its named volumes and the containers'
//! anonymous ones. External networks and volumes carry no project label and stay. One-off
//! `run` containers go too, as compose v1's down removes them (v2 leaves stopped ones; a
//! running one would keep the project's network in use).
//!
//! The whole teardown is one change at the effect boundary ("down compose project NAME"): a
//! dry run plans it with what it would remove as notes, a real run audits it.

use bollard::query_parameters::{
    ListNetworksOptions, ListVolumesOptions, RemoveContainerOptionsBuilder,
    RemoveVolumeOptionsBuilder,
};
use serde::Serialize;

use super::labels::{self, Member, Which};
use crate::docker::Docker;
use crate::error::{Error, Result};

/// What a down removed (or, in a dry run, would remove), by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Removed {
    pub containers: Vec<String>,
    pub networks: Vec<String>,
    pub volumes: Vec<String>,
}

impl Removed {
    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty() && self.volumes.is_empty()
    }

    /// One line per kind, for a plan's notes.
    fn notes(&self) -> Vec<String> {
        [
            ("containers", &self.containers),
            ("networks", &self.networks),
            ("volumes", &self.volumes),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {}", v.join(", ")))
        .collect()
    }
}

/// Take `project` down on `docker`'s engine. `started_by_plan`: a dry run planned steps that
/// start it, so there is something to take down even though nothing exists yet.
pub async fn down(
    docker: &Docker,
    project: &str,
    volumes: bool,
    started_by_plan: bool,
) -> Result<Removed> {
    let members = labels::members(docker, project, Which::All).await?;
    let networks = docker
        .api()
        .list_networks(Some(ListNetworksOptions {
            filters: Some(labels::filter(project)),
        }))
        .await
        .map_err(|e| docker.fail(format!("listing the networks of project {project}"), e))?;
    let mut network_names: Vec<String> = networks.iter().filter_map(|n| n.name.clone()).collect();
    network_names.sort();
    let mut volume_names: Vec<String> = if volumes {
        docker
            .api()
            .list_volumes(Some(ListVolumesOptions {
                filters: Some(labels::filter(project)),
            }))
            .await
            .map_err(|e| docker.fail(format!("listing the volumes of project {project}"), e))?
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.name)
            .collect()
    } else {
        Vec::new()
    };
    volume_names.sort();
    let found = Removed {
        containers: members.iter().map(|m| m.name.clone()).collect(),
        networks: network_names,
        volumes: volume_names,
    };
    if found.is_empty() && !started_by_plan {
        return Ok(found);
    }
    let host = docker.host_name();
    let detail = format!(
        "down compose project {project}{}",
        if volumes { " and its volumes" } else { "" }
    );
    let done = docker
        .perform("down", detail, |w| {
            remove(w, docker, project, &members, &found, volumes)
        })
        .await?;
    if done.planned() {
        // What exists now; what the planned steps before it start goes too.
        docker
            .services()
            .effects()
            .annotate_last(host, found.notes());
    }
    Ok(found)
}

/// 404 (gone already: the goal is reached) or 304 (stopped already).
fn done_already(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 304 | 404,
            ..
        }
    )
}

async fn remove(
    w: crate::docker::Writes,
    docker: &Docker,
    project: &str,
    members: &[Member],
    found: &Removed,
    volumes: bool,
) -> Result<()> {
    let w = &w;
    for level in stop_order(members) {
        futures_util::future::try_join_all(level.into_iter().map(|i| {
            let m = &members[i];
            async move {
                match w.stop_container(&m.id, None).await {
                    Err(e) if !done_already(&e) => {
                        Err(docker.container_fail("cannot stop", &m.name, e))
                    }
                    _ => Ok(()),
                }
            }
        }))
        .await?;
    }
    let rm = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(volumes)
        .build();
    futures_util::future::try_join_all(members.iter().map(|m| {
        let rm = rm.clone();
        async move {
            match w.remove_container(&m.id, Some(rm)).await {
                Err(e) if !done_already(&e) => {
                    Err(docker.container_fail("cannot remove", &m.name, e))
                }
                _ => Ok(()),
            }
        }
    }))
    .await?;
    for n in &found.networks {
        if let Err(e) = w.remove_network(n).await
            && !done_already(&e)
        {
            return Err(in_use(docker, project, "network", n, e).await);
        }
    }
    for v in &found.volumes {
        let opts = RemoveVolumeOptionsBuilder::default().force(false).build();
        if let Err(e) = w.remove_volume(v, Some(opts)).await
            && !done_already(&e)
        {
            return Err(in_use(docker, project, "volume", v, e).await);
        }
    }
    Ok(())
}

/// A network or volume that would not go: the engine's reason, and for a network the
/// containers (of other projects, or none) still attached to it.
async fn in_use(
    docker: &Docker,
    project: &str,
    kind: &str,
    name: &str,
    e: bollard::errors::Error,
) -> Error {
    let mut err = docker.fail(
        format!("compose project {project} down: cannot remove {kind} {name}"),
        e,
    );
    if kind == "network"
        && let Ok(n) = docker.api().inspect_network(name, None).await
    {
        let users: Vec<String> = n
            .containers
            .unwrap_or_default()
            .into_values()
            .filter_map(|c| c.name)
            .collect();
        if !users.is_empty() {
            err = err.hint(format!(
                "still attached to it: {}; stop them (or disconnect them) and run down again",
                users.join(", ")
            ));
        }
    }
    err
}

/// The order containers stop in: levels of indexes into `members`, the containers in one level
/// stopped together. A container goes before those of the services it depends on (v2's
/// `depends_on` label; v1 writes none, so its containers stop together); only running ones
/// are listed (the forced removal that follows kills a paused one).
pub fn stop_order(members: &[Member]) -> Vec<Vec<usize>> {
    let mut left: Vec<usize> = (0..members.len()).filter(|&i| members[i].up()).collect();
    let mut levels = Vec::new();
    while !left.is_empty() {
        // Free to stop: no container still up depends on its service.
        let (free, held): (Vec<usize>, Vec<usize>) = left.iter().partition(|&&i| {
            !left
                .iter()
                .any(|&j| j != i && members[j].depends_on.contains(&members[i].service))
        });
        if free.is_empty() {
            // A cycle (compose refuses those): the rest together.
            levels.push(held);
            break;
        }
        levels.push(free);
        left = held;
    }
    levels
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::labels::RunState;

    fn member(service: &str, depends_on: &[&str], state: RunState) -> Member {
        Member {
            id: format!("{service}-id"),
            name: format!("p-{service}-1"),
            service: service.into(),
            number: 1,
            oneoff: false,
            state,
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            summary: Default::default(),
        }
    }

    #[test]
    fn dependents_stop_first_and_stopped_containers_not_at_all() {
        let m = [
            member("db", &[], RunState::RUNNING),
            member("web", &["db", "cache"], RunState::RUNNING),
            member("cache", &[], RunState::RUNNING),
            member("proxy", &["web"], RunState::RUNNING),
            member("init", &[], RunState::EXITED),
        ];
        assert_eq!(stop_order(&m), [vec![3], vec![1], vec![0, 2]]);
        // v1 containers carry no depends_on: all at once.
        let v1 = [
            member("db", &[], RunState::RUNNING),
            member("web", &[], RunState::RESTARTING),
            member("cache", &[], RunState::PAUSED),
        ];
        assert_eq!(stop_order(&v1), [vec![0, 1]]);
        let cycle = [
            member("a", &["b"], RunState::RUNNING),
            member("b", &["a"], RunState::RUNNING),
        ];
        assert_eq!(stop_order(&cycle), [vec![0, 1]]);
        assert!(stop_order(&[]).is_empty());
    }

    #[test]
    fn a_plan_notes_what_goes() {
        let r = Removed {
            containers: vec!["p-web-1".into()],
            networks: vec!["p_default".into()],
            volumes: vec![],
        };
        assert_eq!(r.notes(), ["containers: p-web-1", "networks: p_default"]);
        assert!(!r.is_empty() && Removed::default().is_empty());
    }
}
