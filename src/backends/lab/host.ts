// The life of one lab host: create (claim a slot, namespace, veth, tmpfs,
// keys), boot (start its process tree), wait for its sshd, stop (kill its
// processes), destroy (stop, then remove everything of the slot). See
// scripts.ts for how a host is put together.

import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { chmod, link, mkdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { join } from "node:path";
import { TroupeError } from "../../util/errors.js";
import { generateEd25519, keyWithoutComment, publicKeyOf } from "./keys.js";
import { hostPaths, labPaths, slotAddress, slotMac, type HostPaths } from "./layout.js";
import { extraLayers, type ExtraLayer } from "./machine-mounts.js";
import { childrenOf, isRunning, killId, procId, selfId, waitGone, type ProcId } from "./procs.js";
import { claimSlot, removeRecord, writeRecord, type LabHostRecord } from "./records.js";
import { SYSTEM_PATH, sh } from "./run.js";
import {
  bootScript,
  HOST_DEVICES,
  HOST_SSH_DIR,
  hostFstab,
  hostsFile,
  layerDir,
  layersFstab,
  neighBatch,
  NEIGH_SYSCTL_DIR,
  NEIGH_THRESHOLDS,
  prepareScript,
  sshdCanSkipReexec,
  sshdConfig,
  teardownScript,
  type SlotNames,
} from "./scripts.js";

export interface CreateHostOptions {
  readonly stateDir: string;
  /** Host name and hostname (already sanitised). */
  readonly name: string;
  readonly keep?: boolean;
  readonly lab?: string;
  readonly backend?: string;
  readonly system?: string;
  /** Size limit of the host's writable layer (tmpfs `size=`), default `50%` of RAM. */
  readonly tmpfsSize?: string;
  /** Root's password on the host; password logins are refused unless set. */
  readonly password?: string;
  /** How long sshd may take to answer (default 30 s). */
  readonly bootTimeoutMs?: number;
  /** This slot (thus its address) and no other, e.g. the address a cloud API gave an instance a lab host stands in for. */
  readonly slot?: number;
  readonly signal?: AbortSignal;
}

/** Fail early, and clearly, where a lab cannot work. */
export function checkLabSupport(): void {
  if (process.platform !== "linux") throw new TroupeError("E_BACKEND", "lab: lab hosts need Linux (network, pid and mount namespaces)");
  if (typeof process.getuid !== "function" || process.getuid() !== 0) {
    throw new TroupeError("E_BACKEND", "lab: lab hosts need root (namespaces, mounts and a bridge); run troupe as root, e.g. with sudo");
  }
  const needed: [string, string][] = [
    ["/usr/sbin/sshd", "openssh-server"],
    ["ssh", "openssh-client"],
    ["ip", "iproute2"],
    ["unshare", "util-linux"],
    ["nsenter", "util-linux"],
    ["pivot_root", "util-linux"],
    ["mount", "mount"],
  ];
  const missing = needed.filter(([cmd]) => !onPath(cmd)).map(([cmd, pkg]) => `${cmd} (${pkg})`);
  if (missing.length > 0) {
    throw new TroupeError("E_BACKEND", `lab: missing ${missing.join(", ")}; install them with .ci/lab-deps.sh or your package manager`);
  }
}

function onPath(cmd: string): boolean {
  if (cmd.startsWith("/")) return existsSync(cmd);
  return SYSTEM_PATH.split(":").some((d) => existsSync(join(d, cmd)));
}

/** The lab's key pair, made once per machine; returns the public key line. */
export async function ensureLabKey(stateDir: string): Promise<string> {
  const p = labPaths(stateDir);
  await mkdir(p.root, { recursive: true, mode: 0o755 });
  if (!existsSync(p.keyFile)) {
    const pair = generateEd25519("troupe-lab");
    const tmp = `${p.keyFile}.${process.pid}.${Date.now()}`;
    await writeFile(tmp, pair.privateKey, { mode: 0o600 });
    try {
      await link(tmp, p.keyFile); // atomic: the first process wins, others use its key
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }
  const pub = publicKeyOf(await readFile(p.keyFile, "utf8"));
  if (!existsSync(p.pubFile)) await writeFile(p.pubFile, `${pub} troupe-lab\n`);
  return pub;
}

export function slotNames(stateDir: string, rec: Pick<LabHostRecord, "slot" | "netns" | "veth">): SlotNames {
  return { netns: rec.netns, veth: rec.veth, address: slotAddress(rec.slot), paths: hostPaths(stateDir, rec.slot) };
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
}

/**
 * Bring up a new host; on any failure or an abort, whatever was made is
 * removed again. Its record says `making` until sshd answers.
 */
export async function createHost(o: CreateHostOptions): Promise<LabHostRecord> {
  checkAborted(o.signal);
  const labKey = await ensureLabKey(o.stateDir);
  let rec = await claimSlot(
    o.stateDir,
    {
      name: o.name,
      owner: selfId(),
      keep: o.keep ?? false,
      ...(o.lab !== undefined ? { lab: o.lab } : {}),
      ...(o.backend !== undefined ? { backend: o.backend } : {}),
      ...(o.system !== undefined ? { system: o.system } : {}),
    },
    slotAddress,
    o.slot,
  );
  try {
    checkAborted(o.signal);
    const names = slotNames(o.stateDir, rec);
    const p = names.paths;
    const lab = labPaths(o.stateDir);
    await mkdir(p.fs, { recursive: true });
    await ensureNeighBatch(lab.neighBatch);
    const prepare = prepareScript({ ...names, mac: slotMac(rec.slot) }, o.tmpfsSize ?? "50%", lab.bridgeLock, {
      devices: hostDevices(),
      neighBatch: lab.neighBatch,
      neighPinned: lab.neighPinned,
      ...(neighRaised() ? {} : { neighSaved: lab.neighSaved }),
    });
    await sh(prepare, `create host ${o.name}`);
    await Promise.all([p.upper, p.work, p.root].map((d) => mkdir(d)));
    checkAborted(o.signal);
    const hostKey = await writeHostFiles(names, rec, labKey, o.password !== undefined);
    rec = { ...rec, hostKey };
    const logFrom = logSize(p.log);
    rec = await bootHost(o.stateDir, rec);
    await writeRecord(o.stateDir, rec);
    await waitForSsh(o.stateDir, rec, o.bootTimeoutMs ?? 30_000, o.signal, logFrom);
    const { making: _making, ...whole } = rec;
    rec = whole;
    await writeRecord(o.stateDir, rec);
    return rec;
  } catch (err) {
    await destroyHost(o.stateDir, rec).catch(() => undefined);
    throw err;
  }
}

/** Files the host needs before it first boots, written straight into its upper layer. */
async function writeHostFiles(names: SlotNames, rec: LabHostRecord, labKey: string, passwordLogin: boolean): Promise<string> {
  const p = names.paths;
  const sshDir = join(p.upper, HOST_SSH_DIR);
  await mkdir(sshDir, { recursive: true, mode: 0o755 });
  const key = generateEd25519(`root@${rec.name}`);
  const hostKey = keyWithoutComment(key.publicKey);
  await writeFile(join(sshDir, "ssh_host_ed25519_key"), key.privateKey, { mode: 0o600 });
  await writeFile(join(sshDir, "ssh_host_ed25519_key.pub"), `${key.publicKey}\n`);
  await writeFile(join(sshDir, "authorized_keys"), `${labKey} troupe-lab\n`, { mode: 0o600 });
  await writeFile(join(sshDir, "sshd_config"), sshdConfig({ address: rec.address, passwordLogin }));
  await writeFile(join(p.upper, "etc", "hostname"), `${rec.name}\n`);
  let machineHosts = "";
  try {
    machineHosts = readFileSync("/etc/hosts", "utf8");
  } catch {
    machineHosts = "127.0.0.1\tlocalhost\n";
  }
  await writeFile(join(p.upper, "etc", "hosts"), hostsFile(machineHosts, rec.name, rec.address));
  await writeFile(p.knownHosts, `${rec.address} ${hostKey}\n`);
  return hostKey;
}

/** The `ip -batch` file pinning every slot's neighbour entry (scripts.ts), written once (aside, then renamed). */
const neighBatchWritten = new Set<string>();
async function ensureNeighBatch(path: string): Promise<void> {
  if (neighBatchWritten.has(path)) return;
  const text = neighBatch();
  let now: string | undefined;
  try {
    now = readFileSync(path, "utf8");
  } catch {
    /* not there yet */
  }
  if (now !== text) {
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, text);
    await rename(tmp, path);
  }
  neighBatchWritten.add(path);
}

/** Whether this machine's sshd takes `-r` (see BootParams), asked once. */
let noReexec: boolean | undefined;
function sshdNoReexec(): boolean {
  if (noReexec === undefined) {
    const r = spawnSync("/usr/sbin/sshd", ["-V"], { encoding: "utf8", timeout: 10_000 });
    noReexec = sshdCanSkipReexec(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  }
  return noReexec;
}

/** Those of HOST_DEVICES this machine has (as character devices), looked up once. */
let devices: string[] | undefined;
function hostDevices(): string[] {
  devices ??= HOST_DEVICES.filter((d) => {
    try {
      return statSync(d).isCharacterDevice();
    } catch {
      return false;
    }
  });
  return devices;
}

/**
 * Whether the neighbour-table thresholds are the lab's already. Then no
 * host needs to raise them: they are put back only once the lab's bridge
 * goes, which waits for every record, this host's too.
 */
function neighRaised(): boolean {
  try {
    return Object.entries(NEIGH_THRESHOLDS).every(([name, want]) => Number(readFileSync(`${NEIGH_SYSCTL_DIR}/${name}`, "utf8")) >= want);
  } catch {
    return false;
  }
}

/** An empty directory of mode `mode` at `dir` (what was there goes). */
async function freshDir(dir: string, mode: number): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  await chmod(dir, mode); // not the umask's
}

/**
 * What the host mounts at boot (scripts.ts: hostFstab): `/dev` with the
 * device nodes `prepareScript` copied, kept from boot to boot as a machine
 * keeps its devices; `/run`, `/tmp` and `/dev/shm` empty at each boot.
 */
async function bootFiles(p: HostPaths, layers: readonly ExtraLayer[]): Promise<void> {
  await mkdir(p.dev, { recursive: true });
  await Promise.all([mkdir(join(p.dev, "pts"), { recursive: true }), mkdir(join(p.dev, "shm"), { recursive: true })]);
  const links: [string, string][] = [
    ["ptmx", "pts/ptmx"],
    ["fd", "/proc/self/fd"],
    ["stdin", "/proc/self/fd/0"],
    ["stdout", "/proc/self/fd/1"],
    ["stderr", "/proc/self/fd/2"],
  ];
  await Promise.all(
    links.map(([name, target]) =>
      symlink(target, join(p.dev, name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== "EEXIST") throw err;
      }),
    ),
  );
  await freshDir(p.run, 0o755);
  await Promise.all([freshDir(join(p.run, "lock"), 0o1777), freshDir(join(p.run, "sshd"), 0o755)]);
  await Promise.all([freshDir(p.tmp, 0o1777), freshDir(p.shm, 0o1777)]);
  await Promise.all(layers.flatMap((l) => ["upper", "work"].map((d) => mkdir(join(layerDir(p, l), d), { recursive: true }))));
  await writeFile(p.fstab, hostFstab(p));
  if (layers.length) await writeFile(p.layersFstab, layersFstab(p, layers));
}

