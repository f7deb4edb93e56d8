#!/bin/sh
# Installs what troupe's lab backend needs on Debian/Ubuntu, as root,
# non-interactively. Idempotent: installs only what is missing.
#   openssh-server  sshd of each lab host
#   openssh-client  the transport (ssh, ssh-keygen for users)
#   iproute2        ip netns, veth, bridge
#   util-linux      unshare, nsenter, pivot_root
#   mount, procps, tar, gzip, bash: mounts, ps/pgrep, file transfer, tests
set -eu

if [ "$(id -u)" != 0 ]; then
  echo "lab-deps: run as root" >&2
  exit 1
fi

packages="openssh-server openssh-client iproute2 util-linux mount procps tar gzip bash"
missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Don't let the package start sshd on the machine itself: lab hosts run their own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# The machine's own sshd is not needed; lab hosts start theirs.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now ssh.service ssh.socket >/dev/null 2>&1 || true
fi

for cmd in /usr/sbin/sshd ssh ip unshare nsenter pivot_root mount; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "lab-deps: $cmd is still missing" >&2; exit 1; }
done
echo "lab-deps: ok"
