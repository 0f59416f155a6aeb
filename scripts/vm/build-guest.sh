#!/usr/bin/env bash
# Builds the cgroup v2 test guest once per machine: a Debian 12 root filesystem (debootstrap, with
# systemd as PID 1, the Debian kernel, docker.io, containerd and runc), then a raw ext4 disk image,
# the kernel and a small initrd, all in DIR (default .build-vm/, ignored by git). A stamp records the
# hash of this script: the guest is rebuilt only when the recipe changes or a file is missing.
# Usage: scripts/vm/build-guest.sh [DIR]        (~2-3 min on 2 cores; needs root and debootstrap)
# In the guest the host's folders arrive over 9p (see run-guest.sh): `share` (in and out), the
# project and the Swift runtime libraries, each mounted read-only at its host path by guest-init.sh.
set -euo pipefail
DIR=${1:-$(cd "$(dirname "$0")/../.." && pwd)/.build-vm}
SELF="$(cd "$(dirname "$0")" && pwd)"
STAMP="$(sha256sum "$SELF/build-guest.sh" "$SELF/guest-init.sh" | sha256sum | cut -c1-16)"
if [ -f "$DIR/stamp" ] && [ "$(cat "$DIR/stamp")" = "$STAMP" ] && [ -f "$DIR/disk.img" ] \
   && [ -f "$DIR/vmlinuz" ] && [ -f "$DIR/initrd.img" ]; then
  echo "build-guest: $DIR is up to date"
  exit 0
fi
T0=$(date +%s)
mkdir -p "$DIR"
rm -rf "$DIR/rootfs" "$DIR/stamp"
R=$DIR/rootfs
# No mirror argument: debootstrap uses its default Debian mirror.
for attempt in 1 2 3; do
  if debootstrap --variant=minbase \
      --include=systemd-sysv,udev,dbus,iproute2,procps,kmod,util-linux,linux-image-amd64,initramfs-tools,docker.io,containerd,runc,busybox-static,iptables,apparmor,libstdc++6,zlib1g,libcap2,libseccomp2,libsystemd0,libcrypt1,librdkafka1,libsnappy1v5,libnghttp2-14,libssl3,coreutils \
      bookworm "$R" > "$DIR/debootstrap.log" 2>&1; then break; fi
  echo "build-guest: debootstrap failed (attempt $attempt), see $DIR/debootstrap.log" >&2
  tail -5 "$DIR/debootstrap.log" >&2
  [ "$attempt" -eq 3 ] && exit 1
  rm -rf "$R"; sleep $((attempt * 10))
done
echo nmvm > "$R/etc/hostname"
passwd -R "$(cd "$R" && pwd)" -d root >/dev/null
cat > "$R/etc/fstab" <<'FST'
/dev/vda  /          ext4  defaults,errors=remount-ro  0 1
share     /mnt/host  9p    trans=virtio,version=9p2000.L,msize=262144,nofail  0 0
FST
mkdir -p "$R/mnt/host"
printf '9p\n9pnet_virtio\n' > "$R/etc/modules-load.d/9p.conf"
install -m 755 "$SELF/guest-init.sh" "$R/usr/local/sbin/guest-init.sh"
# Type=simple: a oneshot unit would keep boot "starting", and a guest script that waits for
# `systemctl is-system-running --wait` would wait forever.
cat > "$R/etc/systemd/system/vm-run.service" <<'UNIT'
[Unit]
Description=Run the host's guest script from /mnt/host, then power off
After=local-fs.target mnt-host.mount systemd-modules-load.service
RequiresMountsFor=/mnt/host
[Service]
Type=simple
StandardOutput=journal+console
ExecStart=/usr/local/sbin/guest-init.sh
ExecStopPost=/bin/systemctl poweroff --no-block
TimeoutStartSec=3600
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/vm-run.service "$R/etc/systemd/system/multi-user.target.wants/vm-run.service"
mkdir -p "$R/etc/systemd/system/serial-getty@ttyS0.service.d"
printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %%I $TERM\n' \
  > "$R/etc/systemd/system/serial-getty@ttyS0.service.d/autologin.conf"
ln -sf /dev/null "$R/etc/systemd/system/systemd-networkd-wait-online.service"   # no network in the VM
# Docker and containerd start when a test asks (faster boot). containerd's runc shim on the systemd
# cgroup driver, as the kubelet's nodes configure it; the CRI plugin stays as Debian ships it.
chroot "$R" systemctl disable docker.service containerd.service >/dev/null 2>&1 || true
# An offline busybox image for `docker import` / `ctr images import` in the guest.
BB=$(mktemp -d); mkdir -p "$BB/bin"; cp "$R/bin/busybox" "$BB/bin/busybox"
for a in sh ls cat echo sleep dd head grep ps mount top wget tr yes; do ln -sf busybox "$BB/bin/$a"; done
tar -C "$BB" -cf "$R/root/busybox-rootfs.tar" .; rm -rf "$BB"
# A small initrd: only what mounts /dev/vda.
sed -i 's/^MODULES=.*/MODULES=list/' "$R/etc/initramfs-tools/initramfs.conf"
printf 'virtio_pci\nvirtio_blk\next4\n' > "$R/etc/initramfs-tools/modules"
chroot "$R" update-initramfs -u -k all >/dev/null 2>&1
cp "$R"/boot/vmlinuz-* "$DIR/vmlinuz"; cp "$R"/boot/initrd.img-* "$DIR/initrd.img"
rm -f "$DIR/disk.img"; truncate -s 4G "$DIR/disk.img"
mkfs.ext4 -q -F -L vmroot -d "$R" "$DIR/disk.img"
rm -rf "$R"
echo "$STAMP" > "$DIR/stamp"
echo "build-guest: built $DIR in $(( $(date +%s) - T0 )) s"
