#!/bin/sh
# serve-metrics.sh: expose Prometheus counters and gauges from a shell, for
# example services. Keeps DIR/metrics in the Prometheus text format and serves
# DIR over HTTP, so http://ADDR:PORT/metrics is a scrape target. Needs a POSIX
# sh and busybox (httpd) or python3.
#
#   serve-metrics.sh serve DIR PORT [ADDR]    serve DIR (foreground; exec it from a service:)
#   serve-metrics.sh set DIR NAME VALUE [TYPE]  set a metric (TYPE: counter, the default, or gauge)
#   serve-metrics.sh inc DIR NAME [BY]          add BY (default 1) to a counter
#   serve-metrics.sh get DIR NAME               print a metric's value (empty when unset)
#
# NAME may carry labels: 'jobs_total{kind="build"}'. Updates are atomic (a new
# file renamed over the old), so a scrape never sees half a file; concurrent
# updates of the same DIR must be serialized by the caller.
set -eu

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
file=$dir/metrics

# The value of NAME (exact name with labels), or nothing.
get() {
  [ -f "$file" ] || return 0
  awk -v n="$1" 'substr($0, 1, 1) != "#" && substr($0, 1, length(n) + 1) == n " " { print $2; exit }' "$file"
}

# Write NAME VALUE into the file, replacing its line, with a TYPE line for its family.
put() {
  name=$1
  value=$2
  type=$3
  family=${name%%\{*}
  mkdir -p "$dir"
  touch "$file"
  tmp=$file.tmp.$$
  awk -v n="$name" -v v="$value" -v f="$family" -v t="$type" '
    BEGIN { done = 0; typed = 0 }
    $0 == "# TYPE " f " " t { typed = 1 }
    substr($0, 1, 1) != "#" && substr($0, 1, length(n) + 1) == n " " { print n " " v; done = 1; next }
    { print }
    END {
      if (!typed) print "# TYPE " f " " t
      if (!done) print n " " v
    }' "$file" >"$tmp"
  mv -f "$tmp" "$file"
}

case $cmd in
  serve)
    [ $# -ge 1 ] || usage
    port=$1
    addr=${2:-0.0.0.0}
    mkdir -p "$dir"
    touch "$file"
    if command -v busybox >/dev/null 2>&1 && busybox --list 2>/dev/null | grep -qx httpd; then
      exec busybox httpd -f -p "$addr:$port" -h "$dir"
    elif command -v python3 >/dev/null 2>&1; then
      exec python3 -m http.server --bind "$addr" --directory "$dir" "$port"
    else
      echo "serve-metrics.sh: needs busybox (httpd) or python3 to serve $dir" >&2
      exit 1
    fi
    ;;
  set)
    [ $# -ge 2 ] || usage
    put "$1" "$2" "${3:-counter}"
    ;;
  inc)
    [ $# -ge 1 ] || usage
    old=$(get "$1")
    put "$1" "$(awk -v a="${old:-0}" -v b="${2:-1}" 'BEGIN { print a + b }')" counter
    ;;
  get)
    [ $# -ge 1 ] || usage
    get "$1"
    ;;
  *)
    usage
    ;;
esac
