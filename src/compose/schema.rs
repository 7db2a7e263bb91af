//! The parts of compose's JSON schema and loader checks that hoist's typed model (model.rs)
//! does not express by itself: the JSON type of each service key (so `user: 1000`,
//! `read_only: 0` and `hostname: ~` are refused as compose refuses them), the shape of
//! `deploy.resources`, `build.ssh`, tmpfs sizes and `develop.watch`, and the combinations
//! compose refuses (`external` with `driver`, `scale` against `deploy.replicas`,
//! `network_mode` with `networks`, a secret with no source ...). Run on the merged,
//! interpolated project before it is deserialized; every error names its path.

use serde_json::{Map, Value};

type Check = std::result::Result<(), (String, String)>;

/// JSON types as the schema names them.
#[derive(Clone, Copy, PartialEq)]
enum T {
    Str,
    Num,
    Int,
    Bool,
    Arr,
    Obj,
    Null,
}

/// The JSON types compose's schema allows for each service key (those that need a check
/// serde does not already make; unknown keys are refused by the model).
const SERVICE_TYPES: &[(&str, &[T])] = &[
    ("annotations", &[T::Arr, T::Obj]),
    ("attach", &[T::Bool, T::Str]),
    ("blkio_config", &[T::Obj]),
    ("build", &[T::Obj, T::Str]),
    ("cap_add", &[T::Arr]),
    ("cap_drop", &[T::Arr]),
    ("cgroup", &[T::Str]),
    ("cgroup_parent", &[T::Str]),
    ("command", &[T::Arr, T::Null, T::Str]),
    ("configs", &[T::Arr]),
    ("container_name", &[T::Str]),
    ("cpu_count", &[T::Int, T::Str]),
    ("cpu_percent", &[T::Int, T::Str]),
    ("cpu_period", &[T::Num, T::Str]),
    ("cpu_quota", &[T::Num, T::Str]),
    ("cpu_rt_period", &[T::Num, T::Str]),
    ("cpu_rt_runtime", &[T::Num, T::Str]),
    ("cpu_shares", &[T::Num, T::Str]),
    ("cpus", &[T::Num, T::Str]),
    ("cpuset", &[T::Str]),
    ("credential_spec", &[T::Obj]),
    ("depends_on", &[T::Arr, T::Obj]),
    ("deploy", &[T::Null, T::Obj]),
    ("develop", &[T::Null, T::Obj]),
    ("device_cgroup_rules", &[T::Arr]),
    ("devices", &[T::Arr]),
    ("dns", &[T::Arr, T::Str]),
    ("dns_opt", &[T::Arr]),
    ("dns_search", &[T::Arr, T::Str]),
    ("domainname", &[T::Str]),
    ("entrypoint", &[T::Arr, T::Null, T::Str]),
    ("env_file", &[T::Arr, T::Str]),
    ("environment", &[T::Arr, T::Obj]),
    ("expose", &[T::Arr]),
    ("extends", &[T::Obj, T::Str]),
    ("external_links", &[T::Arr]),
    ("extra_hosts", &[T::Arr, T::Obj]),
    ("gpus", &[T::Arr, T::Str]),
    ("group_add", &[T::Arr]),
    ("healthcheck", &[T::Obj]),
    ("hostname", &[T::Str]),
    ("image", &[T::Str]),
    ("init", &[T::Bool, T::Str]),
    ("ipc", &[T::Str]),
    ("isolation", &[T::Str]),
    ("label_file", &[T::Arr, T::Str]),
    ("labels", &[T::Arr, T::Obj]),
    ("links", &[T::Arr]),
    ("logging", &[T::Obj]),
    ("mac_address", &[T::Str]),
    ("mem_limit", &[T::Num, T::Str]),
    ("mem_reservation", &[T::Int, T::Str]),
    ("mem_swappiness", &[T::Int, T::Str]),
    ("memswap_limit", &[T::Num, T::Str]),
    ("network_mode", &[T::Str]),
    ("networks", &[T::Arr, T::Obj]),
    ("oom_kill_disable", &[T::Bool, T::Str]),
    ("oom_score_adj", &[T::Int, T::Str]),
    ("pid", &[T::Null, T::Str]),
    ("pids_limit", &[T::Num, T::Str]),
    ("platform", &[T::Str]),
    ("ports", &[T::Arr]),
    ("post_start", &[T::Arr]),
    ("pre_stop", &[T::Arr]),
    ("privileged", &[T::Bool, T::Str]),
    ("profiles", &[T::Arr]),
    ("provider", &[T::Obj]),
    ("pull_policy", &[T::Str]),
    ("read_only", &[T::Bool, T::Str]),
    ("restart", &[T::Str]),
    ("runtime", &[T::Str]),
    ("scale", &[T::Int, T::Str]),
    ("secrets", &[T::Arr]),
    ("security_opt", &[T::Arr]),
    ("shm_size", &[T::Num, T::Str]),
    ("stdin_open", &[T::Bool, T::Str]),
    ("stop_grace_period", &[T::Str]),
    ("stop_signal", &[T::Str]),
    ("storage_opt", &[T::Obj]),
    ("sysctls", &[T::Arr, T::Obj]),
    ("tmpfs", &[T::Arr, T::Str]),
    ("tty", &[T::Bool, T::Str]),
    ("ulimits", &[T::Obj]),
    ("use_api_socket", &[T::Bool]),
    ("user", &[T::Str]),
    ("userns_mode", &[T::Str]),
    ("uts", &[T::Str]),
    ("volumes", &[T::Arr]),
    ("volumes_from", &[T::Arr]),
    ("working_dir", &[T::Str]),
];

