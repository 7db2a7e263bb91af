//! compose's short syntax for a service's volumes (`src:dst:ro`) and ports
//! (`127.0.0.1:8080:80/udp`), read as compose reads it: the validator checks them, and the
//! merge uses them as the keys it de-duplicates by.

/// A short-syntax service volume, read as compose reads it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShortVolume {
    pub source: String,
    pub target: String,
    pub options: String,
}

impl ShortVolume {
    /// A named volume (not a path on the host, not anonymous).
    pub fn named(&self) -> Option<&str> {
        let s = &self.source;
        let bind = s.starts_with(['.', '/', '~'])
            || (s.len() >= 2 && s.as_bytes()[1] == b':' && s.as_bytes()[0].is_ascii_alphabetic());
        (!s.is_empty() && !bind).then_some(s.as_str())
    }
}

/// `source:target[:options]` as compose splits it: a one-letter first part is a Windows
/// drive, `${...}` is never split.
pub fn parse_volume(spec: &str) -> std::result::Result<ShortVolume, String> {
    let chars: Vec<char> = spec.chars().collect();
    match chars.len() {
        0 => return Err("invalid empty volume spec".into()),
        1 | 2 => {
            return Ok(ShortVolume {
                target: spec.into(),
                ..Default::default()
            });
        }
        _ => {}
    }
    let mut v = ShortVolume::default();
    let mut buffer = String::new();
    let mut in_var = 0;
    let mut fields = 0;
    let total = chars.len();
    for i in 0..=total {
        let c = chars.get(i).copied();
        if c == Some('$') && chars.get(i + 1) == Some(&'{') {
            in_var += 1;
            buffer.push('$');
            continue;
        }
        if c == Some('}') && in_var > 0 {
            in_var -= 1;
            buffer.push('}');
            continue;
        }
        let drive = c == Some(':')
            && buffer.chars().count() == 1
            && buffer.chars().all(char::is_alphabetic);
        if drive {
            buffer.push(':');
        } else if (c == Some(':') || c.is_none()) && in_var == 0 {
            if buffer.is_empty() {
                return Err(format!(
                    "invalid spec: {spec}: empty section between colons"
                ));
            }
            let end = c.is_none();
            match fields {
                0 if end => v.target = buffer.clone(),
                0 => v.source = buffer.clone(),
                1 => v.target = buffer.clone(),
                _ if !end => return Err(format!("invalid spec: {spec}: too many colons")),
                _ => v.options = buffer.clone(),
            }
            fields += 1;
            buffer.clear();
        } else if let Some(c) = c {
            buffer.push(c);
        }
    }
    Ok(v)
}

/// A short-syntax port read as compose reads it (`[[ip:]published[-range]:]target[-range]
/// [/protocol]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortPort {
    /// The host address, without the brackets of an IPv6 one ("" = every address).
    pub ip: String,
    /// The published port or range as written ("" = a random one).
    pub published: String,
    pub target: (u16, u16),
    pub protocol: String,
}

/// `lo[-hi]`, each 0–65535 and `hi >= lo`.
fn port_range(text: &str) -> Option<(u16, u16)> {
    let num = |t: &str| -> Option<u16> {
        (!t.is_empty() && t.bytes().all(|c| c.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let (lo, hi) = match text.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(text)?, num(text)?),
    };
    (hi >= lo).then_some((lo, hi))
}

/// Parse a short port as compose does (docker's port-spec rules): parts split at `:` (more
/// than three: the address is all but the last two), the protocol after `/` (tcp, udp,
/// sctp; empty is tcp), the address a literal IP, a host range only as wide as the
/// container's (or any width for a single container port).
pub fn parse_port(spec: &str) -> std::result::Result<ShortPort, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let n = parts.len();
    let (ip, published, rest) = match n {
        1 => ("".to_string(), "", parts[0]),
        2 => ("".to_string(), parts[0], parts[1]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (target, protocol) = match rest.split_once('/') {
        _ if rest.is_empty() || rest.starts_with('/') => ("", "tcp"),
        None => (rest, "tcp"),
        Some((t, "")) => (t, "tcp"),
        Some((t, p)) => (t, p.split('/').next().unwrap_or_default()),
    };
    let ip = match ip.strip_prefix('[') {
        Some(inner) => match inner.strip_suffix(']') {
            Some(v6) if !v6.contains(['[', ']']) => v6.to_string(),
            _ => return Err(format!("invalid IP address {ip}")),
        },
        None => ip,
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if target.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let t = port_range(target).ok_or_else(|| format!("invalid containerPort: {target}"))?;
    if !published.is_empty() {
        let p = port_range(published).ok_or_else(|| format!("invalid hostPort: {published}"))?;
        if p.1 - p.0 != t.1 - t.0 && t.1 != t.0 {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {target} and {published}"
            ));
        }
    }
    if !["tcp", "udp", "sctp"].contains(&protocol.to_ascii_lowercase().as_str()) {
        return Err(format!("invalid proto: {protocol}"));
    }
    Ok(ShortPort {
        ip,
        published: published.to_string(),
        target: t,
        protocol: protocol.to_ascii_lowercase(),
    })
}

/// A short-syntax port compose accepts (see [`parse_port`]).
pub fn check_port(spec: &str) -> std::result::Result<(), String> {
    parse_port(spec)
        .map(|_| ())
        .map_err(|why| format!("invalid port `{spec}`: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volumes_and_ports() {
        assert_eq!(parse_volume("./d:/d:ro").unwrap().options, "ro");
        assert_eq!(parse_volume("v:/v:ro").unwrap().source, "v:/v");
        assert_eq!(parse_volume("data:/d").unwrap().named(), Some("data"));
        assert!(parse_volume(":/data").is_err());
        assert!(parse_volume("ab:cd:ef:gh").is_err());
        for ok in [
            "80",
            "8080:80",
            "127.0.0.1:80:80/udp",
            "1000-1002:80-82",
            "127.0.0.1::80",
            "[::1]:80:80",
            "::1:8080:80",
            "80/",
            ":80",
            "8080-8081:80",
        ] {
            check_port(ok).unwrap();
        }
        assert_eq!(parse_port("[::1]:8080:80/UDP").unwrap().ip, "::1");
        for bad in [
            "70000:80",
            "x:80",
            "80:",
            "localhost:8080:80",
            "8080:80:90",
            "80-70",
            "8080-8082:80-81",
            "80/http",
            "127.0.0.1:80",
        ] {
            assert!(check_port(bad).is_err(), "{bad}");
        }
    }
}
