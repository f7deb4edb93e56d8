// A separate troupe process for the lab tests, run by manage.test.ts. It does
// nothing unless TROUPE_LAB_TEST_CHILD says what (the test runner may load it
// as a test file).
//   crash:    make two run hosts and a kept lab, print their names, wait to be killed
//   exit:     make a host, print its slot, exit without discarding it
//   interactive: run an interactive session on the host in TROUPE_LAB_TEST_SLOT
//   not-root: try to allocate and print the error code

import { EventStream } from "../../../src/report/events.js";
import { createLabDriver, labTransport, labUp, LAB_STATE_DIR } from "../../../src/backends/lab/index.js";
import { readRecord } from "../../../src/backends/lab/records.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { backend, system } from "./fixtures.js";

const mode = process.env["TROUPE_LAB_TEST_CHILD"];

async function main(): Promise<void> {
  const sys = system("crashy");
  const ctx = {
    runDir: process.env["TROUPE_LAB_TEST_RUNDIR"] ?? "/tmp",
    projectDir: "/tmp",
    remotePath: "/srv",
    events: new EventStream(),
  };
  if (mode === "crash") {
    const driver = createLabDriver(backend([sys]), ctx);
    const hosts = await Promise.all([1, 2].map((i) => driver.allocate(sys, i)));
    // Run a script so the master connections are up too.
    await Promise.all(hosts.map((h) => h.transport.exec({ script: "true" })));
    const kept = await labUp(1, { name: "crash-kept" });
    process.stdout.write(`${JSON.stringify({ hosts: hosts.map((h) => h.name), kept: kept.created })}\n`);
    setInterval(() => undefined, 1000);
  } else if (mode === "exit") {
    // Allocate, then leave without discarding: the driver's exit hook must clean up.
    const driver = createLabDriver(backend([sys]), ctx);
    const host = await driver.allocate(sys, 1);
    process.stdout.write(`${JSON.stringify({ slot: host.data?.["slot"], name: host.name })}\n`);
    process.exit(0);
  } else if (mode === "interactive") {
    // On a terminal (the test runs this under script(1)): a session with a tty of its own.
    const slot = Number(process.env["TROUPE_LAB_TEST_SLOT"]);
    const rec = await readRecord(LAB_STATE_DIR, slot);
    if (!rec) throw new Error(`no lab host in slot ${slot}`);
    const t = labTransport(LAB_STATE_DIR, rec);
    const r = await t.exec({ interactive: true, script: 'tty; echo "X=$X in $(pwd)"; exit 3', env: { X: "interactive" }, cwd: "/etc" });
    await t.close();
    process.stdout.write(`result ${JSON.stringify(r)}\n`);
  } else if (mode === "not-root") {
    const codes: string[] = [];
    try {
      await createLabDriver(backend([sys]), ctx).allocate(sys, 1);
      codes.push("allocated");
    } catch (e) {
      codes.push(isTroupeError(e) ? `${e.code}: ${e.message}` : String(e));
    }
    try {
      await labUp(1, { name: "not-root" });
      codes.push("up");
    } catch (e) {
      codes.push(isTroupeError(e) ? `${e.code}: ${e.message}` : String(e));
    }
    process.stdout.write(`${JSON.stringify(codes)}\n`);
  }
}

if (mode) {
  main().catch((e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exit(1);
  });
}
