//! Mounts for real: bind, tmpfs and sshfs (through the test sshd) mounted, verified and
//! unmounted, on the local host and on an SSH host; fstab upkeep on a scratch file; CIFS and
//! NFS (no kernel support here) checked through their exact commands, the credentials file
//! and the fstab line; the traversal check; bad input; and, on a fleet server, no mount over
//! a directory that holds files unless asked for.

mod support;

use hoist::Host;
use hoist::command::Program;
use hoist::host::HostSpec;
use hoist::mount::{self, Credentials, MountSpec, MountType};
use hoist::secret::Secret;
use support::fleet::{OnDrop, fleet};
use support::{free_port, run_script, runtime, sshd};

fn both() -> (std::sync::Arc<hoist::Runtime>, Vec<Host>) {
    let (rt, _) = runtime();
    let ssh = rt.host(&HostSpec::parse(&sshd().spec(2)).unwrap());
    (rt.clone(), vec![rt.local(), ssh])
}

fn scratch() -> String {
    tempfile::tempdir()
        .unwrap()
        .keep()
        .to_str()
        .unwrap()
        .to_string()
}

fn argv(c: &hoist::command::Command) -> Vec<String> {
    match &c.program {
        Program::Argv(a) => a.clone(),
        Program::Shell(s) => panic!("expected argv, got shell {s}"),
    }
}

#[test]
fn bind_mount_round_trip() {
    let (rt, hosts) = both();
    for h in &hosts {
        let d = scratch();
        std::fs::create_dir_all(format!("{d}/src")).unwrap();
        std::fs::write(format!("{d}/src/file.txt"), "bound").unwrap();
        let target = format!("{d}/target");
        let mut spec = MountSpec::new(MountType::Bind, Some(&format!("{d}/src")), &target);
        assert!(rt.block_on(h.mount(&spec)).unwrap(), "on {}", h.name());
        assert_eq!(
            std::fs::read_to_string(format!("{target}/file.txt")).unwrap(),
            "bound"
        );
        assert!(rt.block_on(h.is_mounted(&target)).unwrap());
        assert!(
            !rt.block_on(h.mount(&spec)).unwrap(),
            "same source and options = no change"
        );
        // Read-only now: a change, and writes fail.
        spec.options = vec!["ro".into()];
        assert!(rt.block_on(h.mount(&spec)).unwrap());
        assert!(
            std::fs::write(format!("{target}/new"), "x").is_err(),
            "ro bind on {}",
            h.name()
        );
        assert!(!rt.block_on(h.mount(&spec)).unwrap());
        // Another source at the same target: replaced, not stacked.
        std::fs::create_dir_all(format!("{d}/other")).unwrap();
        let other = MountSpec::new(MountType::Bind, Some(&format!("{d}/other")), &target);
        assert!(rt.block_on(h.mount(&other)).unwrap());
        assert!(!std::path::Path::new(&format!("{target}/file.txt")).exists());
        let stacked = rt
            .block_on(h.mounts())
            .unwrap()
            .into_iter()
            .filter(|m| m.target == target)
            .count();
        assert_eq!(stacked, 1);
        assert!(rt.block_on(h.umount(&target, false)).unwrap());
        assert!(
            !rt.block_on(h.umount(&target, false)).unwrap(),
            "nothing left to unmount"
        );
        assert!(!rt.block_on(h.is_mounted(&target)).unwrap());
    }
}

