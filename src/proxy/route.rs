//! A route of the front proxy: the requests for an app's host names (and an optional path
//! prefix) go to one upstream, the app's live container on hoist's proxy network. Pure data
//! with its checks; `caddy.rs` turns routes into Caddy's JSON config and back.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// How a route's names get their certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Public names: Caddy's automatic HTTPS (ACME); names that cannot be public (no dot,
    /// `.test`, `.local`, `.internal`, `.localhost`, `.example`, `.invalid`, `.lan`,
    /// `.home.arpa`): its internal CA.
    #[default]
    Auto,
    /// Caddy's internal CA, whatever the names.
    Internal,
}

impl Tls {
    pub fn parse(s: &str) -> Result<Tls> {
        match s {
            "" | "auto" => Ok(Tls::Auto),
            "internal" => Ok(Tls::Internal),
            other => Err(Error::usage(format!(
                "tls `{other}`: use \"auto\" (public names get ACME certificates, others the internal CA) or \"internal\""
            ))),
        }
    }
}

/// The domains of a `domain` value: comma-separated names.
pub fn domains(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// One app's route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The app (its compose project): a host has at most one route per app.
    pub app: String,
    /// Host names it answers (lower case).
    pub domains: Vec<String>,
    /// Path prefix (`/api`), or none: every path.
    pub path: Option<String>,
    /// Where requests go: `container:port` on the proxy network.
    pub upstream: String,
    pub tls: Tls,
    /// In maintenance mode: the message its names answer with (503) instead of the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<String>,
}

/// Suffixes of names no public CA will certify: Caddy's internal CA serves them.
const NOT_PUBLIC: [&str; 9] = [
    ".test",
    ".local",
    ".internal",
    ".localhost",
    ".example",
    ".invalid",
    ".lan",
    ".home.arpa",
    ".localdomain",
];

/// Whether a host name can get a certificate from a public CA.
pub fn is_public(name: &str) -> bool {
    name.contains('.')
        && !NOT_PUBLIC.iter().any(|s| name.ends_with(s))
        && name.parse::<std::net::IpAddr>().is_err()
}

/// A host name as a route keeps it, or why it is not one (letters, digits, `-`, `.`, and a
/// leading `*.` wildcard).
pub fn check_domain(name: &str) -> Result<String> {
    let d = name.trim().trim_end_matches('.').to_ascii_lowercase();
    let body = d.strip_prefix("*.").unwrap_or(&d);
    let ok = !body.is_empty()
        && body.len() <= 253
        && body.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(d)
    } else {
        Err(Error::usage(format!(
            "domain `{name}` is not a host name (letters, digits, `-` and dots, e.g. app1.example.org)"
        )))
    }
}

/// A path prefix as a route keeps it: `/x/y` (no trailing slash, no wildcard), or none.
pub fn check_path(path: Option<&str>) -> Result<Option<String>> {
    let Some(p) = path.map(str::trim).filter(|p| !p.is_empty() && *p != "/") else {
        return Ok(None);
    };
    let p = p.trim_end_matches('/');
    if !p.starts_with('/')
        || p.chars()
            .any(|c| c.is_whitespace() || c == '*' || c == '?' || c == '#')
    {
        return Err(Error::usage(format!(
            "path `{p}` is not a path prefix (like /api: starts with /, no *, ? or #)"
        )));
    }
    Ok(Some(p.to_string()))
}

impl Route {
    /// A route after its checks: names and path normalised.
    pub fn new(
        app: &str,
        domains: &[String],
        path: Option<&str>,
        upstream: &str,
        tls: Tls,
    ) -> Result<Route> {
        if app.is_empty()
            || !app
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::usage(format!(
                "app `{app}`: a route's app is a compose project name (letters, digits, `-`, `_`)"
            )));
        }
        if domains.is_empty() {
            return Err(Error::usage(format!("the route of {app} names no domain")));
        }
        let domains = domains
            .iter()
            .map(|d| check_domain(d))
            .collect::<Result<Vec<_>>>()?;
        let (host, port) = upstream.rsplit_once(':').unwrap_or((upstream, ""));
        if host.is_empty()
            || port.parse::<u16>().map_or(true, |p| p == 0)
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Error::usage(format!(
                "upstream `{upstream}` of {app}: give CONTAINER:PORT (a container on the proxy network)"
            )));
        }
        Ok(Route {
            app: app.to_string(),
            domains,
            path: check_path(path)?,
            upstream: upstream.to_string(),
            tls,
            maintenance: None,
        })
    }

    /// The names of this route that use Caddy's internal CA.
    pub fn internal_names(&self) -> Vec<String> {
        self.domains
            .iter()
            .filter(|d| self.tls == Tls::Internal || !is_public(d))
            .cloned()
            .collect()
    }

    /// `app1.test/api → app1-web-1:8080` (`… (maintenance)` while in maintenance mode)
    pub fn describe(&self) -> String {
        format!(
            "{}{} → {}{}",
            self.domains.join(","),
            self.path.as_deref().unwrap_or(""),
            self.upstream,
            if self.maintenance.is_some() {
                " (maintenance)"
            } else {
                ""
            }
        )
    }
}

/// `p.route(app, opts)`: where an app's requests go.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteOpts {
    /// Host names, comma-separated (`app1.example.org,www.app1.example.org`).
    pub domain: String,
    /// Path prefix (`/api`; none: every path).
    #[serde(default)]
    pub path: Option<String>,
    /// `CONTAINER:PORT` on the proxy network.
    pub upstream: String,
    /// `auto` (public names: ACME; others: the internal CA) or `internal`.
    #[serde(default)]
    pub tls: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_paths_and_upstreams_are_checked_and_normalised() {
        let r = Route::new(
            "app1",
            &["App1.Example.org.".into()],
            Some("/api/"),
            "app1-web-1:8080",
            Tls::Auto,
        )
        .unwrap();
        assert_eq!(r.domains, vec!["app1.example.org"]);
        assert_eq!(r.path.as_deref(), Some("/api"));
        assert!(r.internal_names().is_empty());
        assert_eq!(r.describe(), "app1.example.org/api → app1-web-1:8080");
        assert!(Route::new("a", &["x y".into()], None, "a:1", Tls::Auto).is_err());
        assert!(Route::new("a", &[], None, "a:1", Tls::Auto).is_err());
        assert!(Route::new("a", &["a.test".into()], None, "a", Tls::Auto).is_err());
        assert!(Route::new("a", &["a.test".into()], Some("/x*"), "a:1", Tls::Auto).is_err());
        assert!(Route::new("a b", &["a.test".into()], None, "a:1", Tls::Auto).is_err());
        assert_eq!(check_path(Some("/")).unwrap(), None);
    }

    #[test]
    fn names_that_cannot_be_public_use_the_internal_ca() {
        assert!(is_public("app.example.org"));
        for n in [
            "app1.test",
            "localhost",
            "x.local",
            "10.0.0.1",
            "a.internal",
        ] {
            assert!(!is_public(n), "{n}");
        }
        let r = Route::new(
            "a",
            &["a.example.org".into(), "a.test".into()],
            None,
            "a:80",
            Tls::Auto,
        )
        .unwrap();
        assert_eq!(r.internal_names(), vec!["a.test"]);
        let r = Route {
            tls: Tls::Internal,
            ..r
        };
        assert_eq!(r.internal_names().len(), 2);
        assert_eq!(Tls::parse("internal").unwrap(), Tls::Internal);
        assert!(Tls::parse("off").is_err());
    }
}
