//! `h.systemd(unit)`, `h.git(dir)`, `wait_http(url)`.

use std::sync::Arc;

use rhai::{Engine, Map};

use crate::host::Host;
use crate::script::convert::options;
use crate::script::errors::{RhaiResult, lift};
use crate::script::register::func;
use crate::script::state::ScriptState;
use crate::stdlib::git::{CloneOpts, Repo};
use crate::stdlib::health::{WaitHttpOpts, wait_http};
use crate::stdlib::systemd::{InstallOpts, JournalOpts, Service, ServiceOpts};

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    engine.register_get("unit", |s: &mut Service| s.unit.clone());
    engine.register_get("dir", |r: &mut Repo| r.dir.clone());

    func(
        engine,
        "systemd",
        ["h", "unit"],
        "A systemd unit on the host: .start() .stop() .restart() .enable() .disable() .mask() .unmask() .active() .install(text, [#{mode}]) .journal(#{since, lines, follow}).\nA name that is not a unit name (\"../x\", no .service suffix) is refused.",
        |h: &mut Host, unit: &str| -> RhaiResult<Service> {
            lift(Service::new(h.clone(), unit, ServiceOpts::default()))
        },
    );
    func(
        engine,
        "systemd",
        ["h", "unit", "opts"],
        "A systemd unit; opts #{sudo, user}.",
        |h: &mut Host, unit: &str, opts: Map| -> RhaiResult<Service> {
            lift(Service::new(
                h.clone(),
                unit,
                options(Some(opts), "h.systemd()")?,
            ))
        },
    );
    for (name, doc) in [
        ("start", "Start the unit."),
        ("stop", "Stop the unit."),
        ("restart", "Restart the unit."),
    ] {
        let s = st.clone();
        func(
            engine,
            name,
            ["s"],
            doc,
            move |svc: &mut Service| -> RhaiResult<()> {
                lift(s.rt.block_on(async {
                    match name {
                        "start" => svc.start().await,
                        "stop" => svc.stop().await,
                        _ => svc.restart().await,
                    }
                }))
            },
        );
    }
    let s = st.clone();
    func(
        engine,
        "active",
        ["s"],
        "Is the unit active?",
        move |svc: &mut Service| lift(s.rt.block_on(svc.active())),
    );
    for (name, doc) in [
        (
            "enable",
            "Enable the unit at boot; true if it was not enabled.",
        ),
        (
            "disable",
            "Disable the unit at boot; true if it was enabled.",
        ),
        (
            "mask",
            "Mask the unit (it cannot be started); true if it was not masked.",
        ),
        ("unmask", "Unmask the unit; true if it was masked."),
    ] {
        let s = st.clone();
        func(
            engine,
            name,
            ["s"],
            doc,
            move |svc: &mut Service| -> RhaiResult<bool> {
                lift(s.rt.block_on(async {
                    match name {
                        "enable" => svc.enable().await,
                        "disable" => svc.disable().await,
                        "mask" => svc.mask().await,
                        _ => svc.unmask().await,
                    }
                }))
            },
        );
    }
    let s = st.clone();
    func(
        engine,
        "install",
        ["s", "unit_text"],
        "Write the unit file atomically (mode 0644); daemon-reload only if it changed; true if changed.",
        move |svc: &mut Service, text: &str| {
            lift(s.rt.block_on(svc.install(text, &InstallOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "install",
        ["s", "unit_text", "opts"],
        "install() with #{mode}: the mode is part of the desired state, so a re-run changes nothing.",
        move |svc: &mut Service, text: &str, opts: Map| -> RhaiResult<bool> {
            let o: InstallOpts = options(Some(opts), "s.install()")?;
            lift(s.rt.block_on(svc.install(text, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "journal",
        ["s", "opts"],
        "The unit's journal; opts #{since: \"1 hour ago\", lines, follow: true (stream until Ctrl-C)}.",
        move |svc: &mut Service, opts: Map| -> RhaiResult<String> {
            let o: JournalOpts = options(Some(opts), "s.journal()")?;
            lift(s.rt.block_on(svc.journal(&o)))
        },
    );

    func(
        engine,
        "git",
        ["h", "dir"],
        "A git checkout on the host: .clone(url, [#{branch}]) .pull() .head() .checkout(ref) .dirty().",
        |h: &mut Host, dir: &str| Repo::new(h.clone(), dir),
    );
    let s = st.clone();
    func(
        engine,
        "clone",
        ["r", "url"],
        "Clone url into the directory unless a checkout is there; true if cloned.",
        move |r: &mut Repo, url: &str| {
            lift(s.rt.block_on(r.clone_repo(url, &CloneOpts::default())))
        },
    );
    let s = st.clone();
    func(
        engine,
        "clone",
        ["r", "url", "opts"],
        "Clone with #{branch}.",
        move |r: &mut Repo, url: &str, opts: Map| -> RhaiResult<bool> {
            let o: CloneOpts = options(Some(opts), "r.clone()")?;
            lift(s.rt.block_on(r.clone_repo(url, &o)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "pull",
        ["r"],
        "git pull --ff-only; true if HEAD moved.",
        move |r: &mut Repo| lift(s.rt.block_on(r.pull())),
    );
    let s = st.clone();
    func(
        engine,
        "head",
        ["r"],
        "The commit HEAD points at.",
        move |r: &mut Repo| lift(s.rt.block_on(r.head())),
    );
    let s = st.clone();
    func(
        engine,
        "checkout",
        ["r", "reference"],
        "git checkout a branch, tag or commit.",
        move |r: &mut Repo, reference: &str| lift(s.rt.block_on(r.checkout(reference))),
    );
    let s = st.clone();
    func(
        engine,
        "dirty",
        ["r"],
        "Uncommitted changes in the checkout?",
        move |r: &mut Repo| lift(s.rt.block_on(r.dirty())),
    );

    for with_opts in [false, true] {
        let s = st.clone();
        let doc = "Poll an URL until it answers 2xx (or opts.status) and contains opts.contains; opts #{timeout (s, 30), status, contains, interval}. Throws after the timeout with what it saw last.";
        if with_opts {
            func(
                engine,
                "wait_http",
                ["url", "opts"],
                doc,
                move |url: &str, opts: Map| -> RhaiResult<bool> {
                    let o: WaitHttpOpts = options(Some(opts), "wait_http()")?;
                    lift(s.rt.block_on(wait_http(url, &o, &s.rt.services.cancel_token())))
                        .map(|_| true)
                },
            );
        } else {
            func(
                engine,
                "wait_http",
                ["url"],
                doc,
                move |url: &str| -> RhaiResult<bool> {
                    lift(s.rt.block_on(wait_http(
                        url,
                        &WaitHttpOpts::default(),
                        &s.rt.services.cancel_token(),
                    )))
                    .map(|_| true)
                },
            );
        }
    }
}
