//! A real nginx (Debian's nginx-light, in the fleet image) in front of a blue/green app on a
//! fleet host: its own instance with its own configuration in DIR, listening on 127.0.0.1:PORT
//! and passing every request to the upstream named after the app, which `bluegreen` renders
//! into `DIR/upstream.conf` (its default template) and makes nginx read with `reload_cmd()`.
//! Started and stopped through the host (`docker exec`), independent of the code under test.

use super::fleet::FleetHost;

pub struct Proxy<'a> {
    pub h: &'a FleetHost,
    /// Directory on the host holding nginx.conf, upstream.conf, the pid file and logs.
    pub dir: String,
    pub port: u16,
}

impl<'a> Proxy<'a> {
    /// Start nginx on `h` for `app`. Until `bluegreen` writes the upstream, it points at a
    /// closed port (requests get 502).
    pub fn start(h: &'a FleetHost, app: &str, port: u16) -> Proxy<'a> {
        let dir = format!("/tmp/nginx-{app}");
        let conf = format!(
            "daemon on;\nuser root;\nworker_processes 1;\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\n\
             events {{ worker_connections 512; }}\n\
             http {{\n  access_log off;\n\
               client_body_temp_path {dir}/tmp/body;\n  proxy_temp_path {dir}/tmp/proxy;\n\
               fastcgi_temp_path {dir}/tmp/fastcgi;\n  uwsgi_temp_path {dir}/tmp/uwsgi;\n  scgi_temp_path {dir}/tmp/scgi;\n\
               include {dir}/upstream.conf;\n\
               server {{\n    listen 127.0.0.1:{port};\n    location / {{ proxy_pass http://{app}; }}\n  }}\n}}\n"
        );
        h.sh_ok(&format!(
            "command -v nginx >/dev/null || {{ echo 'nginx is missing on {host}: the fleet image has nginx-light (scripts/fleet FLEET_PACKAGES); run scripts/fleet down && scripts/fleet up 4 to rebuild it' >&2; exit 1; }}; \
             mkdir -p {dir}/tmp && cat > {dir}/nginx.conf <<'EOF'\n{conf}EOF\n\
             echo 'upstream {app} {{ server 127.0.0.1:1; }}' > {dir}/upstream.conf && nginx -c {dir}/nginx.conf",
            host = h.name
        ));
        Proxy { h, dir, port }
    }

    /// The file `bluegreen --proxy-conf` writes.
    pub fn upstream_conf(&self) -> String {
        format!("{}/upstream.conf", self.dir)
    }

    /// The command `bluegreen --reload` runs: a graceful reload (new workers take new
    /// connections, old ones finish theirs).
    pub fn reload_cmd(&self) -> String {
        format!("nginx -c {}/nginx.conf -s reload", self.dir)
    }

    /// The URL of a page through the proxy, on the host.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy<'_> {
    fn drop(&mut self) {
        self.h.sh(&format!(
            "nginx -c {d}/nginx.conf -s stop 2>/dev/null; sleep 0.3; rm -rf {d}",
            d = self.dir
        ));
    }
}
