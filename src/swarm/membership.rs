//! Swarm membership through each host's engine: `init`, `join` (the manager's join token and
//! address come from the manager's own engine), `leave`, `nodes`, `drain` / `activate`.
//! Each is idempotent and reports whether it changed anything.

use bollard::models::{NodeSpecAvailabilityEnum, SwarmInitRequest, SwarmJoinRequest};
use bollard::query_parameters::{LeaveSwarmOptions, UpdateNodeOptions};

use crate::command::Command;
use crate::docker::Docker;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Worker,
    Manager,
}

/// One node, as `docker node ls` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeRow {
    pub name: String,
    pub role: String,
    pub state: String,
    pub availability: String,
    pub engine: String,
    pub address: String,
    pub labels: std::collections::BTreeMap<String, String>,
    pub id: String,
}

impl Docker {
    /// Is this engine part of a swarm ("active"), and its node address.
    async fn swarm_state(&self) -> Result<(String, String)> {
        let info = self
            .api()
            .info()
            .await
            .map_err(|e| self.fail("read the engine's info", e))?;
        let s = info.swarm.unwrap_or_default();
        Ok((
            s.local_node_state
                .map(|st| st.to_string())
                .unwrap_or_default(),
            s.node_addr.unwrap_or_default(),
        ))
    }

    /// The address the SSH connection reached the host at: what other nodes can reach too.
    async fn reachable_addr(&self) -> Result<Option<String>> {
        if self.host().is_local() {
            return Ok(None);
        }
        let out = self
            .host()
            .run(
                &Command::shell("set -- $SSH_CONNECTION; echo $3")
                    .quiet()
                    .probe(),
            )
            .await?;
        Ok(Some(out.stdout.trim().to_string()).filter(|a| !a.is_empty()))
    }

    /// Make this engine a swarm manager; false when it already is in a swarm.
    pub async fn swarm_init(&self, advertise_addr: Option<String>) -> Result<bool> {
        if self.swarm_state().await?.0 == "active" {
            return Ok(false);
        }
        let addr = match advertise_addr {
            Some(a) => Some(a),
            None => self.reachable_addr().await?,
        };
        let req = SwarmInitRequest {
            listen_addr: Some("0.0.0.0:2377".into()),
            advertise_addr: addr,
            ..Default::default()
        };
        self.audited("swarm init", "swarm init".into(), |w| async move {
            w.init_swarm(req)
                .await
                .map_err(|e| self.fail("initialise a swarm", e))
        })
        .await?;
        Ok(true)
    }

    /// Join the swarm `manager` manages, as `role`; false when already in a swarm.
    pub async fn swarm_join(&self, manager: &Docker, role: Role) -> Result<bool> {
        if self.swarm_state().await?.0 == "active" {
            return Ok(false);
        }
        let (state, addr) = manager.swarm_state().await?;
        if (state != "active" || addr.is_empty()) && manager.swarm_planned() {
            // A dry run that planned the manager's `init`: the join is planned as it would
            // run, to the address the manager would advertise.
            let addr = manager.reachable_addr().await?.unwrap_or_default();
            let joined = self
                .perform(
                    "swarm join",
                    format!("swarm join {addr}:2377 as {role:?}"),
                    |_| async {
                        // Only a dry run gets here: the manager's swarm is planned, not made.
                        Err::<(), _>(Error::failed(format!(
                            "{} is not a swarm manager yet: its swarm is only planned",
                            manager.host_name()
                        )))
                    },
                )
                .await?;
            return Ok(joined.planned());
        }
        if state != "active" || addr.is_empty() {
            return Err(Error::failed(format!(
                "{} is not a swarm manager: init the swarm there first",
                manager.host_name()
            )));
        }
        let swarm = manager
            .api()
            .inspect_swarm()
            .await
            .map_err(|e| manager.fail("read the swarm's join tokens (is it a manager?)", e))?;
        let tokens = swarm.join_tokens.unwrap_or_default();
        let token = match role {
            Role::Worker => tokens.worker,
            Role::Manager => tokens.manager,
        }
        .ok_or_else(|| Error::failed("the manager gave no join token"))?;
        let req = SwarmJoinRequest {
            listen_addr: Some("0.0.0.0:2377".into()),
            advertise_addr: self.reachable_addr().await?,
            remote_addrs: Some(vec![format!("{addr}:2377")]),
            join_token: Some(token),
            ..Default::default()
        };
        self.audited(
            "swarm join",
            format!("swarm join {addr}:2377 as {role:?}"),
            |w| async move {
                w.join_swarm(req)
                    .await
                    .map_err(|e| self.fail(format!("join the swarm at {addr}:2377"), e))
            },
        )
        .await?;
        Ok(true)
    }

