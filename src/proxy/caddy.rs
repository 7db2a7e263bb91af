//! Caddy's JSON config for a set of routes, and the routes read back from it. Pure: the
//! admin calls are admin.rs's. hoist owns the whole config of its proxy: two servers with the
//! same routes — `hoist-http` on :80 (plain HTTP, no redirect) and `hoist-https` on :443
//! (automatic HTTPS) — and one TLS policy naming the hosts served by Caddy's internal CA.
//! Each route carries an `@id` (`hoist-APP-http`, `hoist-APP-https`), so a cutover changes
//! one upstream in place (`POST /id/…/dial`) without rewriting the other apps' routes. An app
//! in maintenance mode has one more route just before its own (`hoist-APP-maintenance-…`):
//! the same match, answering 503 with the page of [`super::maintenance`].

use serde_json::{Value, json};

use super::maintenance;
use super::route::{Route, Tls};

pub const HTTP_SERVER: &str = "hoist-http";
pub const HTTPS_SERVER: &str = "hoist-https";

/// The `@id` of an app's route in one of the two servers.
pub fn route_id(app: &str, https: bool) -> String {
    format!("hoist-{app}-{}", if https { "https" } else { "http" })
}

/// The `@id` of the maintenance route of an app in one of the two servers.
fn maintenance_id(app: &str, https: bool) -> String {
    format!(
        "hoist-{app}-maintenance-{}",
        if https { "https" } else { "http" }
    )
}

/// The admin API path of the upstream address of an app's route.
pub fn dial_path(app: &str, https: bool) -> String {
    format!("/id/{}/handle/0/upstreams/0/dial", route_id(app, https))
}

/// The config serving `routes`: a longer path prefix first, then by app (Caddy tries routes
/// in order; host names of different apps do not overlap in practice, prefixes of one name do).
pub fn config(routes: &[Route]) -> Value {
    let mut sorted: Vec<&Route> = routes.iter().collect();
    sorted.sort_by(|a, b| {
        let len = |r: &Route| r.path.as_ref().map_or(0, |p| p.len());
        len(b).cmp(&len(a)).then(a.app.cmp(&b.app))
    });
    let server_routes = |https: bool| -> Vec<Value> {
        let mut out = Vec::new();
        for r in &sorted {
            let mut m = json!({"host": r.domains});
            if let Some(p) = &r.path {
                m["path"] = json!([p, format!("{p}/*")]);
            }
            if let Some(message) = &r.maintenance {
                out.push(json!({
                    "@id": maintenance_id(&r.app, https),
                    "match": [m.clone()],
                    "handle": [{
                        "handler": "static_response",
                        "status_code": 503,
                        "headers": {
                            "Content-Type": ["text/html; charset=utf-8"],
                            "Retry-After": ["120"],
                            "Cache-Control": ["no-store"],
                        },
                        "body": maintenance::page(message),
                    }],
                    "terminal": true,
                }));
            }
            out.push(json!({
                "@id": route_id(&r.app, https),
                "match": [m],
                "handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": r.upstream}]}],
                "terminal": true,
            }));
        }
        out
    };
    let mut internal: Vec<String> = Vec::new();
    for r in &sorted {
        for n in r.internal_names() {
            if !internal.contains(&n) {
                internal.push(n);
            }
        }
    }
    let mut apps = json!({
        "http": {"servers": {
            HTTP_SERVER: {"listen": [":80"], "routes": server_routes(false)},
            HTTPS_SERVER: {
                "listen": [":443"],
                "routes": server_routes(true),
                "automatic_https": {"disable_redirects": true},
            },
        }},
        // The internal CA's root is not installed into the container's trust store (it has
        // none to speak of, and Caddy would try on every start).
        "pki": {"certificate_authorities": {"local": {"install_trust": false}}},
    });
    if !internal.is_empty() {
        apps["tls"] = json!({"automation": {"policies": [
            {"subjects": internal, "issuers": [{"module": "internal"}]}
        ]}});
    }
    json!({"apps": apps})
}

