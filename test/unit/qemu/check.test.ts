// The qemu driver's check(), before any job: one line per problem, each
// saying what to do, E_BACKEND (exit 3); only the systems the run uses.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createQemuDriver } from "../../../src/backends/qemu/driver.js";
import { EventStream } from "../../../src/report/events.js";
import { exitCodeFor, isTroupeError } from "../../../src/util/errors.js";
import { backend, system } from "../ssh/fakes.js";

function ctx() {
  const runDir = mkdtempSync(join(tmpdir(), "troupe-qemu-check-"));
  return { runDir, projectDir: runDir, remotePath: "/root/p", events: new EventStream() };
}

async function problems(p: Promise<void>): Promise<string[]> {
  try {
    await p;
    return [];
  } catch (e) {
    assert.ok(isTroupeError(e));
    assert.equal(exitCodeFor(e), 3);
    return e.problems.map((x) => x.message);
  }
}

test("no QEMU and no image: two lines, each saying what to do", async () => {
  const home = mkdtempSync(join(tmpdir(), "troupe-qemu-home-"));
  const s = system("debian-12");
  const d = createQemuDriver(backend("qemu", [s]), ctx(), { home, binary: "/nonexistent/qemu-system-x86_64" });
  assert.deepEqual(await problems(d.check!([{ ...s, backend: "fleet" }])), [
    "qemu: /nonexistent/qemu-system-x86_64 is not installed: install Debian's qemu-system-x86 package (apt-get install qemu-system-x86)",
    "fleet:debian-12: no image at ~/.spread/qemu/debian-12.img; make it with `troupe image build debian-12`, or put a bootable disk image there",
  ]);
});

test("only the systems the run uses are checked; a named kernel that is missing is said", async () => {
  const home = mkdtempSync(join(tmpdir(), "troupe-qemu-home-"));
  mkdirSync(join(home, ".spread", "qemu"), { recursive: true });
  writeFileSync(join(home, ".spread", "qemu", "debian-12.img"), "");
  const ok = system("debian-12");
  const absent = system("debian-13");
  const odd = system("odd", { kernel: "odd.vmlinuz" }, { image: "debian-12" });
  const b = backend("qemu", [ok, absent, odd]);
  const d = createQemuDriver(b, ctx(), { home, binary: process.execPath });
  assert.deepEqual(await problems(d.check!([b.systems[0]!])), []);
  assert.deepEqual(await problems(d.check!([b.systems[2]!])), ["fleet:odd: the kernel ~/.spread/qemu/odd.vmlinuz does not exist"]);
  assert.equal((await problems(d.check!())).length, 2, "without systems, all of the backend's are checked");
});
