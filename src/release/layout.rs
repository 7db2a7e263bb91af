//! Where a release lives in its project directory, and hoist's own file there. The release
//! a project runs is pinned in `docker-compose.override.yml`, which compose v1 and v2 merge
//! over the project's compose file by themselves — so `docker compose ps/logs/exec` typed by
//! hand in the directory work on the live release — and which is hoist's alone (its first
//! line says so). The project's compose file, `.env` and env files are never rewritten to
//! carry hoist's state.

use crate::compose::model::{ComposeFile, Port, Service, StringOrNumber};
use crate::docker::reference::ImageRef;

/// hoist's override file, beside the compose file.
pub const PIN_FILE: &str = "docker-compose.override.yml";
/// Its first line: a file without it is the project's own, never overwritten.
pub const PIN_MARK: &str = "# Written by hoist: the release this project runs.";
/// Override files compose would read before hoist's (it reads the first that exists).
pub const OTHER_OVERRIDES: [&str; 3] = [
    "compose.override.yaml",
    "compose.override.yml",
    "docker-compose.override.yaml",
];
/// The compose files compose looks for, in its order (the first that exists is the
/// project's); a project without one gets `docker-compose.yml`.
pub const COMPOSE_FILES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];
pub const NEW_COMPOSE_FILE: &str = "docker-compose.yml";

/// Records, kept files, guards: `.hoist/` in the project directory.
pub fn records_path(dir: &str) -> String {
    format!("{dir}/.hoist/releases.jsonl")
}
/// Kept release files, named by their sha256.
pub fn kept_dir(dir: &str) -> String {
    format!("{dir}/.hoist/releases")
}
pub fn kept_path(dir: &str, sha: &str) -> String {
    format!("{}/{sha}", kept_dir(dir))
}

/// The project directory of `app` on a host: `dir` when given, else `~/apps/APP`.
pub fn project_dir(app: &str, dir: Option<&str>) -> String {
    match dir.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => d.trim_end_matches('/').to_string(),
        None => format!("~/apps/{app}"),
    }
}

/// The services of `config` that run `image`'s repository — named through `${IMAGE}` (the
/// config was rendered with IMAGE set) or literally.
pub fn pinned_services(config: &ComposeFile, image: &str) -> Vec<String> {
    let repo = ImageRef::parse(image).repository();
    config
        .services
        .iter()
        .filter(|(_, s)| {
            s.image
                .as_deref()
                .is_some_and(|i| !i.is_empty() && ImageRef::parse(i).repository() == repo)
        })
        .map(|(n, _)| n.clone())
        .collect()
}

/// hoist's override file pinning `services` to `pinned` (the release asked for `image`).
pub fn pin_text(services: &[String], pinned: &str, image: &str) -> String {
    pin_text_routed(services, pinned, image, None)
}

/// A service the front proxy reaches: it joins the proxy's network (and keeps compose's
/// `default` network when its compose file names no network, which an override's list would
/// otherwise replace).
#[derive(Debug, Clone, PartialEq)]
pub struct Joins {
    pub service: String,
    pub keep_default: bool,
}

/// [`pin_text`], with `joins`'s service on the proxy's network (declared external).
pub fn pin_text_routed(
    services: &[String],
    pinned: &str,
    image: &str,
    joins: Option<&Joins>,
) -> String {
    let mut text = format!(
        "{PIN_MARK}\n# The project's compose file, .env and env files are never rewritten.\nservices:\n"
    );
    for s in services {
        text.push_str(&format!("  {s}:\n    image: \"{pinned}\"  # {image}\n"));
        if let Some(j) = joins.filter(|j| &j.service == s) {
            text.push_str("    networks:\n");
            if j.keep_default {
                text.push_str("      default: {}\n");
            }
            text.push_str(&format!("      {}: {{}}\n", crate::proxy::NETWORK));
        }
    }
    if joins.is_some() {
        text.push_str(&format!(
            "networks:\n  {n}:\n    external: true\n    name: {n}\n",
            n = crate::proxy::NETWORK
        ));
    }
    text
}

/// The container port a service publishes on host port `host_port`, if it does (short
/// syntax read by the Engine API's own port parser, or the long form).
pub fn published_target(svc: &Service, host_port: u16) -> Option<u16> {
    svc.ports.as_ref()?.iter().find_map(|p| match p {
        Port::Short(s) => {
            let (container, binding) = crate::docker::parse_port(&text(s)).ok()?;
            if binding.host_port.as_deref() != Some(host_port.to_string().as_str()) {
                return None;
            }
            container.split('/').next()?.parse().ok()
        }
        Port::Long(l) => {
            if l.published.as_ref().map(text) != Some(host_port.to_string()) {
                return None;
            }
            text(&l.target).parse().ok()
        }
    })
}

fn text(v: &StringOrNumber) -> String {
    match v {
        StringOrNumber::String(s) => s.clone(),
        StringOrNumber::Number(n) => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> ComposeFile {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn services_of_the_images_repository_are_pinned_whatever_their_tag() {
        let c = config(
            r#"{"services": {
                "web": {"image": "reg:5000/app:v1", "ports": ["127.0.0.1:8080:80"]},
                "worker": {"image": "reg:5000/app@sha256:ab"},
                "db": {"image": "postgres:16"},
                "built": {"build": "."}
            }}"#,
        );
        assert_eq!(
            pinned_services(&c, "reg:5000/app:v2"),
            vec!["web", "worker"]
        );
        assert!(pinned_services(&c, "reg:5000/other:v2").is_empty());
        assert_eq!(published_target(&c.services["web"], 8080), Some(80));
        assert_eq!(published_target(&c.services["web"], 8081), None);
        assert_eq!(published_target(&c.services["db"], 8080), None);
    }

    #[test]
    fn the_long_port_form_and_the_pin_text() {
        let c = config(
            r#"{"services": {"web": {"image": "a", "ports": [{"target": 8080, "published": "18090"}]}}}"#,
        );
        assert_eq!(published_target(&c.services["web"], 18090), Some(8080));
        assert_eq!(
            pin_text(&["web".into()], "reg/app@sha256:1", "reg/app:v1"),
            format!(
                "{PIN_MARK}\n# The project's compose file, .env and env files are never rewritten.\nservices:\n  web:\n    image: \"reg/app@sha256:1\"  # reg/app:v1\n"
            )
        );
        let j = Joins {
            service: "web".into(),
            keep_default: true,
        };
        assert!(
            pin_text_routed(&["web".into()], "p", "i", Some(&j)).ends_with(
                "    networks:\n      default: {}\n      hoist-proxy: {}\nnetworks:\n  hoist-proxy:\n    external: true\n    name: hoist-proxy\n"
            )
        );
        assert_eq!(project_dir("app", None), "~/apps/app");
        assert_eq!(project_dir("app", Some("/srv/x/")), "/srv/x");
        assert_eq!(project_dir("app", Some(" ")), "~/apps/app");
    }
}
