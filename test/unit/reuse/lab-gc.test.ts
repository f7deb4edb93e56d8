// `troupe lab gc` and hosts kept by `troupe run --reuse`: left alone while
// their reuse file lists them, collected once it does not.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectable } from "../../../src/backends/lab/manage.js";
import { selfId } from "../../../src/backends/lab/procs.js";
import type { LabHostRecord } from "../../../src/backends/lab/records.js";
import { formatReuseFile } from "../../../src/backends/reuse/file.js";

/** A process that existed, and is no more: pid 1's start time can never match another process. */
const dead = { pid: 1, start: -1 };

function rec(over: Partial<LabHostRecord>): LabHostRecord {
  return {
    version: 1,
    slot: 7,
    name: "deb-1",
    address: "10.213.0.8",
    netns: "troupe-lab-7",
    veth: "tlab7",
    dir: "/run/troupe-lab/hosts/7",
    owner: dead,
    keep: false,
    backend: "lab",
    system: "deb",
    createdAt: new Date(0).toISOString(),
    ...over,
  };
}

describe("lab gc and kept hosts", () => {
  it("collects hosts whose maker is gone, never those of a running process or of `lab up`", () => {
    assert.equal(collectable(rec({})), true);
    assert.equal(collectable(rec({ owner: selfId() })), false);
    assert.equal(collectable(rec({ keep: true, lab: "lab" })), false);
  });

  it("leaves a host kept for --reuse while its reuse file lists it, and collects it once it does not", async () => {
    const dir = await mkdtemp(join(tmpdir(), "troupe-labgc-"));
    const file = join(dir, ".troupe-reuse.yaml");
    const kept = rec({ keep: true, reuse: file });
    await writeFile(file, formatReuseFile([{ backend: "lab", system: "deb", name: "deb-1", address: "10.213.0.8", data: { slot: 7 } }]));
    assert.equal(collectable(kept), false, "listed");
    assert.equal(collectable({ ...kept, owner: selfId() }), false);
    await writeFile(file, formatReuseFile([{ backend: "lab", system: "deb", name: "deb-2", address: "10.213.0.9" }]));
    assert.equal(collectable(kept), true, "no longer listed (discarded, or the entry removed by hand)");
    await writeFile(file, "backends: [");
    assert.equal(collectable(kept), false, "a file that cannot be read: keep the host");
    await rm(file);
    assert.equal(collectable(kept), true, "the file is gone");
    await rm(dir, { recursive: true });
  });
});
