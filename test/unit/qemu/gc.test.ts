// troupe gc for qemu: a VM record whose troupe process is gone is collected,
// its QEMU (here a stand-in process with a known identity) stopped and the
// record removed; a live owner's VM is left alone unless --all.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Leftover } from "../../../src/gc/collector.js";
import { qemuCollector } from "../../../src/backends/qemu/gc.js";
import { formatReuseFile } from "../../../src/backends/reuse/file.js";
import { listVmRecords, writeVmRecord, type VmRecord } from "../../../src/backends/qemu/state.js";
import { isRunning, procId, type ProcId } from "../../../src/backends/lab/procs.js";
import { bootId, currentOwner, ownerLabels } from "../../../src/gc/owner.js";

async function started(cmd: string, args: string[]): Promise<{ id: ProcId; exited: Promise<unknown> }> {
  const c = spawn(cmd, args, { stdio: "ignore", detached: true });
  await new Promise((r) => c.once("spawn", r));
  const exited = new Promise((r) => c.once("exit", r));
  return { id: procId(c.pid!)!, exited };
}

function record(dir: string, id: string, labels: Record<string, string>, qemu?: ProcId): VmRecord {
  return {
    id,
    name: id,
    image: "debian-12",
    sshPort: 1,
    labels,
    ...(qemu ? { qemu } : {}),
    pidFile: join(dir, `${id}.pid`),
    serialLog: join(dir, `${id}.log`),
    created: new Date().toISOString(),
  };
}

test("a dead owner's VM is stopped and its record removed; a live owner's is kept unless --all", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-qemu-gc-"));
  const owner = await started("sleep", ["30"]);
  const ownerId = owner.id;
  process.kill(ownerId.pid, "SIGKILL");
  await owner.exited;
  const dead = ownerLabels({ run: "r1", user: "u", process: ownerId, boot: bootId() });
  const vm = await started("sleep", ["300"]);
  writeVmRecord(dir, record(dir, "r1-vm", dead, vm.id));
  writeVmRecord(dir, record(dir, "r1-gone", dead));
  const mine = await started("sleep", ["300"]);
  writeVmRecord(dir, record(dir, "r2-live", ownerLabels(currentOwner("r2")), mine.id));

  const c = qemuCollector(dir);
  const answer = await c.find({});
  assert.ok(Array.isArray(answer));
  const found = answer as readonly Leftover[];
  assert.deepEqual(
    found.map((l) => `${l.id} ${l.kind} ${l.run ?? ""}`),
    ["r1-gone record r1", "r1-vm vm r1"],
  );
  for (const l of found) await c.remove(l, {});
  await vm.exited;
  assert.equal(isRunning(vm.id), false);
  assert.deepEqual(
    listVmRecords(dir).map((r) => r.id),
    ["r2-live"],
  );
  assert.ok(isRunning(mine.id), "a live owner's VM was touched");

  const all = (await c.find({ all: true })) as readonly Leftover[];
  assert.deepEqual(
    all.map((l) => `${l.id} ${l.reason}`),
    ["r2-live --all: its troupe process is still running"],
  );
  await c.remove(all[0]!, {});
  await mine.exited;
  assert.equal(existsSync(join(dir, "r2-live.json")), false);
});

test("troupe killed before it noted QEMU's pid: gc finds QEMU by its pid file and -name, and no other process", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-qemu-gc-"));
  const owner = await started("sleep", ["30"]);
  process.kill(owner.id.pid, "SIGKILL");
  await owner.exited;
  const dead = ownerLabels({ run: "r3", user: "u", process: owner.id, boot: bootId() });
  // A stand-in for QEMU whose command line carries the VM's -name, as QEMU's does.
  const vm = await started("sh", ["-c", "sleep 300; :", "troupe:r3-vm"]);
  const stranger = await started("sleep", ["300"]);
  const rec = record(dir, "r3-vm", dead);
  writeFileSync(rec.pidFile, `${vm.id.pid}\n`);
  writeVmRecord(dir, rec);
  const other = record(dir, "r3-other", dead);
  writeFileSync(other.pidFile, `${stranger.id.pid}\n`);
  writeVmRecord(dir, other);

  const c = qemuCollector(dir);
  const found = (await c.find({})) as readonly Leftover[];
  assert.deepEqual(
    found.map((l) => `${l.id} ${l.kind}`),
    ["r3-other record", "r3-vm vm"],
  );
  for (const l of found) await c.remove(l, {});
  await vm.exited;
  assert.ok(isRunning(stranger.id), "gc killed a process that is not the VM's");
  assert.deepEqual(listVmRecords(dir), []);
  assert.equal(existsSync(rec.pidFile), false);
  process.kill(stranger.id.pid, "SIGKILL");
  // The stand-in's own sleep, left by its shell.
  try {
    process.kill(-vm.id.pid, "SIGKILL");
  } catch {
    /* gone with it */
  }
});

test("a VM kept for -reuse is left alone while its reuse file lists it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-qemu-gc-"));
  const owner = await started("sleep", ["30"]);
  process.kill(owner.id.pid, "SIGKILL");
  await owner.exited;
  const reuseFile = join(dir, ".troupe-reuse.yaml");
  const listed = { backend: "qemu", system: "debian-12", name: "debian-12-1", address: "127.0.0.1:40022" };
  writeFileSync(reuseFile, formatReuseFile([listed]));
  const rec: VmRecord = {
    ...record(dir, "r4-vm", ownerLabels({ run: "r4", user: "u", process: owner.id, boot: bootId() })),
    name: "debian-12-1",
    backend: "qemu",
    address: "127.0.0.1:40022",
    keep: true,
    reuse: reuseFile,
  };
  writeVmRecord(dir, rec);
  const c = qemuCollector(dir);
  assert.deepEqual(await c.find({ all: true }), []);
  writeFileSync(reuseFile, formatReuseFile([]));
  const found = (await c.find({})) as readonly Leftover[];
  assert.deepEqual(
    found.map((l) => l.id),
    ["r4-vm"],
  );
});
