#!/bin/sh
# Starts LXD by hand, idempotently, where no service manager does (a CI
# machine, a container, a Debian box without systemd as PID 1): its own
# LXD_DIR, so it leaves any other LXD on the machine alone, a `dir` storage
# pool and a managed bridge, troupebr0 (10.214.0.1/24, NAT; clear of the lab
# backend's 10.213.0.0/16 and docker's 172.17.0.0/16). A daemon that already
# answers is left as it is; one that answers but was never initialised is
# initialised.
#
#   sh share/engines/lxd.sh      # or: share/engines/start.sh lxd
#   export LXD_DIR=/var/lib/troupe-engines/lxd   # what it prints
#
# troupe's lxd backend finds this LXD_DIR on its own when LXD_DIR is unset and
# the default socket is absent. Root only. Files: /var/lib/troupe-engines/lxd
# (state, lxd.log), /run/troupe-engines/lxd.pid.
# Stop it with: LXD_DIR=/var/lib/troupe-engines/lxd lxd shutdown
set -eu

run=/run/troupe-engines
LXD_DIR=/var/lib/troupe-engines/lxd
export LXD_DIR
pidfile=$run/lxd.pid
log=$LXD_DIR/lxd.log
bridge=troupebr0
subnet=10.214.0.1/24

say_env() { echo "export LXD_DIR=$LXD_DIR"; }

answers() { lxc query /1.0 >/dev/null 2>&1; }

if [ "$(id -u)" != 0 ]; then
  echo "lxd.sh: LXD must be started as root" >&2
  exit 1
fi
for tool in lxd lxc; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "lxd.sh: $tool is not installed (Debian: apt-get install lxd)" >&2
    exit 1
  }
done
# LXD's bridge hands out addresses with dnsmasq.
PATH=$PATH:/usr/sbin:/sbin
command -v dnsmasq >/dev/null 2>&1 || {
  echo "lxd.sh: dnsmasq is not installed, and LXD's bridge needs it (Debian: apt-get install dnsmasq-base)" >&2
  exit 1
}

mkdir -p "$run" "$LXD_DIR"
chmod 711 "$LXD_DIR"

if ! answers; then
  # A daemon of ours that is running but does not answer yet: wait for it
  # below rather than start a second one.
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    # Containers need the cgroup hierarchies mounted; a machine whose init is
    # not systemd may lack the name=systemd one that systemd in a container
    # looks for.
    if [ -d /sys/fs/cgroup ] && ! [ -e /sys/fs/cgroup/cgroup.controllers ] && ! [ -d /sys/fs/cgroup/systemd ]; then
      mkdir -p /sys/fs/cgroup/systemd
      mount -t cgroup -o none,name=systemd cgroup /sys/fs/cgroup/systemd 2>/dev/null || true
    fi
    # setsid: the daemon outlives the shell that started it and its signals.
    setsid lxd --group root --logfile "$log" >>"$LXD_DIR/lxd.out" 2>&1 </dev/null &
    echo $! >"$pidfile"
  fi
  if ! lxd waitready --timeout 60; then
    echo "lxd.sh: LXD does not answer after 60 s; its log: $log" >&2
    tail -n 5 "$log" >&2 || true
    exit 1
  fi
fi

# First start (or a start that stopped half-way): the pool, the bridge, the
# default profile. `lxd init --preseed` only on a daemon with no pool yet.
if ! lxc storage show default >/dev/null 2>&1 || ! lxc network show "$bridge" >/dev/null 2>&1; then
  lxd init --preseed <<PRESEED
storage_pools:
  - name: default
    driver: dir
networks:
  - name: $bridge
    type: bridge
    config:
      ipv4.address: $subnet
      ipv4.nat: "true"
      ipv6.address: none
profiles:
  - name: default
    devices:
      root:
        type: disk
        path: /
        pool: default
      eth0:
        type: nic
        name: eth0
        network: $bridge
PRESEED
fi
say_env
