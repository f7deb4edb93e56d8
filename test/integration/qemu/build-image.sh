#!/bin/sh
# The guest image the qemu tests boot: Debian 12 (bookworm), minbase, with
# a kernel, systemd, sshd and DHCP on the first NIC, as three files that the
# qemu backend boots directly (no bootloader, no partition table):
#
#   DIR/debian-12-RECIPE.img      ext4 root filesystem (raw, sparse), /dev/vda
#   DIR/debian-12-RECIPE.vmlinuz  the kernel
#   DIR/debian-12-RECIPE.initrd   its initramfs
#
# RECIPE is a hash of this file, so a changed recipe builds a new image and
# an unchanged one is reused: a few minutes from scratch, nothing after.
# Root logs in over ssh with the password "troupe" (the qemu backend's
# default). Prints the path of the .img on its last line.
#
# Usage: build-image.sh [DIR]   (default: $TROUPE_TEST_QEMU_DIR, else /var/cache/troupe-ci/qemu)
# Needs root, debootstrap, mkfs.ext4 (e2fsprogs >= 1.43) and Debian's mirror.
set -eu

dir=${1:-${TROUPE_TEST_QEMU_DIR:-/var/cache/troupe-ci/qemu}}
mirror=${TROUPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Comments do not count: only the commands make the image.
recipe=$(grep -v "^[[:space:]]*#" "$0" | sha256sum | cut -c1-12)
base=$dir/debian-12-$recipe
mkdir -p "$dir"

if [ -s "$base.img" ] && [ -s "$base.vmlinuz" ] && [ -s "$base.initrd" ]; then
  echo "$base.img"
  exit 0
fi

# One build at a time; a second caller waits, then finds the image.
exec 8>"$dir/.build.lock"
flock 8
if [ -s "$base.img" ] && [ -s "$base.vmlinuz" ] && [ -s "$base.initrd" ]; then
  echo "$base.img"
  exit 0
fi

root=$(mktemp -d "$dir/.rootfs.XXXXXX")
trap 'rm -rf "$root" "$base.img.tmp"' EXIT INT TERM HUP

echo "building $base.img (debootstrap bookworm, a few minutes)" >&2
debootstrap --variant=minbase \
  --include=linux-image-amd64,systemd-sysv,udev,openssh-server,iproute2,procps,sudo,ca-certificates,bash,tar,gzip,kmod \
  bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 || {
  tail -n 30 "$dir/debootstrap.log" >&2
  exit 1
}

# A small initrd with only what mounts the root disk: Debian's MODULES=most
# puts some 30 MB of drivers there, slow to unpack and probe under TCG.
echo MODULES=list >"$root/etc/initramfs-tools/conf.d/troupe"
printf 'virtio_pci\nvirtio_blk\next4\n' >>"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >>"$dir/debootstrap.log" 2>&1
# e2scrub_reap looks for LVM snapshots at every boot, a minute under TCG.
ln -sf /dev/null "$root/etc/systemd/system/e2scrub_reap.service"

# DHCP on whatever NIC comes up (user networking: 10.0.2.15).
mkdir -p "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/20-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=yes
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"

# Root over ssh with a password, as Spread's qemu images are reached.
mkdir -p "$root/etc/ssh/sshd_config.d"
cat >"$root/etc/ssh/sshd_config.d/troupe.conf" <<'SSHD'
PermitRootLogin yes
PasswordAuthentication yes
UseDNS no
SSHD
echo "root:troupe" | chroot "$root" chpasswd
echo "debian-12" >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 debian-12\n' >"$root/etc/hosts"
echo "/dev/vda / ext4 rw,errors=remount-ro 0 1" >"$root/etc/fstab"

cp "$root"/boot/vmlinuz-* "$base.vmlinuz.tmp"
cp "$root"/boot/initrd.img-* "$base.initrd.tmp"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

mkfs.ext4 -q -F -L root -d "$root" "$base.img.tmp" 2G
mv "$base.vmlinuz.tmp" "$base.vmlinuz"
mv "$base.initrd.tmp" "$base.initrd"
mv "$base.img.tmp" "$base.img"
# Images of older recipes are not used any more.
for old in "$dir"/debian-12-*.img; do
  [ "$old" = "$base.img" ] || rm -f "$old" "${old%.img}.vmlinuz" "${old%.img}.initrd"
done
echo "$base.img"
