//! The Registry HTTP API v2 calls: check a login, list tags, find a digest, delete.

use reqwest::{Method, StatusCode};
use sha2::Digest as _;

use super::{Admitted, Registry};

/// The requests that only read: [`Registry::send`] makes no other.
#[derive(Clone, Copy)]
enum Read {
    Get,
    Head,
}
use super::auth::parse_challenge;
use super::error_body::said;
use super::reference::ImageRef;
use crate::error::{Error, Result};

/// Manifest types a digest may be asked for (what `docker push` stores).
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.oci.image.index.v1+json";

impl Registry {
    /// One request, authenticated: basic credentials up front, or the bearer token the
    /// registry's challenge asks for (fetched once per scope).
    async fn send(
        &self,
        read: Read,
        path: &str,
        accept: Option<&str>,
        scope: &str,
    ) -> Result<reqwest::Response> {
        let method = match read {
            Read::Get => Method::GET,
            Read::Head => Method::HEAD,
        };
        self.request(method, path, accept, scope).await
    }

    /// A request that changes the registry: only with the gate's [`Admitted`].
    async fn send_change(
        &self,
        _admitted: &Admitted,
        method: Method,
        path: &str,
        scope: &str,
    ) -> Result<reqwest::Response> {
        self.request(method, path, None, scope).await
    }

    async fn request(
        &self,
        method: Method,
        path: &str,
        accept: Option<&str>,
        scope: &str,
    ) -> Result<reqwest::Response> {
        let url = format!("{}://{}{path}", self.inner.scheme, self.inner.server);
        let build = |auth: Option<String>| {
            let mut r = self.inner.http.request(method.clone(), &url);
            if let Some(a) = accept {
                r = r.header(reqwest::header::ACCEPT, a);
            }
            if let Some(a) = auth {
                r = r.header(reqwest::header::AUTHORIZATION, a);
            }
            r
        };
        let first_auth = match self.cached_token(scope) {
            Some(t) => Some(format!("Bearer {t}")),
            None => self.basic_header(),
        };
        let resp = build(first_auth)
            .send()
            .await
            .map_err(|e| self.unreachable(e))?;
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(resp);
        }
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(parse_challenge);
        match challenge {
            Some(ch) if ch.scheme == "bearer" => {
                let token = self.fetch_token(&ch, scope).await?;
                build(Some(format!("Bearer {token}")))
                    .send()
                    .await
                    .map_err(|e| self.unreachable(e))
            }
            _ => Ok(resp),
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> Error {
        let mut msg = format!("cannot reach registry {}: {e}", self.url());
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg.push_str(&format!(": {s}"));
            src = s.source();
        }
        Error::failed(msg).hint("is the registry running, and is the address right?")
    }

    /// Turn a non-success answer into an error naming the registry and what it said.
    async fn refused(&self, doing: &str, resp: reqwest::Response) -> Error {
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        let server = &self.inner.server;
        if status == StatusCode::UNAUTHORIZED {
            let who = match &self.inner.user {
                Some(u) => format!("refused the credentials of {u}"),
                None => "needs a login".to_string(),
            };
            return Error::failed(format!("{doing}: registry {server} {who}: {}", said(&body)))
                .hint("check user and password (registry(url, #{user, password_env}))");
        }
        Error::failed(format!(
            "{doing}: registry {server} answered {status}: {}",
            said(&body)
        ))
    }

    /// Check that the registry answers and accepts the credentials (`GET /v2/`).
    pub async fn verify(&self) -> Result<()> {
        let resp = self.send(Read::Get, "/v2/", None, "").await?;
        if resp.status().is_success() {
            return Ok(());
        }
        let doing = format!(
            "login to {}{}",
            self.inner.server,
            self.inner
                .user
                .as_deref()
                .map(|u| format!(" as {u}"))
                .unwrap_or_default()
        );
        Err(self.refused(&doing, resp).await)
    }

