//! `h.proxy(opts)`: the host's front proxy (Caddy, `crate::proxy`) for scripts — argument
//! conversion only.

use rhai::Dynamic;

use crate::host::Host;
use crate::proxy::{Proxy, ProxyLogOpts, ProxyOptions, Route, RouteOpts, Tls};
use crate::script::bind::Bind;
use crate::script::convert::to_dynamic;
use crate::script::errors::to_rhai;

pub fn register(b: &mut Bind) {
    b.printed_as_debug::<Proxy>("p", "Proxy(hoist-proxy on HOST)");
    let rt = b.st.rt.clone();
    b.method0_optional_opts(
        "proxy",
        &["h"],
        "The host's front proxy: Caddy in container hoist-proxy on network hoist-proxy, listening on the host's\n\
         opts.http_port (80) and opts.https_port (443); opts.image: any image with Caddy >= 2.6 and wget (default caddy:2).\n\
         Driven only through Caddy's admin API over hoist's SSH connection (docker exec); nothing starts until p.ensure().",
        move |h: Host, o: ProxyOptions| {
            let rt = rt.clone();
            async move {
                let d = rt.docker(&h).await?;
                Ok::<_, crate::error::Error>(Proxy::new(&h, d, o))
            }
        },
    );
    b.method0(
        "ensure",
        &["p"],
        "Start the proxy where it is missing or stopped (network, volumes, container; the image pulled if the host lacks it).\n\
         Its config is saved by Caddy and resumed on every start. True when something changed.",
        |p: Proxy| async move { p.ensure().await },
    );
    b.method1_required_opts(
        "route",
        &["p", "app"],
        "Route opts.domain (comma-separated names) and opts.path (a prefix; none: every path) to opts.upstream\n\
         (CONTAINER:PORT on the proxy network) for `app`, replacing its route; opts.tls: \"auto\" or \"internal\".\n\
         Only the upstream changed: switched in place, atomically. A dry run shows the change as a diff of Caddy's config.",
        |p: Proxy, app: String, o: RouteOpts| async move {
            let tls = Tls::parse(o.tls.as_deref().unwrap_or(""))?;
            let r = Route::new(&app, &crate::proxy::route::domains(&o.domain), o.path.as_deref(), &o.upstream, tls)?;
            p.set_route(&r).await
        },
    );
    b.method1(
        "unroute",
        &["p", "app"],
        "Remove the route of `app`; false when it had none.",
        |p: Proxy, app: String| async move { p.remove_route(&app).await },
    );
    b.method2(
        "switch",
        &["p", "app", "upstream"],
        "Point the route of `app` at `upstream` (CONTAINER:PORT), atomically: requests in flight finish where they are.",
        |p: Proxy, app: String, upstream: String| async move { p.switch(&app, &upstream).await },
    );
    b.method2(
        "maintenance",
        &["p", "app", "message"],
        "Maintenance mode: `app`'s names answer 503 with a page showing `message` (escaped) while work is done by hand;\n\
         its route and live release stay (a release goes on behind the page). False when it already showed that message.",
        |p: Proxy, app: String, message: String| async move { p.maintenance(&app, &message).await },
    );
    b.method1(
        "live",
        &["p", "app"],
        "End maintenance mode: `app`'s names reach its live release again. False when it was live.",
        |p: Proxy, app: String| async move { p.live(&app).await },
    );
    b.method0(
        "routes",
        &["p"],
        "The routes: maps #{app, domains, path, upstream, tls}.",
        |p: Proxy| async move {
            let r = p.routes().await.map_err(to_rhai)?;
            crate::script::convert::rows(&r)
        },
    );
    b.method0(
        "config",
        &["p"],
        "Caddy's whole config, as its admin API gives it.",
        |p: Proxy| async move {
            let c = p.config().await.map_err(to_rhai)?;
            to_dynamic(&c)
        },
    );
    b.method0(
        "status",
        &["p"],
        "#{state, image, routes, upstreams}: the container's state (\"absent\" when there is none), its image,\n\
         its routes and Caddy's upstreams (address, num_requests, fails).",
        |p: Proxy| async move {
            let s = p.status().await.map_err(to_rhai)?;
            to_dynamic(&s)
        },
    );
    b.method0_optional_opts(
        "logs",
        &["p"],
        "The proxy's last log lines (opts.tail, default 100).",
        |p: Proxy, o: ProxyLogOpts| async move { p.logs(o.tail.unwrap_or(100)).await },
    );
    b.method0(
        "reboot",
        &["p"],
        "Restart the proxy (a new container when h.proxy was given another image) and check that it came back\n\
         with the routes it had. Returns its routes.",
        |p: Proxy| async move {
            let r = p.reboot().await.map_err(to_rhai)?;
            crate::script::convert::rows(&r).map(Dynamic::from)
        },
    );
}
