//! Networks: ensure one exists, list, remove.

use std::collections::BTreeMap;

use bollard::models::NetworkCreateRequest;
use serde::{Deserialize, Serialize};

use super::client::{Docker, status_of};
use crate::error::Result;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkOpts {
    /// `bridge` (default) or another driver.
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NetworkInfo {
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
}

impl Docker {
    /// Create the network unless it exists; true if it was created (or, in a dry run, would
    /// be). The probe runs outside the gate: a network that is there plans and audits nothing.
    pub async fn ensure_network(&self, name: &str, opts: &NetworkOpts) -> Result<bool> {
        if self.network_exists(name).await? {
            return Ok(false);
        }
        let req = NetworkCreateRequest {
            name: name.to_string(),
            driver: opts.driver.clone(),
            internal: Some(opts.internal),
            labels: (!opts.labels.is_empty()).then(|| opts.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.audited(
            "network",
            format!("create network {name}"),
            |w| async move {
                w.create_network(req)
                    .await
                    .map_err(|e| self.fail(format!("cannot create network {name}"), e))
            },
        )
        .await?;
        Ok(true)
    }

    async fn network_exists(&self, name: &str) -> Result<bool> {
        match self.api().inspect_network(name, None).await {
            Ok(_) => Ok(true),
            Err(e) if status_of(&e) == Some(404) => Ok(false),
            Err(e) => Err(self.fail(format!("cannot inspect network {name}"), e)),
        }
    }

    pub async fn networks(&self) -> Result<Vec<NetworkInfo>> {
        let list = self
            .api()
            .list_networks(None)
            .await
            .map_err(|e| self.fail("cannot list networks", e))?;
        let mut out: Vec<NetworkInfo> = list
            .into_iter()
            .map(|n| NetworkInfo {
                id: n.id.unwrap_or_default().chars().take(12).collect(),
                name: n.name.unwrap_or_default(),
                driver: n.driver.unwrap_or_default(),
                scope: n.scope.unwrap_or_default(),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Remove a network; true if it existed. A network that is not there plans nothing.
    pub async fn remove_network(&self, name: &str) -> Result<bool> {
        if !self.network_exists(name).await? {
            return Ok(false);
        }
        self.audited(
            "network",
            format!("remove network {name}"),
            |w| async move {
                match w.remove_network(name).await {
                    Ok(()) => Ok(true),
                    Err(e) if status_of(&e) == Some(404) => Ok(false),
                    Err(e) => Err(self.fail(format!("cannot remove network {name}"), e)),
                }
            },
        )
        .await
    }
}
