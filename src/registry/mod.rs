//! A registry handle: the Registry HTTP API v2 (tags, digests, deletes) with basic and
//! bearer-token auth, a small client on reqwest + rustls, and `login` the way `docker login`
//! stores credentials.
//!
//! A registry URL may carry a namespace: `registry.example.org/lab/images` means repositories
//! live under `lab/images/` and `r.image("app", "blue")` is
//! `registry.example.org/lab/images/app:blue`.

mod api;
mod auth;
pub mod credentials;
mod error_body;
pub mod reference;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Where the password comes from (at most one).
#[derive(Debug, Default, Clone)]
pub struct RegistryOpts {
    pub user: Option<String>,
    pub password: Option<Secret>,
    /// Name of an environment variable of hoist's process.
    pub password_env: Option<String>,
    /// A local file holding the password (trailing newline ignored).
    pub password_file: Option<PathBuf>,
    /// The run this registry belongs to: its changes (login, delete) pass the run's effect
    /// boundary. Without, they are made directly (library use).
    pub services: Option<crate::services::Services>,
}

struct Inner {
    /// `http` or `https`.
    scheme: String,
    /// host[:port]: also the key credentials are stored under.
    server: String,
    /// Namespace path without slashes at the ends ("" for none).
    prefix: String,
    user: Option<String>,
    password: Option<Secret>,
    http: reqwest::Client,
    /// Bearer tokens by scope, for registries with a token service.
    tokens: Mutex<std::collections::HashMap<String, String>>,
    services: Option<crate::services::Services>,
}

/// A registry. Cheap to clone.
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Registry({})", self.url())
    }
}

impl Registry {
    /// `url`: `host[:port][/namespace]`, optionally with `http://` or `https://`. Without a
    /// scheme a loopback registry is spoken to in plain HTTP (the docker engine treats
    /// 127.0.0.0/8 as insecure by default too) and every other one in HTTPS.
    pub fn new(url: &str, opts: RegistryOpts) -> Result<Registry> {
        let (scheme, rest) = match url.split_once("://") {
            Some((s @ ("http" | "https"), r)) => (Some(s.to_string()), r),
            Some((s, _)) => {
                return Err(Error::usage(format!(
                    "registry `{url}`: scheme {s} is not http or https"
                )));
            }
            None => (None, url),
        };
        let rest = rest.trim_end_matches('/');
        let (server, prefix) = match rest.split_once('/') {
            Some((s, p)) => (s.to_string(), p.trim_matches('/').to_string()),
            None => (rest.to_string(), String::new()),
        };
        if server.is_empty() {
            return Err(Error::usage(format!("registry `{url}`: no host")));
        }
        let scheme = scheme.unwrap_or_else(|| {
            if is_loopback(&server) {
                "http".into()
            } else {
                "https".into()
            }
        });
        let password = resolve_password(&opts, &server)?;
        if password.is_some() && opts.user.is_none() {
            return Err(Error::usage(format!(
                "registry {server}: a password was given but no user"
            )));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .timeout(std::time::Duration::from_secs(120))
            .user_agent(concat!("hoist/", env!("CARGO_PKG_VERSION")));
        // A private CA the docker engine trusts for this registry is trusted here too.
        let ca = PathBuf::from("/etc/docker/certs.d")
            .join(&server)
            .join("ca.crt");
        if let Ok(pem) = std::fs::read(&ca) {
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| Error::wrap(format!("bad CA certificate {}", ca.display()), e))?;
            http = http.add_root_certificate(cert);
        }
        let http = http
            .build()
            .map_err(|e| Error::wrap("cannot set up the HTTP client", e))?;
        Ok(Registry {
            inner: Arc::new(Inner {
                scheme,
                server,
                prefix,
                user: opts.user,
                password,
                http,
                tokens: Mutex::new(Default::default()),
                services: opts.services.clone(),
            }),
        })
    }

    /// `host[:port]`: the name docker stores credentials under.
    pub fn server(&self) -> String {
        self.inner.server.clone()
    }

    /// The registry as given (scheme, host, namespace).
    pub fn url(&self) -> String {
        let i = &self.inner;
        if i.prefix.is_empty() {
            format!("{}://{}", i.scheme, i.server)
        } else {
            format!("{}://{}/{}", i.scheme, i.server, i.prefix)
        }
    }

    /// The full image reference for `repo:tag` in this registry (namespace included).
    pub fn image(&self, repo: &str, tag: &str) -> String {
        format!("{}/{}:{tag}", self.inner.server, self.repo_path(repo))
    }