    /// A dry run planned this engine's `swarm init` or `swarm join`: it is in a swarm in the
    /// plan, not yet on the host.
    pub(crate) fn swarm_planned(&self) -> bool {
        let effects = self.services().effects();
        effects.planning()
            && effects.plan().changes.iter().any(|c| {
                c.host == self.host_name()
                    && matches!(&c.change, crate::effect::Change::Docker { op, .. }
                        if op == "swarm init" || op == "swarm join")
            })
    }

    /// Leave the swarm (a manager needs `force`); false when not in one.
    pub async fn swarm_leave(&self, force: bool) -> Result<bool> {
        if self.swarm_state().await?.0 != "active" {
            return Ok(false);
        }
        self.audited("swarm leave", "swarm leave".into(), |w| async move {
            w.leave_swarm(Some(LeaveSwarmOptions { force }))
                .await
                .map_err(|e| self.fail("leave the swarm", e))
        })
        .await?;
        Ok(true)
    }

    pub async fn swarm_nodes(&self) -> Result<Vec<NodeRow>> {
        let nodes = self
            .api()
            .list_nodes(None)
            .await
            .map_err(|e| self.fail("list the swarm's nodes (is this a manager?)", e))?;
        let mut rows: Vec<NodeRow> = nodes
            .into_iter()
            .map(|n| {
                let spec = n.spec.unwrap_or_default();
                let desc = n.description.unwrap_or_default();
                let status = n.status.unwrap_or_default();
                NodeRow {
                    name: desc.hostname.unwrap_or_default(),
                    role: spec.role.map(|r| r.to_string()).unwrap_or_default(),
                    state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                    availability: spec.availability.map(|a| a.to_string()).unwrap_or_default(),
                    engine: desc
                        .engine
                        .and_then(|e| e.engine_version)
                        .unwrap_or_default(),
                    address: status.addr.unwrap_or_default(),
                    labels: spec.labels.unwrap_or_default().into_iter().collect(),
                    id: n.id.unwrap_or_default(),
                }
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(rows)
    }

    /// Set a node's availability ("drain" moves its tasks away); false when it already was.
    pub async fn swarm_availability(&self, node: &str, drain: bool) -> Result<bool> {
        let n = self
            .api()
            .inspect_node(node)
            .await
            .map_err(|e| self.fail(format!("find node {node}"), e))?;
        let mut spec = n.spec.unwrap_or_default();
        let want = if drain {
            NodeSpecAvailabilityEnum::DRAIN
        } else {
            NodeSpecAvailabilityEnum::ACTIVE
        };
        if spec.availability == Some(want) {
            return Ok(false);
        }
        spec.availability = Some(want);
        let version = n.version.and_then(|v| v.index).unwrap_or_default() as i64;
        self.audited(
            "node update",
            format!("node update --availability {want} {node}"),
            |w| async move {
                w.update_node(node, spec, UpdateNodeOptions { version })
                    .await
                    .map_err(|e| self.fail(format!("set {node} to {want}"), e))
            },
        )
        .await?;
        Ok(true)
    }
}

/// `sw.init(#{advertise_addr})`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitOpts {
    #[serde(default)]
    pub advertise_addr: Option<String>,
}

/// `sw.join(manager, #{role})`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinOpts {
    #[serde(default)]
    pub role: Role,
}

/// `sw.leave(#{force})`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveOpts {
    #[serde(default)]
    pub force: bool,
}
