//! `d.login(registry)`: the engine's host stores the registry credentials, as `docker login`
//! typed on that host would — so later pushes and pulls from that engine use them.

use super::client::Docker;
use crate::command::Command;
use crate::error::{Error, Result};
use crate::registry::Registry;

impl Docker {
    /// Not an engine operation: each change it makes on the host (the docker CLI's login, or
    /// the config.json write) passes the effect boundary itself.
    pub async fn login(&self, registry: &Registry) -> Result<()> {
        async {
            let host = self.host();
            if host.is_local() {
                return registry.login().await;
            }
            let (user, password) = registry.credentials()?;
            let server = registry.server();
            // The docker CLI there keeps the credentials its own way (credsStore, credHelpers
            // or config.json); the password goes through stdin, never argv.
            let has_cli = host
                .test(
                    &Command::shell("command -v docker >/dev/null 2>&1")
                        .quiet()
                        .probe(),
                )
                .await?;
            if has_cli {
                let cmd = Command::argv([
                    "docker",
                    "login",
                    "--username",
                    user.as_str(),
                    "--password-stdin",
                    server.as_str(),
                ])
                .stdin_secret(password.clone())
                .quiet()
                .check(false);
                let out = host.run(&cmd).await?;
                if out.code != 0 {
                    let said = host.services().redactor.redact(&out.stderr);
                    let mut err = Error::failed(format!(
                        "docker login to {server} as {user} failed on {}",
                        host.name()
                    ))
                    .host(host.name())
                    .command(cmd.display())
                    .exit_code(out.code)
                    .stderr(&said);
                    if said.contains("unauthorized") || said.contains("401") {
                        err = err.hint(format!(
                            "the registry {server} refused the user or password"
                        ));
                    }
                    return Err(err);
                }
                return Ok(());
            }
            // No docker CLI on the host: check the credentials from here, then write them
            // into the host's config.json as `docker login` would (0600, other keys kept).
            registry.verify().await?;
            let path = "~/.docker/config.json";
            let existing = host
                .run(
                    &Command::shell("cat ~/.docker/config.json 2>/dev/null || true")
                        .quiet()
                        .probe(),
                )
                .await?
                .stdout;
            let mut doc: serde_json::Value = if existing.trim().is_empty() {
                serde_json::json!({})
            } else {
                serde_json::from_str(&existing).map_err(|e| {
                    Error::failed(format!("{path} on {} is not valid JSON: {e}", host.name()))
                        .host(host.name())
                })?
            };
            use base64::Engine;
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{}", password.expose()));
            if !doc["auths"].is_object() {
                doc["auths"] = serde_json::json!({});
            }
            doc["auths"][server.as_str()] = serde_json::json!({ "auth": auth });
            host.mkdir(
                "~/.docker",
                &crate::host::MkdirOpts {
                    mode: Some(0o700),
                    ..Default::default()
                },
            )
            .await?;
            let opts = crate::host::FileOpts {
                mode: Some(0o600),
                ..Default::default()
            };
            host.write(
                path,
                &serde_json::to_string_pretty(&doc).unwrap_or_default(),
                &opts,
            )
            .await?;
            Ok(())
        }
        .await
    }
}
