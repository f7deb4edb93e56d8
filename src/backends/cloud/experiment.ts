// The experiment's image on a cloud machine (Tezt-cloud's model: every VM
// runs the experiment's Docker image). A scenario's host group names it
// (`image:`, which scenario/hosts.ts puts in the system's `experiment-image`
// key); the machine's boot script installs Docker when the machine image
// has none, pulls the image (or uses the one the machine image holds) and
// starts it as the container `troupe-experiment` on the host's network, kept
// up by `sleep infinity` as the docker backend keeps its containers; it
// says how that went in a file. Once logged in, the driver waits for that
// file, and from then on everything troupe runs on the host (steps,
// services, the project's copy, artifacts) runs in the container through
// `docker exec`, while the machine (its lifetime, its SSH) stays the
// cloud's. Under `--backend-as GROUP=docker` (the localhost mode) the docker
// backend runs the same image as local containers instead.

import { shWord } from "../../exec/shell-quote.js";
import type { System } from "../../model/project.js";
import type { Connected } from "../ssh/connect.js";
import type { Transport } from "../../transport/transport.js";

import { TroupeError } from "../../util/errors.js";
import { SudoTransport } from "../ssh/sudo.js";

/** The system key a scenario's `image:` sets. */
export const EXPERIMENT_IMAGE_KEY = "experiment-image";
export const EXPERIMENT_CONTAINER = "troupe-experiment";
/** Written by the boot script when the container runs, or when it cannot (with the end of what went wrong). */
export const EXPERIMENT_READY = "/run/troupe-experiment.ready";
export const EXPERIMENT_FAILED = "/run/troupe-experiment.failed";
const EXPERIMENT_LOG = "/var/log/troupe-experiment.log";

/** The image a system's machines run the experiment in, if any. */
export function experimentImage(system: System): string | undefined {
  const v = system.extra[EXPERIMENT_IMAGE_KEY];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** What tells apart the machines of a system: its name and its experiment image (one boot script each). */
export function machineKind(system: System): string {
  const image = experimentImage(system);
  return image ? `${system.name}\0${image}` : system.name;
}

/** Boot script lines (POSIX sh, as root) that start the experiment's container. */
export function experimentBootLines(image: string): string[] {
  const img = shWord(image);
  const c = EXPERIMENT_CONTAINER;
  // Each step stops the subshell itself: `set -e` does not apply in a subshell that is part of an && list.
  return [
    `# troupe: the experiment runs in ${image}, as container ${c}; troupe's steps run in it (docker exec).`,
    "(",
    "  if ! command -v docker >/dev/null 2>&1; then",
    "    if command -v apt-get >/dev/null 2>&1; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker.io",
    "    elif command -v dnf >/dev/null 2>&1; then dnf install -y -q docker",
    "    elif command -v yum >/dev/null 2>&1; then yum install -y -q docker",
    "    elif command -v apk >/dev/null 2>&1; then apk add -q docker",
    "    else echo 'no docker, and no package manager troupe knows to install it with' >&2; false; fi || exit 1",
    "  fi",
    "  if [ -d /run/systemd/system ]; then systemctl start docker || exit 1; fi",
    `  docker image inspect ${img} >/dev/null 2>&1 || docker pull ${img} || exit 1`,
    `  docker rm -f ${c} >/dev/null 2>&1`,
    `  docker run -d --name ${c} --network host --entrypoint sleep ${img} infinity || exit 1`,
    `) > ${EXPERIMENT_LOG} 2>&1 && touch ${EXPERIMENT_READY} || tail -n 5 ${EXPERIMENT_LOG} > ${EXPERIMENT_FAILED}`,
  ];
}

/** A host script: wait until the boot script has started the container, at most `seconds`; exit 3 (failed) or 4 (timeout). */
export function waitScript(seconds: number): string {
  return [
    "i=0",
    `while [ ! -e ${EXPERIMENT_READY} ]; do`,
    `  if [ -e ${EXPERIMENT_FAILED} ]; then cat ${EXPERIMENT_FAILED} >&2; exit 3; fi`,
    `  i=$((i + 1)); [ "$i" -gt ${Math.max(1, Math.ceil(seconds))} ] && exit 4`,
    "  sleep 1",
    "done",
  ].join("\n");
}

/**
 * Wait for the container on a reached machine, then hand out a transport
 * that runs everything in it. `machine` runs as root on the machine.
 */
export async function enterExperiment(
  machine: Transport,
  o: { readonly name: string; readonly image: string; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<Transport> {
  let said = "";
  const r = await machine.exec({
    script: waitScript(o.timeoutMs / 1000),
    onStderr: (b) => (said = (said + b.toString("utf8")).slice(-2000)),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (o.signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
  if (r.exitCode === 4) {
    throw new TroupeError(
      "E_BACKEND",
      `${o.name}: the experiment image ${o.image} was not running within ${Math.round(o.timeoutMs / 1000)}s; raise boot-timeout if pulling it is only slow`,
    );
  }
  if (r.exitCode !== 0) {
    throw new TroupeError(
      "E_BACKEND",
      `${o.name}: the experiment image ${o.image} did not start: ${said.trim().replace(/\s*\n\s*/g, "; ") || `exit status ${r.exitCode}`} (the machine's ${EXPERIMENT_LOG} says more)`,
    );
  }
  return containerTransport(machine);
}

/** A reached machine of `system`, as the run uses it: in the experiment's container when the system has an image. */
export async function intoExperiment(
  conn: Connected,
  system: System,
  o: { readonly name: string; readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<Connected> {
  const image = experimentImage(system);
  if (!image) return conn;
  try {
    return { ...conn, transport: await enterExperiment(conn.transport, { ...o, image }) };
  } catch (err) {
    await conn.close().catch(() => undefined);
    throw err;
  }
}

/** Host.data's record of the image a machine runs the experiment in. */
export function experimentData(system: System): { image?: string } {
  const image = experimentImage(system);
  return image ? { image } : {};
}

/** A kept machine serves a system only if it runs that system's experiment image (or neither has one). */
export function checkKeptImage(name: string, recorded: Readonly<Record<string, unknown>> | undefined, system: System): void {
  const was = typeof recorded?.["image"] === "string" ? recorded["image"] : undefined;
  const want = experimentImage(system);
  if (was === want) return;
  throw new TroupeError(
    "E_BACKEND",
    `${name} was kept running ${was ? `the experiment image ${was}` : "no experiment image"}, and this run wants ${want ?? "none"}; ` +
      "discard it (troupe run --discard) and run again",
  );
}

/** Everything run through `machine` runs in the experiment's container instead. */
export function containerTransport(machine: Transport): Transport {
  return new SudoTransport(machine, `docker exec -i ${EXPERIMENT_CONTAINER}`, `in container ${EXPERIMENT_CONTAINER}`);
}
