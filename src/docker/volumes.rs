//! Named volumes: ensure one exists, list, remove.

use std::collections::BTreeMap;

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::RemoveVolumeOptionsBuilder;
use serde::{Deserialize, Serialize};

use super::client::{Docker, status_of};
use crate::error::Result;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeOpts {
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct VolumeInfo {
    pub name: String,
    pub driver: String,
    pub mountpoint: String,
}

impl Docker {
    /// Create the volume unless it exists; true if it was created (or, in a dry run, would
    /// be). The probe runs outside the gate: a volume that is there plans and audits nothing.
    pub async fn ensure_volume(&self, name: &str, opts: &VolumeOpts) -> Result<bool> {
        match self.api().inspect_volume(name).await {
            Ok(_) => return Ok(false),
            Err(e) if status_of(&e) == Some(404) => {}
            Err(e) => return Err(self.fail(format!("cannot inspect volume {name}"), e)),
        }
        let req = VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: opts.driver.clone(),
            labels: (!opts.labels.is_empty()).then(|| opts.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        self.audited("volume", format!("create volume {name}"), |w| async move {
            w.create_volume(req)
                .await
                .map_err(|e| self.fail(format!("cannot create volume {name}"), e))
        })
        .await?;
        Ok(true)
    }

    pub async fn volumes(&self) -> Result<Vec<VolumeInfo>> {
        let list = self
            .api()
            .list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
            .await
            .map_err(|e| self.fail("cannot list volumes", e))?;
        let mut out: Vec<VolumeInfo> = list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeInfo {
                name: v.name,
                driver: v.driver,
                mountpoint: v.mountpoint,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Remove a volume; true if it existed. A volume in use is an error naming it; one that
    /// is not there plans nothing.
    pub async fn remove_volume(&self, name: &str, force: bool) -> Result<bool> {
        match self.api().inspect_volume(name).await {
            Ok(_) => {}
            Err(e) if status_of(&e) == Some(404) => return Ok(false),
            Err(e) => return Err(self.fail(format!("cannot inspect volume {name}"), e)),
        }
        self.audited("volume", format!("remove volume {name}"), |w| async move {
            let opts = RemoveVolumeOptionsBuilder::default().force(force).build();
            match w.remove_volume(name, Some(opts)).await {
                Ok(()) => Ok(true),
                Err(e) if status_of(&e) == Some(404) => Ok(false),
                Err(e) => Err(self.fail(format!("cannot remove volume {name}"), e)),
            }
        })
        .await
    }
}
