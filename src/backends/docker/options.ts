// The docker backend's keys, on a backend or one of its systems (the
// system's value wins), and the container they make. Pure: no I/O. The
// schema (config/schema/extra.ts) has checked each value's shape, with its
// position, when the project was loaded.
//
//   backends:
//     docker:
//       capabilities: [NET_ADMIN]       # cap-add; `privileged: true` needs CAP_SYS_RESOURCE on the machine
//       mounts: [/srv/cache:/cache:ro]  # bind mounts HOST:CONTAINER[:ro]
//       network: bridge                 # a Docker network (bridge, host, none, a user network)
//       memory: 512M                    # limits
//       cpus: 1.5
//       container-env: {LANG: C.UTF-8}  # the environment of every process in the container
//       transport: exec                 # or ssh, for images that run sshd
//       init: docker                    # or image: the image's own command (systemd, sshd)
//       systems:
//         - debian-12:                  # the image is the system's name ...
//         - web:
//             image: nginx:1.27         # ... unless `image:` says otherwise

import type { Backend, System } from "../../model/project.js";
import { experimentImage } from "../cloud/experiment.js";

export interface DockerOptions {
  readonly image: string;
  readonly transport: "exec" | "ssh";
  readonly init: "docker" | "image";
  readonly privileged: boolean;
  readonly capabilities: readonly string[];
  readonly mounts: readonly string[];
  readonly network?: string;
  /** Bytes. */
  readonly memory?: number;
  readonly cpus?: number;
  readonly env: Readonly<Record<string, string>>;
}

function pick(backend: Backend, system: System, key: string): unknown {
  return system.extra[key] ?? backend.extra[key];
}

/** `512M` in bytes; Spread's `preserve-size` (and anything else) sets no limit. */
export function sizeBytes(size: string): number | undefined {
  const m = /^(\d+)([BKMG])$/.exec(size);
  if (!m) return undefined;
  return Number(m[1]) * 1024 ** "BKMG".indexOf(m[2]!);
}

export function dockerOptions(backend: Backend, system: System): DockerOptions {
  const memory = pick(backend, system, "memory");
  const cpus = pick(backend, system, "cpus");
  const network = pick(backend, system, "network");
  const bytes = typeof memory === "string" ? sizeBytes(memory) : undefined;
  const env = (pick(backend, system, "container-env") ?? {}) as Record<string, unknown>;
  return {
    // A scenario group's `image:` (Tezt-cloud's experiment image) is the container's, whatever the system says.
    image: experimentImage(system) ?? system.image,
    transport: pick(backend, system, "transport") === "ssh" ? "ssh" : "exec",
    init: pick(backend, system, "init") === "image" ? "image" : "docker",
    privileged: pick(backend, system, "privileged") === true,
    capabilities: (pick(backend, system, "capabilities") as string[] | undefined) ?? [],
    mounts: (pick(backend, system, "mounts") as string[] | undefined) ?? [],
    ...(typeof network === "string" ? { network } : {}),
    ...(bytes !== undefined ? { memory: bytes } : {}),
    ...(typeof cpus === "number" ? { cpus } : {}),
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
  };
}

/** A name the engine accepts for a container: `[a-zA-Z0-9][a-zA-Z0-9_.-]*`. */
export function containerName(run: string | undefined, host: string): string {
  const safe = (s: string): string => s.replace(/[^a-zA-Z0-9_.-]/g, "-");
  return `troupe-${run ? `${safe(run)}-` : ""}${safe(host)}`.slice(0, 200);
}

/** A hostname: letters, digits and `-`, 63 at most. */
function hostname(name: string): string {
  return (
    name
      .replace(/[^a-zA-Z0-9-]/g, "-")
      .replace(/^-+/, "")
      .slice(0, 63)
      .replace(/-+$/, "") || "troupe"
  );
}

/**
 * The body of POST /containers/create. A container of ours (`init: docker`)
 * starts in `workdir` (the project's path), which the engine makes: the
 * project then goes in with one archive request.
 */
export function createBody(
  o: DockerOptions,
  host: string,
  labels: Readonly<Record<string, string>>,
  workdir?: string,
): Record<string, unknown> {
  const mine = o.init === "docker";
  return {
    Image: o.image,
    ...(mine && workdir?.startsWith("/") ? { WorkingDir: workdir } : {}),
    Hostname: hostname(host),
    Labels: labels,
    Env: Object.entries(o.env).map(([k, v]) => `${k}=${v}`),
    // A small init (docker-init) as PID 1 reaps what scripts leave; it runs
    // a command that never ends, so the container stays up for execs.
    ...(mine ? { Entrypoint: ["sleep"], Cmd: ["infinity"] } : {}),
    HostConfig: {
      Init: mine,
      Privileged: o.privileged,
      ...(o.capabilities.length > 0 ? { CapAdd: o.capabilities.map((c) => c.toUpperCase().replace(/^CAP_/, "")) } : {}),
      ...(o.mounts.length > 0 ? { Binds: [...o.mounts] } : {}),
      ...(o.network !== undefined ? { NetworkMode: o.network } : {}),
      ...(o.memory !== undefined ? { Memory: o.memory } : {}),
      ...(o.cpus !== undefined ? { NanoCpus: Math.round(o.cpus * 1e9) } : {}),
    },
  };
}
