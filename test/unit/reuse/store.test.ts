import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { RecordedHost } from "../../../src/backends/backend.js";
import { parseReuseFile } from "../../../src/backends/reuse/file.js";
import { isRecorded } from "../../../src/backends/reuse/recorded.js";
import { ReuseStore } from "../../../src/backends/reuse/store.js";

const made: string[] = [];
const dir = async (): Promise<string> => {
  const d = await mkdtemp(join(tmpdir(), "troupe-reuse-"));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));
const host = (n: number, extra: Partial<RecordedHost> = {}): RecordedHost => ({
  backend: "lab",
  system: "deb",
  name: `deb-${n}`,
  address: `10.213.0.${n}`,
  data: { slot: n },
  ...extra,
});
const onDisk = (path: string): string[] => parseReuseFile(readFileSync(path, "utf8"), path).map((h) => h.name ?? "?");

describe("reuse store", () => {
  it("records hosts on disk before add() returns, private to the user, and reads them back", async () => {
    const d = await dir();
    const s = await ReuseStore.open({ dir: d });
    assert.equal(s.path, join(d, ".troupe-reuse.yaml"));
    assert.equal(s.source, "none");
    assert.equal(existsSync(s.path), false, "nothing is written until there is something to record");
    await s.add(host(1));
    assert.deepEqual(onDisk(s.path), ["deb-1"]);
    assert.equal(statSync(s.path).mode & 0o777, 0o600, "it may hold passwords");
    await s.add(host(2));
    await s.remove(host(1));
    assert.deepEqual(onDisk(s.path), ["deb-2"]);
    await s.close();

    const again = await ReuseStore.open({ dir: d });
    assert.equal(again.source, "troupe");
    assert.deepEqual(again.list(), [host(2)]);
    await again.close();
    assert.deepEqual((await readdir(d)).sort(), [".troupe-reuse.yaml"], "no lock or temporary file is left");
  });

  it("keeps a backend's hosts in the project's order of systems, whatever order they came up in; Spread's file too", async () => {
    const d = await dir();
    const s = await ReuseStore.open({ dir: d, writeSpread: true });
    const systems = ["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04"];
    const of = (system: string, backend = "lxd"): RecordedHost => ({ backend, system, name: system, address: "10.0.0.1", password: "p" });
    await s.add(of("ubuntu-20.04"), systems);
    await s.add(of("other", "lab"), ["other"]);
    await s.add(of("ubuntu-18.04"), systems);
    await s.add(of("ubuntu-16.04"), systems);
    await s.add(of("gone"), systems); // a system the project no longer has: after the others
    // The file groups hosts by backend.
    assert.deepEqual(onDisk(s.path), ["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04", "gone", "other"]);
    // Spread's own adhoc test reads systems[0] of the lxd backend as the project's first system.
    const spread = readFileSync(join(d, ".spread-reuse.yaml"), "utf8");
    assert.ok(spread.indexOf("ubuntu-16.04:") < spread.indexOf("ubuntu-18.04:"), spread);
    assert.ok(spread.indexOf("ubuntu-18.04:") < spread.indexOf("ubuntu-20.04:"), spread);
    await s.close();
  });

  it("writes changes made at once in few writes, and each add() waits for a write that holds it", async () => {
    const d = await dir();
    const s = await ReuseStore.open({ dir: d });
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await s.add(host(i + 1));
        assert.ok(onDisk(s.path).includes(`deb-${i + 1}`), `deb-${i + 1} is on disk once add() resolved`);
      }),
    );
    assert.equal(onDisk(s.path).length, 40);
    await Promise.all(Array.from({ length: 40 }, (_, i) => s.remove(host(i + 1))));
    assert.deepEqual(onDisk(s.path), []);
    await s.close();
  });

  it("reads Spread's file while troupe's does not exist, Spread's half-done .new first, and never writes Spread's", async () => {
    const d = await dir();
    const spread = "backends:\n  adhoc:\n    systems:\n    - centos:\n        password: pw\n        address: 10.0.0.7\n";
    await writeFile(join(d, ".spread-reuse.yaml"), spread);
    const s = await ReuseStore.open({ dir: d });
    assert.equal(s.source, "spread");
    assert.equal(s.readFrom, join(d, ".spread-reuse.yaml"));
    assert.deepEqual(s.list(), [{ backend: "adhoc", system: "centos", name: "centos-1", address: "10.0.0.7", password: "pw" }]);
    await s.save();
    await s.close();
    assert.equal(readFileSync(join(d, ".spread-reuse.yaml"), "utf8"), spread);
    assert.deepEqual(onDisk(join(d, ".troupe-reuse.yaml")), ["centos-1"], "troupe's file takes over");

    // Spread died between writing FILE.new and FILE: the .new is the truth.
    const d2 = await dir();
    await writeFile(join(d2, ".spread-reuse.yaml"), "");
    await writeFile(join(d2, ".spread-reuse.yaml.new"), spread.replace("10.0.0.7", "10.0.0.8"));
    const s2 = await ReuseStore.open({ dir: d2 });
    assert.equal(s2.list()[0]?.address, "10.0.0.8");
    await s2.close();

    // Once troupe has its own file, Spread's is not read any more.
    const s3 = await ReuseStore.open({ dir: d });
    await s3.remove(s3.list()[0]!);
    await s3.close();
    const s4 = await ReuseStore.open({ dir: d });
    assert.equal(s4.source, "troupe");
    assert.deepEqual(s4.list(), []);
    await s4.close();
  });

  it("keeps the files of each run apart by pid, Spread's too", async () => {
    const d = await dir();
    await writeFile(join(d, ".spread-reuse.777.yaml"), "backends:\n  lab:\n    systems:\n    - deb:\n        address: 1.2.3.4\n");
    const s = await ReuseStore.open({ dir: d, pid: 777 });
    assert.equal(s.path, join(d, ".troupe-reuse.777.yaml"));
    assert.deepEqual(
      s.list().map((h) => h.address),
      ["1.2.3.4"],
    );
    await s.close();
    const main = await ReuseStore.open({ dir: d });
    assert.deepEqual(main.list(), []);
    await main.close();
  });

  it("ignores what a write cut short by a crash left, and the file stays whole", async () => {
    const d = await dir();
    const s = await ReuseStore.open({ dir: d });
    await s.add(host(1));
    await s.close();
    await writeFile(join(d, ".troupe-reuse.yaml.tmp"), "backends:\n  lab:\n    systems:\n    - deb: {addr");
    const again = await ReuseStore.open({ dir: d });
    assert.deepEqual(again.list(), [host(1)]);
    assert.equal(existsSync(join(d, ".troupe-reuse.yaml.tmp")), false);
    await again.close();
  });

  it("lets one process at a time have the file: a second one waits, and says so", async () => {
    const d = await dir();
    const first = await ReuseStore.open({ dir: d });
    const waited: number[] = [];
    let secondOpen = false;
    const second = ReuseStore.open({ dir: d, pollMs: 10, onWait: (pid) => waited.push(pid) }).then((s) => {
      secondOpen = true;
      return s;
    });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(secondOpen, false, "the second waits while the first has the file");
    assert.deepEqual(waited, [process.pid]);
    await first.add(host(1));
    await first.close();
    const s2 = await second;
    assert.deepEqual(s2.list(), [host(1)], "and then sees what the first wrote");
    await s2.close();
  });

  it("takes over the lock of a process that is gone, and stops waiting when aborted", async () => {
    const d = await dir();
    const gone = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    const pid = Number(gone.stdout);
    await writeFile(join(d, ".troupe-reuse.yaml.lock"), JSON.stringify({ pid, start: 1, host: hostname() }));
    const s = await ReuseStore.open({ dir: d });
    await s.close();

    const held = await ReuseStore.open({ dir: d });
    const abort = new AbortController();
    const waiting = ReuseStore.open({ dir: d, pollMs: 10, signal: abort.signal });
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(waiting, /interrupted while waiting for .*\.troupe-reuse\.yaml\.lock/);
    await held.close();
  });

  it("answers lab gc: a host is recorded while the file lists it; an unreadable file keeps it, a missing one does not", async () => {
    const d = await dir();
    const s = await ReuseStore.open({ dir: d });
    await s.add(host(1));
    await s.close();
    const file = join(d, ".troupe-reuse.yaml");
    assert.equal(isRecorded(file, { backend: "lab", address: "10.213.0.1", name: "deb-1" }), true);
    assert.equal(isRecorded(file, { backend: "lab", address: "10.213.0.1", name: "other" }), false);
    assert.equal(isRecorded(file, { backend: "lab", address: "10.213.0.2", name: "deb-1" }), false);
    assert.equal(isRecorded(join(d, "nope.yaml"), { backend: "lab", address: "10.213.0.1" }), false);
    await writeFile(file, "backends: [");
    assert.equal(isRecorded(file, { backend: "lab", address: "10.213.0.1" }), true);
  });
});
