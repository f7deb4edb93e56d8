// LAVA MultiNode-style messages.
//
// - send MSG [k=v ...]: record that the caller sent MSG, with optional data
//   (a later send of the same MSG by the same caller replaces its data). Never blocks.
// - wait MSG: until any other participant has sent MSG (at any time, before
//   or after the wait started). Returns the data of the first who sent it.
// - wait --all MSG [ROLE]: until every other host (of ROLE) has sent MSG.
//   Returns each one's data.
// - sync MSG: send MSG, then wait until every other host has sent MSG at
//   least as many times as the caller. So a host's k-th `sync ready` waits for
//   everyone's k-th: sync is reusable in a loop, like a barrier of all hosts
//   (LAVA's lava-sync is single use; this is a strict extension).
// "Other hosts" never include the orchestrator: it may send and wait, but
// nobody waits for it unless it is waited for by name through `wait MSG`.

// The data of one MSG, from all its senders, as `wait --all` prints it, is at
// most VALUE_LIMIT bytes: a send that would pass it is refused.

import { SyncError } from "./errors.js";
import type { Roster } from "./roster.js";
import { byteLength, checkValue, printable, VALUE_LIMIT } from "./values.js";
import type { WaitOptions, Waits } from "./waits.js";

export type MessageData = readonly (readonly [string, string])[];

export interface Sent {
  readonly from: string;
  readonly data: MessageData;
}

interface SenderState {
  count: number;
  data: MessageData;
}

export class Messages {
  /** MSG -> sender -> what it sent, in first-send order. */
  private readonly byMessage = new Map<string, Map<string, SenderState>>();

  constructor(
    private readonly waits: Waits,
    private readonly roster: Roster,
  ) {}

  send(caller: string, msg: string, data: MessageData = []): void {
    for (const [k, v] of data) {
      if (k === "" || k.includes("="))
        throw new SyncError("usage", `send ${msg}: a data key must be non-empty, without "=": ${JSON.stringify(k)}`);
      checkValue(`send ${msg}`, k);
      checkValue(`send ${msg}`, v);
    }
    let total = 0;
    for (const [from, r] of this.byMessage.get(msg) ?? []) if (from !== caller) total += printedSize(from, r.data);
    total += printedSize(caller, data);
    if (total > VALUE_LIMIT) {
      throw new SyncError(
        "usage",
        `send ${msg}: data too large (${total} bytes as wait --all prints it, with the other hosts' data of ${msg}; at most ${VALUE_LIMIT}); move larger data through the project or artifacts`,
      );
    }
    let senders = this.byMessage.get(msg);
    if (!senders) this.byMessage.set(msg, (senders = new Map<string, SenderState>()));
    const r = senders.get(caller);
    if (r) {
      r.count += 1;
      r.data = data;
    } else senders.set(caller, { count: 1, data });
    this.waits.notify(`msg:${msg}`);
  }

  /** Until anyone but the caller has sent `msg`. */
  waitAny(caller: string, msg: string, options: WaitOptions = {}): Promise<Sent> {
    return this.waits.wait(
      {
        topic: `msg:${msg}`,
        label: `wait ${msg}`,
        what: `for message "${msg}"`,
        check: () => {
          for (const [from, r] of this.byMessage.get(msg) ?? []) if (from !== caller && r.count > 0) return { from, data: r.data };
          return undefined;
        },
        describe: () => "nobody else sent it",
      },
      options,
    );
  }

  /** Until every other host (of `role`) has sent `msg`. */
  waitAll(caller: string, msg: string, role: string | undefined, options: WaitOptions = {}): Promise<Sent[]> {
    const label = `wait --all ${msg}${role !== undefined ? ` ${role}` : ""}`;
    let targets: string[];
    try {
      targets = this.roster.others(caller, role);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.waits.wait(
      {
        topic: `msg:${msg}`,
        label,
        what: `for message "${msg}" from ${role !== undefined ? `every ${role}` : "every other host"}`,
        check: () => this.allSent(msg, targets, 1),
        describe: () => this.describeMissing(msg, targets, 1),
      },
      options,
    );
  }

  /** Send `msg`, then wait for every other host's send of the same round. */
  sync(caller: string, msg: string, options: WaitOptions = {}): Promise<Sent[]> {
    try {
      this.waits.assertOpen(`sync ${msg}`);
    } catch (e) {
      return Promise.reject(e);
    }
    this.send(caller, msg);
    const round = this.byMessage.get(msg)?.get(caller)?.count ?? 1;
    const targets = this.roster.others(caller);
    return this.waits.wait(
      {
        topic: `msg:${msg}`,
        label: `sync ${msg}`,
        what: `in sync "${msg}"`,
        check: () => this.allSent(msg, targets, round),
        describe: () => this.describeMissing(msg, targets, round),
      },
      options,
    );
  }

  private allSent(msg: string, targets: readonly string[], atLeast: number): Sent[] | undefined {
    const senders = this.byMessage.get(msg);
    const out: Sent[] = [];
    for (const t of targets) {
      const r = senders?.get(t);
      if (!r || r.count < atLeast) return undefined;
      out.push({ from: t, data: r.data });
    }
    return out;
  }

  private describeMissing(msg: string, targets: readonly string[], atLeast: number): string {
    const senders = this.byMessage.get(msg);
    const missing = targets.filter((t) => (senders?.get(t)?.count ?? 0) < atLeast);
    return `not sent by: ${missing.join(", ")}`;
  }
}

/** One item of data as `troupe-ctl wait` prints it: `KEY=VALUE`, both printable (values.ts), after `prefix` (`HOST:` for --all). */
export function dataLine(key: string, value: string, prefix = ""): string {
  return `${prefix}${printable(key)}=${printable(value)}`;
}

/** The bytes of `from`'s data in `wait --all`'s output. */
function printedSize(from: string, data: MessageData): number {
  let n = 0;
  for (const [k, v] of data) n += byteLength(dataLine(k, v, `${from}:`)) + 1;
  return n;
}
