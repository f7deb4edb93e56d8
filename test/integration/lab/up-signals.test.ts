// `troupe lab up` cut short: on SIGINT, SIGTERM or SIGHUP the real CLI
// removes every host it had started and exits 130; killed with SIGKILL, it
// leaves half-made hosts, which `troupe lab gc` finds and removes.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, watch } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labDown, labGc, labUp as labUpApi, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { hostPaths, labPaths } from "../../../src/backends/lab/layout.js";
import { listRecords, type LabHostRecord } from "../../../src/backends/lab/records.js";
import { linkNames, mounts, netnsList, pidAlive } from "./fixtures.js";

const here = fileURLToPath(import.meta.url);
// dist/test/integration/lab/x.js (or test/integration/lab/x.ts) -> the checkout's bin/troupe.js
const troupe = join(here, "..", "..", "..", "..", ...(here.includes("/dist/") ? ["..", "bin", "troupe.js"] : ["bin", "troupe.js"]));

interface Up {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  /** Every record of the lab seen so far, by slot (the last version seen). */
  readonly seen: Map<number, LabHostRecord>;
}

function labUp(name: string, n: number): Up {
  const child = spawn(process.execPath, [troupe, "lab", "up", String(n), "--name", name], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, exited, seen: new Map() };
}

/** Resolves once the lab's records satisfy `ready`, watching the records directory; rejects if `up` exits first. */
async function whenRecords(up: Up, lab: string, ready: (recs: LabHostRecord[]) => boolean): Promise<void> {
  const dir = labPaths(LAB_STATE_DIR).hostsDir;
  mkdirSync(dir, { recursive: true });
  const watcher = watch(dir);
  try {
    await new Promise<void>((resolve, reject) => {
      let checking = false;
      let again = false;
      const check = async (): Promise<void> => {
        if (checking) return void (again = true);
        checking = true;
        try {
          do {
            again = false;
            const recs = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === lab && r.owner.pid === up.child.pid);
            for (const r of recs) up.seen.set(r.slot, r);
            if (ready(recs)) return resolve();
          } while (again);
        } catch (err) {
          reject(err);
        } finally {
          checking = false;
        }
      };
      watcher.on("change", () => void check());
      void up.exited.then((e) => reject(new Error(`lab up exited (${e.code ?? e.signal}) before that: ${e.stderr}`)));
      void check();
    });
  } finally {
    watcher.close();
  }
}

/** Nothing of the slots `up` used is left: records, processes, namespaces, veths, mounts, directories. */
async function nothingLeft(up: Up, lab: string): Promise<void> {
  const mine = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === lab);
  assert.deepEqual(
    mine.map((r) => r.name),
    [],
  );
  assert.ok(up.seen.size > 0);
  // Nor records it was writing aside (N.json.PID.tmp).
  assert.deepEqual(
    readdirSync(labPaths(LAB_STATE_DIR).hostsDir).filter((f) => f.endsWith(`.json.${up.child.pid}.tmp`)),
    [],
  );
  for (const rec of up.seen.values()) {
    if (rec.init) assert.equal(pidAlive(rec.init.pid), false, `pid ${rec.init.pid} of ${rec.name}`);
    // Another test may have taken the freed slot at once; then its names are that host's.
    const path = hostPaths(LAB_STATE_DIR, rec.slot).record;
    if (existsSync(path) && (JSON.parse(readFileSync(path, "utf8")) as LabHostRecord).owner.pid !== up.child.pid) continue;
    assert.equal(netnsList().includes(rec.netns), false, rec.netns);
    assert.equal(linkNames().includes(rec.veth), false, rec.veth);
    assert.equal(mounts().includes(`${rec.dir}/`), false, rec.dir);
    assert.equal(existsSync(rec.dir), false, rec.dir);
  }
}

describe("lab up, cut short", () => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`removes what it started on ${signal} and exits 130`, async () => {
      const lab = `upsig-${signal.slice(3).toLowerCase()}-${process.pid}`;
      const up = labUp(lab, 20);
      try {
        // Mid-way: one host whole, others being made.
        await whenRecords(up, lab, (recs) => recs.some((r) => !r.making) && recs.some((r) => r.making));
        up.child.kill(signal);
        const e = await up.exited;
        assert.equal(e.code, 130, e.stderr);
        assert.match(e.stderr, /interrupted/);
        await nothingLeft(up, lab);
      } finally {
        up.child.kill("SIGKILL");
        await labDown({ name: lab });
      }
    });
  }

  it("killed with SIGKILL, leaves half-made hosts that lab gc removes", async () => {
    const lab = `upkill-${process.pid}`;
    const up = labUp(lab, 20);
    try {
      await whenRecords(up, lab, (recs) => recs.some((r) => !r.making) && recs.some((r) => r.making));
      up.child.kill("SIGKILL");
      await up.exited;
      const half = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === lab && r.making);
      assert.ok(half.length > 0, "half-made hosts left by the kill");

      const gc = await labGc();
      for (const r of half) assert.ok(gc.removed.includes(r.name), `gc removed ${r.name}`);
      // What was whole is a kept lab host, as lab up made it; gc leaves it.
      const left = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === lab);
      assert.ok(left.length > 0 && left.every((r) => !r.making && pidAlive(r.init!.pid)), JSON.stringify(left));
      await labDown({ name: lab });
      await nothingLeft(up, lab);
    } finally {
      up.child.kill("SIGKILL");
      await labDown({ name: lab });
    }
  });

  it("lab up again remakes the hosts a killed lab up left half-made", async () => {
    const lab = `upagain-${process.pid}`;
    const up = labUp(lab, 12);
    try {
      await whenRecords(up, lab, (recs) => recs.some((r) => r.making));
      up.child.kill("SIGKILL");
      await up.exited;
      const half = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === lab && r.making);
      assert.ok(half.length > 0, "half-made hosts left by the kill");
      const again = await labUpApi(12, { name: lab });
      assert.deepEqual(
        again.labHosts.map((h) => [h.name, h.making, h.running]),
        Array.from({ length: 12 }, (_, i) => [`${lab}-${i + 1}`, false, true]),
      );
      for (const r of half) assert.ok(again.created.includes(r.name), `${r.name} made again`);
    } finally {
      up.child.kill("SIGKILL");
      await labDown({ name: lab });
    }
    await nothingLeft(up, lab);
  });
});
