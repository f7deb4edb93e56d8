// `troupe exec`: one command on many hosts at once, the way pdsh and clush
// are used. Targets come from a hostlist (`root@node[01-64]:22`), an Ansible
// inventory group, a running lab (`lab`, `lab:NAME`), or running containers
// (`docker:NAME,...`, `docker:label=KEY=VALUE`).
//
//   const fleet = await openFleet("lab:demo");
//   try {
//     for (const r of await fleet.exec("uptime")) console.log(r.name, r.exitCode, r.output);
//   } finally {
//     await fleet.close();          // connections closed, running commands killed
//   }
//
// A fleet's machines exist already: the host pool (hosts/pool.ts) holds
// their connections and closes them, and never destroys a machine.

import { setMaxListeners } from "node:events";
import { constants as osConstants } from "node:os";
import type { OutputLine } from "../script/result.js";
import { runScript } from "../script/run-script.js";
import { shownTail } from "../script/tail.js";
import { SshTransport, type SshTransportOptions } from "../transport/ssh/index.js";
import type { Transport } from "../transport/transport.js";
import { HostPool } from "../hosts/pool.js";
import { EventStream } from "../report/events.js";
import { TroupeError } from "../util/errors.js";
import { naturalCompare } from "../util/natural-order.js";

export interface FanoutTarget {
  readonly name: string;
  readonly transport: Transport;
}

export interface TargetOptions {
  /** An Ansible inventory (INI or YAML); HOSTS then names one of its groups. */
  readonly inventory?: string;
  /** Login user where the hosts don't say. */
  readonly user?: string;
  /** ssh options (`-o` style, `Key=Value`), e.g. from `--ssh-option`. */
  readonly sshOptions?: Readonly<Record<string, string>>;
  /**
   * Each host will get one command (what `troupe exec` does): every command
   * opens a connection of its own and none is kept, as pdsh does. By default
   * a connection is kept per host (ControlMaster), with a long-lived session
   * on it that runs plain commands one after another, so that later
   * commands cost neither a handshake nor a new `ssh` process.
   */
  readonly oneShot?: boolean;
}

/** The hosts HOSTS names, each with a transport (connections open lazily). */
export async function resolveTargets(hosts: string, options: TargetOptions = {}): Promise<FanoutTarget[]> {
  const how: Pick<SshTransportOptions, "shareConnection" | "commandSession"> = options.oneShot
    ? { shareConnection: false }
    : { commandSession: true };
  const docker = /^docker:(.+)$/.exec(hosts);
  if (docker && !options.inventory) return (await import("../backends/docker/targets.js")).dockerTargets(docker[1]!);
  const lab = /^lab(?::(.+))?$/.exec(hosts);
  if (lab && !options.inventory) {
    // Loaded here: the ssh backend's inventory parsing is not needed for a lab, nor the lab's code for ssh hosts.
    const [{ labTransport }, { DEFAULT_STATE_DIR: LAB_STATE_DIR }, { listRecords }] = await Promise.all([
      import("../backends/lab/driver.js"),
      import("../backends/lab/layout.js"),
      import("../backends/lab/records.js"),
    ]);
    const name = lab[1] ?? "lab";
    // A host still being made (its record says `making`) has no sshd yet: it is not a target.
    const records = (await listRecords(LAB_STATE_DIR)).filter((r) => (name === "*" || r.lab === name) && !r.making);
    if (records.length === 0) {
      throw new TroupeError(
        "E_USAGE",
        `no lab named ${name} is up; start one with \`troupe lab up N${name === "lab" ? "" : ` --name ${name}`}\``,
      );
    }
    return records
      .sort((a, b) => naturalCompare(a.name, b.name))
      .map((r) => ({ name: r.name, transport: labTransport(LAB_STATE_DIR, r, undefined, how) }));
  }
  const { targetsFromInventory, targetsFromSpecs } = await import("../backends/ssh/targets.js");
  // The YAML parser loads only for a YAML inventory.
  const inventory = options.inventory ? await (await import("../backends/inventory/index.js")).loadInventory(options.inventory) : undefined;
  const defaults = options.user ? { user: options.user } : {};
  const targets = inventory ? targetsFromInventory(inventory, hosts, defaults) : targetsFromSpecs([hosts], defaults);
  if (targets.length === 0) throw new TroupeError("E_USAGE", `no hosts in '${hosts}'`);
  return targets.map((t) => ({
    name: t.name,
    transport: new SshTransport({
      ...how,
      label: t.name,
      host: t.address,
      ...(t.port !== undefined ? { port: t.port } : {}),
      ...(t.user !== undefined ? { user: t.user } : {}),
      ...(t.password !== undefined ? { password: t.password } : {}),
      ...(t.identityFile !== undefined ? { identityFile: t.identityFile } : {}),
      ...(options.sshOptions ? { options: { ...options.sshOptions } } : {}),
    }),
  }));
}

export interface HostOutcome {
  readonly name: string;
  /** The command's exit status; 255 when the host could not be reached (as ssh and pdsh say), 124 when it ran past `timeoutMs` (as timeout(1) says). */
  readonly exitCode: number;
  /** The signal that ended the command, when one did and the transport knows. */
  readonly signal?: NodeJS.Signals;
  /** It ran past `timeoutMs` and was killed. */
  readonly timedOut?: boolean;
  readonly durationMs: number;
  /** stdout and stderr, in the order they came (the end of it: see `truncated`). */
  readonly output: string;
  /** `output` lost its beginning (more was printed than `keepOutput`). */
  readonly truncated?: boolean;
  readonly error?: string;
}

