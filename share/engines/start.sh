#!/bin/sh
# Starts a container engine by hand, where no service manager does (a CI
# machine, a container, a Debian box without systemd as PID 1), idempotently:
# an engine that is already up is left as it is.
#
#   share/engines/start.sh docker   # dockerd: private data root and socket,
#                                   # --iptables=false (lab hosts keep forwarding)
#   share/engines/start.sh lxd      # LXD: private LXD_DIR, a dir pool, a bridge
#
# Each prints the environment that points clients at the engine, e.g.
#   export DOCKER_HOST=unix:///run/troupe-engines/docker.sock
# which troupe's docker and lxd backends also find on their own.
# Root only. Files: /var/lib/troupe-engines/<engine>, /run/troupe-engines.
set -eu
here=$(dirname "$0")
case "${1:-}" in
docker | lxd) exec sh "$here/$1.sh" ;;
*)
  echo "usage: $0 docker|lxd" >&2
  exit 2
  ;;
esac
