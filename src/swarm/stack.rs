//! A stack: a compose project deployed to a swarm through a manager's engine. `deploy`
//! creates the overlay network, the secrets and configs (immutable: named with a hash of their
//! content), and one service per active compose service — images pinned by digest, registry
//! auth sent along so every node can pull — then waits until every service runs its new spec,
//! or fails naming the service, the node and the task error (and says when swarm rolled back).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use bollard::models::{NetworkCreateRequest, ServiceSpec};
use bollard::query_parameters::{
    InspectServiceOptions, ListNetworksOptions, ListServicesOptions, ListTasksOptions,
    UpdateServiceOptions,
};
use futures_util::StreamExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{NAMESPACE_LABEL, spec};
use crate::compose::Project;
use crate::docker::{Docker, credentials, reference::ImageRef, status_of};
use crate::error::{Error, Result};

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployOpts {
    /// Remove services of the stack that the file no longer has.
    #[serde(default)]
    pub prune: bool,
    /// Wait until every service runs its new spec (default true).
    #[serde(default = "yes")]
    pub wait: bool,
    /// Seconds to wait (default 300).
    #[serde(default)]
    pub timeout: Option<u64>,
}

fn yes() -> bool {
    true
}

impl Default for DeployOpts {
    fn default() -> Self {
        DeployOpts {
            prune: false,
            wait: true,
            timeout: None,
        }
    }
}

/// A service, as `docker stack services` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceRow {
    pub name: String,
    pub mode: String,
    pub replicas: String,
    pub image: String,
    pub update: String,
}

/// A task, as `docker stack ps` shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskRow {
    pub service: String,
    pub node: String,
    pub desired: String,
    pub state: String,
    pub error: String,
    pub image: String,
    pub id: String,
}

#[derive(Clone)]
pub struct Stack {
    pub name: String,
    pub project: Project,
    pub docker: Docker,
}

fn label_filter(stack: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_string(),
        vec![format!("{NAMESPACE_LABEL}={stack}")],
    )])
}

