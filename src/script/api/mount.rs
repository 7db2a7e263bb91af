//! `h.mount()`, `h.umount()`, `h.mounts()`, `h.is_mounted()`, `h.mount_plan()`,
//! `h.check_traversable()`: argument conversion only; the work is in `crate::mount`.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use crate::host::Host;
use crate::mount::{self, Credentials, MountSpec, MountType};
use crate::script::bind::Bind;
use crate::script::convert::{self, options};
use crate::script::errors::{RhaiResult, lift, usage};
use crate::script::options::{serde_options, type_of};
use crate::script::register::{label, with_info};
use crate::script::state::ScriptState;
use crate::sensitive::Sensitive;

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
    #[serde(default)]
    credentials: Option<CredentialOpts>,
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
    /// Only a secret (`secret_env("SMB_PW")`): it goes to a 0600 file, never argv.
    #[serde(default)]
    password: Option<Sensitive>,
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

serde_options!(UmountOpts, MountOpts);

fn spec_from(map: Map) -> RhaiResult<MountSpec> {
    let o: MountOpts = options(Some(map), "h.mount()")?;
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
    if let Some(co) = o.credentials {
        let Some(password) = co.password else {
            return usage("h.mount(): credentials need a password: secret(..) or secret_env(..)");
        };
        if co.username.is_empty() {
            return usage("h.mount(): credentials need a username");
        }
        spec.credentials = Some(Credentials {
            username: co.username,
            password: password.0,
            domain: co.domain,
            file: co.file,
        });
    }
    Ok(spec)
}

/// The receiver of `h.mount(spec)`, typed as the engine names `Host`.
fn host_param(engine: &Engine) -> String {
    format!("h: {}", label(engine, std::any::type_name::<Host>()))
}

pub fn register(engine: &mut Engine, st: &Arc<ScriptState>) {
    let spec_params = [
        host_param(engine),
        format!("spec: {}", type_of::<MountOpts>()),
    ];
    let s = st.clone();
    with_info(
        engine,
        "mount",
        spec_params.to_vec(),
        "Mount a spec: type \"bind\" | \"tmpfs\" | \"sshfs\" | \"cifs\" | \"nfs\"; options \"ro,noexec\" or an array;\n\
         credentials: #{username, password: a secret, domain, file};\n\
         true if anything changed (already mounted with the same source and options: nothing is done).\n\
         CIFS credentials go to a 0600 file, never argv. persist keeps one fstab line for the target (backup: <fstab>.hoist.bak).",
        move |h: &mut Host, m: Map| -> RhaiResult<bool> {
            let spec = spec_from(m)?;
            lift(s.rt.block_on(h.mount(&spec)))
        },
    );
    with_info(
        engine,
        "mount_plan",
        spec_params.to_vec(),
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
    let mut b = Bind::new(engine, st);
    b.method1_opts(
        "umount",
        &["h", "target"],
        "Unmount target; false when nothing was mounted there.",
        |h: Host, target: String, o: UmountOpts| async move { h.umount(&target, o.sudo).await },
    );
    b.method0(
        "mounts",
        &["h"],
        "What is mounted: [#{target, source, fstype, options}] (from /proc/self/mountinfo).",
        |h: Host| async move { convert::rows(&lift(h.mounts().await)?) },
    );
    b.method1(
        "is_mounted",
        &["h", "target"],
        "Is something mounted at target?",
        |h: Host, target: String| async move { h.is_mounted(&target).await },
    );
    let doc = "Every directory from / down to path that user cannot enter (no x bit for them):\n\
               [#{path, mode, owner, group, needs: \"o+x\"|\"g+x\"|\"u+x\"}]. Without user: any user (the others' bits).";
    b.method1(
        "check_traversable",
        &["h", "path"],
        doc,
        |h: Host, p: String| async move {
            convert::rows(&lift(mount::check_traversable(&h, &p, None).await)?)
        },
    );
    b.method2(
        "check_traversable",
        &["h", "path", "user"],
        doc,
        |h: Host, p: String, u: String| async move {
            convert::rows(&lift(mount::check_traversable(&h, &p, Some(&u)).await)?)
        },
    );
}