    /// The tags of a repository.
    pub async fn tags(&self, repo: &str) -> Result<Vec<String>> {
        let path = self.repo_path(repo);
        let scope = format!("repository:{path}:pull");
        let mut next = Some(format!("/v2/{path}/tags/list"));
        let mut tags = Vec::new();
        while let Some(url) = next.take() {
            let resp = self.send(Read::Get, &url, None, &scope).await?;
            if !resp.status().is_success() {
                return Err(self
                    .refused(&format!("cannot list the tags of {path}"), resp)
                    .await);
            }
            // Long lists come in pages: `Link: </v2/...?last=x&n=100>; rel="next"`.
            next = resp
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| {
                    l.contains("rel=\"next\"")
                        .then(|| l.split(['<', '>']).nth(1).map(str::to_string))
                        .flatten()
                });
            #[derive(serde::Deserialize)]
            struct List {
                tags: Option<Vec<String>>,
            }
            let list: List = resp.json().await.map_err(|e| {
                Error::failed(format!(
                    "registry {} sent a tag list hoist cannot read: {e}",
                    self.inner.server
                ))
            })?;
            tags.extend(list.tags.unwrap_or_default());
        }
        tags.sort();
        Ok(tags)
    }

    /// The manifest digest (`sha256:…`) of `repo:tag` (or `repo@digest`).
    pub async fn digest(&self, reference: &str) -> Result<String> {
        match self.manifest_digest(reference).await? {
            Some(d) => Ok(d),
            None => {
                let (path, tag) = self.split(reference);
                Err(Error::failed(format!(
                    "registry {} has no {path}:{tag}",
                    self.inner.server
                ))
                .hint(format!("r.tags(\"{path}\") lists what is there")))
            }
        }
    }

    /// Is `repo:tag` in the registry?
    pub async fn exists(&self, reference: &str) -> Result<bool> {
        Ok(self.manifest_digest(reference).await?.is_some())
    }

    /// Delete the manifest `repo:tag` points to (every tag of that digest goes with it).
    pub async fn delete(&self, reference: &str) -> Result<()> {
        let digest = self.digest(reference).await?;
        let change = crate::effect::Change::Registry {
            op: "delete".into(),
            detail: format!("delete {reference} ({digest}) from {}", self.server()),
        };
        let delete = |admitted: Admitted| async move {
            let (path, _) = self.split(reference);
            let scope = format!("repository:{path}:pull,push,delete");
            let resp = self
                .send_change(
                    &admitted,
                    Method::DELETE,
                    &format!("/v2/{path}/manifests/{digest}"),
                    &scope,
                )
                .await?;
            if resp.status().is_success() {
                return Ok(());
            }
            let unsupported = resp.status() == StatusCode::METHOD_NOT_ALLOWED;
            let err = self
                .refused(&format!("cannot delete {reference}"), resp)
                .await;
            Err(if unsupported {
                err.hint(
                    "this registry has deletes turned off (distribution: storage.delete.enabled: true)",
                )
            } else {
                err
            })
        };
        let _ = self.perform(change, delete).await?;
        Ok(())
    }

    /// (repository path, tag or digest) of a reference.
    fn split(&self, reference: &str) -> (String, String) {
        let r = ImageRef::parse(reference);
        let path = self.repo_path(&r.name);
        let tag = r
            .digest
            .clone()
            .unwrap_or_else(|| r.tag_or_latest().to_string());
        (path, tag)
    }

    async fn manifest_digest(&self, reference: &str) -> Result<Option<String>> {
        let (path, tag) = self.split(reference);
        let scope = format!("repository:{path}:pull");
        let url = format!("/v2/{path}/manifests/{tag}");
        let resp = self
            .send(Read::Head, &url, Some(MANIFEST_TYPES), &scope)
            .await?;
        if resp.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            // HEAD has no body: ask again with GET to say why.
            let resp = self
                .send(Read::Get, &url, Some(MANIFEST_TYPES), &scope)
                .await?;
            return Err(self
                .refused(&format!("cannot look up {path}:{tag}"), resp)
                .await);
        }
        if let Some(d) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|h| h.to_str().ok())
        {
            return Ok(Some(d.to_string()));
        }
        // No digest header: the digest is the sha256 of the manifest bytes.
        let resp = self
            .send(Read::Get, &url, Some(MANIFEST_TYPES), &scope)
            .await?;
        let body = resp.bytes().await.map_err(|e| self.unreachable(e))?;
        Ok(Some(format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(&body))
        )))
    }
}
