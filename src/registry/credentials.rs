//! Registry credentials the way the docker CLI keeps them: `config.json` in `$DOCKER_CONFIG`
//! (default `~/.docker`) with `auths`, a `credsStore` and per-registry `credHelpers`.
//!
//! The engine itself never reads config.json — the client sends credentials with each push
//! or pull. So an engine's credentials are read on *that engine's host*: the laptop's file
//! for the local engine, the server's file (and its credential helpers, run there) for an
//! SSH host's engine — exactly what `docker pull` typed on that host would use.

use std::path::PathBuf;

use bollard::auth::DockerCredentials;
use serde::Deserialize;

use crate::command::Command;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::secret::Secret;

/// The parts of config.json that say where credentials are.
#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(rename = "credsStore", default)]
    creds_store: Option<String>,
    #[serde(rename = "credHelpers", default)]
    cred_helpers: std::collections::HashMap<String, String>,
}

/// Where config.json is on this machine: `$DOCKER_CONFIG/config.json` or
/// `~/.docker/config.json`.
pub fn local_config_path() -> Result<PathBuf> {
    let dir = match std::env::var_os("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => dirs::home_dir()
            .ok_or_else(|| Error::failed("no home directory for ~/.docker/config.json"))?
            .join(".docker"),
    };
    Ok(dir.join("config.json"))
}

/// The same path as a shell expression evaluated on a host.
const REMOTE_CONFIG: &str = r#""${DOCKER_CONFIG:-$HOME/.docker}/config.json""#;