/** Start the host's process tree; returns the record with its `init`. */
export async function bootHost(stateDir: string, rec: LabHostRecord): Promise<LabHostRecord> {
  const p = hostPaths(stateDir, rec.slot);
  const layers = extraLayers(stateDir);
  await bootFiles(p, layers);
  const boot = bootScript({ paths: p, hostname: rec.name, address: rec.address, layers: layers.length > 0, sshdNoReexec: sshdNoReexec() });
  await writeFile(p.bootScript, `${boot}\n`);
  await chmod(p.bootScript, 0o755);
  const log = openSync(p.log, "a");
  try {
    const child = spawn(
      "nsenter",
      [`--net=/run/netns/${rec.netns}`, "--", "unshare", "--pid", "--fork", "--mount", "--uts", "--kill-child", "/bin/sh", p.bootScript],
      {
        // No tie to troupe: a kept lab outlives it, and the user's Ctrl-C must not reach the host.
        detached: true,
        stdio: ["ignore", log, log],
        env: { PATH: SYSTEM_PATH, LC_ALL: "C", HOME: "/root" },
      },
    );
    const spawned = await new Promise<number>((resolve, reject) => {
      child.once("error", (err) => reject(new TroupeError("E_BACKEND", `lab: cannot start host ${rec.name}: ${err.message}`)));
      child.once("spawn", () => resolve(child.pid!));
    });
    child.unref();
    const init = procId(spawned);
    if (!init) throw new TroupeError("E_BACKEND", `lab: host ${rec.name} stopped at once: ${logTail(p.log)}`);
    return { ...rec, init };
  } finally {
    closeSync(log);
  }
}

