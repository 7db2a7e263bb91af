//! Where "the local engine" is, found the way the docker CLI finds it: `DOCKER_HOST`, else
//! `DOCKER_CONTEXT`, else the current context in the docker config (`docker context use`),
//! else the default socket. An `ssh://` engine is reached through hoist's own SSH host (its
//! ControlMaster and socket forwarding), not a second ssh client; a `tcp://` engine with
//! `DOCKER_TLS_VERIFY` / a context's TLS material speaks TLS (rustls).

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::host::HostSpec;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(String),
    /// `tcp://host:port`; with TLS, the directory holding ca.pem, cert.pem, key.pem.
    Tcp {
        addr: String,
        tls: Option<PathBuf>,
    },
    Ssh(HostSpec),
}

/// An endpoint and where it came from (errors say which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub endpoint: Endpoint,
    pub source: String,
}

/// The docker config directory (`DOCKER_CONFIG`, else `~/.docker`).
pub fn config_dir() -> PathBuf {
    std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| dirs::home_dir().unwrap_or_default().join(".docker"))
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Resolve the local engine from the environment and the docker config.
pub fn resolve() -> Result<Resolved> {
    let dir = config_dir();
    if let Some(h) = env("DOCKER_HOST") {
        let tls = env("DOCKER_TLS_VERIFY")
            .filter(|v| v != "0")
            .map(|_| env("DOCKER_CERT_PATH").map_or_else(|| dir.clone(), PathBuf::from));
        return Ok(Resolved {
            endpoint: parse(&h, tls)?,
            source: format!("DOCKER_HOST={h}"),
        });
    }
    let context = env("DOCKER_CONTEXT").or_else(|| current_context(&dir));
    match context.as_deref() {
        None | Some("default") => Ok(Resolved {
            endpoint: Endpoint::Unix("/var/run/docker.sock".into()),
            source: "the default socket".into(),
        }),
        Some(name) => Ok(Resolved {
            endpoint: from_context(&dir, name)?,
            source: format!("docker context `{name}`"),
        }),
    }
}

/// `docker context use` writes `currentContext` into config.json.
fn current_context(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("config.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("currentContext")?.as_str().map(str::to_string)
}

/// A context's docker endpoint from the context store (`contexts/meta/<sha256 of name>`).
pub fn from_context(dir: &Path, name: &str) -> Result<Endpoint> {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta = dir.join("contexts/meta").join(&id).join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|e| {
        Error::usage(format!(
            "docker context `{name}`: cannot read {}: {e}",
            meta.display()
        ))
        .hint("`docker context ls` lists the contexts; DOCKER_CONTEXT or `docker context use` picks one")
    })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::usage(format!("{}: {e}", meta.display())))?;
    let host = v["Endpoints"]["docker"]["Host"].as_str().ok_or_else(|| {
        Error::usage(format!(
            "docker context `{name}` has no docker endpoint ({})",
            meta.display()
        ))
    })?;
    let tls_dir = dir.join("contexts/tls").join(&id).join("docker");
    let tls = tls_dir.join("ca.pem").exists().then_some(tls_dir);
    parse(host, tls)
}

/// `unix://PATH`, `tcp://HOST:PORT`, `ssh://[USER@]HOST[:PORT]`.
pub fn parse(url: &str, tls: Option<PathBuf>) -> Result<Endpoint> {
    if let Some(p) = url.strip_prefix("unix://") {
        return Ok(Endpoint::Unix(p.to_string()));
    }
    if let Some(a) = url.strip_prefix("tcp://") {
        return Ok(Endpoint::Tcp {
            addr: a.trim_end_matches('/').to_string(),
            tls,
        });
    }
    if let Some(s) = url.strip_prefix("ssh://") {
        return Ok(Endpoint::Ssh(HostSpec::parse(s.trim_end_matches('/'))?));
    }
    Err(Error::usage(format!(
        "docker endpoint `{url}`: hoist speaks unix://, tcp:// and ssh://"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(
            parse("unix:///run/user/1000/docker.sock", None).unwrap(),
            Endpoint::Unix("/run/user/1000/docker.sock".into())
        );
        let Endpoint::Ssh(s) = parse("ssh://deploy@web1:2222", None).unwrap() else {
            panic!()
        };
        assert_eq!(
            (s.user.as_deref(), s.host.as_str(), s.port),
            (Some("deploy"), "web1", Some(2222))
        );
        assert!(parse("npipe:////./pipe/docker_engine", None).is_err());
    }

    #[test]
    fn contexts_are_read_from_the_store() {
        let d = tempfile::tempdir().unwrap();
        let id = hex::encode(Sha256::digest(b"fleet"));
        let meta = d.path().join("contexts/meta").join(&id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"fleet","Metadata":{},"Endpoints":{"docker":{"Host":"tcp://10.0.0.5:2376","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        let tls = d.path().join("contexts/tls").join(&id).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        std::fs::write(tls.join("ca.pem"), "x").unwrap();
        assert_eq!(
            from_context(d.path(), "fleet").unwrap(),
            Endpoint::Tcp {
                addr: "10.0.0.5:2376".into(),
                tls: Some(tls)
            }
        );
        let e = from_context(d.path(), "nope").unwrap_err();
        assert!(e.message.contains("docker context `nope`"), "{}", e.message);
    }
}