/// The text of config.json on `host` (empty when there is none).
async fn read_config(host: &Host) -> Result<String> {
    if host.is_local() {
        let path = local_config_path()?;
        return match std::fs::read_to_string(&path) {
            Ok(t) => Ok(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
            Err(e) => Err(Error::wrap(format!("cannot read {}", path.display()), e)),
        };
    }
    let out = host
        .run(
            &Command::shell(format!("cat {REMOTE_CONFIG} 2>/dev/null || true"))
                .quiet()
                .check(false)
                .probe(),
        )
        .await?;
    Ok(out.stdout)
}

/// Credentials for `server` (a config.json key such as `127.0.0.1:5000`) as `host` has them;
/// `None` when it has none (the push or pull goes anonymously, as docker's does).
pub async fn lookup(host: &Host, server: &str) -> Result<Option<DockerCredentials>> {
    let text = read_config(host).await?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let conf: ConfigFile = serde_json::from_str(&text).map_err(|e| {
        Error::failed(format!("the docker config.json is not valid JSON: {e}")).host(host.name())
    })?;
    if let Some(helper) = conf
        .cred_helpers
        .get(server)
        .filter(|h| !h.is_empty())
        .or(conf.creds_store.as_ref())
    {
        // A credsStore with no entry for this server answers "not found": no credentials.
        return from_helper(host, helper, server).await;
    }
    // Plain `auths` entries: docker_credential decodes them (auth, username/password,
    // identitytoken) exactly like the CLI.
    match docker_credential::get_credential_from_reader(text.as_bytes(), server) {
        Ok(c) => Ok(Some(to_bollard(c, server))),
        Err(docker_credential::CredentialRetrievalError::NoCredentialConfigured) => Ok(None),
        Err(e) => Err(Error::failed(format!(
            "cannot read the credentials for {server} from the docker config.json: {e}"
        ))
        .host(host.name())),
    }
}

fn to_bollard(c: docker_credential::DockerCredential, server: &str) -> DockerCredentials {
    match c {
        docker_credential::DockerCredential::IdentityToken(t) => DockerCredentials {
            identitytoken: Some(t),
            serveraddress: Some(server.to_string()),
            ..Default::default()
        },
        docker_credential::DockerCredential::UsernamePassword(u, p) => DockerCredentials {
            username: Some(u),
            password: Some(p),
            serveraddress: Some(server.to_string()),
            ..Default::default()
        },
    }
}

/// Ask `docker-credential-<helper> get` on the host (the server name goes on stdin).
async fn from_helper(host: &Host, helper: &str, server: &str) -> Result<Option<DockerCredentials>> {
    let program = format!("docker-credential-{helper}");
    let out = host
        .run(
            &Command::argv([program.as_str(), "get"])
                .stdin(server.as_bytes().to_vec())
                .quiet()
                .check(false)
                .probe(),
        )
        .await?;
    if out.code != 0 {
        let said = format!("{}{}", out.stdout, out.stderr);
        if said.contains("credentials not found") {
            return Ok(None);
        }
        return Err(Error::failed(format!(
            "the docker credential helper {program} failed for {server}"
        ))
        .host(host.name())
        .exit_code(out.code)
        .stderr(&host.services().redactor.redact(&said)));
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let a: Answer = serde_json::from_str(&out.stdout).map_err(|e| {
        Error::failed(format!("{program} gave an answer hoist cannot read: {e}")).host(host.name())
    })?;
    host.services()
        .redactor
        .register(&Secret::new(a.secret.clone()));
    let c = if a.username == "<token>" {
        docker_credential::DockerCredential::IdentityToken(a.secret)
    } else {
        docker_credential::DockerCredential::UsernamePassword(a.username, a.secret)
    };
    Ok(Some(to_bollard(c, server)))
}

/// Store credentials for `server` on this machine as `docker login` does: through the
/// configured credential helper if there is one, else base64 in `auths` of config.json
/// (mode 0600). Other keys of the file are kept.
pub fn store_local(server: &str, user: &str, password: &Secret) -> Result<PathBuf> {
    // Read-modify-write: two logins of one run must not drop each other's entry.
    static WRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = WRITING.lock().unwrap_or_else(|p| p.into_inner());
    let path = local_config_path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::wrap(format!("cannot read {}", path.display()), e)),
    };
    let mut doc: serde_json::Value = if text.trim().is_empty() {
        serde_json::json!({})
    } else {
        serde_json::from_str(&text)
            .map_err(|e| Error::failed(format!("{} is not valid JSON: {e}", path.display())))?
    };
    let conf: ConfigFile = serde_json::from_value(doc.clone()).unwrap_or_default();
    if let Some(helper) = conf.cred_helpers.get(server).or(conf.creds_store.as_ref()) {
        store_with_helper(helper, server, user, password)?;
        return Ok(path);
    }
    use base64::Engine;
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{}", password.expose()));
    let obj = doc
        .as_object_mut()
        .ok_or_else(|| Error::failed(format!("{} is not a JSON object", path.display())))?;
    let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
    if !auths.is_object() {
        *auths = serde_json::json!({});
    }
    auths[server] = serde_json::json!({ "auth": auth });
    write_private(
        &path,
        &serde_json::to_string_pretty(&doc).unwrap_or_default(),
    )?;
    Ok(path)
}

/// `docker-credential-<helper> store` with the JSON on stdin (never argv).
fn store_with_helper(helper: &str, server: &str, user: &str, password: &Secret) -> Result<()> {
    use std::io::Write;
    let program = format!("docker-credential-{helper}");
    let mut child = std::process::Command::new(&program)
        .arg("store")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::wrap(format!("cannot run the credential helper {program}"), e))?;
    let body = serde_json::json!({
        "ServerURL": server, "Username": user, "Secret": password.expose()
    });
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(body.to_string().as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(Error::failed(format!(
            "the credential helper {program} could not store the login for {server}"
        ))
        .exit_code(out.status.code().unwrap_or(-1))
        .stderr(&String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// Write a file only its owner can read, atomically (a 0600 temp file renamed over it).
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::DirBuilderExt;
    let dir = path
        .parent()
        .ok_or_else(|| Error::failed(format!("{} has no directory", path.display())))?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::wrap(format!("cannot create {}", dir.display()), e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".config.json.")
        .tempfile_in(dir)
        .map_err(|e| Error::wrap(format!("cannot write in {}", dir.display()), e))?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    tmp.persist(path)
        .map_err(|e| Error::wrap(format!("cannot replace {}", path.display()), e.error))?;
    Ok(())
}
