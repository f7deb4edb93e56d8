// The lines a script's prelude adds when the script runs inside a sync
// session: they source troupe-ctl, which then only defines the shell function
// `troupe_ctl`, and make `troupe-ctl` run it: in bash a copy of the function
// under that name, in a POSIX sh (and bash as sh) an alias, as a POSIX sh has
// no function names with a dash (and dash parses the whole `if` first, hence
// bash's definition in an eval). A copy, not a function that calls
// troupe_ctl, so that a call is traced once, before its redirections, as the
// alias's is. bash gets no alias: it expands one only in what it parses after
// the alias is made, and a local host's script is parsed whole before it runs
// (transport/local-runner.ts). A call from the script itself then runs in a
// subshell of its shell: no fork and exec of a new sh, which would cost more
// than the rest of a barrier. Programs the script starts still find
// troupe-ctl on PATH. Pure.

export function ctlFunctionLines(): string {
  return [
    'if [ -r "${TROUPE_CTL_DIR:-/nonexistent}/bin/troupe-ctl" ]; then',
    "  troupe_ctl_lib=1",
    '  . "$TROUPE_CTL_DIR/bin/troupe-ctl"',
    "  unset troupe_ctl_lib",
    '  if [ -n "${BASH_VERSION:-}" ] && ! shopt -oq posix; then',
    "    troupe_ctl_def=$(declare -f troupe_ctl)",
    '    eval "troupe-ctl${troupe_ctl_def#troupe_ctl}"',
    "    unset troupe_ctl_def",
    "  else",
    '    [ -z "${BASH_VERSION:-}" ] || shopt -s expand_aliases',
    "    alias troupe-ctl=troupe_ctl",
    "  fi",
    "fi",
    "",
  ].join("\n");
}
