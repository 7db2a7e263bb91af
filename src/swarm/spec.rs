//! A compose service (as hoist's model serializes it: compose's own field names) turned into
//! an Engine API `ServiceSpec`, as JSON — the converted spec is plain data, shown in errors and
//! plans and compared with the running one. What `docker stack deploy` would set, including the
//! stack labels, the default network with the service name as alias, and durations in ns.

use serde_json::{Value, json};

use super::NAMESPACE_LABEL;
use crate::error::{Error, Result};

/// `1m30s`, `10s`, `500ms`, `2h` → nanoseconds (compose's Go durations).
pub fn duration_ns(text: &str) -> Result<i64> {
    let t = text.trim();
    let mut total: f64 = 0.0;
    let mut num = String::new();
    let mut chars = t.chars().peekable();
    let bad = || {
        Error::usage(format!(
            "`{text}` is not a duration like \"10s\" or \"1m30s\""
        ))
    };
    if t.is_empty() {
        return Err(bad());
    }
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() || n == 'µ' {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let v: f64 = num.parse().map_err(|_| bad())?;
        num.clear();
        let scale = match unit.as_str() {
            "ns" => 1.0,
            "us" | "µs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += v * scale;
    }
    if !num.is_empty() {
        // A bare number: compose reads it as seconds.
        total += num.parse::<f64>().map_err(|_| bad())? * 1e9;
    }
    Ok(total as i64)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(scalar).collect(),
        Value::String(s) => shlex::split(s).unwrap_or_else(|| vec![s.clone()]),
        _ => vec![],
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `environment` as a map or a `K=V` list → `["K=V", ...]` (a key without value is left out,
/// as compose does when it is not set).
fn env_list(v: &Value) -> Vec<String> {
    match v {
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}={}", scalar(v)))
            .collect(),
        Value::Array(a) => a.iter().map(scalar).filter(|s| s.contains('=')).collect(),
        _ => vec![],
    }
}

fn labels(v: &Value) -> serde_json::Map<String, Value> {
    match v {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| (k.clone(), json!(scalar(v))))
            .collect(),
        Value::Array(a) => a
            .iter()
            .filter_map(|x| {
                let s = scalar(x);
                let (k, v) = s.split_once('=')?;
                Some((k.to_string(), json!(v)))
            })
            .collect(),
        _ => Default::default(),
    }
}

/// One port: the long form, or the short `[IP:][PUBLISHED:]TARGET[/PROTO]`.
fn port(v: &Value, service: &str) -> Result<Value> {
    if let Value::Object(m) = v {
        let target = m.get("target").and_then(Value::as_u64).ok_or_else(|| {
            Error::usage(format!("service {service}: a long port needs `target`"))
        })?;
        let mut p = json!({"TargetPort": target, "Protocol": m.get("protocol").map(scalar).unwrap_or_else(|| "tcp".into()),
                           "PublishMode": m.get("mode").map(scalar).unwrap_or_else(|| "ingress".into())});
        if let Some(pubd) = m.get("published") {
            let n: u64 = scalar(pubd).parse().map_err(|_| {
                Error::usage(format!(
                    "service {service}: published port `{}` is not a number",
                    scalar(pubd)
                ))
            })?;
            p["PublishedPort"] = json!(n);
        }
        return Ok(p);
    }
    let s = scalar(v);
    let (spec, proto) = s.split_once('/').unwrap_or((&s, "tcp"));
    let parts: Vec<&str> = spec.split(':').collect();
    let num = |x: &str| {
        x.parse::<u64>().map_err(|_| {
            Error::usage(format!(
                "service {service}: port `{s}` is not [IP:]PUBLISHED:TARGET"
            ))
        })
    };
    let (published, target) = match parts.as_slice() {
        [t] => (None, num(t)?),
        [p, t] | [_, p, t] => (Some(num(p)?), num(t)?),
        _ => {
            return Err(Error::usage(format!(
                "service {service}: port `{s}` is not [IP:]PUBLISHED:TARGET"
            )));
        }
    };
    let mut p = json!({"TargetPort": target, "Protocol": proto, "PublishMode": "ingress"});
    if let Some(n) = published {
        p["PublishedPort"] = json!(n);
    }
    Ok(p)
}

fn healthcheck(v: &Value) -> Result<Option<Value>> {
    let Value::Object(m) = v else { return Ok(None) };
    if m.get("disable").and_then(Value::as_bool) == Some(true) {
        return Ok(Some(json!({"Test": ["NONE"]})));
    }
    let mut h = serde_json::Map::new();
    if let Some(t) = m.get("test") {
        let test = match t {
            Value::String(s) => vec!["CMD-SHELL".to_string(), s.clone()],
            other => strings(other),
        };
        h.insert("Test".into(), json!(test));
    }
    for (k, key) in [
        ("interval", "Interval"),
        ("timeout", "Timeout"),
        ("start_period", "StartPeriod"),
    ] {
        if let Some(d) = m.get(k) {
            h.insert(key.into(), json!(duration_ns(&scalar(d))?));
        }
    }
    if let Some(r) = m.get("retries") {
        h.insert(
            "Retries".into(),
            json!(scalar(r).parse::<u64>().unwrap_or(3)),
        );
    }
    Ok(Some(Value::Object(h)))
}

fn update_config(v: Option<&Value>, default_failure: &str) -> Result<Value> {
    let m = v.and_then(Value::as_object).cloned().unwrap_or_default();
    let mut u = json!({
        "Parallelism": m.get("parallelism").map(|p| scalar(p).parse::<u64>().unwrap_or(1)).unwrap_or(1),
        "FailureAction": m.get("failure_action").map(scalar).unwrap_or_else(|| default_failure.to_string()),
        "Order": m.get("order").map(scalar).unwrap_or_else(|| "stop-first".into()),
        "Monitor": duration_ns(&m.get("monitor").map(scalar).unwrap_or_else(|| "5s".into()))?,
    });
    if let Some(d) = m.get("delay") {
        u["Delay"] = json!(duration_ns(&scalar(d))?);
    }
    if let Some(r) = m.get("max_failure_ratio") {
        u["MaxFailureRatio"] = json!(scalar(r).parse::<f64>().unwrap_or(0.0));
    }
    Ok(u)
}

/// The spec of compose service `name` (its JSON `svc`) in stack `stack`. `image` is what the
/// service runs (pinned by digest by the caller where it can be). `secrets`/`configs` map a
/// compose secret/config name to the swarm object's (id, name).
pub fn service_spec(
    stack: &str,
    name: &str,
    svc: &Value,
    image: &str,
    secrets: &[(String, String, String)],
    configs: &[(String, String, String)],
) -> Result<Value> {
    let deploy = svc.get("deploy").cloned().unwrap_or(Value::Null);
    let mut container = json!({
        "Image": image,
        "Labels": {NAMESPACE_LABEL: stack},
    });
    let c = container.as_object_mut().expect("object");
    if let Some(e) = svc.get("environment") {
        c.insert("Env".into(), json!(env_list(e)));
    }
    if let Some(cmd) = svc.get("command").filter(|v| !v.is_null()) {
        c.insert("Args".into(), json!(strings(cmd)));
    }
    if let Some(ep) = svc.get("entrypoint").filter(|v| !v.is_null()) {
        c.insert("Command".into(), json!(strings(ep)));
    }
    for (k, key) in [
        ("user", "User"),
        ("working_dir", "Dir"),
        ("hostname", "Hostname"),
    ] {
        if let Some(v) = svc.get(k).filter(|v| !v.is_null()) {
            c.insert(key.into(), json!(scalar(v)));
        }
    }
    // The runbook's `cap_drop: [ALL]` holds in a swarm too (ContainerSpec, API 1.41+).
    for (k, key) in [("cap_add", "CapabilityAdd"), ("cap_drop", "CapabilityDrop")] {
        if let Some(v) = svc.get(k).filter(|v| !v.is_null()) {
            c.insert(key.into(), json!(strings(v)));
        }
    }
    if let Some(l) = svc.get("labels") {
        let mut all = labels(l);
        all.insert(NAMESPACE_LABEL.into(), json!(stack));
        c.insert("Labels".into(), Value::Object(all));
    }
    if let Some(h) = svc.get("healthcheck")
        && let Some(h) = healthcheck(h)?
    {
        c.insert("HealthCheck".into(), h);
    }
    if let Some(g) = svc.get("stop_grace_period") {
        c.insert("StopGracePeriod".into(), json!(duration_ns(&scalar(g))?));
    }
    let mut mounts = vec![];
    for v in svc
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let (src, dst, ro) = match v {
            Value::Object(m) => (
                m.get("source").map(scalar).unwrap_or_default(),
                m.get("target").map(scalar).unwrap_or_default(),
                m.get("read_only").and_then(Value::as_bool).unwrap_or(false),
            ),
            other => {
                let s = scalar(other);
                let p: Vec<&str> = s.split(':').collect();
                match p.as_slice() {
                    [d] => (String::new(), d.to_string(), false),
                    [s, d] => (s.to_string(), d.to_string(), false),
                    [s, d, mode] => (
                        s.to_string(),
                        d.to_string(),
                        mode.split(',').any(|m| m == "ro"),
                    ),
                    _ => return Err(Error::usage(format!("service {name}: volume `{s}`"))),
                }
            }
        };
        let kind = if src.starts_with('/') {
            "bind"
        } else {
            "volume"
        };
        let source = if kind == "volume" && !src.is_empty() {
            format!("{stack}_{src}")
        } else {
            src
        };
        mounts.push(json!({"Type": kind, "Source": source, "Target": dst, "ReadOnly": ro}));
    }
    if !mounts.is_empty() {
        c.insert("Mounts".into(), json!(mounts));
    }
    let refs = |key: &str, objs: &[(String, String, String)]| -> Result<Vec<Value>> {
        let mut out = vec![];
        for r in svc.get(key).and_then(Value::as_array).into_iter().flatten() {
            let (source, target) = match r {
                Value::Object(m) => (
                    m.get("source").map(scalar).unwrap_or_default(),
                    m.get("target").map(scalar),
                ),
                other => (scalar(other), None),
            };
            let (_, id, obj_name) =
                objs.iter().find(|(n, _, _)| *n == source).ok_or_else(|| {
                    Error::usage(format!(
                        "service {name} uses {key} `{source}`, which the file does not define"
                    ))
                })?;
            let target = target.unwrap_or_else(|| {
                if key == "secrets" {
                    source.clone()
                } else {
                    format!("/{source}")
                }
            });
            let file = json!({"Name": target, "UID": "0", "GID": "0", "Mode": 0o444});
            let id_key = if key == "secrets" {
                "SecretID"
            } else {
                "ConfigID"
            };
            let name_key = if key == "secrets" {
                "SecretName"
            } else {
                "ConfigName"
            };
            out.push(json!({"File": file, id_key: id, name_key: obj_name}));
        }
        Ok(out)
    };
    let s = refs("secrets", secrets)?;
    if !s.is_empty() {
        c.insert("Secrets".into(), json!(s));
    }
    let cf = refs("configs", configs)?;
    if !cf.is_empty() {
        c.insert("Configs".into(), json!(cf));
    }

    let mut task = json!({
        "ContainerSpec": container,
        "Networks": [{"Target": format!("{stack}_default"), "Aliases": [name]}],
    });
    if let Some(cons) = deploy
        .pointer("/placement/constraints")
        .and_then(Value::as_array)
    {
        task["Placement"] = json!({"Constraints": cons.iter().map(scalar).collect::<Vec<_>>()});
    }
    if let Some(lim) = deploy
        .pointer("/resources/limits")
        .and_then(Value::as_object)
    {
        let mut l = serde_json::Map::new();
        if let Some(c) = lim.get("cpus") {
            let cpus: f64 = scalar(c).parse().map_err(|_| {
                Error::usage(format!(
                    "service {name}: deploy.resources.limits.cpus `{}` is not a number",
                    scalar(c)
                ))
            })?;
            l.insert("NanoCPUs".into(), json!((cpus * 1e9) as i64));
        }
        if let Some(m) = lim.get("memory") {
            l.insert(
                "MemoryBytes".into(),
                json!(bytes(&scalar(m)).ok_or_else(|| {
                    Error::usage(format!(
                        "service {name}: memory `{}` is not a size like 512M",
                        scalar(m)
                    ))
                })?),
            );
        }
        task["Resources"] = json!({"Limits": l});
    }
    if let Some(r) = svc.get("restart").map(scalar) {
        let cond = match r.as_str() {
            "no" => "none",
            "on-failure" => "on-failure",
            _ => "any",
        };
        task["RestartPolicy"] = json!({"Condition": cond});
    }
    let mode = match deploy.get("mode").map(scalar).as_deref() {
        Some("global") => json!({"Global": {}}),
        _ => {
            let n = deploy
                .get("replicas")
                .map(|r| scalar(r).parse::<u64>())
                .transpose()
                .map_err(|_| {
                    Error::usage(format!("service {name}: deploy.replicas is not a number"))
                })?;
            json!({"Replicated": {"Replicas": n.unwrap_or(1)}})
        }
    };
    let mut svc_labels = deploy.get("labels").map(labels).unwrap_or_default();
    svc_labels.insert(NAMESPACE_LABEL.into(), json!(stack));
    let mut spec = json!({
        "Name": format!("{stack}_{name}"),
        "Labels": svc_labels,
        "TaskTemplate": task,
        "Mode": mode,
        // A failed update goes back to the spec that ran (hoist's default; compose may say).
        "UpdateConfig": update_config(deploy.get("update_config"), "rollback")?,
        "RollbackConfig": update_config(deploy.get("rollback_config"), "pause")?,
    });
    let ports: Vec<Value> = svc
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| port(p, name))
        .collect::<Result<_>>()?;
    if !ports.is_empty() {
        spec["EndpointSpec"] = json!({"Mode": "vip", "Ports": ports});
    }
    Ok(spec)
}

