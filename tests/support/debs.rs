//! Test packages: a tiny .deb built here with dpkg-deb, put in a flat apt repository on a
//! fleet host (the fleet reaches no Debian mirror), so package primitives install for real.

use super::fleet::FleetHost;

/// A tiny .deb (dpkg-deb on this machine) in a flat apt repository on the host.
pub fn publish(h: &FleetHost, repo: &str, name: &str, version: &str) {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("pkg");
    std::fs::create_dir_all(root.join("DEBIAN")).unwrap();
    std::fs::create_dir_all(root.join("usr/share/hoist-test")).unwrap();
    std::fs::write(
        root.join("DEBIAN/control"),
        format!(
            "Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: hoist tests <t@example.org>\nDescription: hoist test package\n"
        ),
    )
    .unwrap();
    std::fs::write(root.join(format!("usr/share/hoist-test/{name}")), version).unwrap();
    let deb = d.path().join(format!("{name}_{version}_all.deb"));
    let o = std::process::Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&root)
        .arg(&deb)
        .output()
        .expect("dpkg-deb (dpkg) is needed to build the test package");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let copy = std::process::Command::new("docker")
        .args(["cp", deb.to_str().unwrap()])
        .arg(format!("{}:{repo}/", h.container()))
        .output()
        .unwrap();
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    // The index: each package's control fields plus Filename, Size and SHA256.
    h.sh_ok(&format!(
        "set -e; cd {repo}; : > Packages; for f in *.deb; do dpkg-deb -f $f >> Packages; \
         echo Filename: ./$f >> Packages; echo Size: $(stat -c %s $f) >> Packages; \
         echo SHA256: $(sha256sum $f | cut -d' ' -f1) >> Packages; echo >> Packages; done"
    ));
}
