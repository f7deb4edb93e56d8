// Reuse in one run, with Spread's semantics (spread/runner.go, reuse.go):
//
// - Every host a run allocates is recorded as soon as it is up, in the run's
//   reuse file: `.troupe-reuse.yaml` with -reuse, `.troupe-reuse.PID.yaml`
//   with -reuse-pid=PID, and otherwise the run's own `.troupe-reuse.PID.yaml`
//   (removed at the end), so that the hosts of a run that was killed can be
//   discarded with `-reuse-pid=PID -discard`. Local hosts are not recorded
//   in that last case: nothing of them outlives the machine's processes.
// - Allocating takes a recorded host of the system first, if there is one
//   left that this run has not tried. A recorded host that is gone (the
//   backend says so) is forgotten; one that cannot be reached stays recorded,
//   and with -reuse no new host of its system is allocated in its place.
// - A reused host's copy of the project is used as it is, unless it is
//   missing or empty, or -resend asks to remove it and send it again.
//   Prepare and restore scripts run on reused hosts as on new ones.
// - With -reuse, hosts are kept at the end (and on Ctrl-C): released, not
//   discarded, and left in the file. Without it, they are discarded, their
//   entries removed, and the file too.
//
// The session wraps each backend's driver, so the engine only sees hosts
// that come and go; it learns from `keeps` that a host is kept.

import { shWord } from "../../exec/shell-quote.js";
import { existsSync } from "node:fs";
import { mkdir, rm, rmdir } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Backend, System } from "../../model/project.js";
import type { EventStream } from "../../report/events.js";

import { TroupeError } from "../../util/errors.js";
import type { AllocateOptions, BackendDriver, Host, RecordedHost } from "../backend.js";
import type { Bundle } from "../../transfer/bundle.js";
import { reuseFileName, spreadReuseFileName } from "./file.js";
import { describeSweep, sweepJournals } from "./journals.js";
import { ReuseStore } from "./store.js";
import { errorText } from "../../util/text.js";

/** Spread's -reuse, -reuse-pid, -resend and -discard. */
export interface ReuseOptions {
  /** -reuse: the run's hosts outlive it, recorded for the next runs. */
  readonly keep?: boolean;
  /** -reuse-pid: the hosts recorded by troupe (or Spread) process PID, which was killed. */
  readonly pid?: number;
  /** -resend: send the project again to reused hosts. */
  readonly resend?: boolean;
  /** -discard: discard the recorded hosts, and run nothing. */
  readonly discard?: boolean;
}

export interface OpenSessionOptions extends ReuseOptions {
  readonly projectDir: string;
  readonly runDir: string;
  readonly events: EventStream;
  /** Stops waiting for another process's lock. */
  readonly signal?: AbortSignal;
  /** A Spread project: Spread's file is written too, in Spread's format (spread-format.ts). */
  readonly spreadFile?: boolean;
  /** The session's password (Spread's -pass, or random), recorded for hosts whose system has none, as Spread records it. */
  readonly password?: string;
}

interface Tracked {
  readonly rec: RecordedHost;
  readonly host: Host;
  readonly inner: BackendDriver;
}

export class ReuseSession {
  /** Hosts of this run that are recorded, by host name. */
  private readonly tracked = new Map<string, Tracked>();
  /** Recorded hosts not tried yet, per `backend\0system`. */
  private readonly untried = new Map<string, RecordedHost[]>();
  /** Systems with a recorded host that could not be reached. */
  private readonly unreachable = new Set<string>();
  private readonly wrapped = new Map<string, BackendDriver>();
  private readonly inner = new WeakMap<BackendDriver, BackendDriver>();
  /** Names claimed in the run directory for recorded hosts. */
  private readonly claimed: string[] = [];
  private store: ReuseStore | undefined;
  private opening: Promise<ReuseStore> | undefined;
  private hinted = false;
  private closed = false;

  private constructor(
    private readonly o: OpenSessionOptions,
    /** The run's own journal, opened on first use; the others are opened at once. */
    private readonly journal: boolean,
  ) {}

