//! `h.systemd(unit)`, `h.git(dir)`, `wait_http(url)`.

use crate::host::Host;
use crate::script::bind::Bind;
use crate::stdlib::git::{CloneOpts, Repo};
use crate::stdlib::health::{WaitHttpOpts, wait_http};
use crate::stdlib::systemd::{InstallOpts, JournalOpts, Service, ServiceOpts};

pub fn register(b: &mut Bind) {
    b.property(
        "unit",
        "s",
        "The systemd unit's name.",
        |s: &mut Service| s.unit.clone(),
    );
    b.property(
        "dir",
        "r",
        "The repository's directory on the host.",
        |r: &mut Repo| r.dir.clone(),
    );
    register_systemd(b);
    register_git(b);
    let s = b.st.clone();
    b.function1_optional_opts(
        "wait_http",
        &["url"],
        "Poll an URL until it answers 2xx (or status) and contains `contains`; timeout in s (default 30).\n\
         Throws after the timeout with what it saw last.",
        move |url: String, o: WaitHttpOpts| {
            let cancel = s.rt.services.cancel_token();
            async move { wait_http(&url, &o, &cancel).await.map(|_| true) }
        },
    );
}

fn register_systemd(b: &mut Bind) {
    b.method1_optional_opts(
        "systemd",
        &["h", "unit"],
        "A systemd unit on the host: .start() .stop() .restart() .enable() .disable() .mask() .unmask() .active() .install(text) .journal(opts).\n\
         user: the user's own units (systemctl --user). A name that is not a unit name (\"../x\", no .service suffix) is refused.",
        |h: Host, unit: String, o: ServiceOpts| async move { Service::new(h, &unit, o) },
    );
    // The unit's verbs: each one `systemctl` call of the Service, its doc its only difference.
    macro_rules! verbs {
        ($($name:literal => $method:ident: $doc:literal;)*) => {$(
            b.method0($name, &["s"], $doc, |svc: Service| async move { svc.$method().await });
        )*};
    }
    verbs! {
        "start" => start: "Start the unit.";
        "stop" => stop: "Stop the unit.";
        "restart" => restart: "Restart the unit.";
        "active" => active: "Is the unit active?";
        "enable" => enable: "Enable the unit at boot; true if it was not enabled.";
        "disable" => disable: "Disable the unit at boot; true if it was enabled.";
        "mask" => mask: "Mask the unit (it cannot be started); true if it was not masked.";
        "unmask" => unmask: "Unmask the unit; true if it was masked.";
    }
    b.method1_optional_opts(
        "install",
        &["s", "unit_text"],
        "Write the unit file atomically (mode 0644 unless `mode`: part of the desired state, so a re-run\n\
         changes nothing); daemon-reload only if it changed; true if changed.",
        |svc: Service, text: String, o: InstallOpts| async move { svc.install(&text, &o).await },
    );
    b.method0_required_opts(
        "journal",
        &["s"],
        "The unit's journal; since: \"1 hour ago\"; follow: stream until Ctrl-C.",
        |svc: Service, o: JournalOpts| async move { svc.journal(&o).await },
    );
}

fn register_git(b: &mut Bind) {
    b.method1(
        "git",
        &["h", "dir"],
        "A git checkout on the host: .clone(url) .pull() .head() .checkout(ref) .dirty().",
        |h: Host, dir: String| async move { Ok::<_, crate::error::Error>(Repo::new(h, &dir)) },
    );
    b.method1_optional_opts(
        "clone",
        &["r", "url"],
        "Clone url (its `branch`) into the directory unless a checkout is there; true if cloned.",
        |r: Repo, url: String, o: CloneOpts| async move { r.clone_repo(&url, &o).await },
    );
    b.method0(
        "pull",
        &["r"],
        "git pull --ff-only; true if HEAD moved.",
        |r: Repo| async move { r.pull().await },
    );
    b.method0(
        "head",
        &["r"],
        "The commit HEAD points at.",
        |r: Repo| async move { r.head().await },
    );
    b.method1(
        "checkout",
        &["r", "reference"],
        "git checkout a branch, tag or commit.",
        |r: Repo, reference: String| async move { r.checkout(&reference).await },
    );
    b.method0(
        "dirty",
        &["r"],
        "Uncommitted changes in the checkout?",
        |r: Repo| async move { r.dirty().await },
    );
}
