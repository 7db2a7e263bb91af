//! Host specs as users write them: `[user@]host[:port]`, `local`, or a map with a key file
//! and a jump host.

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSpec {
    pub host: String,
    #[serde(default)]
    pub user: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    /// Private key file (else ssh's own choice: agent, ~/.ssh/config, defaults).
    #[serde(default)]
    pub key: Option<String>,
    /// ProxyJump host, as ssh's -J takes it.
    #[serde(default)]
    pub jump: Option<String>,
}

impl HostSpec {
    pub fn local() -> Self {
        HostSpec {
            host: "localhost".into(),
            ..Default::default()
        }
    }

    pub fn is_local(&self) -> bool {
        self.host == "local"
            || (self.host == "localhost"
                && self.user.is_none()
                && self.port.is_none()
                && self.key.is_none())
    }

    /// Parse `[user@]host[:port]` (IPv6 as `[::1]:22`) or `local`.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::usage("empty host spec").hint("write [user@]host[:port] or local"));
        }
        if text == "local" {
            return Ok(Self::local());
        }
        let (user, rest) = match text.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => {
                return Err(Error::usage(format!(
                    "host spec `{text}` has an empty user"
                )));
            }
            None => (None, text),
        };
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| Error::usage(format!("host spec `{text}`: unclosed `[`")))?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(parse_port(text, p)?),
                None if after.is_empty() => None,
                None => return Err(Error::usage(format!("host spec `{text}`: junk after `]`"))),
            };
            (h.to_string(), port)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(parse_port(text, p)?)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c == '/') {
            return Err(Error::usage(format!(
                "host spec `{text}`: `{host}` is not a host name"
            )));
        }
        Ok(HostSpec {
            host,
            user,
            port,
            ..Default::default()
        })
    }

    /// How the host is named in output: the spec as written, without a default port.
    pub fn display_name(&self) -> String {
        if self.is_local() {
            return "local".into();
        }
        let mut s = String::new();
        if let Some(u) = &self.user {
            s.push_str(u);
            s.push('@');
        }
        if self.host.contains(':') {
            s.push_str(&format!("[{}]", self.host));
        } else {
            s.push_str(&self.host);
        }
        if let Some(p) = self.port {
            s.push_str(&format!(":{p}"));
        }
        s
    }
}

fn parse_port(text: &str, p: &str) -> Result<u16> {
    p.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::usage(format!("host spec `{text}`: `{p}` is not a port")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_users_write() {
        let s = HostSpec::parse("deploy@web2.example.org:2222").unwrap();
        assert_eq!(
            (s.user.as_deref(), s.host.as_str(), s.port),
            (Some("deploy"), "web2.example.org", Some(2222))
        );
        assert!(HostSpec::parse("local").unwrap().is_local());
        let v6 = HostSpec::parse("root@[::1]:22").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", Some(22)));
        assert_eq!(v6.display_name(), "root@[::1]:22");
        assert!(HostSpec::parse("web:notaport").is_err());
        assert!(HostSpec::parse("@web").is_err());
    }
}