#[test]
fn tmpfs_mount_with_size() {
    let (rt, hosts) = both();
    for h in &hosts {
        let target = format!("{}/tmp", scratch());
        let mut spec = MountSpec::new(MountType::Tmpfs, None, &target);
        spec.options = vec!["size=1m".into(), "mode=750".into()];
        assert!(rt.block_on(h.mount(&spec)).unwrap());
        let m = rt
            .block_on(h.mounts())
            .unwrap()
            .into_iter()
            .find(|m| m.target == target)
            .unwrap();
        assert_eq!((m.fstype.as_str(), m.source.as_str()), ("tmpfs", "tmpfs"));
        assert!(
            m.options.contains("size=1024k") && m.options.contains("mode=750"),
            "{}",
            m.options
        );
        assert!(
            !rt.block_on(h.mount(&spec)).unwrap(),
            "size=1m is size=1024k: no change"
        );
        spec.options = vec!["size=2m".into()];
        assert!(rt.block_on(h.mount(&spec)).unwrap(), "a new size remounts");
        assert!(rt.block_on(h.umount(&target, false)).unwrap());
    }
}

fn sshfs_spec(source_dir: &str, target: &str, port: u16) -> MountSpec {
    let s = sshd();
    let mut spec = MountSpec::new(
        MountType::Sshfs,
        Some(&format!("root@127.0.0.3:{source_dir}")),
        target,
    );
    spec.options = vec![
        format!("port={port}"),
        format!("ssh_command=ssh -F {}", s.config.display()),
        "ConnectTimeout=5".into(),
    ];
    spec
}

#[test]
fn sshfs_mount_through_the_test_sshd() {
    assert!(
        std::path::Path::new("/usr/bin/sshfs").exists()
            && std::path::Path::new("/dev/fuse").exists(),
        "sshfs needs `apt-get install -y sshfs fuse3` and /dev/fuse (scripts/test installs them)"
    );
    let (rt, hosts) = both();
    for h in &hosts {
        let d = scratch();
        std::fs::create_dir_all(format!("{d}/remote")).unwrap();
        std::fs::write(format!("{d}/remote/data.txt"), "over ssh").unwrap();
        let target = format!("{d}/mnt");
        let spec = sshfs_spec(&format!("{d}/remote"), &target, sshd().port_of(3));
        assert!(rt.block_on(h.mount(&spec)).unwrap(), "on {}", h.name());
        assert_eq!(
            std::fs::read_to_string(format!("{target}/data.txt")).unwrap(),
            "over ssh"
        );
        let m = rt
            .block_on(h.mounts())
            .unwrap()
            .into_iter()
            .find(|m| m.target == target)
            .unwrap();
        assert_eq!(m.fstype, "fuse.sshfs");
        assert_eq!(m.source, format!("root@127.0.0.3:{d}/remote"));
        assert!(
            !rt.block_on(h.mount(&spec)).unwrap(),
            "no change the second time"
        );
        assert!(rt.block_on(h.umount(&target, false)).unwrap());
        assert!(!rt.block_on(h.is_mounted(&target)).unwrap());
    }
}

#[test]
fn an_sshfs_source_that_refuses_is_a_clear_error() {
    let (rt, _) = runtime();
    let h = rt.local();
    let d = scratch();
    let spec = sshfs_spec("/srv", &format!("{d}/mnt"), free_port());
    let e = rt.block_on(h.mount(&spec)).unwrap_err();
    assert!(
        e.message.contains("sshfs mount of root@127.0.0.3:/srv"),
        "{}",
        e.message
    );
    assert!(
        e.command.as_deref().unwrap().starts_with("sshfs "),
        "{:?}",
        e.command
    );
    assert!(e.exit_code.unwrap() != 0);
    assert!(
        e.stderr_tail
            .as_deref()
            .unwrap_or_default()
            .to_lowercase()
            .contains("connection"),
        "{:?}",
        e.stderr_tail
    );
    assert!(!rt.block_on(h.is_mounted(&format!("{d}/mnt"))).unwrap());
}

