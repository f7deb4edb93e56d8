#!/bin/sh
# Starts dockerd by hand, idempotently, where no service manager does: its
# own data root, exec root, pid file and socket, so it leaves any other
# Docker engine on the machine alone, and --iptables=false, because dockerd
# would otherwise set the FORWARD policy to DROP and cut the lab backend's
# traffic. An engine that already answers on the socket is left as it is.
#
#   sh share/engines/docker.sh      # or: share/engines/start.sh docker
#   export DOCKER_HOST=unix:///run/troupe-engines/docker.sock   # what it prints
#
# Root only. Files: /var/lib/troupe-engines/docker (data, log),
# /run/troupe-engines/docker.sock, /run/troupe-engines/docker (exec root).
# Stop it with: kill "$(cat /run/troupe-engines/docker.pid)"
set -eu

run=/run/troupe-engines
state=/var/lib/troupe-engines/docker
sock=$run/docker.sock
pidfile=$run/docker.pid
log=$state/dockerd.log

say_env() { echo "export DOCKER_HOST=unix://$sock"; }

# The engine answers /_ping with OK.
answers() {
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -fsS --max-time 2 --unix-socket "$sock" http://engine/_ping 2>/dev/null)" = OK ]
  else
    DOCKER_HOST=unix://$sock docker version >/dev/null 2>&1
  fi
}

if [ -S "$sock" ] && answers; then
  say_env
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "docker.sh: dockerd must be started as root" >&2
  exit 1
fi
command -v dockerd >/dev/null 2>&1 || {
  echo "docker.sh: dockerd is not installed (Debian: apt-get install docker.io)" >&2
  exit 1
}

mkdir -p "$run" "$state/data" "$run/docker"
# A dockerd of ours that is running but does not answer (still starting, or
# stuck): wait for it below rather than start a second one.
pid=$(cat "$pidfile" 2>/dev/null || true)
if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
  rm -f "$sock" "$pidfile"
  # setsid: the engine outlives the shell that started it and its signals.
  setsid dockerd \
    --data-root "$state/data" \
    --exec-root "$run/docker" \
    --pidfile "$pidfile" \
    -H "unix://$sock" \
    --iptables=false \
    --ip-masq=false \
    >>"$log" 2>&1 </dev/null &
  pid=$!
fi

# Poll the socket: ready in about 0.25 s here; give up after 30 s.
tries=0
until [ -S "$sock" ] && answers; do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "docker.sh: dockerd exited while starting; its log: $log" >&2
    tail -n 5 "$log" >&2 || true
    exit 1
  fi
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ]; then
    echo "docker.sh: dockerd does not answer on $sock after 30 s; its log: $log" >&2
    exit 1
  fi
  sleep 0.1
done
say_env
