// What a qemu system asks for, from the project's keys: Spread's defaults,
// the image path, a kernel booted directly, and errors at the key's place.

import { test } from "node:test";
import assert from "node:assert/strict";
import { qemuSystemConfig, sizeToMb, DEFAULT_APPEND } from "../../../src/backends/qemu/config.js";
import { isTroupeError } from "../../../src/util/errors.js";
import { backend, system } from "../ssh/fakes.js";

const HOME = "/home/u";
const none = (): boolean => false;
const all = (): boolean => true;

test("Spread's defaults: ~/.spread/qemu/<image>.img, 1500M, one CPU, root, no kernel unless next to the image", () => {
  const s = system("debian-12");
  const c = qemuSystemConfig(backend("qemu", [s]), s, HOME, none);
  assert.equal(c.imagePath, "/home/u/.spread/qemu/debian-12.img");
  assert.equal(c.memoryMb, 1500);
  assert.equal(c.cpus, 1);
  assert.equal(c.username, "root");
  assert.equal(c.password, "troupe");
  assert.equal(c.direct, undefined);
  assert.equal(c.bios, undefined);
  assert.equal(c.bootTimeoutMs, 5 * 60_000);
  assert.equal(c.label, "fleet:debian-12");
});

test("image: names the file; username and password are the system's", () => {
  const s = system("ubuntu-16.04-64", {}, { image: "xenial", username: "ubuntu", password: "ubuntu" });
  const c = qemuSystemConfig(backend("qemu", [s]), s, HOME, none);
  assert.equal(c.imagePath, "/home/u/.spread/qemu/xenial.img");
  assert.equal(c.username, "ubuntu");
  assert.equal(c.password, "ubuntu");
});

test("<image>.vmlinuz and <image>.initrd next to the image are booted directly, with root=/dev/vda", () => {
  const s = system("debian-12");
  const seen: string[] = [];
  const c = qemuSystemConfig(backend("qemu", [s]), s, HOME, (p) => (seen.push(p), true));
  assert.deepEqual(c.direct, {
    kernel: "/home/u/.spread/qemu/debian-12.vmlinuz",
    initrd: "/home/u/.spread/qemu/debian-12.initrd",
    append: DEFAULT_APPEND,
  });
  assert.equal(DEFAULT_APPEND, "root=/dev/vda rw console=ttyS0");
  assert.ok(seen.includes("/home/u/.spread/qemu/debian-12.initrd"));
  // Only a kernel, no initrd: the image boots its own bootloader.
  const c2 = qemuSystemConfig(backend("qemu", [s]), s, HOME, (p) => p.endsWith(".vmlinuz"));
  assert.equal(c2.direct, undefined);
});

test("kernel, initrd and append keys: relative to the image's folder; the system's over the backend's", () => {
  const s = system("debian-12", { kernel: "k/vmlinuz", append: "root=/dev/vda ro quiet" });
  const b = backend("qemu", [s], { extra: { initrd: "/boot/initrd.img", memory: "2G", cpus: 2 } });
  const c = qemuSystemConfig(b, b.systems[0]!, HOME, none);
  assert.deepEqual(c.direct, { kernel: "/home/u/.spread/qemu/k/vmlinuz", initrd: "/boot/initrd.img", append: "root=/dev/vda ro quiet" });
  assert.equal(c.memoryMb, 2048);
  assert.equal(c.cpus, 2);
  const own = system("debian-12", { memory: "384M", kernel: "/k" });
  assert.equal(qemuSystemConfig(b, { ...own, backend: "fleet" }, HOME, all).memoryMb, 384);
});

test("bad values are E_PROJECT problems at their key, all of them at once", () => {
  const pos = { file: "spread.yaml", line: 7, col: 9 };
  const s = system(
    "debian-12",
    { bios: "legacy", memory: "12M", cpus: "many", initrd: "x", "boot-timeout": "soon" },
    { where: { bios: pos } },
  );
  try {
    qemuSystemConfig(backend("qemu", [s]), s, HOME, none);
    assert.fail("no error");
  } catch (e) {
    assert.ok(isTroupeError(e));
    assert.equal(e.code, "E_PROJECT");
    const msgs = e.problems.map((p) => p.message);
    assert.equal(msgs.length, 5, msgs.join("\n"));
    assert.match(msgs.join("\n"), /only "uefi" or unset/);
    assert.match(msgs.join("\n"), /an initrd needs a kernel/);
    assert.deepEqual(e.problems.find((p) => p.path?.endsWith(".bios"))?.pos, pos);
  }
});

test("bios: uefi; boot-timeout as a duration or seconds", () => {
  const s = system("debian-12", { bios: "uefi", "boot-timeout": "90s" });
  const c = qemuSystemConfig(backend("qemu", [s]), s, HOME, none);
  assert.equal(c.bios, "uefi");
  assert.equal(c.bootTimeoutMs, 90_000);
  const s2 = system("debian-12", { "boot-timeout": 120 });
  assert.equal(qemuSystemConfig(backend("qemu", [s2]), s2, HOME, none).bootTimeoutMs, 120_000);
});

test("sizes as Spread writes them", () => {
  assert.equal(sizeToMb("512M"), 512);
  assert.equal(sizeToMb("2G"), 2048);
  assert.equal(sizeToMb("1048576K"), 1024);
  assert.equal(sizeToMb("preserve-size"), undefined);
  assert.equal(sizeToMb("1.5G"), undefined);
});