/// The routes hoist wrote into `config` (read back from its HTTP server and TLS policy).
pub fn routes(config: &Value) -> Vec<Route> {
    let internal: Vec<String> = config
        .pointer("/apps/tls/automation/policies")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter(|p| {
                    p.pointer("/issuers/0/module").and_then(Value::as_str) == Some("internal")
                })
                .flat_map(|p| p["subjects"].as_array().cloned().unwrap_or_default())
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let Some(list) = config
        .pointer(&format!("/apps/http/servers/{HTTP_SERVER}/routes"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    // Maintenance routes come first; their messages, by app.
    let messages: Vec<(String, String)> = list
        .iter()
        .filter_map(|r| {
            let app = r["@id"]
                .as_str()?
                .strip_prefix("hoist-")?
                .strip_suffix("-maintenance-http")?;
            let body = r.pointer("/handle/0/body")?.as_str()?;
            Some((app.to_string(), maintenance::message_of(body)?))
        })
        .collect();
    list.iter()
        .filter_map(|r| {
            let id = r["@id"].as_str()?;
            if id.ends_with("-maintenance-http") {
                return None;
            }
            let app = id
                .strip_prefix("hoist-")?
                .strip_suffix("-http")?
                .to_string();
            let m = &r["match"][0];
            let domains: Vec<String> = m["host"]
                .as_array()?
                .iter()
                .filter_map(|d| d.as_str().map(str::to_string))
                .collect();
            let path = m["path"][0].as_str().map(str::to_string);
            let upstream = r
                .pointer("/handle/0/upstreams/0/dial")?
                .as_str()?
                .to_string();
            let maintenance = messages
                .iter()
                .find(|(a, _)| *a == app)
                .map(|(_, m)| m.clone());
            let mut route = Route {
                app,
                domains,
                path,
                upstream,
                tls: Tls::Auto,
                maintenance,
            };
            // A public name served by the internal CA was asked for so.
            if route
                .domains
                .iter()
                .any(|d| super::route::is_public(d) && internal.contains(d))
            {
                route.tls = Tls::Internal;
            }
            Some(route)
        })
        .collect()
}

/// Config as a plan shows it: pretty JSON, keys in a stable order.
pub fn pretty(config: &Value) -> String {
    let mut s = serde_json::to_string_pretty(&sorted(config)).expect("json");
    s.push('\n');
    s
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(app: &str, domain: &str, path: Option<&str>, up: &str, tls: Tls) -> Route {
        Route::new(app, &[domain.to_string()], path, up, tls).unwrap()
    }

    #[test]
    fn routes_go_into_both_servers_and_come_back_out() {
        let rs = vec![
            route("app1", "app1.test", None, "app1-web-1:8080", Tls::Auto),
            route("api", "app1.test", Some("/api"), "api-web-1:80", Tls::Auto),
            route(
                "pub",
                "pub.example.org",
                None,
                "pub-web-1:80",
                Tls::Internal,
            ),
            route("auto", "auto.example.org", None, "auto-web-1:80", Tls::Auto),
        ];
        let c = config(&rs);
        let http = &c["apps"]["http"]["servers"][HTTP_SERVER];
        assert_eq!(http["listen"], json!([":80"]));
        // The longer prefix first: /api of app1.test is not swallowed by app1's route.
        assert_eq!(http["routes"][0]["@id"], "hoist-api-http");
        assert_eq!(
            http["routes"][0]["match"][0]["path"],
            json!(["/api", "/api/*"])
        );
        assert_eq!(
            c["apps"]["http"]["servers"][HTTPS_SERVER]["routes"][1]["@id"],
            "hoist-app1-https"
        );
        assert_eq!(
            c["apps"]["tls"]["automation"]["policies"][0]["subjects"],
            json!(["app1.test", "pub.example.org"])
        );
        let mut back = routes(&c);
        back.sort_by(|a, b| a.app.cmp(&b.app));
        let mut want = rs.clone();
        want.sort_by(|a, b| a.app.cmp(&b.app));
        assert_eq!(back, want);
        assert_eq!(
            dial_path("app1", true),
            "/id/hoist-app1-https/handle/0/upstreams/0/dial"
        );
    }

    #[test]
    fn a_route_in_maintenance_answers_503_first_and_keeps_its_upstream() {
        let mut r = route("app1", "app1.test", None, "app1-web-1:8080", Tls::Auto);
        r.maintenance = Some("back at 5".into());
        let other = route("app2", "app2.test", None, "app2-web-1:80", Tls::Auto);
        let c = config(&[r.clone(), other.clone()]);
        let http = &c["apps"]["http"]["servers"][HTTP_SERVER]["routes"];
        assert_eq!(http[0]["@id"], "hoist-app1-maintenance-http");
        assert_eq!(http[0]["handle"][0]["status_code"], 503);
        assert_eq!(http[0]["match"], http[1]["match"]);
        assert_eq!(http[1]["@id"], "hoist-app1-http");
        assert_eq!(http[2]["@id"], "hoist-app2-http");
        assert_eq!(
            c["apps"]["http"]["servers"][HTTPS_SERVER]["routes"][0]["@id"],
            "hoist-app1-maintenance-https"
        );
        // The app's own route is where it was: a cutover switches its upstream in place.
        assert_eq!(
            c.pointer("/apps/http/servers/hoist-http/routes/1/handle/0/upstreams/0/dial"),
            Some(&json!("app1-web-1:8080"))
        );
        let mut back = routes(&c);
        back.sort_by(|a, b| a.app.cmp(&b.app));
        assert_eq!(back, vec![r, other]);
    }

    #[test]
    fn no_route_is_an_empty_pair_of_servers_and_no_tls_policy() {
        let c = config(&[]);
        assert!(c["apps"].get("tls").is_none());
        assert!(routes(&c).is_empty());
        assert!(routes(&json!({})).is_empty());
        assert!(pretty(&c).starts_with("{\n  \"apps\""));
    }
}
