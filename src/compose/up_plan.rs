//! What `up` would do to each service, for a dry run's plan: computed from hoist's rendered
//! model of the project as the plan leaves it, the model of the files as the host has them
//! now (what the running containers were started from) and the containers' compose labels —
//! never by running `up`.

use serde_json::Value;

use super::project::Project;
use super::ps::ContainerState;
use crate::effect::Change;
use crate::error::Result;

impl Project {
    /// One line per service `up` would touch (`services`: the ones named, else every active
    /// one), plus the containers of services the files no longer have.
    pub(crate) async fn up_outcomes(&self, services: &[String]) -> Result<Vec<String>> {
        let new = self.rendered().await?.model;
        // A project with no files on the host yet (a first deploy) has no old model.
        let old = self.as_on_host().rendered().await.ok().map(|r| r.model);
        let containers = self.ps().await.unwrap_or_default();
        let host = self.host().name().to_string();
        let pulled: Vec<String> = self
            .host()
            .services()
            .effects()
            .plan()
            .changes
            .into_iter()
            .filter(|c| c.host == host)
            .filter_map(|c| match c.change {
                Change::Docker { op, detail } if op == "pull" => {
                    detail.strip_prefix("pull ").map(str::to_string)
                }
                _ => None,
            })
            .collect();
        let as_json = |m: &super::model::ComposeFile| -> Vec<(String, Value)> {
            m.services
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(Value::Null)))
                .collect()
        };
        Ok(outcomes(
            old.as_ref().map(as_json).as_deref(),
            &as_json(&new),
            &containers,
            &pulled,
            services,
        ))
    }
}

/// The pure part: `old`/`new` are (service, its rendered config as JSON).
pub fn outcomes(
    old: Option<&[(String, Value)]>,
    new: &[(String, Value)],
    containers: &[ContainerState],
    pulled: &[String],
    wanted: &[String],
) -> Vec<String> {
    let mut lines = Vec::new();
    for (name, config) in new {
        if !wanted.is_empty() && !wanted.contains(name) {
            continue;
        }
        let running: Vec<&ContainerState> =
            containers.iter().filter(|c| &c.service == name).collect();
        let before = old.and_then(|o| o.iter().find(|(n, _)| n == name).map(|(_, c)| c));
        let image = config.get("image").and_then(Value::as_str).unwrap_or("");
        let line = match before {
            _ if running.is_empty() => "create".to_string(),
            None => "recreate (new in the compose files)".to_string(),
            Some(b) if b != config => format!("recreate ({})", changed_keys(b, config)),
            Some(_) if !image.is_empty() && pulled.iter().any(|p| p == image) => format!(
                "recreate if the pull of {image} brings a new image (compose compares image IDs)"
            ),
            Some(_) => "unchanged (left running)".to_string(),
        };
        lines.push(format!("{name}: {line}"));
    }
    let mut orphans: Vec<&str> = containers
        .iter()
        .map(|c| c.service.as_str())
        .filter(|s| !new.iter().any(|(n, _)| n == s))
        .collect();
    orphans.dedup();
    for o in orphans {
        lines.push(format!(
            "{o}: no longer in the compose files; its containers stay (compose removes them only with --remove-orphans)"
        ));
    }
    lines
}

/// Which keys of a service's config differ, with the image shown old → new.
fn changed_keys(old: &Value, new: &Value) -> String {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| o.get(*k) != n.get(*k))
        .map(|k| match (k.as_str(), o.get(k), n.get(k)) {
            ("image", Some(Value::String(a)), Some(Value::String(b))) => {
                format!("image {a} → {b}")
            }
            _ => format!("{k} changed"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn running(service: &str) -> ContainerState {
        ContainerState {
            service: service.into(),
            name: format!("p-{service}-1"),
            state: crate::compose::labels::RunState::RUNNING,
            health: crate::compose::ps::Health::None,
            image: String::new(),
            ports: vec![],
            status: "Up".into(),
        }
    }

    #[test]
    fn each_service_says_what_compose_would_do_and_why() {
        let old = vec![
            (
                "web".to_string(),
                json!({"image": "app:1", "ports": ["80"]}),
            ),
            ("db".to_string(), json!({"image": "db:1"})),
            ("cache".to_string(), json!({"image": "redis:7"})),
            ("gone".to_string(), json!({"image": "x:1"})),
        ];
        let new = vec![
            (
                "web".to_string(),
                json!({"image": "app:2", "ports": ["80"]}),
            ),
            ("db".to_string(), json!({"image": "db:1"})),
            (
                "cache".to_string(),
                json!({"image": "redis:7", "environment": {"A": "1"}}),
            ),
            ("worker".to_string(), json!({"image": "app:2"})),
        ];
        let containers = ["web", "db", "cache", "gone"].map(running);
        assert_eq!(
            outcomes(Some(&old), &new, &containers, &[], &[]),
            [
                "web: recreate (image app:1 → app:2)",
                "db: unchanged (left running)",
                "cache: recreate (environment changed)",
                "worker: create",
                "gone: no longer in the compose files; its containers stay (compose removes them only with --remove-orphans)",
            ]
        );
        // A pulled tag may move under the same name: compose decides by the image ID.
        assert_eq!(
            outcomes(
                Some(&old),
                &new,
                &containers,
                &["db:1".into()],
                &["db".into()]
            )[0],
            "db: recreate if the pull of db:1 brings a new image (compose compares image IDs)"
        );
    }
}
