// The reuse session's rules (Spread's runner.go) with a small driver that
// records what it is asked; hosts are real local processes and directories.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BackendDriver, Host, RecordedHost } from "../../../src/backends/backend.js";
import { parseReuseFile } from "../../../src/backends/reuse/file.js";
import { ReuseSession, type ReuseOptions } from "../../../src/backends/reuse/session.js";
import type { Backend, System } from "../../../src/model/project.js";
import { EventStream } from "../../../src/report/events.js";
import { LocalTransport } from "../../../src/transport/local.js";
import { TroupeError } from "../../../src/util/errors.js";

const pos = { file: "troupe.yaml", line: 1, col: 1 };
const system: System = { name: "deb", backend: "fake", image: "deb", workers: 1, extra: {}, environment: [], pos, where: {} };
const backend: Backend = { name: "fake", type: "fake", systems: [system], extra: {}, environment: [], pos, where: {} };

/** Hosts are directories; `gone` and `unreachable` name recorded hosts that cannot come back. */
class FakeDriver implements BackendDriver {
  readonly calls: string[] = [];
  readonly gone = new Set<string>();
  readonly unreachable = new Set<string>();
  private n = 0;
  constructor(
    readonly type: string,
    private readonly root: string,
  ) {}

  private make(name: string, dir: string): Host {
    return {
      name,
      address: `addr-${name}`,
      backend: "fake",
      system: "deb",
      transport: new LocalTransport({ label: name }),
      projectPath: join(dir, "project"),
      data: { dir },
    };
  }

  async allocate(): Promise<Host> {
    const name = `new-${++this.n}`;
    const dir = join(this.root, name);
    await mkdir(join(dir, "project"), { recursive: true });
    this.calls.push(`allocate ${name}`);
    return this.make(name, dir);
  }

  async discard(host: Host): Promise<void> {
    this.calls.push(`discard ${host.name}`);
    await host.transport.close();
  }

  async reuse(_system: System, rec: RecordedHost, purpose: "run" | "discard"): Promise<Host | undefined> {
    this.calls.push(`reuse ${rec.name} for ${purpose}`);
    if (this.gone.has(rec.name)) return undefined;
    if (this.unreachable.has(rec.name) && purpose === "run") throw new TroupeError("E_TRANSPORT", `${rec.name}: connection refused`);
    return this.make(rec.name, String(rec.data?.["dir"]));
  }

  async release(host: Host): Promise<void> {
    this.calls.push(`release ${host.name}`);
    await host.transport.close();
  }

  async keep(host: Host, file: string): Promise<void> {
    this.calls.push(`keep ${host.name} in ${file.split("/").pop()}`);
  }
}

const made: string[] = [];
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

async function setup(options: ReuseOptions, type = "fake", prepare?: (project: string) => Promise<void>) {
  const project = await mkdtemp(join(tmpdir(), "troupe-session-"));
  made.push(project);
  const runDir = join(project, ".troupe", "runs", "r1");
  await mkdir(runDir, { recursive: true });
  await prepare?.(project);
  const events = new EventStream();
  const messages: string[] = [];
  events.on((e) => {
    if (e.type === "message") messages.push(e.text);
  });
  const session = await ReuseSession.open({ ...options, projectDir: project, runDir, events });
  const inner = new FakeDriver(type, join(project, "hosts"));
  const driver = session.wrap(inner, backend);
  return { project, runDir, session, inner, driver, messages };
}

const names = (file: string): string[] => parseReuseFile(readFileSync(file, "utf8"), file).map((h) => h.name ?? "?");

/** A project whose `.troupe-reuse.yaml` records hosts `names`, each with its directory and project copy. */
function recorded(...hostNames: string[]): (project: string) => Promise<void> {
  return async (project) => {
    const lines = ["backends:", "  fake:", "    systems:"];
    for (const n of hostNames) {
      const dir = join(project, "hosts", n);
      await mkdir(join(dir, "project"), { recursive: true });
      await writeFile(join(dir, "project", "data.txt"), "sent before\n");
      lines.push("      - deb:", `          name: ${n}`, `          address: addr-${n}`, "          data:", `            dir: ${dir}`);
    }
    await writeFile(join(project, ".troupe-reuse.yaml"), lines.join("\n") + "\n");
  };
}

