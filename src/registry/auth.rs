//! Registry authentication: `WWW-Authenticate` challenges, basic credentials, and bearer
//! tokens fetched from the registry's token service (Docker Hub, GitLab, Harbor...).

use std::collections::HashMap;

use base64::Engine;

use super::Registry;
use crate::error::{Error, Result};

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Challenge {
    /// Lowercase: `basic` or `bearer`.
    pub scheme: String,
    pub params: HashMap<String, String>,
}

/// `Bearer realm="https://auth.example/token",service="registry",scope="repository:a:pull"`.
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = match header.split_once(' ') {
        Some((s, r)) => (s, r),
        None => (header, ""),
    };
    let mut params = HashMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().trim_start_matches(',').trim().to_lowercase();
        let after = after.trim_start();
        let (value, next) = if let Some(q) = after.strip_prefix('"') {
            let end = q.find('"')?;
            (q[..end].to_string(), &q[end + 1..])
        } else {
            match after.find(',') {
                Some(i) => (after[..i].trim().to_string(), &after[i..]),
                None => (after.trim().to_string(), ""),
            }
        };
        params.insert(key, value);
        rest = next.trim_start().trim_start_matches(',').trim_start();
    }
    Some(Challenge {
        scheme: scheme.to_lowercase(),
        params,
    })
}

impl Registry {
    /// `Authorization: Basic …` when credentials were given.
    pub(crate) fn basic_header(&self) -> Option<String> {
        let (u, p) = (self.inner.user.as_ref()?, self.inner.password.as_ref()?);
        let raw = format!("{u}:{}", p.expose());
        Some(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }

    pub(crate) fn cached_token(&self, scope: &str) -> Option<String> {
        self.inner
            .tokens
            .lock()
            .expect("token cache")
            .get(scope)
            .cloned()
    }

    /// Get a bearer token for `scope` from the realm the challenge names.
    pub(crate) async fn fetch_token(&self, ch: &Challenge, scope: &str) -> Result<String> {
        let server = &self.inner.server;
        let realm = ch.params.get("realm").ok_or_else(|| {
            Error::failed(format!(
                "registry {server} asked for a bearer token but named no realm"
            ))
        })?;
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = ch.params.get("service") {
            query.push(("service", s.clone()));
        }
        let scope = if scope.is_empty() {
            ch.params.get("scope").cloned().unwrap_or_default()
        } else {
            scope.to_string()
        };
        if !scope.is_empty() {
            query.push(("scope", scope.clone()));
        }
        if let Some(u) = &self.inner.user {
            query.push(("account", u.clone()));
        }
        let mut req = self.inner.http.get(realm).query(&query);
        if let Some(b) = self.basic_header() {
            req = req.header(reqwest::header::AUTHORIZATION, b);
        }
        let resp = req.send().await.map_err(|e| {
            Error::failed(format!(
                "cannot reach the token service {realm} of registry {server}: {e}"
            ))
        })?;
        let status = resp.status();
        let body = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(Error::failed(format!(
                "registry {server} refused the login{}: the token service {realm} answered {status}: {}",
                self.inner
                    .user
                    .as_deref()
                    .map(|u| format!(" for {u}"))
                    .unwrap_or_default(),
                super::error_body::said(&body)
            )));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_str(&body).map_err(|e| {
            Error::failed(format!(
                "the token service {realm} of registry {server} gave an answer hoist cannot read: {e}"
            ))
        })?;
        let token = t.token.or(t.access_token).ok_or_else(|| {
            Error::failed(format!(
                "the token service {realm} of registry {server} sent no token"
            ))
        })?;
        self.inner
            .tokens
            .lock()
            .expect("token cache")
            .insert(scope, token.clone());
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull""#,
        )
        .unwrap();
        assert_eq!(c.scheme, "bearer");
        assert_eq!(c.params["realm"], "https://auth.docker.io/token");
        assert_eq!(c.params["scope"], "repository:library/busybox:pull");
        let c = parse_challenge(r#"Basic realm="hoist-test""#).unwrap();
        assert_eq!(
            (c.scheme.as_str(), c.params["realm"].as_str()),
            ("basic", "hoist-test")
        );
    }
}
