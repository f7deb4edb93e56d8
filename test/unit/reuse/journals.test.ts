// The journals of killed runs: removed once their process is gone (by pid
// and start time) and nothing is left to discard, named otherwise.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { selfId } from "../../../src/backends/lab/procs.js";
import { formatReuseFile } from "../../../src/backends/reuse/file.js";
import { describeSweep, sweepJournals, sweepProjectJournals } from "../../../src/backends/reuse/journals.js";

const made: string[] = [];
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

const me = selfId();
/** This very pid, started at another time: a recycled pid, not the writer. */
const recycled = { pid: me.pid, start: me.start + 1, host: hostname() };

async function journal(dir: string, pid: number, owner: object | undefined, hosts: string[] = [], file = true): Promise<void> {
  const name = `.troupe-reuse.${pid}.yaml`;
  if (file) {
    const recs = hosts.map((b, i) => ({ backend: b, system: "deb", name: `deb-${i}`, address: `10.213.0.${i + 2}` }));
    await writeFile(join(dir, name), formatReuseFile(recs));
  }
  if (owner) await writeFile(join(dir, `${name}.lock`), `${JSON.stringify(owner)}\n`);
}

describe("reuse journals of killed runs", () => {
  it("go when their process is gone and they list nothing left; a recycled pid is not their writer", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-journals-"));
    made.push(dir);
    await journal(dir, 1001, { ...recycled, pid: 1001 });
    await journal(dir, me.pid, recycled); // same pid as a live process, other start time
    await journal(dir, 1003, { ...recycled, pid: 1003 }, ["lab", "spare"]);
    await journal(dir, 1004, { ...recycled, pid: 1004 }, [], false); // a lone lock
    await journal(dir, 1005, { pid: me.pid, start: me.start, host: hostname() }); // alive: this process
    await journal(dir, 1006, { ...recycled, host: "another-machine" });

    const first = await sweepJournals(dir, () => false);
    assert.deepEqual(first.removed.map((j) => j.pid).sort(), [1001, 1004, me.pid].sort());
    assert.deepEqual(describeSweep(first).slice(-1), [
      "kept reuse journal .troupe-reuse.1003.yaml of the gone troupe process 1003: it lists lab:deb (10.213.0.2), spare:deb (10.213.0.3); discard with `troupe run --reuse-pid=1003 --discard`",
    ]);

    const dry = await sweepJournals(dir, (b) => b === "lab" || b === "spare", { dryRun: true });
    assert.deepEqual(describeSweep(dry, true), [
      "would remove reuse journal .troupe-reuse.1003.yaml: the troupe process 1003 that wrote it is gone",
    ]);
    assert.ok((await readdir(dir)).includes(".troupe-reuse.1003.yaml"));

    await sweepJournals(dir, (b) => b === "lab" || b === "spare");
    assert.deepEqual((await readdir(dir)).sort(), [
      ".troupe-reuse.1005.yaml",
      ".troupe-reuse.1005.yaml.lock",
      ".troupe-reuse.1006.yaml",
      ".troupe-reuse.1006.yaml.lock",
    ]);
  });

  it("in a project, gc removes those whose hosts are of the types it collected, by the project's backend types, and names the rest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-journals-"));
    made.push(dir);
    await writeFile(
      join(dir, "troupe.yaml"),
      [
        "project: j",
        "backends:",
        "  mylab:",
        "    type: lab",
        "    systems: [deb]",
        "  pool:",
        "    type: adhoc",
        "    allocate: ADDRESS 10.0.0.1",
        "    discard: true",
        "    systems: [deb]",
        "suites:",
        "  t/:",
        "    summary: t",
        "",
      ].join("\n"),
    );
    await mkdir(join(dir, "sub"));
    await mkdir(join(dir, "t"));
    await journal(dir, 2001, { ...recycled, pid: 2001 }, ["mylab"]);
    await journal(dir, 2002, { ...recycled, pid: 2002 }, ["mylab", "pool"]);
    // From a folder inside the project, as `troupe gc` run there.
    assert.deepEqual(await sweepProjectJournals(join(dir, "sub"), new Set(["lab"])), [
      "removed reuse journal .troupe-reuse.2001.yaml: the troupe process 2001 that wrote it is gone",
      "kept reuse journal .troupe-reuse.2002.yaml of the gone troupe process 2002: it lists pool:deb (10.213.0.3); discard with `troupe run --reuse-pid=2002 --discard`",
    ]);
    assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith(".troupe-reuse")).sort(), [
      ".troupe-reuse.2002.yaml",
      ".troupe-reuse.2002.yaml.lock",
    ]);
    // lab not collected (not root, say): nothing goes.
    await journal(dir, 2003, { ...recycled, pid: 2003 }, ["mylab"]);
    assert.equal((await sweepProjectJournals(dir, new Set(["docker"]))).filter((l) => l.startsWith("removed")).length, 0);
    const none = await mkdtemp(join(tmpdir(), "troupe-journals-"));
    made.push(none);
    assert.deepEqual(await sweepProjectJournals(none, new Set(["lab"])), [], "no project there: nothing to say");
  });
});