  /** Open the run's reuse file (waiting for another troupe process that holds it). */
  static async open(o: OpenSessionOptions): Promise<ReuseSession> {
    const journal = !o.keep && !o.discard && o.pid === undefined;
    const s = new ReuseSession(o, journal);
    // Cheap: journals of killed runs that list no host (their lock, too) go now; others wait for gc.
    if (journal) {
      const swept = await sweepJournals(o.projectDir, () => false).catch(() => undefined);
      if (swept) for (const line of describeSweep(swept).filter((l) => l.startsWith("removed"))) o.events.message("debug", line);
    }
    if (!journal) {
      if (o.pid !== undefined) {
        const names = [reuseFileName(o.pid), spreadReuseFileName(o.pid)];
        if (!names.some((n) => existsSync(join(o.projectDir, n)))) {
          throw new TroupeError(
            "E_USAGE",
            `no hosts are recorded for process ${o.pid}: neither ${names.join(" nor ")} is in ${o.projectDir}`,
          );
        }
      }
      const store = await s.openStore();
      for (const rec of store.list()) {
        const key = keyOf(rec.backend, rec.system);
        const list = s.untried.get(key) ?? [];
        list.push(rec);
        s.untried.set(key, list);
      }
      try {
        await s.claimNames(store.list());
      } catch (err) {
        await s.close();
        throw err;
      }
    }
    return s;
  }

  /** The hosts -keep keeps, and the file itself, stay at the end. */
  get keeping(): boolean {
    return !!this.o.keep;
  }

  /** The file hosts are recorded in. */
  get file(): string {
    return join(this.o.projectDir, reuseFileName(this.o.pid ?? (this.keeping || this.o.discard ? undefined : process.pid)));
  }

  /** The file, relative to the project, for messages. */
  get fileLabel(): string {
    return relative(this.o.projectDir, this.file) || this.file;
  }