/** The exit status of a command killed at its timeout, as timeout(1) says. */
export const TIMED_OUT = 124;

export interface FanoutOptions {
  /** Commands running at once (connections are bounded separately by the ssh transport). */
  readonly fanout?: number;
  /** Each line as it arrives (`partial`: a piece of a very long line, more follows). */
  readonly onLine?: (host: string, line: string, stream: "stdout" | "stderr", partial: boolean) => void;
  /** A host's command is about to start (a host waits its turn when there are more than `fanout`). */
  readonly onStart?: (host: string) => void;
  /** Each host's outcome, as soon as its command is over. */
  readonly onDone?: (outcome: HostOutcome) => void;
  /** Kill the command on a host that runs longer than this (ms); its outcome says `timedOut`, exit status 124. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** How much of each host's output to keep in its outcome, in characters (default 1 MiB); the rest is cut from the front. */
  readonly keepOutput?: number;
}

/** What each host's outcome keeps of its output by default. */
const DEFAULT_KEPT_OUTPUT = 1 << 20;

/** Run `command` on every target; resolves when all are done. */
export async function fanout(targets: readonly FanoutTarget[], command: string, options: FanoutOptions = {}): Promise<HostOutcome[]> {
  const width = Math.max(1, options.fanout ?? 256);
  const results = new Array<HostOutcome>(targets.length);
  // One signal for every host's command (each listens): the caller's, relayed.
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  const relay = (): void => ac.abort();
  if (options.signal?.aborted) ac.abort();
  else options.signal?.addEventListener("abort", relay, { once: true });
  const each: FanoutOptions = { ...options, signal: ac.signal };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      if (i >= targets.length) return;
      options.onStart?.(targets[i]!.name);
      results[i] = await runOne(targets[i]!, command, each);
      options.onDone?.(results[i]);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(width, targets.length) }, worker));
  } finally {
    options.signal?.removeEventListener("abort", relay);
  }
  return results;
}

async function runOne(target: FanoutTarget, command: string, options: FanoutOptions): Promise<HostOutcome> {
  const r = await runScript({
    transport: target.transport,
    script: command,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onLine ? { onLine: (line: OutputLine) => options.onLine?.(target.name, line.text, line.stream, line.partial) } : {}),
    ...(options.timeoutMs !== undefined ? { killMs: options.timeoutMs } : {}),
    capture: { output: options.keepOutput ?? DEFAULT_KEPT_OUTPUT },
  });
  const output = shownTail(r.output, r.truncated, `(... output cut: ${r.printed - r.output.length} characters ...)`);
  const common = {
    name: target.name,
    durationMs: r.durationMs,
    ...(r.truncated ? { truncated: true } : {}),
    ...(r.signal ? { signal: r.signal } : {}),
  };
  if (r.failure?.kind === "transport") {
    const message = r.failure.message;
    options.onLine?.(target.name, message, "stderr", false);
    return { ...common, exitCode: 255, output: output + message + "\n", error: message };
  }
  if (r.failure?.kind === "timeout") {
    const message = `timed out after ${(options.timeoutMs ?? 0) / 1000}s: killed`;
    return { ...common, exitCode: TIMED_OUT, timedOut: true, output, error: message };
  }
  return { ...common, exitCode: r.exitCode ?? 128 + signalNumber(r.signal), output };
}

/** A signal's number (9 when unknown), for the 128+N exit status a shell gives. */
function signalNumber(signal: NodeJS.Signals | null): number {
  return (signal ? osConstants.signals[signal] : undefined) ?? 9;
}

/** Hosts grouped by identical output, clush -b / dshbak -c style, largest group first. */
export function collate(results: readonly Pick<HostOutcome, "name" | "output" | "exitCode">[]): { hosts: string[]; output: string }[] {
  const groups = new Map<string, string[]>();
  for (const r of results) {
    const list = groups.get(r.output) ?? [];
    list.push(r.name);
    groups.set(r.output, list);
  }
  return [...groups]
    .map(([output, hosts]) => ({ hosts: hosts.sort(naturalCompare), output }))
    .sort((a, b) => b.hosts.length - a.hosts.length);
}

/** Machines reached for `exec`, their connections held by one host pool. */
export class Fleet {
  private constructor(
    readonly targets: readonly FanoutTarget[],
    private readonly pool: HostPool,
  ) {}

  /** The machines HOSTS names (see resolveTargets), ready for commands. */
  static async open(hosts: string, options: TargetOptions = {}, events: EventStream = new EventStream()): Promise<Fleet> {
    const targets = await resolveTargets(hosts, options);
    const pool = new HostPool({
      events,
      context: { runDir: "", projectDir: "", remotePath: "", events },
      factory: (backend) => {
        throw new TroupeError("E_UNSUPPORTED", `exec reaches existing machines; it allocates none (backend ${backend.name})`);
      },
    });
    for (const t of targets) {
      pool.adopt({ name: t.name, address: t.name, backend: "exec", system: "exec", transport: t.transport, projectPath: "" });
    }
    return new Fleet(targets, pool);
  }

  /** Run `command` on every machine; resolves when all are done. */
  exec(command: string, options: FanoutOptions = {}): Promise<HostOutcome[]> {
    return fanout(this.targets, command, options);
  }

  /** Close every connection (running commands are killed). Safe to call twice. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Open a fleet: `await openFleet("lab:demo")`, then `exec`, then `close`. */
export function openFleet(hosts: string, options: TargetOptions = {}): Promise<Fleet> {
  return Fleet.open(hosts, options);
}