function logTail(path: string): string {
  try {
    const lines = readFileSync(path, "utf8").trim().split("\n");
    return lines.slice(-4).join("; ") || "no output";
  } catch {
    return "no log";
  }
}

/** The size of a host's log now: where what its next boot says starts. */
export function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** What sshd -e says once it listens. */
const LISTENING = "Server listening on ";

/**
 * Wait until the host's sshd listens: it says so in the host's log, past
 * `logFrom` (the log's size before this boot). Watching the log costs a
 * stat now and then; what this did before, reading the host's
 * /proc/PID/net/tcp (the kernel walks every TCP socket of the machine for
 * it) and probing sshd (a new sshd process for each probe), took a third of
 * the CPU of making a lab of 1,000 hosts. Should sshd not say it, probe for
 * its banner after a while.
 */
export async function waitForSsh(
  stateDir: string,
  rec: LabHostRecord,
  timeoutMs: number,
  signal?: AbortSignal,
  logFrom = 0,
): Promise<void> {
  const log = hostPaths(stateDir, rec.slot).log;
  const start = Date.now();
  const deadline = start + timeoutMs;
  let seen = logFrom;
  let text = "";
  let delay = 2;
  for (;;) {
    if (signal?.aborted) throw new TroupeError("E_INTERRUPTED", "interrupted");
    if (!isRunning(rec.init)) {
      throw new TroupeError("E_BACKEND", `lab: host ${rec.name} did not boot: ${logTail(log)}`);
    }
    const size = logSize(log);
    if (size > seen) {
      text += readSlice(log, seen, size);
      seen = size;
      if (text.includes(LISTENING)) return;
      text = text.slice(-LISTENING.length);
    }
    if (Date.now() - start > 3000 && (await sshBanner(rec.address, 2000))) return;
    if (Date.now() > deadline) {
      throw new TroupeError(
        "E_BACKEND",
        `lab: sshd of host ${rec.name} (${rec.address}) did not answer within ${Math.round(timeoutMs / 1000)} s`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, Date.now() - start > 3000 ? 250 : 50);
  }
}

/** Bytes `from` to `to` of a file, as text. */
function readSlice(path: string, from: number, to: number): string {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(Math.min(to - from, 1 << 20));
    const n = readSync(fd, buf, 0, buf.length, Math.max(from, to - buf.length));
    return buf.subarray(0, n).toString("latin1");
  } finally {
    closeSync(fd);
  }
}

