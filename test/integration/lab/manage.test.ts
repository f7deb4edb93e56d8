// lab up / down / status / gc, a crashed troupe process, and refusing non-root.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { labDown, labGc, labStatus, labUp, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { listRecords, type LabHostRecord } from "../../../src/backends/lab/records.js";
import { hostPaths } from "../../../src/backends/lab/layout.js";
import { linkNames, local, mounts, netnsList, pidAlive, until } from "./fixtures.js";

const here = fileURLToPath(import.meta.url);
const childScript = join(here, "..", `child${here.endsWith(".ts") ? ".ts" : ".js"}`);

function runChild(mode: string, more: { uid?: number; gid?: number; runDir?: string } = {}) {
  return spawn(process.execPath, [...process.execArgv, childScript], {
    env: { ...process.env, TROUPE_LAB_TEST_CHILD: mode, TROUPE_LAB_TEST_RUNDIR: more.runDir ?? "/tmp" },
    stdio: ["ignore", "pipe", "pipe"],
    ...(more.uid !== undefined ? { uid: more.uid, gid: more.gid ?? more.uid } : {}),
  });
}

function firstLine(child: ReturnType<typeof runChild>): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => reject(new Error(`child exited (${code}) before answering: ${err}`)));
  });
}

/**
 * Everything of `rec` is gone. A lab test running beside this one may claim
 * the freed slot at once; then its names belong to that other host.
 */
function gone(rec: LabHostRecord): void {
  if (rec.init) assert.equal(pidAlive(rec.init.pid), false, `pid ${rec.init.pid}`);
  if (slotReused(rec.slot, rec)) return;
  assert.equal(netnsList().includes(rec.netns), false, rec.netns);
  assert.equal(linkNames().includes(rec.veth), false, rec.veth);
  assert.equal(mounts().includes(`${rec.dir}/`), false, rec.dir);
  assert.equal(existsSync(rec.dir), false, rec.dir);
}

/** Whether another host holds `slot` now (never `ours`: that is a leftover). */
function slotReused(slot: number, ours?: LabHostRecord): boolean {
  const path = hostPaths(LAB_STATE_DIR, slot).record;
  if (!existsSync(path)) return false;
  let now: LabHostRecord;
  try {
    now = JSON.parse(readFileSync(path, "utf8")) as LabHostRecord;
  } catch {
    return false;
  }
  if (ours)
    assert.notEqual(`${now.createdAt} ${now.owner.pid}`, `${ours.createdAt} ${ours.owner.pid}`, `slot ${slot} still has its record`);
  return true;
}

