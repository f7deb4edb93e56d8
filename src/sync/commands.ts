// The shell surface of the sync service: `troupe-ctl` sends its arguments as
// they are, and this file parses them, calls the service and turns the
// outcome into an answer (an exit status and a text). Parsing lives here, in
// one place, so that the POSIX sh client stays tiny and the usage messages
// are the same wherever they come from.

import { parseDuration } from "./duration.js";
import { isSyncError, SyncError, SYNC_EXIT } from "./errors.js";
import type { LockGrant } from "./locks.js";
import { dataLine, type MessageData } from "./messages.js";
import type { PassedWaits, RendezvousKey } from "./replay.js";
import type { SyncService } from "./service.js";
import { errorText } from "../util/text.js";

export interface Answer {
  /** troupe-ctl's exit status. */
  readonly code: number;
  /** On success, exactly what troupe-ctl prints on stdout (lines end in `\n`); otherwise its error message. */
  readonly text: string;
}

export interface CommandContext {
  readonly service: SyncService;
  /** The participant calling: the host the relay belongs to. */
  readonly caller: string;
  /** The request's id on its host; a lock acquired by it is known by this token. */
  readonly requestId: string;
  /** Aborted when the caller went away (`C`ancel from the relay, relay ended). */
  readonly signal?: AbortSignal;
  /** Timeout of waits without `--timeout`; none when absent. */
  readonly defaultTimeoutMs?: number;
  /** Locks held through this relay, by token; `lock` adds, `unlock` removes. */
  readonly grants: Map<string, LockGrant>;
  /** What the caller's script passed before a REBOOT: those barriers and syncs are answered at once (replay.ts). */
  readonly passed?: PassedWaits;
}

export const USAGE: Readonly<Record<string, string>> = {
  barrier: "barrier NAME [--count N] [--timeout D]",
  kv: "kv set KEY VALUE | kv get KEY [--wait] [--timeout D] | kv del KEY",
  send: "send MSG [KEY=VALUE ...]",
  wait: "wait MSG [--all [ROLE]] [--timeout D]",
  sync: "sync MSG [--timeout D]",
  lock: "lock NAME [--timeout D] -- CMD...",
  unlock: "unlock NAME TOKEN",
  hosts: "hosts [ROLE]",
  self: "self",
  role: "role",
  addr: "addr [HOST-or-ROLE]",
  port: "port NAME",
  fail: "fail REASON",
  baton: "baton wait NAME [--timeout D] | baton pass NAME [TO]",
};

function usage(verb: string, what: string): SyncError {
  const u = USAGE[verb];
  return new SyncError("usage", `${what}${u ? `\nusage: troupe-ctl ${u}` : ""}`);
}

interface Parsed {
  readonly positionals: string[];
  readonly flags: Map<string, string | true>;
}

/**
 * Split options from positionals. `valued` flags take the next word (or
 * `--flag=value`), `boolean` ones none; `--all` takes the next word as its
 * ROLE when a positional already came before it. `--` ends the options.
 */
function parseArgs(verb: string, args: readonly string[], valued: readonly string[], boolean: readonly string[]): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
    if (valued.includes(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
      if (value === undefined) throw usage(verb, `--${name} needs a value`);
      flags.set(name, value);
    } else if (boolean.includes(name) && eq < 0) {
      flags.set(name, true);
      if (name === "all" && positionals.length > 0) {
        const next = args[i + 1];
        if (next !== undefined && !next.startsWith("--")) {
          flags.set("all", next);
          i++;
        }
      }
    } else {
      throw usage(verb, `${verb}: unknown option ${a}`);
    }
  }
  return { positionals, flags };
}

function timeoutOf(p: Parsed, ctx: CommandContext): number | undefined {
  const t = p.flags.get("timeout");
  return typeof t === "string" ? parseDuration(t) : ctx.defaultTimeoutMs;
}

function exactly(verb: string, p: Parsed, names: readonly string[]): string[] {
  if (p.positionals.length < names.length) throw usage(verb, `${verb}: missing ${names.slice(p.positionals.length).join(" ")}`);
  if (p.positionals.length > names.length) throw usage(verb, `${verb}: unexpected argument "${p.positionals[names.length]}"`);
  return p.positionals;
}