#[test]
fn persist_keeps_one_fstab_line_and_a_backup() {
    let (rt, hosts) = both();
    for h in &hosts {
        let d = scratch();
        let target = format!("{d}/cache dir");
        let fstab = format!("{d}/fstab");
        let original = format!(
            "# /etc/fstab\nUUID=abc / ext4 defaults 0 1\ntmpfs {t} tmpfs size=9m 0 0\ntmpfs {t} tmpfs ro 0 0\n",
            t = target.replace(' ', "\\040")
        );
        std::fs::write(&fstab, &original).unwrap();
        let mut spec = MountSpec::new(MountType::Tmpfs, None, &target);
        spec.options = vec!["size=1m".into()];
        spec.persist = true;
        spec.fstab = fstab.clone();
        assert!(rt.block_on(h.mount(&spec)).unwrap());
        let line = format!("tmpfs {} tmpfs size=1m 0 0", target.replace(' ', "\\040"));
        assert_eq!(
            std::fs::read_to_string(&fstab).unwrap(),
            format!("# /etc/fstab\nUUID=abc / ext4 defaults 0 1\n{line}\n")
        );
        assert_eq!(
            std::fs::read_to_string(format!("{fstab}.hoist.bak")).unwrap(),
            original
        );
        assert!(
            !rt.block_on(h.mount(&spec)).unwrap(),
            "mounted and persisted: no change"
        );
        // Only the fstab line missing: a change, appended once.
        std::fs::write(&fstab, "# empty\n").unwrap();
        assert!(rt.block_on(h.mount(&spec)).unwrap());
        assert_eq!(
            std::fs::read_to_string(&fstab).unwrap(),
            format!("# empty\n{line}\n")
        );
        // No fstab at all: one is written, holding just the line.
        std::fs::remove_file(&fstab).unwrap();
        assert!(rt.block_on(h.mount(&spec)).unwrap());
        assert_eq!(
            std::fs::read_to_string(&fstab).unwrap(),
            format!("{line}\n")
        );
        assert!(rt.block_on(h.umount(&target, false)).unwrap());
    }
}

fn cifs_spec(d: &str) -> MountSpec {
    let mut spec = MountSpec::new(
        MountType::Cifs,
        Some("//pool-backup/pool backup"),
        "/mnt/pool/backup",
    );
    spec.options = vec!["vers=3.0".into(), "uid=1000".into(), "ro".into()];
    spec.credentials = Some(Credentials {
        username: "kraken-write".into(),
        password: Secret::new("s3cr3t pa$$"),
        domain: Some("LAB".into()),
        file: Some(format!("{d}/creds/pool-backup.cred")),
    });
    spec.persist = true;
    spec.fstab = format!("{d}/fstab");
    spec
}

#[test]
fn cifs_plan_credentials_file_and_fstab_line() {
    let d = scratch();
    let spec = cifs_spec(&d);
    let plan = mount::plan(&spec).unwrap();
    assert_eq!(
        argv(&plan.mount),
        [
            "mount",
            "-t",
            "cifs",
            "-o",
            &format!("credentials={d}/creds/pool-backup.cred,vers=3.0,uid=1000,ro"),
            "//pool-backup/pool backup",
            "/mnt/pool/backup"
        ]
    );
    let creds = plan.credentials.as_ref().unwrap();
    assert_eq!(
        creds.content.expose(),
        "username=kraken-write\npassword=s3cr3t pa$$\ndomain=LAB\n"
    );
    for c in plan.commands() {
        assert!(!c.display().contains("s3cr3t"), "{}", c.display());
        assert!(
            !c.render().contains("s3cr3t"),
            "the password travels on stdin only"
        );
    }
    assert_eq!(
        plan.fstab_line.as_deref().unwrap(),
        format!(
            "//pool-backup/pool\\040backup /mnt/pool/backup cifs credentials={d}/creds/pool-backup.cred,vers=3.0,uid=1000,ro,_netdev 0 0"
        )
    );

    // For real: the credentials file is written 0600 before the mount, which this kernel
    // (no cifs, no mount.cifs) refuses with a clear error that leaks no password.
    let (rt, _) = runtime();
    let h = rt.local();
    let mut spec = spec;
    spec.target = format!("{d}/pool");
    let e = rt.block_on(h.mount(&spec)).unwrap_err();
    assert!(
        e.message
            .contains("cifs mount of //pool-backup/pool backup"),
        "{}",
        e.message
    );
    assert!(
        e.exit_code.unwrap() != 0 && e.stderr_tail.is_some(),
        "{}",
        e.render()
    );
    assert!(!e.render().contains("s3cr3t"));
    let cred = format!("{d}/creds/pool-backup.cred");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&cred).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        std::fs::read_to_string(&cred).unwrap(),
        "username=kraken-write\npassword=s3cr3t pa$$\ndomain=LAB\n"
    );
    // The fstab is not touched when the mount failed.
    assert!(!std::path::Path::new(&format!("{d}/fstab")).exists());
}