impl Stack {
    pub fn new(name: &str, project: Project, docker: Docker) -> Result<Stack> {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::usage(format!(
                "stack name `{name}`: letters, digits, '-' and '_' only"
            )));
        }
        Ok(Stack {
            name: name.to_string(),
            project,
            docker,
        })
    }

    fn api(&self) -> crate::docker::Reads<'_> {
        self.docker.api()
    }

    /// The compose file as data, with only the services of the active profiles.
    async fn model(&self) -> Result<Value> {
        let cfg = self.project.config().await?;
        let mut v = serde_json::to_value(&cfg)
            .map_err(|e| Error::failed(format!("cannot read the compose model: {e}")))?;
        let active = &self.project.options().profiles;
        if let Some(Value::Object(services)) = v.get_mut("services") {
            services.retain(|_, s| match s.get("profiles").and_then(Value::as_array) {
                Some(p) if !p.is_empty() => p
                    .iter()
                    .any(|x| x.as_str().is_some_and(|x| active.iter().any(|a| a == x))),
                _ => true,
            });
        }
        Ok(v)
    }

    /// The converted service specs, by compose service name (no engine changes).
    pub async fn specs(&self) -> Result<BTreeMap<String, Value>> {
        let model = self.model().await?;
        self.specs_of(&model, &[], &[], false).await
    }

    async fn specs_of(
        &self,
        model: &Value,
        secrets: &[(String, String, String)],
        configs: &[(String, String, String)],
        pin: bool,
    ) -> Result<BTreeMap<String, Value>> {
        let mut out = BTreeMap::new();
        for (name, svc) in model["services"].as_object().into_iter().flatten() {
            let image = svc["image"].as_str().ok_or_else(|| {
                Error::usage(format!(
                    "service {name} has no image: a stack runs images (build and push them first)"
                ))
            })?;
            let image = if pin {
                self.pinned(image).await?
            } else {
                image.to_string()
            };
            let s = spec::service_spec(&self.name, name, svc, &image, secrets, configs)
                .map_err(|e| e.host(self.docker.host_name()))?;
            out.insert(name.clone(), s);
        }
        Ok(out)
    }

    /// `image@sha256:...` as the registry has it now (what every node will run).
    async fn pinned(&self, image: &str) -> Result<String> {
        if image.contains("@sha256:") {
            return Ok(image.to_string());
        }
        let r = ImageRef::parse(image);
        let effects = self.docker.services().effects();
        let pushed_in_plan = effects.planning()
            && effects.plan().changes.iter().any(|c| {
                matches!(&c.change, crate::effect::Change::Docker { op, detail }
                    if op == "push" && detail == &format!("push {image}"))
            });
        if pushed_in_plan {
            // The plan pushes this image: its digest exists only once the push is made.
            effects.assume(
                self.docker.host_name(),
                format!("{image} is pinned by the digest its push gives"),
            );
            return Ok(format!("{image}@sha256:<digest of the push>"));
        }
        let auth = credentials::lookup(self.docker.host(), &r.credentials_key()).await?;
        let d = self
            .api()
            .inspect_registry_image(image, auth)
            .await
            .map_err(|e| {
                self.docker
                    .fail(format!("resolve {image} in its registry"), e)
            })?;
        let digest = d
            .descriptor
            .digest
            .ok_or_else(|| Error::failed(format!("the registry gave no digest for {image}")))?;
        Ok(format!("{image}@{digest}"))
    }

    async fn auth_for(&self, image: &str) -> Result<Option<bollard::auth::DockerCredentials>> {
        let r = ImageRef::parse(image);
        credentials::lookup(self.docker.host(), &r.credentials_key()).await
    }

    async fn ensure_network(&self) -> Result<()> {
        let name = format!("{}_default", self.name);
        let have = self
            .api()
            .list_networks(Some(ListNetworksOptions {
                filters: Some(HashMap::from([("name".to_string(), vec![name.clone()])])),
            }))
            .await
            .map_err(|e| self.docker.fail("list networks", e))?;
        if have
            .iter()
            .any(|n| n.name.as_deref() == Some(name.as_str()))
        {
            return Ok(());
        }
        let req = NetworkCreateRequest {
            name: name.clone(),
            driver: Some("overlay".into()),
            attachable: Some(true),
            labels: Some(HashMap::from([(
                NAMESPACE_LABEL.to_string(),
                self.name.clone(),
            )])),
            ..Default::default()
        };
        self.docker
            .audited(
                "network create",
                format!("network create --driver overlay {name}"),
                |w| async move {
                    w.create_network(req)
                        .await
                        .map_err(|e| self.docker.fail(format!("create network {name}"), e))
                },
            )
            .await?;
        Ok(())
    }

    /// Secrets or configs of the file (`kind` = "secrets" | "configs") as swarm objects named
    /// STACK_NAME_HASH (immutable: a changed file is a new object): (compose name, id, name).
    async fn objects(&self, model: &Value, kind: &str) -> Result<Vec<(String, String, String)>> {
        let mut out = vec![];
        for (name, def) in model[kind].as_object().into_iter().flatten() {
            let file = def["file"].as_str().ok_or_else(|| {
                Error::usage(format!(
                    "{kind}.{name}: only `file:` {kind} are supported in stacks"
                ))
            })?;
            let path = if file.starts_with('/') {
                file.to_string()
            } else {
                format!("{}/{}", self.project.dir(), file.trim_start_matches("./"))
            };
            let data = self.docker.host().read_bytes(&path, false).await?;
            let hash = hex::encode(Sha256::digest(&data));
            let obj = format!("{}_{}_{}", self.name, name, &hash[..12]);
            let labels = serde_json::json!({NAMESPACE_LABEL: self.name});
            use base64::Engine;
            let b64 = base64::engine::general_purpose::STANDARD.encode(&data);
            let spec = serde_json::json!({"Name": obj, "Labels": labels, "Data": b64});
            let id = self.ensure_object(kind, &obj, spec).await?;
            out.push((name.clone(), id, obj));
        }
        Ok(out)
    }

    /// The id of the secret or config named `obj`, created from `spec` when missing (they are
    /// immutable: the name carries the content's hash, so an existing one is the same data).
    async fn ensure_object(&self, kind: &str, obj: &str, spec: Value) -> Result<String> {
        let secret = kind == "secrets";
        let found = if secret {
            self.api().inspect_secret(obj).await.ok().and_then(|s| s.id)
        } else {
            self.api().inspect_config(obj).await.ok().and_then(|c| c.id)
        };
        if let Some(id) = found {
            return Ok(id);
        }
        let what = if secret { "secret" } else { "config" };
        let bad = |e: serde_json::Error| Error::failed(format!("{what} spec: {e}"));
        self.docker
            .audited(
                &format!("{what} create"),
                format!("{what} create {obj}"),
                |w| async move {
                    let created = if secret {
                        let spec = serde_json::from_value(spec).map_err(bad)?;
                        w.create_secret(spec).await
                    } else {
                        let spec = serde_json::from_value(spec).map_err(bad)?;
                        w.create_config(spec).await
                    };
                    created
                        .map(|r| r.id)
                        .map_err(|e| self.docker.fail(format!("create {what} {obj}"), e))
                },
            )
            .await
    }

    /// The stack's services now: compose-service name → (swarm id, version).
    async fn existing(&self) -> Result<BTreeMap<String, (String, i32)>> {
        if self.docker.swarm_planned() {
            // The swarm exists only in this dry run's plan: no service runs yet.
            return Ok(BTreeMap::new());
        }
        let list = self
            .api()
            .list_services(Some(ListServicesOptions {
                filters: Some(label_filter(&self.name)),
                ..Default::default()
            }))
            .await
            .map_err(|e| {
                self.docker
                    .fail("list services (is this a swarm manager?)", e)
            })?;
        let prefix = format!("{}_", self.name);
        Ok(list
            .into_iter()
            .filter_map(|s| {
                let name = s.spec.as_ref()?.name.clone()?;
                let short = name.strip_prefix(&prefix)?.to_string();
                let version = s.version.as_ref()?.index? as i32;
                Some((short, (s.id?, version)))
            })
            .collect())
    }

    /// Deploy the stack; the services' rows once converged.
    pub async fn deploy(&self, o: &DeployOpts) -> Result<Vec<ServiceRow>> {
        let model = self.model().await?;
        self.ensure_network().await?;
        let secrets = self.objects(&model, "secrets").await?;
        let configs = self.objects(&model, "configs").await?;
        let specs = self.specs_of(&model, &secrets, &configs, true).await?;
        let existing = self.existing().await?;
        for (name, s) in &specs {
            let image = s["TaskTemplate"]["ContainerSpec"]["Image"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let auth = self.auth_for(&image).await?;
            let spec: ServiceSpec = serde_json::from_value(s.clone())
                .map_err(|e| Error::failed(format!("service {name}: spec: {e}")))?;
            let full = format!("{}_{name}", self.name);
            let effects = self.docker.services().effects();
            // A plan shows each service's spec as it would change: a diff against the running
            // one (both as the engine holds them), or the whole spec of a new service.
            let notes = if effects.planning() {
                let before = match existing.get(name) {
                    Some((id, _)) => self
                        .api()
                        .inspect_service(id, None::<InspectServiceOptions>)
                        .await
                        .ok()
                        .and_then(|svc| svc.spec)
                        .and_then(|sp| serde_json::to_value(sp).ok()),
                    None => None,
                };
                let after = serde_json::to_value(&spec).unwrap_or(Value::Null);
                let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
                let diff = crate::effect::diff::unified(
                    &format!("service {full}"),
                    Some(before.as_ref().map(pretty).unwrap_or_default().as_bytes()),
                    pretty(&after).as_bytes(),
                );
                Some(diff.lines().map(str::to_string).collect::<Vec<_>>())
            } else {
                None
            };
            match existing.get(name) {
                Some((id, version)) => {
                    let opts = UpdateServiceOptions {
                        version: *version,
                        ..Default::default()
                    };
                    self.docker
                        .audited(
                            "service update",
                            format!("service update {full} ({image})"),
                            |w| async move {
                                w.update_service(id, spec, opts, auth).await.map_err(|e| {
                                    self.docker.fail(format!("update service {full}"), e)
                                })
                            },
                        )
                        .await?;
                }
                None => {
                    self.docker
                        .audited(
                            "service create",
                            format!("service create {full} ({image})"),
                            |w| async move {
                                w.create_service(spec, auth).await.map_err(|e| {
                                    self.docker.fail(format!("create service {full}"), e)
                                })
                            },
                        )
                        .await?;
                }
            }
            if let Some(n) = notes {
                let n = if n.is_empty() {
                    vec!["spec unchanged (the engine keeps the running tasks)".to_string()]
                } else {
                    n
                };
                effects.annotate_last(self.docker.host_name(), n);
            }
        }
        if o.prune {
            for (name, (id, _)) in &existing {
                if !specs.contains_key(name) {
                    self.remove(id, &format!("{}_{name}", self.name)).await?;
                }
            }
        }
        if o.wait {
            let names: Vec<String> = specs.keys().cloned().collect();
            self.converge(&names, Duration::from_secs(o.timeout.unwrap_or(300)))
                .await?;
        }
        self.services().await
    }

    async fn remove(&self, id: &str, full: &str) -> Result<()> {
        self.docker
            .audited("service rm", format!("service rm {full}"), |w| async move {
                w.delete_service(id)
                    .await
                    .map_err(|e| self.docker.fail(format!("remove service {full}"), e))
            })
            .await
    }

    /// Node id → hostname.
    async fn node_names(&self) -> HashMap<String, String> {
        self.docker
            .swarm_nodes()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|n| (n.id, n.name))
            .collect()
    }

    /// Wait until each service's update is done and its tasks run; fail with what swarm said.
    async fn converge(&self, names: &[String], timeout: Duration) -> Result<()> {
        let effects = self.docker.services().effects();
        if effects.planning() {
            effects.assume(
                self.docker.host_name(),
                format!(
                    "stack {}: services {} converge (every task runs the new spec, healthy)",
                    self.name,
                    names.join(", ")
                ),
            );
            return Ok(());
        }
        let deadline = Instant::now() + timeout;
        loop {
            // A global service runs a task on every ready, active node. Right after a node
            // joined, the orchestrator has not given it one yet: count the nodes, so such a
            // service is not called done with the new node's task still missing.
            let eligible = self
                .docker
                .swarm_nodes()
                .await
                .unwrap_or_default()
                .iter()
                .filter(|n| n.state == "ready" && n.availability == "active")
                .count();
            let mut pending = vec![];
            for name in names {
                let full = format!("{}_{name}", self.name);
                let svc = self
                    .api()
                    .inspect_service(&full, None::<InspectServiceOptions>)
                    .await
                    .map_err(|e| self.docker.fail(format!("inspect service {full}"), e))?;
                let update = svc.update_status.clone().unwrap_or_default();
                let state = update.state.map(|s| s.to_string()).unwrap_or_default();
                if matches!(
                    state.as_str(),
                    "rollback_completed" | "paused" | "rollback_paused"
                ) {
                    let rolled = state == "rollback_completed";
                    return Err(Error::failed(format!(
                        "service {full}: the update failed{}: {}{}",
                        if rolled {
                            " and swarm rolled it back to the previous spec"
                        } else {
                            " and is paused"
                        },
                        update.message.unwrap_or_default(),
                        self.task_errors(&full).await
                    ))
                    .host(self.docker.host_name()));
                }
                let mode = svc.spec.as_ref().and_then(|s| s.mode.as_ref());
                let want = mode
                    .and_then(|m| m.replicated.as_ref())
                    .and_then(|r| r.replicas);
                // Placement constraints choose some nodes only: then the tasks swarm made are
                // the measure, as before.
                let everywhere = mode.is_some_and(|m| m.global.is_some())
                    && svc
                        .spec
                        .as_ref()
                        .and_then(|s| s.task_template.as_ref())
                        .and_then(|t| t.placement.as_ref())
                        .and_then(|p| p.constraints.as_ref())
                        .is_none_or(|c| c.is_empty());
                let tasks = self.tasks(&full).await?;
                let desired: Vec<&TaskRow> =
                    tasks.iter().filter(|t| t.desired == "running").collect();
                let running = desired.iter().filter(|t| t.state == "running").count();
                let enough = match want {
                    Some(n) => running as i64 >= n,
                    None if everywhere => running == desired.len() && running >= eligible.max(1),
                    None => running == desired.len() && running > 0,
                };
                let updating = matches!(state.as_str(), "updating" | "rollback_started");
                if updating || !enough {
                    pending.push(full);
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let mut why = String::new();
                for p in &pending {
                    why.push_str(&self.task_errors(p).await);
                }
                return Err(Error::failed(format!(
                    "{} did not converge within {}s{why}",
                    pending.join(", "),
                    timeout.as_secs()
                ))
                .host(self.docker.host_name()));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// "; node X: error" for the service's failed tasks (most recent first, at most 5).
    async fn task_errors(&self, full: &str) -> String {
        let tasks = self.tasks(full).await.unwrap_or_default();
        tasks
            .iter()
            .filter(|t| !t.error.is_empty())
            .take(5)
            .map(|t| {
                format!(
                    "\n  task {} on node {}: {} ({})",
                    t.id, t.node, t.error, t.state
                )
            })
            .collect()
    }

    async fn tasks(&self, full: &str) -> Result<Vec<TaskRow>> {
        let nodes = self.node_names().await;
        let list = self
            .api()
            .list_tasks(Some(ListTasksOptions {
                filters: Some(HashMap::from([(
                    "service".to_string(),
                    vec![full.to_string()],
                )])),
            }))
            .await
            .map_err(|e| self.docker.fail(format!("list tasks of {full}"), e))?;
        let mut rows: Vec<(String, TaskRow)> = list
            .into_iter()
            .map(|t| {
                let status = t.status.clone().unwrap_or_default();
                let node = t.node_id.clone().unwrap_or_default();
                let image = t
                    .spec
                    .as_ref()
                    .and_then(|s| s.container_spec.as_ref())
                    .and_then(|c| c.image.clone())
                    .unwrap_or_default();
                (
                    t.updated_at.clone().unwrap_or_default(),
                    TaskRow {
                        service: full.to_string(),
                        node: nodes.get(&node).cloned().unwrap_or(node),
                        desired: t.desired_state.map(|d| d.to_string()).unwrap_or_default(),
                        state: status.state.map(|s| s.to_string()).unwrap_or_default(),
                        error: status.err.unwrap_or_default(),
                        image: image.split('@').next().unwrap_or_default().to_string(),
                        id: t.id.unwrap_or_default().chars().take(12).collect(),
                    },
                )
            })
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    /// Every task of the stack (newest first per service).
    pub async fn ps(&self) -> Result<Vec<TaskRow>> {
        let mut out = vec![];
        for full in self.existing().await?.keys() {
            out.extend(self.tasks(&format!("{}_{full}", self.name)).await?);
        }
        Ok(out)
    }

    pub async fn services(&self) -> Result<Vec<ServiceRow>> {
        let mut rows = vec![];
        for short in self.existing().await?.keys() {
            let full = format!("{}_{short}", self.name);
            let svc = self
                .api()
                .inspect_service(&full, None::<InspectServiceOptions>)
                .await
                .map_err(|e| self.docker.fail(format!("inspect service {full}"), e))?;
            let spec = svc.spec.clone().unwrap_or_default();
            let tasks = self.tasks(&full).await?;
            let running = tasks
                .iter()
                .filter(|t| t.desired == "running" && t.state == "running")
                .count();
            let (mode, want) = match spec.mode.as_ref().and_then(|m| m.replicated.as_ref()) {
                Some(r) => ("replicated", r.replicas.unwrap_or(1).to_string()),
                None => (
                    "global",
                    tasks
                        .iter()
                        .filter(|t| t.desired == "running")
                        .count()
                        .to_string(),
                ),
            };
            rows.push(ServiceRow {
                name: full,
                mode: mode.into(),
                replicas: format!("{running}/{want}"),
                image: spec
                    .task_template
                    .and_then(|t| t.container_spec)
                    .and_then(|c| c.image)
                    .map(|i| i.split('@').next().unwrap_or_default().to_string())
                    .unwrap_or_default(),
                update: svc
                    .update_status
                    .and_then(|u| u.state)
                    .map(|s| s.to_string())
                    .unwrap_or_default(),
            });
        }
        Ok(rows)
    }

    /// Go back to the service's previous spec (swarm keeps it), and wait for it.
    pub async fn rollback(&self, service: &str) -> Result<()> {
        let full = format!("{}_{service}", self.name);
        let svc = self
            .api()
            .inspect_service(&full, None::<InspectServiceOptions>)
            .await
            .map_err(|e| self.docker.fail(format!("find service {full}"), e))?;
        let version = svc.version.and_then(|v| v.index).unwrap_or_default() as i32;
        let spec = svc.spec.unwrap_or_default();
        let opts = UpdateServiceOptions {
            version,
            rollback: Some("previous".into()),
            ..Default::default()
        };
        let full_name = full.as_str();
        self.docker
            .audited(
                "service rollback",
                format!("service rollback {full}"),
                |w| async move {
                    w.update_service(full_name, spec, opts, None)
                        .await
                        .map_err(|e| self.docker.fail(format!("roll back {full_name}"), e))
                },
            )
            .await?;
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let s = self
                .api()
                .inspect_service(&full, None::<InspectServiceOptions>)
                .await
                .map_err(|e| self.docker.fail(format!("inspect service {full}"), e))?;
            let st = s.update_status.and_then(|u| u.state).map(|s| s.to_string());
            if st.as_deref() == Some("rollback_completed") {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::failed(format!(
                    "{full}: rollback did not complete in 120s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// The service's logs (last `tail` lines of every task).
    pub async fn logs(&self, service: &str, tail: Option<u32>) -> Result<String> {
        let full = format!("{}_{service}", self.name);
        let opts = bollard::query_parameters::LogsOptions {
            stdout: true,
            stderr: true,
            tail: tail.map_or_else(|| "all".to_string(), |t| t.to_string()),
            ..Default::default()
        };
        let mut s = self.api().service_logs(&full, Some(opts));
        let mut out = String::new();
        while let Some(chunk) = s.next().await {
            let chunk =
                chunk.map_err(|e| self.docker.fail(format!("read the logs of {full}"), e))?;
            out.push_str(&chunk.to_string());
        }
        Ok(out)
    }

    /// Remove one service of the stack.
    pub async fn rm_service(&self, service: &str) -> Result<bool> {
        let existing = self.existing().await?;
        let Some((id, _)) = existing.get(service) else {
            return Ok(false);
        };
        self.remove(id, &format!("{}_{service}", self.name)).await?;
        Ok(true)
    }

    /// Remove the stack: its services, network, secrets and configs.
    pub async fn rm(&self) -> Result<bool> {
        let existing = self.existing().await?;
        for (short, (id, _)) in &existing {
            self.remove(id, &format!("{}_{short}", self.name)).await?;
        }
        // What else the stack made (found by its label: probes), each removal through the
        // gate: a dry run plans them all and removes none.
        let filters = Some(label_filter(&self.name));
        let nets = self
            .api()
            .list_networks(Some(ListNetworksOptions {
                filters: filters.clone(),
            }))
            .await
            .map_err(|e| self.docker.fail("list the stack's networks", e))?;
        for n in nets {
            let (id, name) = (n.id.unwrap_or_default(), n.name.unwrap_or_default());
            self.docker
                .audited("network rm", format!("network rm {name}"), |w| async move {
                    // Tasks take a moment to leave the network: retry its removal briefly.
                    let mut tries = 0;
                    loop {
                        match w.remove_network(&id).await {
                            Ok(()) => return Ok(()),
                            Err(e) if status_of(&e) == Some(404) => return Ok(()),
                            Err(e) if tries >= 120 => {
                                return Err(self.docker.fail(format!("remove network {name}"), e));
                            }
                            Err(_) => tries += 1,
                        }
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                })
                .await?;
        }
        let secrets = self
            .api()
            .list_secrets(Some(bollard::query_parameters::ListSecretsOptions {
                filters: filters.clone(),
            }))
            .await
            .map_err(|e| self.docker.fail("list the stack's secrets", e))?;
        for s in secrets {
            let id = s.id.unwrap_or_default();
            let name = s.spec.and_then(|s| s.name).unwrap_or_else(|| id.clone());
            self.docker
                .audited("secret rm", format!("secret rm {name}"), |w| async move {
                    w.delete_secret(&id)
                        .await
                        .map_err(|e| self.docker.fail(format!("remove secret {name}"), e))
                })
                .await?;
        }
        let configs = self
            .api()
            .list_configs(Some(bollard::query_parameters::ListConfigsOptions {
                filters,
            }))
            .await
            .map_err(|e| self.docker.fail("list the stack's configs", e))?;
        for c in configs {
            let id = c.id.unwrap_or_default();
            let name = c.spec.and_then(|s| s.name).unwrap_or_else(|| id.clone());
            self.docker
                .audited("config rm", format!("config rm {name}"), |w| async move {
                    w.delete_config(&id)
                        .await
                        .map_err(|e| self.docker.fail(format!("remove config {name}"), e))
                })
                .await?;
        }
        Ok(!existing.is_empty())
    }
}

/// `st.logs(service, #{tail})`.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackLogOpts {
    #[serde(default)]
    pub tail: Option<u32>,
}
