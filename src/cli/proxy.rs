//! `hoist proxy status|logs|reboot|maintenance|live`: the front proxy (Caddy) of every host of
//! the environment.

use std::sync::Arc;

use serde_json::{Value, json};

use super::args::{ProxyAction, ProxyTarget};
use crate::error::Result;
use crate::host::Host;
use crate::present::table;
use crate::proxy::{Proxy, ProxyOptions};
use crate::runtime::Runtime;

pub fn run(rt: &Arc<Runtime>, action: &ProxyAction) -> Result<Value> {
    let target = match action {
        ProxyAction::Status(t) | ProxyAction::Reboot(t) => t,
        ProxyAction::Logs { target, .. }
        | ProxyAction::Maintenance { target, .. }
        | ProxyAction::Live { target, .. } => target,
    };
    let group = (!target.group.is_empty()).then_some(target.group.as_str());
    let hosts = rt.group(group)?;
    // Every host answers for itself: one that cannot be reached still gets its row.
    let rows = rt.block_on(futures_util::future::join_all(hosts.iter().map(
        |h| async move {
            let p = match proxy_of(rt, h, target).await {
                Ok(p) => p,
                Err(e) => return vec![unreachable(h, &e.message)],
            };
            match action {
                ProxyAction::Status(_) => match p.status().await {
                    Ok(s) => status_rows(h, &s),
                    Err(e) => vec![unreachable(h, &e.message)],
                },
                ProxyAction::Logs { tail, .. } => match p.logs(*tail).await {
                    Ok(text) => vec![json!({"host": h.name(), "logs": text.trim_end()})],
                    Err(e) => vec![unreachable(h, &e.message)],
                },
                ProxyAction::Reboot(_) => match p.reboot().await {
                    Ok(routes) => vec![json!({
                        "host": h.name(),
                        "state": "rebooted",
                        "routes": routes.iter().map(|r| r.describe()).collect::<Vec<_>>().join("; "),
                    })],
                    Err(e) => vec![unreachable(h, &e.message)],
                },
                ProxyAction::Maintenance { app, message, .. } => {
                    let message = message
                        .clone()
                        .unwrap_or_else(|| crate::proxy::maintenance::default_message(app));
                    mode_row(h, app, "maintenance", p.maintenance(app, &message).await)
                }
                ProxyAction::Live { app, .. } => mode_row(h, app, "live", p.live(app).await),
            }
        },
    )));
    let rows: Vec<Value> = rows.into_iter().flatten().collect();
    if rows
        .iter()
        .any(|r| r["state"] == "unreachable" || r["state"] == "failed")
    {
        // Exit 1 after the table, as `status` does for a host it could not read.
        println!(
            "{}",
            table::render_value_within(&Value::Array(rows.clone()), table::stdout_columns())
        );
        return Err(crate::error::Error::failed(
            "the proxy of some hosts could not be read or managed (see their rows)",
        ));
    }
    Ok(Value::Array(rows))
}

/// The host's proxy as its vars describe it (`proxy_image`, `proxy_http_port`,
/// `proxy_https_port`), --proxy-image first.
async fn proxy_of(rt: &Arc<Runtime>, h: &Host, t: &ProxyTarget) -> Result<Proxy> {
    let vars = rt.scoped_vars(h);
    let port = |k: &str, d: u16| {
        vars.get(k)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
            .and_then(|n| u16::try_from(n).ok())
            .unwrap_or(d)
    };
    let opts = ProxyOptions {
        image: t.proxy_image.clone().or_else(|| {
            vars.get("proxy_image")
                .and_then(|v| v.as_str().map(str::to_string))
        }),
        http_port: port("proxy_http_port", 80),
        https_port: port("proxy_https_port", 443),
    };
    let d = rt.docker(h).await?;
    Ok(Proxy::new(h, d, opts))
}

/// A host's row after a maintenance switch: the app's mode now, and whether it changed.
fn mode_row(h: &Host, app: &str, mode: &str, done: Result<bool>) -> Vec<Value> {
    match done {
        Ok(changed) => vec![json!({
            "host": h.name(), "state": "running", "app": app, "mode": mode,
            "changed": changed,
        })],
        Err(e) => vec![unreachable(h, &e.message)],
    }
}

fn unreachable(h: &Host, why: &str) -> Value {
    json!({"host": h.name(), "state": "failed", "note": why})
}

fn status_rows(h: &Host, s: &crate::proxy::Status) -> Vec<Value> {
    let flight = |up: &str| {
        s.upstreams
            .as_array()
            .and_then(|l| l.iter().find(|u| u["address"].as_str() == Some(up)))
            .map(|u| u["num_requests"].as_u64().unwrap_or(0).to_string())
            .unwrap_or_default()
    };
    if s.routes.is_empty() {
        return vec![json!({
            "host": h.name(), "state": s.state, "image": s.image,
            "app": "", "domains": "", "upstream": "", "mode": "", "in_flight": "",
        })];
    }
    s.routes
        .iter()
        .map(|r| {
            json!({
                "host": h.name(), "state": s.state, "image": s.image,
                "app": r.app,
                "domains": format!("{}{}", r.domains.join(","), r.path.as_deref().unwrap_or("")),
                "upstream": r.upstream,
                "mode": if r.maintenance.is_some() { "maintenance" } else { "live" },
                "in_flight": flight(&r.upstream),
            })
        })
        .collect()
}