#[test]
fn nfs_plan_and_fstab_line() {
    let mut spec = MountSpec::new(MountType::Nfs, Some("fileserver:/export/data"), "/mnt/data");
    spec.options = vec!["vers=4.2".into(), "hard".into()];
    spec.persist = true;
    let plan = mount::plan(&spec).unwrap();
    assert_eq!(
        argv(&plan.mount),
        [
            "mount",
            "-t",
            "nfs",
            "-o",
            "vers=4.2,hard",
            "fileserver:/export/data",
            "/mnt/data"
        ]
    );
    assert!(plan.credentials.is_none());
    assert_eq!(
        plan.fstab_line.as_deref().unwrap(),
        "fileserver:/export/data /mnt/data nfs vers=4.2,hard,_netdev 0 0"
    );
    assert_eq!(spec.fstab, "/etc/fstab", "the default fstab");
    let sudo = mount::plan(&MountSpec { sudo: true, ..spec }).unwrap();
    assert!(
        sudo.mount.render().starts_with("sudo -n -- sh -c 'mount "),
        "{}",
        sudo.mount.render()
    );
}

#[test]
fn bad_mount_input() {
    let (rt, _) = runtime();
    let h = rt.local();
    let d = scratch();
    // A target that is a file.
    std::fs::write(format!("{d}/afile"), "x").unwrap();
    let spec = MountSpec::new(MountType::Tmpfs, None, &format!("{d}/afile"));
    let e = rt.block_on(h.mount(&spec)).unwrap_err();
    assert!(
        e.message.contains("exists and is not a directory"),
        "{}",
        e.message
    );
    assert_eq!(e.exit_code_for_cli(), 2);
    // Relative targets, sources of the wrong shape, secrets in options.
    for (spec, needle) in [
        (
            MountSpec::new(MountType::Tmpfs, None, "rel/path"),
            "absolute",
        ),
        (
            MountSpec::new(MountType::Bind, Some("/x"), "rel"),
            "absolute",
        ),
        (
            MountSpec::new(MountType::Bind, None, "/mnt/x"),
            "needs a source",
        ),
        (
            MountSpec::new(MountType::Cifs, Some("server/share"), "/mnt/x"),
            "//server/share",
        ),
        (
            MountSpec::new(MountType::Nfs, Some("server"), "/mnt/x"),
            "host:/path",
        ),
        (
            MountSpec {
                options: vec!["password=hunter2".into()],
                ..MountSpec::new(MountType::Cifs, Some("//s/x"), "/mnt/x")
            },
            "credentials",
        ),
    ] {
        let e = mount::plan(&spec).unwrap_err();
        assert!(e.message.contains(needle), "{needle}: {}", e.message);
    }
}

