// The Docker of a stand-in cloud machine (a lab host runs no engine of its
// own), for the experiment image's tests: it records its arguments in a
// file; `image inspect` says the image is not there and `pull` fetches it,
// except images tagged `missing` (as a registry without them); `exec -i
// troupe-experiment CMD...` runs CMD on the stand-in itself, with
// FAKE_DOCKER_CONTAINER naming the container, so that a step can show it
// went in through docker exec. The localhost mode's test runs the image in
// the real engine.

/**
 * A shell script that installs the fake as /usr/local/bin/docker (on every
 * PATH of the host), recording in `callsFile`: a path, or a shell word the
 * installing shell expands in double quotes (`$d/calls`).
 */
export function installFakeDocker(callsFile: string): string {
  const fake = [
    "#!/bin/sh",
    'echo "docker $*" >> CALLS_FILE',
    'case "$1" in',
    "  image) exit 1 ;;",
    '  pull) case "$2" in *:missing) echo "Error response from daemon: manifest for $2 not found: manifest unknown" >&2; exit 1 ;; esac; exit 0 ;;',
    "  rm|run) exit 0 ;;",
    "  exec) shift",
    '    while [ $# -gt 0 ]; do case "$1" in -i|-t) shift ;; -e|-w|-u) shift 2 ;; *) break ;; esac; done',
    '    [ "$1" = troupe-experiment ] || { echo "Error: No such container: $1" >&2; exit 1; }',
    '    FAKE_DOCKER_CONTAINER=$1; export FAKE_DOCKER_CONTAINER; shift; exec "$@" ;;',
    "esac",
    'echo "fake docker: $1 is not faked" >&2; exit 1',
  ].join("\n");
  return [
    `printf '%s' '${Buffer.from(fake).toString("base64")}' | base64 -d | sed "s#CALLS_FILE#${callsFile}#" > /usr/local/bin/docker`,
    "chmod +x /usr/local/bin/docker",
  ].join("\n");
}

/**
 * The hosts and stages of the experiment image's scenarios: `names` of
 * backend `cloud` in `image`, meeting at a barrier, each saying which
 * container its step ran in (`NAME in troupe-experiment`).
 */
export function experimentScenarioTail(names: string, image: string): string {
  return `hosts:
  - names: ${names}
    backend: cloud
    image: ${image}
stages:
  - name: in the image
    jobs:
      - run: |
          troupe-ctl barrier up
          echo "{{ host.name }} in $FAKE_DOCKER_CONTAINER"
`;
}
