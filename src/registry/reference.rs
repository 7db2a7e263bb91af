//! Image references as docker reads them: `[registry/]path[:tag][@digest]`. The registry
//! part decides whose credentials a push or pull uses.

/// The key Docker Hub credentials are stored under in config.json.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Registry host[:port] if the reference names one (`127.0.0.1:5000`, `ghcr.io`).
    pub registry: Option<String>,
    /// Everything before the tag/digest, registry included (`127.0.0.1:5000/lab/app`).
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageRef {
    pub fn parse(reference: &str) -> ImageRef {
        let (rest, digest) = match reference.split_once('@') {
            Some((r, d)) => (r, Some(d.to_string())),
            None => (reference, None),
        };
        let last_slash = rest.rfind('/').map(|i| i + 1).unwrap_or(0);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (
                rest[..last_slash + i].to_string(),
                Some(rest[last_slash + i + 1..].to_string()),
            ),
            None => (rest.to_string(), None),
        };
        let registry = name.split_once('/').and_then(|(first, _)| {
            (first.contains('.') || first.contains(':') || first == "localhost")
                .then(|| first.to_string())
        });
        ImageRef {
            registry,
            name,
            tag,
            digest,
        }
    }

    /// The tag a push/pull uses: the named one, else `latest` (as docker does).
    pub fn tag_or_latest(&self) -> &str {
        self.tag.as_deref().unwrap_or("latest")
    }

    /// The repository as docker writes it in `RepoDigests`: the name without tag or digest,
    /// Docker Hub's written short (`nginx`, not `docker.io/library/nginx`). Two references
    /// name the same repository when their `repository()` is equal.
    pub fn repository(&self) -> String {
        let n = self.name.strip_prefix("docker.io/").unwrap_or(&self.name);
        n.strip_prefix("library/").unwrap_or(n).to_string()
    }

    /// Where credentials for this image are looked up in config.json.
    pub fn credentials_key(&self) -> String {
        match &self.registry {
            Some(r) if r != "docker.io" && r != "index.docker.io" => r.clone(),
            _ => DOCKER_HUB_KEY.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_registry_tag_and_digest() {
        let r = ImageRef::parse("127.0.0.1:5000/lab/app:blue-1a2b");
        assert_eq!(r.registry.as_deref(), Some("127.0.0.1:5000"));
        assert_eq!(r.name, "127.0.0.1:5000/lab/app");
        assert_eq!(r.tag.as_deref(), Some("blue-1a2b"));
        let r = ImageRef::parse("localhost:5000/app");
        assert_eq!(r.tag, None);
        assert_eq!(r.credentials_key(), "localhost:5000");
        let r = ImageRef::parse("busybox@sha256:abc");
        assert_eq!(
            (r.name.as_str(), r.digest.as_deref()),
            ("busybox", Some("sha256:abc"))
        );
        assert_eq!(r.credentials_key(), DOCKER_HUB_KEY);
        assert_eq!(ImageRef::parse("lab/app:1").registry, None);
    }

    #[test]
    fn repositories_compare_without_tag_digest_or_docker_hub_prefix() {
        let repo = |s: &str| ImageRef::parse(s).repository();
        assert_eq!(repo("127.0.0.1:5000/lab/app:v1"), "127.0.0.1:5000/lab/app");
        assert_eq!(
            repo("127.0.0.1:5000/lab/app@sha256:ab"),
            "127.0.0.1:5000/lab/app"
        );
        assert_eq!(repo("docker.io/library/nginx:1"), "nginx");
        assert_eq!(repo("nginx"), "nginx");
        assert_eq!(repo("localhost:5000/app:1"), "localhost:5000/app");
    }
}