#[test]
fn traversal_check_finds_the_missing_x_bits() {
    let (rt, hosts) = both();
    for h in &hosts {
        let d = scratch();
        let deep = format!("{d}/a/b/c");
        std::fs::create_dir_all(&deep).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(format!("{d}/a"), std::fs::Permissions::from_mode(0o750)).unwrap();
        std::fs::set_permissions(format!("{d}/a/b"), std::fs::Permissions::from_mode(0o744))
            .unwrap();
        let blocked = rt
            .block_on(mount::check_traversable(h, &deep, Some("nobody")))
            .unwrap();
        let paths: Vec<(&str, &str)> = blocked
            .iter()
            .map(|b| (b.path.as_str(), b.needs.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                (format!("{d}/a").as_str(), "o+x"),
                (format!("{d}/a/b").as_str(), "o+x")
            ],
            "on {}",
            h.name()
        );
        assert_eq!(blocked[0].mode, "750");
        assert_eq!(blocked[0].owner, "root");
        assert!(
            rt.block_on(mount::check_traversable(h, &deep, Some("root")))
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            rt.block_on(mount::check_traversable(h, &deep, None))
                .unwrap()
                .len(),
            2
        );
        let e = rt
            .block_on(mount::check_traversable(
                h,
                &format!("{d}/a/missing/x"),
                None,
            ))
            .unwrap_err();
        assert!(
            e.message.contains(&format!("{d}/a/missing does not exist")),
            "{}",
            e.message
        );
    }
}