/** Whether something at address:22 says `SSH-` within `ms`. */
export function sshBanner(address: string, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port: 22 });
    let seen = "";
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    sock.on("data", (b: Buffer) => {
      seen += b.toString("latin1");
      if (seen.startsWith("SSH-")) done(true);
      else if (seen.length >= 4) done(false);
    });
    sock.on("error", () => done(false));
    sock.on("close", () => done(false));
  });
}

/** Kill every process of the host; its files stay. */
export async function stopHost(rec: LabHostRecord): Promise<void> {
  const init = rec.init;
  if (!isRunning(init)) return;
  const inner: ProcId[] = await childrenOf(init!.pid);
  killId(init);
  for (const id of inner) killId(id);
  if (!(await waitGone([init!, ...inner], 10_000))) {
    throw new TroupeError("E_BACKEND", `lab: the processes of host ${rec.name} did not stop`);
  }
}

/** Stop and boot again: processes restart, files are kept. */
export async function rebootHost(stateDir: string, rec: LabHostRecord, timeoutMs = 30_000, signal?: AbortSignal): Promise<LabHostRecord> {
  await stopHost(rec);
  const logFrom = logSize(hostPaths(stateDir, rec.slot).log);
  const booted = await bootHost(stateDir, rec);
  await writeRecord(stateDir, booted);
  await waitForSsh(stateDir, booted, timeoutMs, signal, logFrom);
  return booted;
}

/** Remove everything of the host, the record last. Idempotent. */
export async function destroyHost(stateDir: string, rec: LabHostRecord): Promise<void> {
  await stopHost(rec).catch(() => undefined);
  await sh(teardownScript(slotNames(stateDir, rec)), `remove host ${rec.name}`);
  await removeRecord(stateDir, rec.slot);
}
