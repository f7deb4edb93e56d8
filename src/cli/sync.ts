// `troupe sync serve`: a sync server for runs troupe did not start (two
// terminals, CI jobs on different machines): barriers, kv, messages, locks
// and batons through troupe-ctl with TROUPE_SYNC and TROUPE_SYNC_TOKEN.

import type { Command } from "commander";
import { TroupeError } from "../util/errors.js";
import type { ServeAddress } from "../serve/address.js";
import type { SyncServerOptions } from "../sync/server.js";

type CallEvent = Parameters<NonNullable<SyncServerOptions["onCall"]>>[0];

export function addSyncCommand(program: Command): void {
  const sync = program.command("sync").description("sync between processes troupe did not start (troupe-ctl from anywhere)");
  sync
    .command("serve")
    .description("serve barriers, kv, messages and locks to troupe-ctl callers that troupe did not start")
    .option(
      "--listen <addr:port>",
      "where to listen: loopback and a free port by default; another address must be asked for",
      "127.0.0.1:0",
    )
    .option("--token-file <file>", "the token callers must give: the first line of FILE (else TROUPE_SYNC_TOKEN; on loopback, a new one)")
    .option("--session <name>", "a name for this server, in its messages", "sync")
    .option("--hosts <n>", "participants expected: barriers without --count wait for N arrivals")
    .option("--timeout <duration>", "timeout of waits given without --timeout (30s, 10m, 2h); none by default")
    .option("-v, --verbose", "log every call as it comes and as it is answered (on stderr)")
    .addHelpText(
      "after",
      `
Callers are troupe-ctl (troupe sync ctl-path says where it is; outside
troupe jobs it needs bash, for its /dev/tcp) in any process, on any
machine that can reach the address:
  TROUPE_SYNC=HOST:PORT TROUPE_SYNC_TOKEN=TOKEN TROUPE_HOST=NAME troupe-ctl barrier ready
or troupe-ctl --sync HOST:PORT --token TOKEN --as NAME barrier ready.
NAME is who calls (by default this machine's hostname); troupe-ctl self
prints it, addr NAME the address it came from. TROUPE_SYNC_RETRY=S makes
troupe-ctl wait up to S seconds for a server not listening yet.

On start the server prints, on stdout, the lines to give to a shell (eval)
to point troupe-ctl at it; messages go to stderr. Without --token-file and
TROUPE_SYNC_TOKEN, a server on loopback makes a token and writes it to a
file of its own (mode 0600), removed when it stops; on any other address
it refuses to start: a token is then yours to make and hand over
(openssl rand -hex 16). A caller with a wrong token is refused: troupe-ctl
exits 77.

Every caller shares one store: barriers (N: --count, or --hosts), kv,
send/wait, sync, locks, batons, fail (poisons every wait, until the server
restarts). wait --all and sync wait for the participants that have called
so far. Ctrl-C, SIGTERM or SIGHUP stop the server: waiting troupe-ctl calls
exit 69, saying it stopped. Exit status 0 once stopped; 2 for bad flags or
an address that cannot be had.

Examples:
  troupe sync serve --hosts 2 -v               then, in two other terminals, paste
                                               its two lines and: troupe-ctl barrier ready
  TROUPE_SYNC_TOKEN=$SECRET troupe sync serve --listen 0.0.0.0:7070 --hosts 2 --timeout 30m
                                               for CI jobs on other machines; they set
                                               TROUPE_SYNC=THIS-HOST:7070 TROUPE_SYNC_TOKEN=$SECRET

See docs/sync-server.md.`,
    )
    .action(async (opts: SyncServeCliOptions) => {
      process.exitCode = await syncServe(opts);
    });
  sync
    .command("ctl-path")
    .description("print where this troupe's troupe-ctl is, to copy it to a machine or put it on PATH")
    .addHelpText(
      "after",
      `
troupe-ctl is one file; outside troupe jobs it needs bash. For example:
  install -m 755 "$(troupe sync ctl-path)" ~/.local/bin/troupe-ctl
  scp "$(troupe sync ctl-path)" ci-runner-2:/usr/local/bin/troupe-ctl`,
    )
    .action(async () => {
      const { findShareDir } = await import("../sync/relay-script.js");
      process.stdout.write(`${findShareDir()}/troupe-ctl\n`);
    });
}

interface SyncServeCliOptions {
  readonly listen: string;
  readonly tokenFile?: string;
  readonly session: string;
  readonly hosts?: string;
  readonly timeout?: string;
  readonly verbose?: boolean;
}

