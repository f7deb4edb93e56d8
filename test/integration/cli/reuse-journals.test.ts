// The journal a run keeps of its hosts (.troupe-reuse.PID.yaml and its
// lock), after the run was killed outright: gc names it once its process is
// gone (pid and start time), and the next run in the project removes one
// that lists nothing left to discard.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { selfId } from "../../../src/backends/lab/procs.js";
import { formatReuseFile } from "../../../src/backends/reuse/file.js";
import { labLeftovers, privateTmp, project, troupe, troupeAsync } from "./helpers.js";

test("the next run removes a killed run's journal that lists no host, by the identity of its process, and keeps a live one's", () => {
  const me = selfId();
  const p = project({
    "troupe.yaml": "project: journals\nsuites:\n  t/:\n    summary: s\n",
    "t/a/task.yaml": "summary: a\nexecute: true\n",
  });
  try {
    // This test's own pid, with another start time: a recycled pid, not the writer.
    const dead = `.troupe-reuse.${me.pid}.yaml`;
    writeFileSync(join(p, dead), formatReuseFile([]));
    writeFileSync(join(p, `${dead}.lock`), JSON.stringify({ pid: me.pid, start: me.start + 1, host: hostname() }));
    const live = ".troupe-reuse.4194304.yaml";
    writeFileSync(join(p, live), formatReuseFile([]));
    writeFileSync(join(p, `${live}.lock`), JSON.stringify({ pid: me.pid, start: me.start, host: hostname() }));
    const r = troupe(["run"], { cwd: p });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.deepEqual(
      readdirSync(p).filter((n) => n.startsWith(".troupe-reuse")),
      [live, `${live}.lock`],
    );
  } finally {
    rmSync(p, { recursive: true, force: true });
  }
});

test("after kill -9 of a lab run, gc names its journal for removal; the recorded hosts are discarded and nothing stays", async () => {
  const p = project({
    "troupe.yaml": "project: journals-lab\nbackends:\n  lab:\n    systems: [debian-lab]\nsuites:\n  t/:\n    summary: s\n",
    "t/hold/task.yaml": "summary: holds its host\nexecute: exec sleep 600\n",
  });
  const tmp = privateTmp();
  let pid: number | undefined;
  let discarded = false;
  try {
    const child = troupeAsync(["run"], { cwd: p, env: { TMPDIR: tmp } });
    pid = child.pid;
    assert.ok(pid !== undefined);
    const journal = `.troupe-reuse.${pid}.yaml`;
    const exited = new Promise((resolve) => child.on("exit", resolve));
    // The journal lists the host once it is allocated: then kill troupe outright.
    await new Promise<void>((resolve) => {
      const w = watch(p, () => {
        if (existsSync(join(p, journal)) && readFileSync(join(p, journal), "utf8").includes("debian-lab")) {
          w.close();
          resolve();
        }
      });
    });
    child.kill("SIGKILL");
    await exited;
    assert.ok(existsSync(join(p, `${journal}.lock`)));

    const dry = troupe(["gc", "--type", "lab", "--dry-run"], { cwd: p });
    assert.equal(dry.status, 0, dry.stdout + dry.stderr);
    assert.match(dry.stdout, new RegExp(`would remove reuse journal \\${journal}: the troupe process ${pid} that wrote it is gone`));

    const discard = troupe(["run", `--reuse-pid=${pid}`, "--discard"], { cwd: p, env: { TMPDIR: tmp } });
    discarded = true;
    assert.equal(discard.status, 0, discard.stdout + discard.stderr);
    assert.deepEqual(labLeftovers(pid, tmp), []);
    assert.deepEqual(
      readdirSync(p).filter((n) => n.startsWith(".troupe-reuse")),
      [],
    );
  } finally {
    // Whatever failed above, the killed run's host goes (and only it).
    if (pid !== undefined && !discarded && existsSync(join(p, `.troupe-reuse.${pid}.yaml`))) {
      troupe(["run", `--reuse-pid=${pid}`, "--discard"], { cwd: p, env: { TMPDIR: tmp } });
    }
    rmSync(p, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
});