describe("reuse session", () => {
  it("without -reuse, journals a run's hosts in its own pid file, discards them and removes the file", async () => {
    const { project, session, inner, driver, messages } = await setup({});
    const file = join(project, `.troupe-reuse.${process.pid}.yaml`);
    const host = await driver.allocate(system, 1);
    assert.deepEqual(names(file), ["new-1"]);
    assert.equal(driver.keeps?.(host), false);
    assert.ok(messages.includes(`If killed, discard hosts with: troupe run --reuse-pid=${process.pid} --discard`));
    await driver.discard(host);
    assert.deepEqual(names(file), []);
    await session.close();
    assert.equal(existsSync(file), false);
    assert.deepEqual(inner.calls, ["allocate new-1", "discard new-1"]);
    assert.deepEqual(
      (await readdir(project)).filter((f) => f.startsWith(".troupe-reuse")),
      [],
    );
  });

  it("does not journal local hosts: nothing of them outlives the machine's processes", async () => {
    const { project, session, driver } = await setup({}, "local");
    const host = await driver.allocate(system, 1);
    await driver.discard(host);
    await session.close();
    assert.deepEqual(
      (await readdir(project)).filter((f) => f.startsWith(".troupe-reuse")),
      [],
    );
  });

  it("with -reuse, records new hosts, keeps them at the end instead of discarding them, and says how to go on", async () => {
    const { project, session, inner, driver, messages } = await setup({ keep: true });
    const host = await driver.allocate(system, 1);
    assert.equal(host.reused, undefined);
    assert.equal(driver.keeps?.(host), true);
    await driver.discard(host);
    await driver.close?.();
    await session.close();
    assert.deepEqual(inner.calls, ["allocate new-1", "keep new-1 in .troupe-reuse.yaml", "release new-1"]);
    assert.deepEqual(names(join(project, ".troupe-reuse.yaml")), ["new-1"]);
    assert.ok(
      messages.some((m) => /^1 host\(s\) kept in \.troupe-reuse\.yaml: `troupe run --reuse` uses them again/.test(m)),
      messages.join("\n"),
    );
  });

  it("with -reuse, takes recorded hosts first, with their copy of the project, then allocates", async () => {
    const { session, inner, driver } = await setup({ keep: true }, "fake", recorded("old-1"));
    const a = await driver.allocate(system, 1);
    const b = await driver.allocate(system, 2);
    assert.equal(a.name, "old-1");
    assert.deepEqual(a.reused, { project: true });
    assert.equal(b.name, "new-1");
    assert.equal(b.reused, undefined);
    await driver.discard(a);
    await driver.discard(b);
    await session.close();
    assert.deepEqual(inner.calls, [
      "reuse old-1 for run",
      "keep old-1 in .troupe-reuse.yaml",
      "allocate new-1",
      "keep new-1 in .troupe-reuse.yaml",
      "release old-1",
      "release new-1",
    ]);
  });

  it("sends the project again when the reused copy is missing or empty, and with -resend removes it first", async () => {
    const { project, session, driver } = await setup({ keep: true, resend: true }, "fake", recorded("old-1"));
    const a = await driver.allocate(system, 1);
    assert.deepEqual(a.reused, { project: false });
    assert.equal(existsSync(join(project, "hosts", "old-1", "project", "data.txt")), false, "-resend removed the old copy");
    await driver.discard(a);
    await session.close();

    for (const what of ["missing", "empty"] as const) {
      const other = await setup({ keep: true }, "fake", async (p) => {
        await recorded("old-1")(p);
        await rm(join(p, "hosts", "old-1", "project", "data.txt"));
        if (what === "missing") await rm(join(p, "hosts", "old-1", "project"), { recursive: true });
      });
      const e = await other.driver.allocate(system, 1);
      assert.deepEqual(e.reused, { project: false }, `a ${what} copy is sent`);
      await other.driver.discard(e);
      await other.session.close();
    }
  });

  it("forgets a recorded host that is gone and gives its name to a new host", async () => {
    const { project, runDir, session, inner, driver, messages } = await setup({ keep: true }, "fake", recorded("old-1", "old-2"));
    inner.gone.add("old-1");
    assert.ok(existsSync(join(runDir, "hosts", "old-1")), "recorded names are claimed in the run before any host comes up");
    const a = await driver.allocate(system, 1);
    assert.equal(a.name, "old-2");
    assert.ok(messages.includes("fake:deb (old-1) at addr-old-1 is gone; forgetting it"));
    assert.deepEqual(names(join(project, ".troupe-reuse.yaml")), ["old-2"]);
    assert.equal(existsSync(join(runDir, "hosts", "old-1")), false, "its name is free again");
    await driver.discard(a);
    await session.close();
  });

  it("with -reuse, leaves a recorded host it cannot reach in the file and allocates none in its place (Spread)", async () => {
    const { project, session, inner, driver, messages } = await setup({ keep: true }, "fake", recorded("old-1"));
    inner.unreachable.add("old-1");
    await assert.rejects(
      driver.allocate(system, 1),
      /not allocating a new host of fake:deb while a recorded one cannot be reached; it stays in \.troupe-reuse\.yaml/,
    );
    assert.ok(
      messages.some((m) => m === "Cannot reuse fake:deb (old-1) at addr-old-1: old-1: connection refused"),
      messages.join("\n"),
    );
    await session.close();
    assert.deepEqual(names(join(project, ".troupe-reuse.yaml")), ["old-1"]);
    assert.ok(!inner.calls.some((c) => c.startsWith("allocate") || c.startsWith("discard")), inner.calls.join(", "));
  });

  it("with -reuse-pid alone, discards what it cannot reach, uses the rest, then discards all and removes the file", async () => {
    const { project, session, inner, driver } = await setup({ pid: 4242 }, "fake", async (p) => {
      await recorded("old-1", "old-2")(p);
      await rename(join(p, ".troupe-reuse.yaml"), join(p, ".troupe-reuse.4242.yaml"));
    });
    inner.unreachable.add("old-1");
    const a = await driver.allocate(system, 1);
    const b = await driver.allocate(system, 2);
    assert.deepEqual([a.name, b.name], ["old-2", "new-1"]);
    assert.deepEqual(names(join(project, ".troupe-reuse.4242.yaml")), ["old-2", "new-1"]);
    await driver.discard(a);
    await driver.discard(b);
    await session.close();
    assert.deepEqual(inner.calls, [
      "reuse old-1 for run",
      "reuse old-1 for discard",
      "discard old-1",
      "reuse old-2 for run",
      "allocate new-1",
      "discard old-2",
      "discard new-1",
    ]);
    assert.equal(existsSync(join(project, ".troupe-reuse.4242.yaml")), false);
  });

  it("refuses -reuse-pid of a process that recorded nothing, and -reuse on a backend that cannot keep hosts", async () => {
    await assert.rejects(
      setup({ pid: 99999 }),
      (e: unknown) =>
        e instanceof TroupeError &&
        e.code === "E_USAGE" &&
        /no hosts are recorded for process 99999: neither \.troupe-reuse\.99999\.yaml nor \.spread-reuse\.99999\.yaml/.test(e.message),
    );
    const project = await mkdtemp(join(tmpdir(), "troupe-session-"));
    made.push(project);
    const session = await ReuseSession.open({ keep: true, projectDir: project, runDir: join(project, "run"), events: new EventStream() });
    const plain: BackendDriver = { type: "plain", allocate: () => Promise.reject(new Error("no")), discard: () => Promise.resolve() };
    assert.throws(() => session.wrap(plain, backend), /-reuse: the plain backend cannot keep hosts between runs/);
    await session.close();
  });
});