  private openStore(): Promise<ReuseStore> {
    this.opening ??= ReuseStore.open({
      dir: this.o.projectDir,
      ...(this.o.pid !== undefined ? { pid: this.o.pid } : this.journal ? { pid: process.pid } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
      ...(this.o.spreadFile ? { writeSpread: true } : {}),
      onWait: (pid) => this.o.events.message("info", `Waiting for troupe process ${pid} to release ${this.fileLabel}...`),
    }).then((st) => (this.store = st));
    return this.opening;
  }

  /** Recorded hosts keep their names: claim them in the run directory before any new host takes one. */
  private async claimNames(hosts: readonly RecordedHost[]): Promise<void> {
    if (hosts.length === 0) return;
    const dir = join(this.o.runDir, "hosts");
    await mkdir(dir, { recursive: true });
    for (const h of hosts) {
      if (h.name.includes("/") || h.name === "." || h.name === "..") continue;
      try {
        await mkdir(join(dir, h.name));
        this.claimed.push(h.name);
      } catch {
        /* claimed already (two entries of one name) */
      }
    }
  }

  /** The recorded hosts, for -discard. */
  async recorded(): Promise<readonly RecordedHost[]> {
    return (await this.openStore()).list();
  }

  // ---- drivers --------------------------------------------------------------

  /** The driver the engine uses for `backend`: `driver` with reuse around it. */
  wrap(driver: BackendDriver, backend: Backend): BackendDriver {
    const done = this.wrapped.get(backend.name);
    if (done) return done;
    if (this.keeping && !(driver.reuse && driver.release)) {
      throw new TroupeError("E_UNSUPPORTED", {
        pos: backend.pos,
        path: `backends.${backend.name}`,
        message: `-reuse: the ${driver.type} backend cannot keep hosts between runs`,
      });
    }
    const w: BackendDriver = {
      type: driver.type,
      ...(driver.check ? { check: (systems?: readonly System[]) => driver.check!(systems) } : {}),
      ...(driver.workersFor ? { workersFor: (system: System) => driver.workersFor!(system) } : {}),
      ...(driver.reboot ? { reboot: (host: Host) => driver.reboot!(host) } : {}),
      ...(driver.pushProject ? { pushProject: (host: Host, bundle: Bundle) => driver.pushProject!(host, bundle) } : {}),
      allocate: (system, index, hint) => this.allocate(driver, backend, system, index, hint),
      discard: (host) => this.discard(driver, host),
      keeps: (host) => this.keeping && this.tracked.has(host.name),
      close: () => this.closeDriver(driver, backend),
    };
    this.wrapped.set(backend.name, w);
    this.inner.set(w, driver);
    return w;
  }

  /** The driver `wrap` was given. */
  unwrap(driver: BackendDriver): BackendDriver {
    return this.inner.get(driver) ?? driver;
  }

  private take(key: string): RecordedHost | undefined {
    return this.untried.get(key)?.shift();
  }

  private async allocate(inner: BackendDriver, backend: Backend, system: System, index: number, hint?: AllocateOptions): Promise<Host> {
    const key = keyOf(backend.name, system.name);
    for (let rec = this.take(key); rec; rec = this.take(key)) {
      if (rec.type !== undefined && rec.type !== inner.type) {
        // Another --backend-as mapping made it: this driver cannot take it back, nor may it take it for one of its own.
        this.o.events.message(
          "warn",
          `Not reusing ${this.describe(rec)}: a ${rec.type} host, and this run runs ${backend.name} as ${inner.type}; ` +
            `it stays in ${this.fileLabel} (\`--discard\` removes it)`,
        );
        continue;
      }
      const host = await this.tryReuse(inner, system, rec);
      if (host) return host;
    }
    if (this.unreachable.has(key)) {
      throw new TroupeError(
        "E_BACKEND",
        `not allocating a new host of ${key.replace("\0", ":")} while a recorded one cannot be reached; ` +
          `it stays in ${this.fileLabel}: bring it back, or discard it with \`troupe run --discard\``,
      );
    }
    const host = await inner.allocate(system, index, hint);
    try {
      // The login as evaluated (the backend given to wrap() carries it).
      await this.record(
        inner,
        host,
        backend.systems.find((s) => s.name === system.name) ?? system,
        backend.systems.map((s) => s.name),
      );
    } catch (err) {
      await inner.discard(host).catch(() => undefined);
      throw err;
    }
    return host;
  }

  private describe(rec: RecordedHost): string {
    return `${rec.backend}:${rec.system} (${rec.name}) at ${rec.address}`;
  }

  /** Take back a recorded host; undefined when it cannot serve (said why). */
  private async tryReuse(inner: BackendDriver, system: System, rec: RecordedHost): Promise<Host | undefined> {
    const { events } = this.o;
    const store = await this.openStore();
    if (!inner.reuse || !inner.release) {
      events.message(
        "warn",
        `Cannot reuse ${this.describe(rec)}: the ${inner.type} backend cannot take hosts back; it stays in ${this.fileLabel}`,
      );
      return undefined;
    }
    let host: Host | undefined;
    try {
      host = await inner.reuse(system, rec, "run");
    } catch (err) {
      return this.cannotReuse(inner, system, rec, err);
    }
    if (!host) {
      events.message("info", `${this.describe(rec)} is gone; forgetting it`);
      await store.remove(rec).catch((err: unknown) => events.message("error", errorText(err)));
      await this.unclaim(rec.name);
      return undefined;
    }
    let project: boolean;
    try {
      if (this.o.resend) {
        events.message("info", `Removing project data from ${host.name} at ${host.projectPath}...`);
        await run(host, `rm -rf -- ${shWord(host.projectPath)}`);
        project = false;
      } else {
        // Spread's MissingOrEmpty: a copy that is there is used as it is.
        project = await run(host, `test -d ${shWord(host.projectPath)} && test -n "$(ls -A ${shWord(host.projectPath)})"`);
      }
    } catch (err) {
      await inner.release(host).catch(() => undefined);
      return this.cannotReuse(inner, system, rec, err);
    }
    this.tracked.set(host.name, { rec, host, inner });
    if (this.keeping && inner.keep) await inner.keep(host, this.file);
    return { ...host, reused: { project } };
  }

  /**
   * A recorded host that exists but cannot be had. Spread's way: with
   * -reuse it stays recorded (and blocks new hosts of its system); without,
   * it is discarded.
   */
  private async cannotReuse(inner: BackendDriver, system: System, rec: RecordedHost, err: unknown): Promise<undefined> {
    const { events } = this.o;
    events.message("error", `Cannot reuse ${this.describe(rec)}: ${errorText(err)}`);
    if (this.keeping) {
      this.unreachable.add(keyOf(rec.backend, rec.system));
      return undefined;
    }
    await this.discardRecord(inner, system, rec);
    await this.unclaim(rec.name);
    return undefined;
  }

  /** A recorded host that will not serve this run leaves its name to a new one. */
  private async unclaim(name: string): Promise<void> {
    const i = this.claimed.indexOf(name);
    if (i < 0) return;
    this.claimed.splice(i, 1);
    await rmdir(join(this.o.runDir, "hosts", name)).catch(() => undefined);
  }

  /** Discard a recorded host without a run's use for it (-discard, or a broken one); its entry goes. */
  async discardRecord(inner: BackendDriver, system: System, rec: RecordedHost): Promise<boolean> {
    const { events } = this.o;
    const store = await this.openStore();
    let ok = true;
    try {
      const host = inner.reuse ? await inner.reuse(system, rec, "discard") : undefined;
      if (host) await inner.discard(host);
      else if (inner.reuse) events.message("info", `${this.describe(rec)} is gone already`);
      else {
        events.message(
          "error",
          `Cannot discard ${this.describe(rec)}: the ${inner.type} backend cannot take hosts back; it stays in ${this.fileLabel}`,
        );
        return false;
      }
    } catch (err) {
      // As Spread: the entry goes even when discarding fails, so that it is not tried forever.
      events.message("error", `Error discarding ${this.describe(rec)}: ${errorText(err)}`);
      ok = false;
    }
    await store.remove(rec).catch((err: unknown) => events.message("error", errorText(err)));
    return ok;
  }

  /** Record a host this run allocated. */
  /** Record `host` of `system`; `systems`: its backend's, in the project's order, which the file keeps. */
  private async record(inner: BackendDriver, host: Host, system: System, systems?: readonly string[]): Promise<void> {
    // The journal is for hosts a killed run leaves behind; some backends leave none.
    if (this.journal && inner.leavesNothing) return;
    const password = system.password || this.o.password;
    const rec: RecordedHost = {
      backend: host.backend,
      system: host.system,
      name: host.name,
      address: host.address,
      type: inner.type,
      ...(system.username ? { username: system.username } : {}),
      ...(password ? { password } : {}),
      ...(host.data && Object.keys(host.data).length > 0 ? { data: host.data } : {}),
    };
    if (this.keeping && inner.keep) await inner.keep(host, this.file);
    let store: ReuseStore;
    try {
      store = await this.openStore();
    } catch (err) {
      // Without -reuse the record is a safety net: the run goes on without it.
      if (!this.journal) throw err;
      if (!this.hinted) this.o.events.message("warn", `Cannot record the run's hosts in ${this.fileLabel}: ${errorText(err)}`);
      this.hinted = true;
      return;
    }
    try {
      await store.add(rec, systems);
    } catch (err) {
      this.o.events.message("error", `Cannot record ${host.name} in ${this.fileLabel}: ${errorText(err)}`);
      return;
    }
    this.tracked.set(host.name, { rec, host, inner });
    if (this.journal && !this.hinted) {
      this.hinted = true;
      this.o.events.message("info", `If killed, discard hosts with: troupe run --reuse-pid=${process.pid} --discard`);
    }
  }

  /** The engine is done with a host: keep it (-reuse) or discard it and its entry. */
  private async discard(inner: BackendDriver, host: Host): Promise<void> {
    const t = this.tracked.get(host.name);
    if (t && this.keeping && inner.release) {
      this.tracked.delete(host.name);
      await inner.release(host);
      return;
    }
    this.tracked.delete(host.name);
    try {
      await inner.discard(host);
    } finally {
      if (t) await this.store?.remove(t.rec).catch((err: unknown) => this.o.events.message("error", errorText(err)));
    }
  }

  /** End of the run for one driver: hosts still tracked are kept or discarded, then the driver closes. */
  private async closeDriver(inner: BackendDriver, backend: Backend): Promise<void> {
    const mine = [...this.tracked.values()].filter((t) => t.inner === inner && t.host.backend === backend.name);
    await Promise.all(mine.map((t) => this.discard(inner, t.host).catch((err: unknown) => this.o.events.message("error", errorText(err)))));
    await inner.close?.();
  }

  // ---- end ------------------------------------------------------------------

  /** Say what was kept, remove the file when nothing is left to keep, unlock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const { events } = this.o;
    for (const name of this.claimed) await rmdir(join(this.o.runDir, "hosts", name)).catch(() => undefined);
    const store = this.store ?? (this.opening ? await this.opening.catch(() => undefined) : undefined);
    if (!store) return;
    try {
      const left = store.list();
      const removeAtEnd = !this.keeping && !(this.o.discard && this.o.pid === undefined);
      if (removeAtEnd && left.length === 0) {
        await store.deleteFile();
        // Spread would remove its own file of that process now; troupe took its hosts over.
        if (this.o.pid !== undefined && store.source === "spread" && store.readFrom) await rm(store.readFrom, { force: true });
      } else if (removeAtEnd) {
        const how = this.o.pid !== undefined ? `--reuse-pid=${this.o.pid}` : `--reuse-pid=${process.pid}`;
        events.message(
          "warn",
          `${left.length} host(s) could not be discarded and stay in ${this.fileLabel}: try again with \`troupe run ${how} --discard\``,
        );
      } else {
        // Hosts taken over from Spread's file: from now on troupe's file is their record.
        if (store.source === "spread") await store.save();
        if (this.keeping && left.length > 0) {
          const pid = this.o.pid !== undefined ? ` --reuse-pid=${this.o.pid}` : "";
          events.message(
            "info",
            `${left.length} host(s) kept in ${this.fileLabel}: \`troupe run --reuse${pid}\` uses them again, \`troupe run${pid} --discard\` discards them`,
          );
        }
      }
    } finally {
      await store.close();
    }
  }
}

function keyOf(backend: string, system: string): string {
  return `${backend}\0${system}`;
}

/** Run a check on the host: true when it exits 0; a transport failure throws. */
async function run(host: Host, script: string): Promise<boolean> {
  const r = await host.transport.exec({ script });
  return r.exitCode === 0;
}
