// A Spread project run on lab hosts through the whole engine (the API's run()):
// the project pushed over SSH, Spread's prelude, REBOOT, two workers.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { run } from "../../../src/api/run.js";
import { registerBackendType } from "../../../src/backends/registry.js";
import { createLabDriver, labStatus } from "../../../src/backends/lab/index.js";
import { EventStream, type TroupeEvent } from "../../../src/report/events.js";

test("a Spread project runs on lab hosts: push, prelude, REBOOT, hosts discarded after", async () => {
  registerBackendType("lab", (backend, ctx) => createLabDriver(backend, ctx));
  const dir = mkdtempSync(join(tmpdir(), "troupe-lab-project-"));
  try {
    writeFileSync(
      join(dir, "spread.yaml"),
      [
        "project: labproject",
        "path: /srv/labproject",
        "backends:",
        "  lab:",
        "    systems:",
        "      - debian-12:",
        "          workers: 2",
        "suites:",
        "  tests/:",
        "    summary: lab tests",
        "",
      ].join("\n"),
    );
    const task = (name: string, execute: string): void => {
      mkdirSync(join(dir, "tests", name), { recursive: true });
      writeFileSync(join(dir, "tests", name, "task.yaml"), `summary: ${name}\nexecute: |\n${execute.replace(/^/gm, "  ")}\n`);
    };
    task("pushed", 'test -f "$SPREAD_PATH/spread.yaml"\ntest "$(pwd)" = "$SPREAD_PATH/tests/pushed"\nhostname');
    task(
      "reboots",
      'if [ "$SPREAD_REBOOT" = 0 ]; then\n  echo before > /root/state\n  REBOOT\nfi\ntest "$SPREAD_REBOOT" = 1\ntest "$(cat /root/state)" = before',
    );
    task("fails", "echo failing on purpose; exit 1");

    const events = new EventStream();
    const seen: TroupeEvent[] = [];
    events.on((e) => seen.push(e));
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const result = await run({ cwd: dir, events, out: sink });

    assert.deepEqual([...result.passed].sort(), ["lab:debian-12:tests/pushed", "lab:debian-12:tests/reboots"]);
    assert.deepEqual([...result.failed], ["lab:debian-12:tests/fails"]);
    const allocated = seen.filter((e) => e.type === "host-allocated");
    assert.equal(allocated.length, 2);
    for (const e of allocated) if (e.type === "host-allocated") assert.match(e.address, /^10\.213\./);
    // Nothing of the run is left on the machine.
    const names = new Set(allocated.map((e) => (e.type === "host-allocated" ? e.host : "")));
    assert.equal(
      (await labStatus()).hosts.some((h) => names.has(h.name) && h.ownerPid === process.pid),
      false,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
