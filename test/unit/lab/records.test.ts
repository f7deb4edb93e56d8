// Reading the lab's records: only a missing state directory means "no lab";
// any other error (permissions, a file where a directory should be) is
// reported, since "no lab is up" would send the user the wrong way.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { listRecords, readRecord } from "../../../src/backends/lab/records.js";
import { TroupeError } from "../../../src/util/errors.js";

const here = fileURLToPath(import.meta.url);
const recordsModule = join(here, "..", "..", "..", "..", "src", "backends", "lab", `records${here.endsWith(".ts") ? ".ts" : ".js"}`);

function stateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-lab-records-"));
  chmodSync(dir, 0o755);
  return dir;
}

const isBackendError = (pattern: RegExp) => (e: unknown) => e instanceof TroupeError && e.code === "E_BACKEND" && pattern.test(e.message);

/** listRecords(dir) as a user without root's powers: what it returned, or the error's code and message. */
function listAsNobody(dir: string): Promise<string> {
  // The module is loaded first and root's powers dropped after, so the test
  // holds wherever the checkout is (a private temporary folder in CI).
  const asRoot = process.getuid?.() === 0;
  const script = `
    const { listRecords } = await import(${JSON.stringify(recordsModule)});
    ${asRoot ? "process.setgroups([]); process.setgid(65534); process.setuid(65534);" : ""}
    try { console.log(JSON.stringify({ records: await listRecords(${JSON.stringify(dir)}) })); }
    catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
  const child = spawn(process.execPath, [...process.execArgv, "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (b: Buffer) => (out += b.toString()));
  return new Promise((resolve) => child.once("close", () => resolve(out.trim())));
}

describe("lab records", () => {
  it("a missing state directory is no lab", async () => {
    const dir = stateDir();
    try {
      assert.deepEqual(await listRecords(join(dir, "absent")), []);
      assert.equal(await readRecord(join(dir, "absent"), 1), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a state directory it may not read is an E_BACKEND error that says so, not an empty lab", async () => {
    const dir = stateDir();
    try {
      mkdirSync(join(dir, "hosts"));
      writeFileSync(join(dir, "hosts", "1.json"), "{}");
      chmodSync(join(dir, "hosts"), 0o700);
      const answer = JSON.parse(await listAsNobody(dir)) as { code?: string; message?: string; records?: unknown[] };
      assert.equal(answer.records, undefined, `listed ${JSON.stringify(answer.records)}`);
      assert.equal(answer.code, "E_BACKEND");
      assert.match(answer.message ?? "", /cannot read the lab's records in .*\/hosts: .*EACCES.*root/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a file where the hosts directory should be is reported", async () => {
    const dir = stateDir();
    try {
      writeFileSync(join(dir, "hosts"), "not a directory\n");
      await assert.rejects(listRecords(dir), isBackendError(/cannot read the lab's records in .*\/hosts: .*ENOTDIR/));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a record that cannot be read is reported; one removed meanwhile is not", async () => {
    const dir = stateDir();
    try {
      mkdirSync(join(dir, "hosts", "3.json"), { recursive: true });
      await assert.rejects(listRecords(dir), isBackendError(/cannot read the lab's record .*\/3\.json: .*EISDIR/));
      await assert.rejects(readRecord(dir, 3), isBackendError(/cannot read the lab's record .*\/3\.json: .*EISDIR/));
      assert.equal(await readRecord(dir, 4), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
