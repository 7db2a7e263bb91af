//! `h.mount()`, `h.umount()`, `h.mounts()`, `h.is_mounted()`, `h.mount_plan()`,
//! `h.check_traversable()`: argument conversion only; the work is in `crate::mount`.

use rhai::{Array, Dynamic, Map};

use crate::host::Host;
use crate::mount::{self, MountOptions, UmountOptions};
use crate::script::bind::Bind;
use crate::script::convert;
use crate::script::errors::lift;

pub fn register(b: &mut Bind) {
    b.method0_required_opts(
        "mount",
        &["h"],
        "Mount a spec: type \"bind\" | \"tmpfs\" | \"sshfs\" | \"cifs\" | \"nfs\"; options \"ro,noexec\" or an array;\n\
         credentials: #{username, password: a secret, domain, file};\n\
         true if anything changed (already mounted with the same source and options: nothing is done).\n\
         A target that is not a mount point and is not empty is refused, naming what is in it (a mount would hide it),\n\
         unless over_nonempty: true (then a dry run's plan and a warning say what it hides).\n\
         CIFS credentials go to a 0600 file, never argv. persist keeps one fstab line for the target (backup: <fstab>.hoist.bak).",
        |h: Host, o: MountOptions| async move { h.mount(&o.spec()?).await },
    );
    b.method0_required_opts(
        "mount_plan",
        &["h"],
        "What h.mount(spec) would run, without running it: #{commands, fstab_line, credentials_file}.",
        |_h: Host, o: MountOptions| async move {
            let plan = mount::plan(&o.spec()?)?;
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
            Ok::<_, crate::error::Error>(out)
        },
    );
    b.method1_optional_opts(
        "umount",
        &["h", "target"],
        "Unmount target; false when nothing was mounted there.",
        |h: Host, target: String, o: UmountOptions| async move { h.umount(&target, o.sudo).await },
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