/// `512M`, `1g`, `1024` → bytes.
fn bytes(s: &str) -> Option<i64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('b');
    let (n, mul) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1i64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    n.parse::<f64>().ok().map(|v| (v * mul as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration_ns("1m30s").unwrap(), 90_000_000_000);
        assert_eq!(duration_ns("500ms").unwrap(), 500_000_000);
        assert_eq!(duration_ns("10").unwrap(), 10_000_000_000);
        assert!(duration_ns("soon").is_err());
    }

    #[test]
    fn a_compose_service_becomes_a_service_spec() {
        let svc = json!({
            "image": "reg/app:1",
            "command": "httpd -f -p 8080",
            "environment": {"A": "1", "UNSET": null},
            "ports": [{"target": 8080, "published": "18080", "mode": "host"}, "9000:90/udp"],
            "healthcheck": {"test": ["CMD", "true"], "interval": "1s", "retries": 2},
            "secrets": ["db_password"],
            "deploy": {"replicas": 2, "placement": {"constraints": ["node.role==worker"]},
                       "resources": {"limits": {"cpus": "0.5", "memory": "64M"}},
                       "update_config": {"parallelism": 1, "delay": "2s"}},
        });
        let secrets = vec![(
            "db_password".to_string(),
            "ID1".to_string(),
            "nw_db_password_ab12".to_string(),
        )];
        let s = service_spec("nw", "web", &svc, "reg/app@sha256:x", &secrets, &[]).unwrap();
        assert_eq!(s["Name"], "nw_web");
        assert_eq!(s["Labels"][NAMESPACE_LABEL], "nw");
        let c = &s["TaskTemplate"]["ContainerSpec"];
        assert_eq!(c["Image"], "reg/app@sha256:x");
        assert_eq!(c["Args"], json!(["httpd", "-f", "-p", "8080"]));
        assert_eq!(c["Env"], json!(["A=1"]));
        assert_eq!(c["HealthCheck"]["Interval"], 1_000_000_000i64);
        assert_eq!(c["Secrets"][0]["SecretName"], "nw_db_password_ab12");
        assert_eq!(c["Secrets"][0]["File"]["Name"], "db_password");
        assert_eq!(s["Mode"]["Replicated"]["Replicas"], 2);
        assert_eq!(s["TaskTemplate"]["Networks"][0]["Target"], "nw_default");
        assert_eq!(
            s["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"],
            64 << 20
        );
        assert_eq!(s["UpdateConfig"]["FailureAction"], "rollback");
        assert_eq!(s["UpdateConfig"]["Delay"], 2_000_000_000i64);
        let ports = s["EndpointSpec"]["Ports"].as_array().unwrap();
        assert_eq!(
            ports[0],
            json!({"TargetPort": 8080, "PublishedPort": 18080, "Protocol": "tcp", "PublishMode": "host"})
        );
        assert_eq!(ports[1]["Protocol"], "udp");
        let bad = json!({"image": "x", "secrets": ["nope"]});
        assert!(
            service_spec("nw", "web", &bad, "x", &[], &[])
                .unwrap_err()
                .message
                .contains("nope")
        );
    }
}