describe("lab management", () => {
  it("lab up keeps a lab that ssh reaches by name; lab down removes it", async () => {
    const up = await labUp(2, { name: "itest" });
    try {
      assert.equal(up.lab, "itest");
      assert.deepEqual(up.created, ["itest-1", "itest-2"]);
      assert.deepEqual(
        up.labHosts.map((h) => [h.name, h.kept, h.running, h.lab]),
        [
          ["itest-1", true, true, "itest"],
          ["itest-2", true, true, "itest"],
        ],
      );
      // What the CLI prints works as printed.
      const [cmd, ...args] = up.labHosts[0]!.ssh.split(" ");
      assert.equal(execFileSync(cmd!, [...args, "-o", "BatchMode=yes", "hostname"], { encoding: "utf8" }), "itest-1\n");
      assert.equal(local("ssh", ["-F", up.sshConfig, "-o", "BatchMode=yes", up.labHosts[1]!.address, "hostname"]), "itest-2\n");

      // Again: nothing new; bigger: only the missing host.
      assert.deepEqual((await labUp(2, { name: "itest" })).created, []);
      const grown = await labUp(3, { name: "itest" });
      assert.deepEqual(grown.created, ["itest-3"]);

      const st = await labStatus();
      assert.equal(st.bridge, true);
      assert.deepEqual(
        st.hosts
          .filter((h) => h.lab === "itest")
          .map((h) => h.name)
          .sort(),
        ["itest-1", "itest-2", "itest-3"],
      );
      // gc leaves kept hosts alone.
      const gc = await labGc();
      assert.equal(
        gc.removed.some((n) => n.startsWith("itest-")),
        false,
      );
    } finally {
      const records = (await listRecords(LAB_STATE_DIR)).filter((r) => r.lab === "itest");
      const down = await labDown({ name: "itest" });
      assert.deepEqual([...down.removed].sort(), ["itest-1", "itest-2", "itest-3"]);
      for (const rec of records) gone(rec);
      assert.equal(
        (await labStatus()).hosts.some((h) => h.lab === "itest"),
        false,
      );
    }
  });

  it("gc removes the hosts of a troupe process killed with SIGKILL, and leftovers without records", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "troupe-lab-crash-"));
    const child = runChild("crash", { runDir });
    try {
      const made = JSON.parse(await firstLine(child)) as { hosts: string[]; kept: string[] };
      assert.deepEqual(made.hosts, ["crashy-1", "crashy-2"]);
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      const records = (await listRecords(LAB_STATE_DIR)).filter((r) => made.hosts.includes(r.name) && r.owner.pid === child.pid);
      assert.equal(records.length, 2);
      for (const rec of records) assert.ok(netnsList().includes(rec.netns) && pidAlive(rec.init!.pid), "left behind by the crash");

      // A crash in the middle of making a host: kernel objects, no record.
      execFileSync("ip", ["netns", "add", "troupe-lab-999"]);
      execFileSync("ip", ["link", "add", "tlab999", "type", "veth", "peer", "name", "tlabpeer999"]);

      const gc = await labGc();
      assert.deepEqual(gc.removed.filter((n) => n.startsWith("crashy-")).sort(), ["crashy-1", "crashy-2"]);
      assert.ok(gc.orphans.includes(999));
      for (const rec of records) gone(rec);
      assert.equal(netnsList().includes("troupe-lab-999"), false);
      assert.equal(
        linkNames().some((l) => l === "tlab999" || l === "tlabpeer999"),
        false,
      );
      // The dead process's ssh masters went with their hosts.
      await until("the crashed process's ssh masters to exit", () => {
        const ps = local("ps", ["-eo", "args"]);
        return !records.some((r) => ps.includes(`-- ${r.address}\n`));
      });
      // Its kept lab survived the gc.
      const kept = (await labStatus()).hosts.filter((h) => h.lab === "crash-kept");
      assert.deepEqual(
        kept.map((h) => [h.name, h.running, h.ownerAlive]),
        [["crash-kept-1", true, false]],
      );
    } finally {
      child.kill("SIGKILL");
      await labDown({ name: "crash-kept" });
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it("removes a run's hosts when the process exits without discarding them", async () => {
    const child = runChild("exit");
    const made = JSON.parse(await firstLine(child)) as { slot: number; name: string };
    const exited = await new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    assert.equal(exited, 0);
    const record = hostPaths(LAB_STATE_DIR, made.slot).record;
    const reused = existsSync(record) && (JSON.parse(readFileSync(record, "utf8")) as LabHostRecord).owner.pid !== child.pid;
    if (reused) return; // another lab test took the freed slot at once
    assert.equal(existsSync(record), false);
    assert.equal(netnsList().includes(`troupe-lab-${made.slot}`), false);
    assert.equal(linkNames().includes(`tlab${made.slot}`), false);
    assert.equal(mounts().includes(`${hostPaths(LAB_STATE_DIR, made.slot).dir}/`), false);
  });

  it("lab down also kills what runs in a host's network namespace without being one of its processes", async () => {
    const lab = `strays-${process.pid}`;
    try {
      const up = await labUp(1, { name: lab });
      const rec = (await listRecords(LAB_STATE_DIR)).find((r) => r.name === up.labHosts[0]!.name)!;
      const stray = spawn("ip", ["netns", "exec", rec.netns, "sleep", "1034"], { stdio: "ignore", detached: true });
      await new Promise((r) => stray.once("spawn", r));
      const exited = new Promise((r) => stray.once("exit", r));
      await until("the stray process to be in the namespace", () => local("ip", ["netns", "pids", rec.netns]).includes(String(stray.pid)));
      await labDown({ name: lab });
      await exited;
      assert.equal(pidAlive(stray.pid!), false);
      gone(rec);
    } finally {
      await labDown({ name: lab });
    }
  });

  it("refuses, with E_BACKEND, to run without root", async () => {
    const answer = await firstLine(runChild("not-root", { uid: 65534 }));
    const [allocate, up] = JSON.parse(answer) as string[];
    assert.match(allocate!, /^E_BACKEND: .*root/);
    assert.match(up!, /^E_BACKEND: .*root/);
  });
});