#[test]
fn the_script_api() {
    let (rt, _) = runtime();
    let d = scratch();
    let v = run_script(
        &rt,
        &format!(
            r#"
            let h = local();
            let changed = h.mount(#{{ type: "tmpfs", target: "{d}/t", options: "size=1m,noexec" }});
            let again = h.mount(#{{ type: "tmpfs", target: "{d}/t", options: ["size=1m", "noexec"] }});
            let listed = h.mounts().filter(|m| m.target == "{d}/t");
            let mounted = h.is_mounted("{d}/t");
            let plan = h.mount_plan(#{{ type: "cifs", source: "//srv/share", target: "/mnt/share",
                credentials: #{{ username: "u", password: secret("pw-123"), file: "{d}/c.cred" }}, persist: true }});
            let gone = h.umount("{d}/t");
            #{{ changed: changed, again: again, fstype: listed[0].fstype, mounted: mounted, plan: plan, gone: gone,
                blocked: h.check_traversable("{d}/t", "nobody") }}
            "#
        ),
    )
    .unwrap();
    assert_eq!(v["changed"], true);
    assert_eq!(v["again"], false);
    assert_eq!(v["fstype"], "tmpfs");
    assert_eq!(v["mounted"], true);
    assert_eq!(v["gone"], true);
    assert_eq!(
        v["blocked"].as_array().unwrap().len(),
        0,
        "{}",
        v["blocked"]
    );
    let plan = v["plan"].to_string();
    assert!(!plan.contains("pw-123"), "{plan}");
    assert!(plan.contains(&format!("credentials={d}/c.cred")), "{plan}");
    assert_eq!(
        v["plan"]["fstab_line"],
        format!("//srv/share /mnt/share cifs credentials={d}/c.cred,_netdev 0 0")
    );
    let e = run_script(
        &rt,
        r#"local().mount(#{ type: "tmpfs", target: "/mnt/x", persits: true })"#,
    )
    .unwrap_err();
    assert!(e.message.contains("persits"), "{}", e.message);
    let e = run_script(&rt, r#"local().mount(#{ type: "zfs", target: "/mnt/x" })"#).unwrap_err();
    assert!(e.message.contains("zfs"), "{}", e.message);
}

/// A mount never hides data, on a fleet server over SSH: a bind, tmpfs or sshfs mount at a
/// directory that is not a mount point and holds files is refused, naming what is in it, before
/// anything changes (no mount, no fstab line) — in a dry run too; a user who may not list the
/// target is refused as well. With `over_nonempty: true` the mount goes ahead, and the plan
/// and a warning say what it hides. An empty directory, and a mount point (whose own files the
/// mount it replaces hides already), are mounted as before.
#[test]
fn a_mount_never_hides_data_on_a_fleet_host() {
    let f = fleet();
    let _up = f.hosts_up();
    let fh = f.host(3);
    let id = std::process::id();
    let d = format!("/tmp/d2-mnt{id}");
    let key = format!("/root/.ssh/d2-mnt{id}");
    let _cleanup = OnDrop(|| {
        fh.sh(&format!(
            "for m in $(findmnt -rn -o TARGET | grep ^{d}/ | sort -r); do umount $m; done; \
             rm -rf {d} {key} {key}.pub; sed -i '/d2-mnt{id}/d' /root/.ssh/authorized_keys"
        ));
    });
    fh.sh_ok(&format!(
        "set -e; mkdir -p {d}/src {d}/full {d}/many {d}/empty {d}/remote {d}/secret; \
         echo bound > {d}/src/file.txt; echo kept > {d}/full/results.txt; \
         for i in $(seq 12); do touch {d}/many/f$i; done; echo s > {d}/secret/secret.txt; \
         chmod 700 {d}/secret; printf '# fstab\\n' > {d}/fstab; \
         ssh-keygen -q -t ed25519 -N '' -C d2-mnt{id} -f {key}; cat {key}.pub >> /root/.ssh/authorized_keys"
    ));
    let mounted = |t: &str| fh.sh(&format!("findmnt -n {d}/{t}")).code == 0;
    let (rt, events) = f.runtime();
    let h = rt.host(&HostSpec::parse(&fh.spec()).unwrap());
    let spec = |kind: MountType, source: Option<&str>, target: &str| {
        let mut s = MountSpec::new(kind, source, &format!("{d}/{target}"));
        s.persist = true;
        s.fstab = format!("{d}/fstab");
        if kind == MountType::Sshfs {
            s.options = vec![
                format!("IdentityFile={key}"),
                "StrictHostKeyChecking=no".into(),
                "UserKnownHostsFile=/dev/null".into(),
            ];
        }
        s
    };
    let src = format!("{d}/src");
    let remote = format!("root@127.0.0.1:{d}/src");
    let kinds = [
        (MountType::Bind, Some(src.as_str())),
        (MountType::Tmpfs, None),
        (MountType::Sshfs, Some(remote.as_str())),
    ];

    // Refused, naming the file; nothing mounted, fstab untouched, the file still there.
    for (kind, source) in kinds {
        let e = rt
            .block_on(h.mount(&spec(kind, source, "full")))
            .unwrap_err();
        assert!(
            e.message.contains(&format!(
                "{d}/full is not a mount point and is not empty: it holds results.txt (1 entry)"
            )),
            "{kind:?}: {}",
            e.message
        );
        assert_eq!(e.host.as_deref(), Some(fh.name.as_str()));
        assert_eq!(e.exit_code_for_cli(), 2);
        assert!(!mounted("full"), "{kind:?}");
        assert_eq!(fh.read(&format!("{d}/fstab")), "# fstab\n", "{kind:?}");
        assert_eq!(fh.read(&format!("{d}/full/results.txt")), "kept\n");
    }
    // Many entries: a few named, all counted.
    let e = rt
        .block_on(h.mount(&spec(MountType::Tmpfs, None, "many")))
        .unwrap_err();
    assert!(
        e.message
            .contains("it holds f1, f10, f11, f12, f2 and 7 more (12 entries)"),
        "{}",
        e.message
    );
    // A user who may not list the target cannot know it is empty; with sudo it can.
    let deploy = rt.host(&HostSpec::parse(&fh.spec_user("deploy")).unwrap());
    let mut secret = spec(MountType::Tmpfs, None, "secret");
    let e = rt.block_on(deploy.mount(&secret)).unwrap_err();
    assert!(
        e.message
            .contains(&format!("cannot tell whether {d}/secret is empty")),
        "{}",
        e.message
    );
    secret.sudo = true;
    let e = rt.block_on(deploy.mount(&secret)).unwrap_err();
    assert!(
        e.message.contains("it holds secret.txt (1 entry)"),
        "{}",
        e.message
    );

    // A dry run refuses the same way; allowed, its plan says what the mount hides.
    let plan_rt = f.dry_runtime();
    let ph = plan_rt.host(&HostSpec::parse(&fh.spec()).unwrap());
    let mut bind = spec(MountType::Bind, Some(&src), "full");
    let e = plan_rt.block_on(ph.mount(&bind)).unwrap_err();
    assert!(e.message.contains("results.txt (1 entry)"), "{}", e.message);
    assert!(plan_rt.services.effects().plan().changes.is_empty());
    bind.over_nonempty = true;
    assert!(plan_rt.block_on(ph.mount(&bind)).unwrap());
    let plan = plan_rt.services.effects().plan();
    let mount = plan
        .changes
        .iter()
        .find(|c| c.change.summary().contains("mount -o bind"))
        .unwrap_or_else(|| panic!("no mount planned: {plan:?}"));
    assert_eq!(
        mount.notes,
        [format!(
            "mounted over {d}/full, which holds results.txt (1 entry): hidden while mounted"
        )]
    );
    assert!(!mounted("full") && fh.read(&format!("{d}/fstab")) == "# fstab\n");

    // Allowed for real: mounted over the file (hidden, not gone), with a warning.
    assert!(rt.block_on(h.mount(&bind)).unwrap());
    assert!(mounted("full"));
    assert_eq!(fh.read(&format!("{d}/full/file.txt")), "bound\n");
    assert_eq!(fh.read(&format!("{d}/full/results.txt")), "");
    let warned = events.0.lock().unwrap().iter().any(|e| {
        matches!(e, hoist::report::Event::Message { text, .. } if text.contains("hidden while mounted"))
    });
    assert!(warned, "no warning about the hidden file");
    assert!(rt.block_on(h.umount(&format!("{d}/full"), false)).unwrap());
    assert_eq!(fh.read(&format!("{d}/full/results.txt")), "kept\n");

    // An empty directory: mounted as before, each kind. A mount point that holds files (the
    // tmpfs's own) is remounted: nothing new is hidden.
    for (kind, source) in kinds {
        let s = spec(kind, source, "empty");
        assert!(rt.block_on(h.mount(&s)).unwrap(), "{kind:?}");
        assert!(mounted("empty"), "{kind:?}");
        if kind == MountType::Tmpfs {
            fh.sh_ok(&format!("echo t > {d}/empty/in-tmpfs"));
            let mut bigger = s.clone();
            bigger.options = vec!["size=2m".into()];
            assert!(rt.block_on(h.mount(&bigger)).unwrap(), "remount");
        }
        if kind == MountType::Sshfs {
            assert_eq!(fh.read(&format!("{d}/empty/file.txt")), "bound\n");
        }
        assert!(rt.block_on(h.umount(&format!("{d}/empty"), false)).unwrap());
    }
    let fstab = fh.read(&format!("{d}/fstab"));
    assert_eq!(fstab.matches(&format!(" {d}/empty ")).count(), 1, "{fstab}");

    // The script option, checked like every other key.
    let script = |text: String| {
        hoist::run_script(
            &rt,
            &hoist::script::Script {
                name: "mount.rhai".into(),
                text,
                base_dir: std::env::current_dir().unwrap(),
            },
            &rt.vars,
        )
    };
    let e = script(format!(
        r#"ssh("{}").mount(#{{type: "tmpfs", target: "{d}/full", over_nonempt: true}})"#,
        fh.spec()
    ))
    .unwrap_err();
    assert!(e.message.contains("over_nonempt"), "{}", e.message);
    let v = script(format!(
        r#"let h = ssh("{}"); let c = h.mount(#{{type: "tmpfs", target: "{d}/full", over_nonempty: true}}); h.umount("{d}/full"); c"#,
        fh.spec()
    ))
    .unwrap();
    assert_eq!(v, true);
}
