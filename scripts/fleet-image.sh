#!/bin/sh
# Runs INSIDE the debootstrapped root (chroot) to turn it into a fleet server image.
# scripts/fleet hashes this file and FLEET_PACKAGES into the image tag: change either and the
# image is rebuilt on the next `scripts/fleet up`.
set -eu

# systemd as PID 1 in a container: no consoles, no hardware, no kernel module loading.
for u in getty@tty1.service serial-getty@console.service console-getty.service \
         systemd-modules-load.service sys-kernel-config.mount sys-kernel-debug.mount \
         sys-kernel-tracing.mount systemd-udevd.service systemd-udev-trigger.service \
         systemd-firstboot.service systemd-remount-fs.service \
         docker-registry.service; do
  ln -sf /dev/null "/etc/systemd/system/$u"
done

# Each host gets its own identity at first boot: machine id, ssh host keys, docker engine id.
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
rm -rf /var/lib/docker/* /var/lib/containerd/*
cat > /etc/systemd/system/fleet-hostkeys.service <<'UNIT'
[Unit]
Description=Generate this host's own ssh host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A

[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/fleet-hostkeys.service \
  /etc/systemd/system/multi-user.target.wants/fleet-hostkeys.service

# sshd: keys only; enough sessions and start-ups for fan-out tests.
cat > /etc/ssh/sshd_config.d/fleet.conf <<'CONF'
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
MaxSessions 100
MaxStartups 100:30:200
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
UseDNS no
CONF

# The inner engine: vfs works on the container's overlay root (overlay on overlay does not).
mkdir -p /etc/docker
printf '{"storage-driver": "vfs", "log-level": "warn"}\n' > /etc/docker/daemon.json

# Users: `deploy` has passwordless sudo; `ops` needs its password (ops-password) for sudo.
useradd -m -s /bin/bash -G docker deploy
useradd -m -s /bin/bash ops
echo 'ops:ops-password' | chpasswd
# Key-only ssh login needs an unlocked account: '*' is no password, yet not locked.
usermod -p '*' deploy
printf 'deploy ALL=(ALL) NOPASSWD:ALL\n' > /etc/sudoers.d/deploy
printf 'ops ALL=(ALL) ALL\n' > /etc/sudoers.d/ops
chmod 0440 /etc/sudoers.d/deploy /etc/sudoers.d/ops

# nginx is there for tests that put a proxy in front of an app (bluegreen): each test starts its
# own instance with its own config; the distribution's service stays off.
rm -f /etc/systemd/system/multi-user.target.wants/nginx.service

# Keep the image small.
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*
