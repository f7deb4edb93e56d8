#!/bin/bash
# Side by side with the real Spread: the same probe projects run by Spread
# and by `troupe spread` against one lab host (an adhoc backend whose
# allocate script reports the host's address; root logs in with a
# password, as Spread logs in), then their exit statuses, summaries and
# error lines compared. It prints one line per probe, and each difference.
#
#   SPREAD_BIN=/path/to/spread test/spread-suite/side-by-side.sh [PROBE...]
#
# SPREAD_BIN: a spread binary built from github.com/canonical/spread (this
# repository holds no Spread code and no recipe to build it). Run from a
# checkout with dist/ built (npx tsc -p tsconfig.json); root, for the lab.
# Probes: error fatal repeat nonempty unknownkey envexpand bash artifacts.
# Exit status: 0 when only the differences docs/spread.md lists were seen,
# 1 when another one was, 2 when the comparison could not run.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
troupe=("$(command -v node)" "$here/bin/troupe.js")
spread=${SPREAD_BIN:-}
if [ -z "$spread" ] || [ ! -x "$spread" ]; then
  echo "side-by-side: set SPREAD_BIN to a spread binary built from github.com/canonical/spread" >&2
  exit 2
fi
all=(error fatal repeat nonempty unknownkey envexpand bash artifacts)
probes=("${@:-${all[@]}}")
# Differences docs/spread.md explains: reported, not counted.
declare -A documented=([repeat]="summary counts: troupe counts a repeated job once" [unknownkey]="troupe warns on stderr")

work=$(mktemp -d /tmp/troupe-sbs.XXXXXX)
pass=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
cleanup() {
  (cd "$work/host" 2>/dev/null && "${troupe[@]}" spread -discard >/dev/null 2>&1) || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -z "${SBS_SHOW:-}" ] || trap 'for f in "$work"/*.digest; do echo "== $f"; cat "$f"; done; cleanup' EXIT
trap 'exit 130' INT TERM HUP

# The host both tools use: a lab host kept with -reuse, root's password set.
mkdir -p "$work/host/checks/none"
cat > "$work/host/spread.yaml" <<EOF
project: sbs-host
path: /srv/sbs-host
backends:
  lab:
    systems:
      - debian-12:
          password: $pass
suites:
  checks/:
    summary: s
EOF
printf 'summary: n\nexecute: "true"\n' > "$work/host/checks/none/task.yaml"
(cd "$work/host" && "${troupe[@]}" spread -reuse >/dev/null) || {
  echo "side-by-side: cannot bring up a lab host" >&2
  exit 2
}
addr=$(sed -n 's/^ *address: //p' "$work/host/.spread-reuse.yaml" | head -1)
[ -n "$addr" ] || {
  echo "side-by-side: no address in $work/host/.spread-reuse.yaml" >&2
  exit 2
}

# A probe project: an adhoc backend on the host, the probe's suite.
probe() {
  local name=$1 dir=$2 path=/srv/sbs-$1
  mkdir -p "$dir/checks"
  cat > "$dir/spread.yaml" <<EOF
project: sbs-$name
path: $path
environment:
  GREETING: hello
  MSG: \$GREETING-world
backends:
  adhoc:
    allocate: ADDRESS $addr
    discard: "true"
    systems:
      - debian-12:
          username: root
          password: $pass
suites:
  checks/:
    summary: s
restore: rm -rf $path
EOF
  task() { mkdir -p "$dir/checks/$1" && cat > "$dir/checks/$1/task.yaml"; }
  case $name in
  error) printf 'summary: e\nexecute: |\n  echo printed\n  ERROR "it broke here"\n' | task a ;;
  fatal) printf 'summary: f\nexecute: |\n  FATAL "fatal here"\n' | task a && printf 'summary: b\nexecute: echo b\n' | task b ;;
  repeat) printf 'summary: r\nexecute: echo r\n' | task a ;;
  nonempty) printf 'summary: n\nexecute: echo n\n' | task a ;;
  unknownkey) printf 'summary: u\nprepare-eahc: echo never\nexecute: echo u\n' | task a ;;
  envexpand)
    printf 'summary: x\nexecute: |\n  test "$MSG" = hello-world\n' | task a
    printf 'repack: |\n  test "$MSG" = hello-world\n  cat <&3 >&4\n' >> "$dir/spread.yaml"
    ;;
  bash)
    cat <<'EOF' | task a
summary: bash features
execute: |
  set -o pipefail
  a=(one two); [[ ${#a[@]} == 2 ]]
  x=up; [ "${x^^}" = UP ]
  read -r w <<< "here"; [ "$w" = here ]
  diff <(echo {a,b}) <(echo a b)
  function f { echo -e "x\ty" | grep -q "	"; }; f
  pushd /tmp >/dev/null; popd >/dev/null
  ls /nonexistent &> /dev/null || echo redirected
EOF
    ;;
  artifacts) printf 'summary: a\nartifacts: [out.txt, missing.txt]\nexecute: echo made > out.txt\n' | task a ;;
  esac
}

# What a run says that both tools should agree on: exit status, summary, errors.
digest() {
  sed -E 's/^[0-9-]{10} [0-9:]{8} //' "$1" |
    grep -E '^(Successful tasks|Aborted tasks|Failed |    - |Error executing|Error preparing|Error restoring)' |
    sed -E 's/ \([^)]*\) :/ :/; s/ +$//' || true
}

run_probe() {
  local name=$1 tool status
  for tool in spread troupe; do
    local dir="$work/$name-$tool" extra=()
    probe "$name" "$dir"
    [ "$name" = repeat ] && extra=(-repeat 2)
    [ "$name" = artifacts ] && extra=(-artifacts "$dir/art")
    if [ "$name" = nonempty ]; then
      ssh -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -i /run/troupe-lab/id_ed25519 "root@$addr" "mkdir -p /srv/sbs-nonempty && touch /srv/sbs-nonempty/x"
    fi
    status=0
    if [ "$tool" = spread ]; then
      (cd "$dir" && timeout 600 "$spread" "${extra[@]}" >"$dir.out" 2>&1) || status=$?
    else
      (cd "$dir" && NO_COLOR=1 timeout 600 "${troupe[@]}" spread "${extra[@]}" >"$dir.out" 2>&1) || status=$?
    fi
    [ "$status" -gt 1 ] && [ "$status" -lt 124 ] && status="$status(>1)"
    echo "exit ${status%%(*}" >"$dir.digest"
    digest "$dir.out" >>"$dir.digest"
    if [ "$name" = artifacts ]; then (cd "$dir/art" 2>/dev/null && find . -type f | sort) >>"$dir.digest" || true; fi
  done
  # troupe exits 2 for bad input and 3 for machines it could not have, where Spread exits 1 (documented).
  sed -i -E 's/^exit [23]$/exit 1/' "$work/$name-troupe.digest"
  if diff -u "$work/$name-spread.digest" "$work/$name-troupe.digest" >"$work/$name.diff"; then
    echo "same       $name"
    return 0
  fi
  if [ -n "${documented[$name]:-}" ]; then
    echo "documented $name: ${documented[$name]}"
    sed 's/^/    /' "$work/$name.diff"
    return 0
  fi
  echo "DIFFERENT  $name"
  sed 's/^/    /' "$work/$name.diff"
  return 1
}

different=0
for p in "${probes[@]}"; do run_probe "$p" || different=1; done
exit "$different"