    /// The repository path on the server: the namespace plus `repo`. A repo already given
    /// with this registry's host in front is accepted too.
    pub(crate) fn repo_path(&self, repo: &str) -> String {
        let repo = repo
            .strip_prefix(&format!("{}/", self.inner.server))
            .unwrap_or(repo)
            .trim_matches('/');
        if self.inner.prefix.is_empty() || repo.starts_with(&format!("{}/", self.inner.prefix)) {
            repo.to_string()
        } else {
            format!("{}/{repo}", self.inner.prefix)
        }
    }

    /// The user and password, or a usage error saying they are needed.
    pub fn credentials(&self) -> Result<(String, Secret)> {
        match (&self.inner.user, &self.inner.password) {
            (Some(u), Some(p)) => Ok((u.clone(), p.clone())),
            _ => Err(Error::usage(format!(
                "logging in to {} needs a user and a password",
                self.inner.server
            ))
            .hint("registry(url, #{user: \"...\", password_env: \"REGISTRY_PASSWORD\"})")),
        }
    }

    /// Check the credentials against the registry, then store them on this machine as
    /// `docker login` does (credential helper, or `auths` in ~/.docker/config.json).
    pub async fn login(&self) -> Result<()> {
        self.verify().await?;
        let (user, password) = self.credentials()?;
        let change = crate::effect::Change::Local {
            op: "docker login".into(),
            path: format!("credentials for {}", self.inner.server),
        };
        let _ = self
            .perform(change, |_| async {
                credentials::store_local(&self.inner.server, &user, &password)
            })
            .await?;
        Ok(())
    }

    /// Make `change` through the gate of the run this registry belongs to (see
    /// [`RegistryOpts`]); a registry made outside a run has a gate of its own that makes
    /// every change and logs nowhere.
    pub(crate) async fn perform<T, F: std::future::Future<Output = Result<T>>>(
        &self,
        change: crate::effect::Change,
        op: impl FnOnce(Admitted) -> F,
    ) -> Result<crate::effect::Performed<T>> {
        let silent;
        let services = match &self.inner.services {
            Some(s) => s,
            None => {
                silent = crate::services::Services::silent();
                &silent
            }
        };
        services.perform("local", change, op(Admitted(()))).await
    }
}

/// What the gate hands the operation it runs: the registry's calls that change it take one,
/// so they cannot be made around the plan and the audit log.
pub(crate) struct Admitted(());

fn is_loopback(server: &str) -> bool {
    let host = match server.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h,
        _ => server,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn resolve_password(o: &RegistryOpts, server: &str) -> Result<Option<Secret>> {
    let given = [
        o.password.is_some(),
        o.password_env.is_some(),
        o.password_file.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(Error::usage(format!(
            "registry {server}: give one of password, password_env, password_file"
        )));
    }
    if let Some(p) = &o.password {
        return Ok(Some(p.clone()));
    }
    if let Some(var) = &o.password_env {
        let v = std::env::var(var).map_err(|_| {
            Error::usage(format!(
                "registry {server}: the environment variable {var} (password_env) is not set"
            ))
        })?;
        return Ok(Some(Secret::new(v)));
    }
    if let Some(f) = &o.password_file {
        let v = std::fs::read_to_string(f).map_err(|e| {
            Error::usage(format!(
                "registry {server}: cannot read password_file {}: {e}",
                f.display()
            ))
        })?;
        return Ok(Some(Secret::new(v.trim_end_matches(['\r', '\n']))));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let r = Registry::new("127.0.0.1:5000", RegistryOpts::default()).unwrap();
        assert_eq!(r.url(), "http://127.0.0.1:5000");
        assert_eq!(r.image("app", "blue"), "127.0.0.1:5000/app:blue");
        let r = Registry::new("registry.example.org/lab/images/", RegistryOpts::default()).unwrap();
        assert_eq!(r.url(), "https://registry.example.org/lab/images");
        assert_eq!(
            r.image("app", "1a2b"),
            "registry.example.org/lab/images/app:1a2b"
        );
        assert_eq!(r.repo_path("lab/images/app"), "lab/images/app");
        assert!(Registry::new("ftp://x", RegistryOpts::default()).is_err());
        let two = RegistryOpts {
            user: Some("u".into()),
            password: Some(Secret::new("p")),
            password_env: Some("X".into()),
            ..Default::default()
        };
        assert!(Registry::new("r.example", two).is_err());
    }
}
