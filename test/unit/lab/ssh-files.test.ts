// The lab's ssh_config and known_hosts, rewritten by every troupe process
// that changes the lab: a reader never sees half a file, and a writer that
// worked from an older list of hosts does not have the last word.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { labPaths, slotAddress } from "../../../src/backends/lab/layout.js";
import { writeSshFiles } from "../../../src/backends/lab/manage.js";
import { createRecord, type LabHostRecord } from "../../../src/backends/lab/records.js";

function record(stateDir: string, slot: number, name: string): LabHostRecord {
  return {
    version: 1,
    slot,
    name,
    address: slotAddress(slot),
    netns: `troupe-lab-${slot}`,
    veth: `tlab${slot}`,
    dir: join(stateDir, "hosts", String(slot)),
    owner: { pid: 1, start: 1 },
    keep: true,
    lab: "t",
    hostKey: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${String(slot).padStart(3, "0")}`,
    createdAt: new Date(0).toISOString(),
  };
}

describe("the lab's ssh files", () => {
  it("list the hosts recorded when the writer is done, not those it was given", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "troupe-ssh-files-"));
    try {
      mkdirSync(labPaths(stateDir).hostsDir, { recursive: true });
      const a = record(stateDir, 1, "t-1");
      const b = record(stateDir, 2, "t-2");
      assert.ok(await createRecord(stateDir, a));
      assert.ok(await createRecord(stateDir, b));
      // A process that listed the records before t-2 was made writes last.
      await writeSshFiles(stateDir, [a]);
      const config = readFileSync(labPaths(stateDir).sshConfig, "utf8");
      assert.match(config, /^Host t-1 10\.213\.0\.2$/m);
      assert.match(config, /^Host t-2 10\.213\.0\.3$/m);
      assert.equal(readFileSync(labPaths(stateDir).knownHosts, "utf8"), `${a.address} ${a.hostKey}\n${b.address} ${b.hostKey}\n`);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