async function syncServe(opts: SyncServeCliOptions): Promise<number> {
  const [{ parseServeAddress }, { parseDuration }, { INTERRUPT_SIGNALS, quietStdio }] = await Promise.all([
    import("../serve/address.js"),
    import("../sync/duration.js"),
    import("../api/interrupt.js"),
  ]);
  const address = parseServeAddress(opts.listen, "--listen");
  let hosts: number | undefined;
  if (opts.hosts !== undefined) {
    hosts = Number(opts.hosts);
    if (!/^\d+$/.test(opts.hosts) || hosts < 1) throw new TroupeError("E_USAGE", `--hosts wants a whole number >= 1, not "${opts.hosts}"`);
  }
  let defaultTimeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    try {
      defaultTimeoutMs = parseDuration(opts.timeout);
    } catch (e) {
      throw new TroupeError("E_USAGE", `--timeout: ${(e as Error).message}`);
    }
  }
  // Ctrl-C, SIGTERM, SIGHUP stop the server, from before the token file is
  // made; a second signal while stopping changes nothing (the file still goes).
  let onSignal: (sig: NodeJS.Signals) => void = () => undefined;
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    onSignal = (sig) => {
      // The terminal is gone: writing to it must not stop the cleaning up.
      if (sig === "SIGHUP") quietStdio();
      resolve(sig);
    };
  });
  for (const s of INTERRUPT_SIGNALS) process.on(s, onSignal);
  try {
    return await serveUntil(stopped, { ...opts, address, hosts, defaultTimeoutMs });
  } finally {
    for (const s of INTERRUPT_SIGNALS) process.off(s, onSignal);
  }
}

interface ServeSettings {
  readonly address: ServeAddress;
  readonly session: string;
  readonly tokenFile?: string | undefined;
  readonly hosts: number | undefined;
  readonly defaultTimeoutMs: number | undefined;
  readonly verbose?: boolean | undefined;
}

/** Make or read the token, serve, say how to call, stop when `stopped` resolves; 0. */
async function serveUntil(stopped: Promise<NodeJS.Signals>, o: ServeSettings): Promise<number> {
  const [{ SyncServer }, { serverToken, forgetToken }, { formatDuration }, { shQuote }, { hostname }] = await Promise.all([
    import("../sync/server.js"),
    import("../sync/server-token.js"),
    import("../sync/duration.js"),
    import("../exec/shell-quote.js"),
    import("node:os"),
  ]);
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  const token = await serverToken({ file: o.tokenFile, env: process.env, loopback: o.address.loopback, warn: say });
  try {
    const server = await SyncServer.start({
      host: o.address.host,
      port: o.address.port,
      token: token.token,
      session: o.session,
      ...(o.hosts !== undefined ? { hosts: o.hosts } : {}),
      ...(o.defaultTimeoutMs !== undefined ? { defaultTimeoutMs: o.defaultTimeoutMs } : {}),
      onJoin: (name, from) => say(`troupe sync: ${name} joined (from ${from})`),
      ...(o.verbose ? { onCall: (call: CallEvent) => say(callLine(call, formatDuration)) } : {}),
    });
    // What another machine calls: this machine's name when listening on every address.
    const host = o.address.host;
    const reach = host === "0.0.0.0" || host === "::" ? hostname() : host.includes(":") ? `[${host}]` : host;
    const tokenLine = token.made
      ? `TROUPE_SYNC_TOKEN=${token.token}; export TROUPE_SYNC_TOKEN`
      : token.file !== undefined
        ? `TROUPE_SYNC_TOKEN=$(cat ${shQuote(token.file)}); export TROUPE_SYNC_TOKEN`
        : "# TROUPE_SYNC_TOKEN: the one this server has in its environment";
    process.stdout.write(`TROUPE_SYNC=${reach}:${server.port}; export TROUPE_SYNC\n${tokenLine}\n`);
    say(
      `troupe sync: serving "${o.session}" on ${host}:${server.port}` +
        (o.hosts !== undefined ? `; barriers wait for ${o.hosts} arrivals` : "; barriers need --count (no --hosts)") +
        (token.made ? `; token in ${token.file} (removed at exit)` : "") +
        `\ntroupe sync: point troupe-ctl at it with the lines above (eval), then: TROUPE_HOST=NAME troupe-ctl barrier ready` +
        `\ntroupe sync: Ctrl-C stops it`,
    );
    const sig = await stopped;
    say(`troupe sync: ${sig}: stopping (participants: ${server.participants.join(", ") || "none"})`);
    await server.close(sig);
    return 0;
  } finally {
    await forgetToken(token);
  }
}

/** `troupe sync: a: barrier ready` as a call comes; `...: 0 after 1.2s` (or the error) once answered. Arguments cut at 120 characters. */
function callLine(call: CallEvent, formatDuration: (ms: number) => string): string {
  let words = call.argv.map((a) => (a === "" || /[\s\\'"]/.test(a) ? JSON.stringify(a) : a)).join(" ");
  if (words.length > 120) words = `${words.slice(0, 117)}...`;
  const head = `troupe sync: ${call.name}: ${words}`;
  if (!call.answer) return head;
  const how = call.answer.code === 0 ? "0" : `${call.answer.code} (${call.answer.text.split("\n")[0]})`;
  return `${head}: ${how} after ${formatDuration(call.ms ?? 0)}`;
}
