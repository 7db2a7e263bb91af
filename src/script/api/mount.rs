//! `h.mount()`, `h.umount()`, `h.mounts()`, `h.is_mounted()`, `h.mount_plan()`,
//! `h.check_traversable()`: argument conversion only; the work is in `crate::mount`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::host::Host;
use crate::mount::{self, Credentials, MountSpec, MountType};
use crate::script::convert::{self, Text, options, take};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::register::func;
use crate::script::state::ScriptState;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MountOpts {
    #[serde(default, rename = "type")]
    kind: Option<MountType>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    target: Option<String>,
    /// "ro,noexec" or ["ro", "noexec"].
    #[serde(default)]
    options: Option<OptionList>,
    #[serde(default)]
    persist: bool,
    /// The fstab file `persist` keeps (default /etc/fstab).
    #[serde(default)]
    fstab: Option<String>,
    #[serde(default)]
    sudo: bool,
}

#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OptionList {
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialOpts {
    #[serde(default)]
    username: String,
    #[serde(default)]
    domain: Option<String>,
    /// Where the 0600 credentials file goes.
    #[serde(default)]
    file: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct UmountOpts {
    #[serde(default)]
    sudo: bool,
}

fn spec_from(map: Map) -> RhaiResult<MountSpec> {
    let mut map = Some(map);
    let creds = take(&mut map, "credentials");
    let o: MountOpts = options(map, "h.mount()")?;
    let Some(kind) = o.kind else {
        return usage(
            "h.mount(): `type` is required: \"bind\", \"tmpfs\", \"sshfs\", \"cifs\" or \"nfs\"",
        );
    };
    let Some(target) = o.target else {
        return usage("h.mount(): `target` is required");
    };
    let mut spec = MountSpec::new(kind, o.source.as_deref(), &target);
    spec.options = match o.options {
        None => Vec::new(),
        Some(OptionList::Text(t)) => t
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        Some(OptionList::List(l)) => l,
    };
    spec.persist = o.persist;
    spec.sudo = o.sudo;
    if let Some(f) = o.fstab {
        spec.fstab = f;
    }
    if let Some(c) = creds {
        let Some(mut cmap) = c.try_cast::<Map>() else {
            return usage(
                "h.mount(): credentials must be a map #{username, password, domain, file}",
            );
        };
        let Some(pw) = cmap.remove("password") else {
            return usage("h.mount(): credentials need a password (a string or secret(...))");
        };
        let password = match convert::text(pw, "credentials.password")? {
            Text::Plain(s) => crate::secret::Secret::new(s),
            Text::Secret(s) => s,
        };
        let co: CredentialOpts = options(Some(cmap), "h.mount() credentials")?;
        if co.username.is_empty() {
            return usage("h.mount(): credentials need a username");
        }
        spec.credentials = Some(Credentials {
            username: co.username,
            password,
            domain: co.domain,
            file: co.file,
        });
    }
    Ok(spec)
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    let s = st.clone();
    func(
        engine,
        "mount",
        "h: Host, spec: Map -> bool",
        "Mount #{type: \"bind\"|\"tmpfs\"|\"sshfs\"|\"cifs\"|\"nfs\", source, target, options, credentials: #{username, password, domain, file}, persist, fstab, sudo};\n\
         true if anything changed (already mounted with the same source and options: nothing is done).\n\
         CIFS credentials go to a 0600 file, never argv. persist keeps one fstab line for the target (backup: <fstab>.hoist.bak).",
        move |h: &mut Host, m: Map| -> RhaiResult<bool> {
            let spec = spec_from(m)?;
            lift(s.rt.block_on(h.mount(&spec)))
        },
    );
    func(
        engine,
        "mount_plan",
        "h: Host, spec: Map -> Map",
        "What h.mount(spec) would run, without running it: #{commands, fstab_line, credentials_file}.",
        move |_h: &mut Host, m: Map| -> RhaiResult<Map> {
            let spec = spec_from(m)?;
            let plan = lift(mount::plan(&spec))?;
            let mut out = Map::new();
            let cmds: Array = plan
                .commands()
                .iter()
                .map(|c| Dynamic::from(c.display()))
                .collect();
            out.insert("commands".into(), cmds.into());
            out.insert(
                "fstab_line".into(),
                plan.fstab_line.map(Dynamic::from).unwrap_or(Dynamic::UNIT),
            );
            out.insert(
                "credentials_file".into(),
                plan.credentials
                    .map(|c| Dynamic::from(c.path))
                    .unwrap_or(Dynamic::UNIT),
            );
            Ok(out)
        },
    );
    let doc = "Unmount target; false when nothing was mounted there. opts: #{sudo}.";
    let s = st.clone();
    func(
        engine,
        "umount",
        "h: Host, target: String -> bool",
        doc,
        move |h: &mut Host, t: &str| lift(s.rt.block_on(h.umount(t, false))),
    );
    let s = st.clone();
    func(
        engine,
        "umount",
        "h: Host, target: String, opts: Map -> bool",
        doc,
        move |h: &mut Host, t: &str, o: Map| -> RhaiResult<bool> {
            let o: UmountOpts = options(Some(o), "h.umount()")?;
            lift(s.rt.block_on(h.umount(t, o.sudo)))
        },
    );
    let s = st.clone();
    func(
        engine,
        "mounts",
        "h: Host -> Array",
        "What is mounted: [#{target, source, fstype, options}] (from /proc/self/mountinfo).",
        move |h: &mut Host| -> RhaiResult<Array> {
            let list = lift(s.rt.block_on(h.mounts()))?;
            list.iter().map(convert::to_dynamic).collect()
        },
    );
    let s = st.clone();
    func(
        engine,
        "is_mounted",
        "h: Host, target: String -> bool",
        "Is something mounted at target?",
        move |h: &mut Host, t: &str| lift(s.rt.block_on(h.is_mounted(t))),
    );
    let doc = "Every directory from / down to path that user cannot enter (no x bit for them):\n\
               [#{path, mode, owner, group, needs: \"o+x\"|\"g+x\"|\"u+x\"}]. Without user: any user (the others' bits).";
    let s = st.clone();
    func(
        engine,
        "check_traversable",
        "h: Host, path: String -> Array",
        doc,
        move |h: &mut Host, p: &str| -> RhaiResult<Array> {
            let list = lift(s.rt.block_on(mount::check_traversable(h, p, None)))?;
            list.iter().map(convert::to_dynamic).collect()
        },
    );
    let s = st.clone();
    func(
        engine,
        "check_traversable",
        "h: Host, path: String, user: String -> Array",
        doc,
        move |h: &mut Host, p: &str, u: &str| -> RhaiResult<Array> {
            let list = lift(s.rt.block_on(mount::check_traversable(h, p, Some(u))))?;
            list.iter().map(convert::to_dynamic).collect()
        },
    );
}