fn is(v: &Value, t: T) -> bool {
    match t {
        T::Str => v.is_string(),
        T::Num => v.is_number(),
        // JSON schema's integer: a number without a fraction (`1.0` is one).
        T::Int => v.as_f64().is_some_and(|f| f.fract() == 0.0),
        T::Bool => v.is_boolean(),
        T::Arr => v.is_array(),
        T::Obj => v.is_object(),
        T::Null => v.is_null(),
    }
}

/// compose's wording: "must be a boolean or string".
fn expected(types: &[T]) -> String {
    let names: Vec<&str> = types
        .iter()
        .map(|t| match t {
            T::Str => "string",
            T::Num => "number",
            T::Int => "integer",
            T::Bool => "boolean",
            T::Arr => "array",
            T::Obj => "mapping",
            T::Null => "null",
        })
        .collect();
    match names.split_last() {
        Some((last, [])) => format!("must be a {last}"),
        Some((last, rest)) => format!("must be a {} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Check the merged project (see the module's comment).
pub fn check(project: &Value) -> Check {
    let Some(top) = project.as_object() else {
        return Ok(());
    };
    if let Some(v) = top.get("version")
        && !v.is_string()
    {
        return Err(("version".into(), "must be a string".into()));
    }
    match top.get("services") {
        None | Some(Value::Null) => {}
        Some(Value::Object(services)) => {
            for (name, s) in services {
                match s {
                    Value::Object(svc) => service(name, svc, top)?,
                    Value::Null => {}
                    _ => {
                        return Err((format!("services.{name}"), "must be a mapping".into()));
                    }
                }
            }
        }
        Some(_) => return Err(("services".into(), "must be a mapping".into())),
    }
    for section in ["networks", "volumes", "secrets", "configs"] {
        match top.get(section) {
            None | Some(Value::Null) => {}
            Some(Value::Object(items)) => {
                for (name, item) in items {
                    match item {
                        Value::Null => resource(section, name, &Map::new())?,
                        Value::Object(m) => resource(section, name, m)?,
                        _ => {
                            return Err((format!("{section}.{name}"), "must be a mapping".into()));
                        }
                    }
                }
            }
            Some(_) => return Err((section.into(), "must be a mapping".into())),
        }
    }
    Ok(())
}

fn service(name: &str, s: &Map<String, Value>, top: &Map<String, Value>) -> Check {
    let at = |key: &str| format!("services.{name}.{key}");
    for (key, v) in s {
        if let Some((_, types)) = SERVICE_TYPES.iter().find(|(k, _)| k == key)
            && !types.iter().any(|t| is(v, *t))
        {
            return Err((at(key), expected(types)));
        }
    }
    if let Some(Value::Object(build)) = s.get("build")
        && let Some(ssh) = build.get("ssh")
        && !(ssh.is_array() || ssh.is_object())
    {
        return Err((at("build.ssh"), "must be a mapping".into()));
    }
    let replicas = s.get("deploy").and_then(|d| d.get("replicas"));
    if let (Some(scale), Some(replicas)) = (s.get("scale"), replicas)
        && scale != replicas
    {
        return Err((
            at("scale"),
            "can't set distinct values on 'scale' and 'deploy.replicas'".into(),
        ));
    }
    if s.get("network_mode").is_some() && s.get("networks").is_some() {
        return Err((
            at("network_mode"),
            format!("service {name} declares mutually exclusive `network_mode` and `networks`"),
        ));
    }
    if let Some(Value::Array(hosts)) = s.get("extra_hosts") {
        for h in hosts {
            if let Some(h) = h.as_str()
                && !h.contains(['=', ':'])
            {
                return Err((
                    at("extra_hosts"),
                    format!("invalid additional host, missing IP: {h}"),
                ));
            }
        }
    }
    if let Some(replicas) = replicas {
        let ok = match replicas {
            Value::Number(n) => n.as_f64().is_some_and(|f| f >= 0.0 && f.fract() == 0.0),
            Value::String(_) => true,
            _ => false,
        };
        if !ok {
            return Err((
                at("deploy.replicas"),
                "must be an integer >= 0 (or a string)".into(),
            ));
        }
    }
    if let Some(h) = s.get("healthcheck")
        && let Some(test) = h.get("test")
        && !(test.is_string() || test.is_array())
    {
        return Err((at("healthcheck.test"), "must be a string or array".into()));
    }
    if let Some(Value::Object(deps)) = s.get("depends_on") {
        const CONDITIONS: [&str; 3] = [
            "service_started",
            "service_healthy",
            "service_completed_successfully",
        ];
        for (dep, d) in deps {
            if let Some(c) = d.get("condition")
                && !CONDITIONS.contains(&c.as_str().unwrap_or_default())
            {
                return Err((
                    at(&format!("depends_on.{dep}.condition")),
                    format!("value must be one of '{}'", CONDITIONS.join("', '")),
                ));
            }
        }
    }
    if let Some(Value::String(p)) = s.get("pull_policy")
        && !pull_policy_ok(p)
    {
        return Err((
            at("pull_policy"),
            format!(
                "'{p}' is not always, never, build, if_not_present, missing, refresh, daily, weekly or every_<duration>"
            ),
        ));
    }
    if let Some(Value::String(c)) = s.get("container_name") {
        let b = c.as_bytes();
        let ok = b.len() >= 2
            && b[0].is_ascii_alphanumeric()
            && b[1..]
                .iter()
                .all(|x| x.is_ascii_alphanumeric() || b"_.-".contains(x));
        if !ok {
            return Err((
                at("container_name"),
                format!("'{c}' does not match pattern '[a-zA-Z0-9][a-zA-Z0-9_.-]+'"),
            ));
        }
    }
    if let Some(Value::Object(hosts)) = s.get("extra_hosts") {
        for (h, ip) in hosts {
            if !(ip.is_string() || ip.is_array()) {
                return Err((at(&format!("extra_hosts.{h}")), "must be a string".into()));
            }
        }
    }
    for key in ["mem_limit", "mem_reservation", "memswap_limit", "shm_size"] {
        if let Some(Value::String(size)) = s.get(key)
            && !is_byte_size(size)
        {
            return Err((at(key), format!("invalid size: '{size}'")));
        }
    }
    // Other services it names: `links` (`name[:alias]`), `ipc`/`pid`/`network_mode`
    // `service:name`.
    let services = top.get("services").and_then(Value::as_object);
    let mut named: Vec<(&str, &str)> = Vec::new();
    for l in s
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(l) = l.as_str() {
            named.push(("links", l.split(':').next().unwrap_or_default()));
        }
    }
    for key in ["ipc", "pid", "network_mode"] {
        if let Some(svc) = s
            .get(key)
            .and_then(Value::as_str)
            .and_then(|v| v.strip_prefix("service:"))
        {
            named.push((key, svc));
        }
    }
    for (key, svc) in named {
        if !services.is_some_and(|m| m.contains_key(svc)) {
            return Err((
                at(key),
                format!("service \"{name}\" depends on undefined service \"{svc}\""),
            ));
        }
    }
    if let Some(Value::Array(from)) = s.get("volumes_from") {
        let services = top.get("services").and_then(Value::as_object);
        for f in from.iter().filter_map(Value::as_str) {
            let svc = f.split(':').next().unwrap_or_default();
            if !f.starts_with("container:") && !services.is_some_and(|m| m.contains_key(svc)) {
                return Err((
                    at("volumes_from"),
                    format!("service \"{name}\" depends on undefined service \"{svc}\""),
                ));
            }
        }
    }
    for (i, v) in s
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(kind) = v.get("type").and_then(Value::as_str)
            && !["bind", "volume", "tmpfs", "cluster", "npipe", "image"].contains(&kind)
        {
            return Err((
                at(&format!("volumes[{i}].type")),
                "value must be one of 'bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image'"
                    .into(),
            ));
        }
        // An empty source is taken (as the project directory); none at all is not.
        if v.get("type").and_then(Value::as_str) == Some("bind") && v.get("source").is_none() {
            return Err((
                at(&format!("volumes[{i}]")),
                "invalid mount config for type \"bind\": field Source must not be empty".into(),
            ));
        }
        let Some(size) = v.get("tmpfs").and_then(|t| t.get("size")) else {
            continue;
        };
        let ok = match size {
            Value::Number(n) => n.as_f64().is_some_and(|f| f >= 0.0 && f.fract() == 0.0),
            Value::String(t) => is_byte_size(t),
            _ => false,
        };
        if !ok {
            return Err((
                at(&format!("volumes[{i}].tmpfs.size")),
                format!("invalid tmpfs size `{size}` (a number of bytes >= 0, or like 10m)"),
            ));
        }
    }
    if let Some(deploy) = s.get("deploy") {
        deploy_resources(&at("deploy.resources"), deploy.get("resources"))?;
    }
    if let Some(watch) = s.get("develop").and_then(|d| d.get("watch")) {
        for (i, w) in watch.as_array().into_iter().flatten().enumerate() {
            for required in ["path", "action"] {
                if w.get(required).is_none() {
                    return Err((
                        at(&format!("develop.watch[{i}]")),
                        format!("missing property '{required}'"),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// The schema's pattern for `pull_policy`, which (unanchored, as JSON schema patterns are)
/// a value passes when any part of it matches.
fn pull_policy_ok(p: &str) -> bool {
    const WORDS: [&str; 8] = [
        "always",
        "never",
        "build",
        "if_not_present",
        "missing",
        "refresh",
        "daily",
        "weekly",
    ];
    if WORDS.iter().any(|w| p.contains(w)) {
        return true;
    }
    p.match_indices("every_").any(|(i, _)| {
        let rest = &p.as_bytes()[i + 6..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        digits > 0 && rest.get(digits).is_some_and(|c| b"wdhms".contains(c))
    })
}

/// `10m`, `1gb`, `1.5 GiB`, `512`: what compose's byte units read
/// (`digits[.digits] [kmgtp][i][b]`, any case).
fn is_byte_size(t: &str) -> bool {
    let t = t.to_ascii_lowercase();
    let digits = t
        .bytes()
        .take_while(|c| c.is_ascii_digit() || *c == b'.')
        .count();
    let (num, unit) = t.split_at(digits);
    let unit = unit.strip_prefix(' ').unwrap_or(unit);
    let unit = unit.strip_prefix(['k', 'm', 'g', 't', 'p']).unwrap_or(unit);
    let unit = unit.strip_prefix('i').unwrap_or(unit);
    let unit = unit.strip_prefix('b').unwrap_or(unit);
    !num.is_empty()
        && !num.starts_with('.')
        && !num.ends_with('.')
        && num.split('.').all(|p| !p.is_empty())
        && unit.is_empty()
}

/// `deploy.resources`: `limits` and `reservations` only, with their known keys; a device
/// request has `capabilities`, and `count` (a number or `all`) or `device_ids`, not both.
fn deploy_resources(at: &str, resources: Option<&Value>) -> Check {
    let Some(Value::Object(r)) = resources else {
        return Ok(());
    };
    let known = |m: &Map<String, Value>, keys: &[&str], path: &str| -> Check {
        for k in m.keys() {
            if !keys.contains(&k.as_str()) && !k.starts_with("x-") {
                return Err((
                    path.to_string(),
                    format!("additional properties '{k}' not allowed"),
                ));
            }
        }
        Ok(())
    };
    known(r, &["limits", "reservations"], at)?;
    if let Some(Value::Object(l)) = r.get("limits") {
        known(l, &["cpus", "memory", "pids"], &format!("{at}.limits"))?;
    }
    if let Some(Value::Object(res)) = r.get("reservations") {
        let path = format!("{at}.reservations");
        known(
            res,
            &["cpus", "memory", "generic_resources", "devices"],
            &path,
        )?;
        for (i, d) in res
            .get("devices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let here = format!("{path}.devices[{i}]");
            if d.get("capabilities").is_none() {
                return Err((here, "missing property 'capabilities'".into()));
            }
            match d.get("count") {
                None | Some(Value::Number(_)) => {}
                Some(Value::String(c)) if c == "all" || c.parse::<i64>().is_ok() => {}
                Some(other) => {
                    return Err((
                        here,
                        format!(
                            "invalid value {other}, the only value allowed is 'all' or a number"
                        ),
                    ));
                }
            }
            if d.get("count").is_some() && d.get("device_ids").is_some() {
                return Err((
                    here,
                    "\"count\" and \"device_ids\" attributes are exclusive".into(),
                ));
            }
        }
    }
    Ok(())
}

/// A top-level network, volume, secret or config.
fn resource(section: &str, name: &str, m: &Map<String, Value>) -> Check {
    let at = format!("{section}.{name}");
    let external = m.get("external").is_some_and(|e| match e {
        Value::Bool(b) => *b,
        Value::Object(_) => true,
        _ => false,
    });
    if section == "configs" {
        for k in ["driver", "driver_opts"] {
            if m.contains_key(k) {
                return Err((
                    at.clone(),
                    format!("additional properties '{k}' not allowed"),
                ));
            }
        }
    }
    // compose v2.40 refuses these only for volumes (a network may be external with a
    // driver named).
    if external && section == "volumes" {
        for k in ["driver", "driver_opts", "labels"] {
            if m.contains_key(k) {
                return Err((
                    at.clone(),
                    format!("conflicting parameters \"external\" and \"{k}\" specified"),
                ));
            }
        }
    }
    if m.get("name").is_some() && m.get("external").and_then(|e| e.get("name")).is_some() {
        return Err((
            at.clone(),
            "name and external.name conflict; only use name".into(),
        ));
    }
    if !external && (section == "secrets" || section == "configs") {
        let sources: &[&str] = if section == "secrets" {
            &["file", "environment"]
        } else {
            &["file", "environment", "content"]
        };
        if !sources.iter().any(|k| m.contains_key(*k)) {
            return Err((
                at.clone(),
                format!("one of {} must be set", sources.join("|")),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn types_and_combinations_compose_refuses() {
        let svc = |s: serde_json::Value| json!({"services": {"s": s}});
        assert!(
            check(&svc(
                json!({"image": "x", "user": "1000", "read_only": true})
            ))
            .is_ok()
        );
        assert!(
            check(&svc(
                json!({"image": "x", "cpu_count": 1.0, "command": null})
            ))
            .is_ok()
        );
        for bad in [
            json!({"user": 1000}),
            json!({"read_only": 0}),
            json!({"hostname": null}),
            json!({"scale": 1.5}),
            json!({"scale": 2, "deploy": {"replicas": 3}}),
            json!({"network_mode": "host", "networks": ["n"]}),
            json!({"extra_hosts": ["nocolon"]}),
            json!({"build": {"ssh": "default"}}),
            json!({"deploy": {"resources": {"impossible": 1}}}),
            json!({"volumes": [{"type": "tmpfs", "target": "/t", "tmpfs": {"size": -1}}]}),
            json!({"develop": {"watch": [{"path": "./src"}]}}),
            json!({"pull_policy": "bogus"}),
            json!({"network_mode": "service:nosuch"}),
        ] {
            assert!(check(&svc(bad.clone())).is_err(), "{bad}");
        }
        assert!(check(&json!({"services": {"s": ["image"]}})).is_err());
        assert!(check(&json!({"version": 2, "services": {}})).is_err());
        assert!(check(&json!({"secrets": {"a": {}}})).is_err());
        assert!(check(&json!({"secrets": {"a": {"external": true}}})).is_ok());
        assert!(check(&json!({"volumes": {"v": {"external": true, "driver": "local"}}})).is_err());
    }
}
