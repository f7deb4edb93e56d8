// The lines a script's prelude adds when the script runs inside a sync
// session: they source troupe-ctl, which then only defines the shell function
// `troupe_ctl`, and alias `troupe-ctl` to it (dash has no function names with
// a dash; bash expands aliases only when told). A call from the script itself
// then runs in a subshell of its shell: no fork and exec of a new sh, which
// would cost more than the rest of a barrier. Programs the script starts
// still find troupe-ctl on PATH. Pure.

export function ctlFunctionLines(): string {
  return [
    'if [ -r "${TROUPE_CTL_DIR:-/nonexistent}/bin/troupe-ctl" ]; then',
    "  troupe_ctl_lib=1",
    '  . "$TROUPE_CTL_DIR/bin/troupe-ctl"',
    "  unset troupe_ctl_lib",
    '  [ -z "${BASH_VERSION:-}" ] || shopt -s expand_aliases',
    "  alias troupe-ctl=troupe_ctl",
    "fi",
    "",
  ].join("\n");
}
