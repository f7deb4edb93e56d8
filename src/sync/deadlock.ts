// Deadlock of a multi-host job: every host of the job is either blocked in a
// troupe-ctl wait that nothing on its side will end, or runs no script at
// all (its script ended, or it waits for the others to end theirs before its
// next phase), and at least one host waits. Then no host can release any
// other: the waits would last until the kill-timeout. Pure: a function over
// the roster's state, told by the sync service (deadlock-watch.ts times it).
//
// What counts as "could still make progress":
// - a host that runs a script and has no pending wait (it works, or it will
//   call troupe-ctl again);
// - a host with a wait that has a `--timeout`: that wait ends by itself, and
//   the script goes on (the user chose that bound);
// - a host whose state the engine never told (the orchestrator's API users,
//   scenarios' services): `running` is true until said otherwise.
// The orchestrator is not a host; whatever it does through the API counts
// as progress (it re-arms the timer) but it is never waited for here.

/** One wait of a host, as the service holds it. */
export interface PendingWait {
  /** `at barrier "ready"`, `for message "go"`, `for kv key "port"`. */
  readonly what: string;
  /** Who is missing: `1 of 2 arrived: server; not arrived: client-1`; may be empty. */
  readonly detail: string;
  /** The wait ends by itself after this long (`--timeout`); absent: only when satisfied. */
  readonly timeoutMs?: number;
}

export interface HostState {
  /** The host's name in the job: `server`, `client-1`. */
  readonly name: string;
  /** A script runs on it (or the engine never said otherwise). */
  readonly running: boolean;
  readonly waits: readonly PendingWait[];
}

export interface Deadlock {
  /** Hosts blocked in waits, with what they wait for, in roster order. */
  readonly waiting: readonly { readonly host: string; readonly waits: readonly PendingWait[] }[];
  /** Hosts that run no script and wait for nothing: they can release nobody. */
  readonly idle: readonly string[];
}

/** A wait that ends by itself does not block for good. */
function blocks(w: PendingWait): boolean {
  return w.timeoutMs === undefined || !Number.isFinite(w.timeoutMs);
}

/** Whether this host could still do something that ends another's wait. */
export function canGoOn(h: HostState): boolean {
  if (h.waits.some((w) => !blocks(w))) return true;
  return h.running && h.waits.length === 0;
}

/** The deadlock in `hosts`, or undefined when some host can go on or nobody waits. */
export function findDeadlock(hosts: readonly HostState[]): Deadlock | undefined {
  if (hosts.some(canGoOn)) return undefined;
  const waiting = hosts.filter((h) => h.waits.length > 0).map((h) => ({ host: h.name, waits: h.waits }));
  if (waiting.length === 0) return undefined;
  return { waiting, idle: hosts.filter((h) => h.waits.length === 0).map((h) => h.name) };
}

/** The one line the job fails with, every host's troupe-ctl prints, and run.json keeps. */
export function describeDeadlock(d: Deadlock): string {
  const parts = d.waiting.map(({ host, waits }) => `${host} waits ${waits.map(describeWait).join(" and ")}`);
  for (const host of d.idle) parts.push(`${host} runs no script`);
  const who = d.idle.length === 0 ? "every host of the job waits and none can go on" : "no host of the job can go on";
  return `deadlock: ${who}: ${parts.join(", ")}`;
}

function describeWait(w: PendingWait): string {
  return w.detail ? `${w.what} (${w.detail})` : w.what;
}