/** What troupe-ctl prints: each line with its newline (nothing for an empty list). */
function lines(list: readonly string[]): string {
  return list.map((l) => `${l}\n`).join("");
}

function dataLines(data: MessageData, prefix = ""): string[] {
  return data.map(([k, v]) => dataLine(k, v, prefix));
}

/** Run one `troupe-ctl` request. Never throws: failures become answers. */
export async function runCommand(argv: readonly string[], ctx: CommandContext): Promise<Answer> {
  try {
    return { code: SYNC_EXIT.OK, text: await dispatch(argv, ctx) };
  } catch (e) {
    if (isSyncError(e)) return { code: e.exitCode, text: e.message };
    return { code: SYNC_EXIT.UNAVAILABLE, text: `internal error: ${errorText(e)}` };
  }
}

/**
 * A barrier or sync: answered at once when the caller's script passed it
 * before a REBOOT (unless the job is poisoned or over), else waited for.
 */
async function rendezvous(ctx: CommandContext, key: RendezvousKey, wait: () => Promise<unknown>): Promise<string> {
  if (ctx.passed?.replay(key)) {
    ctx.service.assertOpen(key);
    return "";
  }
  await wait();
  ctx.passed?.pass(key);
  return "";
}

async function dispatch(argv: readonly string[], ctx: CommandContext): Promise<string> {
  const [verb, ...args] = argv;
  const s = ctx.service;
  const me = ctx.caller;
  const wait = (p: Parsed): { caller: string; timeoutMs?: number; signal?: AbortSignal } => {
    const timeoutMs = timeoutOf(p, ctx);
    return { caller: me, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(ctx.signal ? { signal: ctx.signal } : {}) };
  };
  switch (verb) {
    case "barrier": {
      const p = parseArgs(verb, args, ["count", "timeout"], []);
      const [name] = exactly(verb, p, ["NAME"]);
      const c = p.flags.get("count");
      let count: number | undefined;
      if (typeof c === "string") {
        if (!/^\d+$/.test(c) || Number(c) < 1) throw usage(verb, `barrier ${name}: --count wants a whole number >= 1, not "${c}"`);
        count = Number(c);
      }
      return rendezvous(ctx, `barrier ${name as string}`, () =>
        s.barrier(me, name as string, { ...wait(p), ...(count !== undefined ? { count } : {}) }),
      );
    }
    case "kv": {
      const [sub, ...rest] = args;
      if (sub === "set") {
        if (rest.length !== 2) throw usage(verb, `kv set: want KEY VALUE, got ${rest.length} argument${rest.length === 1 ? "" : "s"}`);
        s.kv.set(rest[0] as string, rest[1] as string);
        return "";
      }
      if (sub === "get") {
        const p = parseArgs(verb, rest, ["timeout"], ["wait"]);
        const [key] = exactly("kv", p, ["KEY"]);
        if (p.flags.get("wait")) return lines([await s.kv.wait(key as string, wait(p))]);
        const v = s.kv.get(key as string);
        if (v === undefined) throw new SyncError("not-found", `kv get ${key}: not set`);
        return lines([v]);
      }
      if (sub === "del") {
        const p = parseArgs(verb, rest, [], []);
        const [key] = exactly("kv", p, ["KEY"]);
        s.kv.del(key as string);
        return "";
      }
      throw usage(verb, sub === undefined ? "kv: missing set, get or del" : `kv: unknown subcommand "${sub}"`);
    }
    case "send": {
      const [msg, ...pairs] = args;
      if (msg === undefined || msg === "") throw usage(verb, "send: missing MSG");
      const data: [string, string][] = [];
      for (const kv of pairs) {
        const eq = kv.indexOf("=");
        if (eq <= 0) throw usage(verb, `send ${msg}: data must be KEY=VALUE, not "${kv}"`);
        data.push([kv.slice(0, eq), kv.slice(eq + 1)]);
      }
      s.send(me, msg, data);
      return "";
    }
    case "wait": {
      const p = parseArgs(verb, args, ["timeout"], ["all"]);
      const all = p.flags.get("all");
      if (all === undefined) {
        const [msg] = exactly(verb, p, ["MSG"]);
        const got = await s.waitAny(me, msg as string, wait(p));
        return lines(dataLines(got.data));
      }
      let role = typeof all === "string" ? all : undefined;
      const pos = p.positionals;
      if (role === undefined && pos.length === 2) role = pos.pop();
      const [msg] = exactly(verb, p, ["MSG"]);
      const got = await s.waitAll(me, msg as string, role, wait(p));
      return lines(got.flatMap((g) => dataLines(g.data, `${g.from}:`)));
    }
    case "sync": {
      const p = parseArgs(verb, args, ["timeout"], []);
      const [msg] = exactly(verb, p, ["MSG"]);
      return rendezvous(ctx, `sync ${msg as string}`, () => s.sync(me, msg as string, wait(p)));
    }
    case "lock": {
      const p = parseArgs(verb, args, ["timeout"], []);
      const [name] = exactly(verb, p, ["NAME"]);
      const grant = await s.lock(me, name as string, wait(p));
      ctx.grants.set(ctx.requestId, grant);
      return lines([ctx.requestId]);
    }
    case "unlock": {
      const p = parseArgs(verb, args, [], []);
      const [name, token] = exactly(verb, p, ["NAME", "TOKEN"]);
      const grant = ctx.grants.get(token as string);
      if (grant && grant.name === name) {
        ctx.grants.delete(token as string);
        grant.release();
      }
      return "";
    }
    case "hosts": {
      const p = parseArgs(verb, args, [], []);
      if (p.positionals.length > 1) throw usage(verb, `hosts: unexpected argument "${p.positionals[1]}"`);
      return lines(s.roster.names(p.positionals[0]));
    }
    case "self":
    case "role": {
      exactly(verb, parseArgs(verb, args, [], []), []);
      const who = s.roster.get(me);
      return lines([verb === "self" ? me : (who?.role ?? "")]);
    }
    case "addr": {
      const p = parseArgs(verb, args, [], []);
      if (p.positionals.length > 1) throw usage(verb, `addr: unexpected argument "${p.positionals[1]}"`);
      const target = p.positionals[0];
      return lines(target === undefined ? [s.roster.get(me)?.address ?? ""] : s.roster.addresses(target));
    }
    case "port": {
      // Reserved ports are in the store as port/NAME (sync/session.ts).
      const [name] = exactly(verb, parseArgs(verb, args, [], []), ["NAME"]);
      const port = s.kv.get(`port/${name}`);
      if (port !== undefined) return lines([port]);
      const reserved = s.kv
        .keys()
        .filter((k) => k.startsWith("port/"))
        .map((k) => k.slice("port/".length))
        .sort();
      const known = reserved.length > 0 ? `reserved: ${reserved.join(", ")}` : "the job reserves none (see ports: in task.yaml)";
      throw new SyncError("not-found", `port ${name}: no port of that name; ${known}`);
    }
    case "baton": {
      const [sub, ...rest] = args;
      if (sub === "wait") {
        const p = parseArgs(verb, rest, ["timeout"], []);
        const [name] = exactly(verb, p, ["NAME"]);
        await s.batons.wait(me, name as string, wait(p));
        return "";
      }
      if (sub === "pass") {
        const p = parseArgs(verb, rest, [], []);
        if (p.positionals.length === 0) throw usage(verb, "baton pass: missing NAME");
        const [name, to] = exactly(verb, p, p.positionals.length > 1 ? ["NAME", "TO"] : ["NAME"]);
        s.batons.pass(me, name as string, to);
        return "";
      }
      throw usage(verb, `baton: want wait or pass, not ${JSON.stringify(sub ?? "")}`);
    }
    case "fail": {
      const reason = args.join(" ").trim();
      s.fail(me, reason);
      const poison = s.poisoned;
      throw new SyncError("poisoned", `fail: poisoned: host ${poison?.host ?? me} failed: ${poison?.reason ?? reason}`);
    }
    case undefined:
    case "":
      throw usage("", "missing command (try troupe-ctl --help)");
    default:
      throw usage("", `unknown command "${verb}" (try troupe-ctl --help)`);
  }
}
