// The QEMU command line of a VM, from its config: Spread's snapshot, user
// networking with the ssh forward on loopback, memory; and the choices
// troupe adds (direct boot, UEFI, KVM or TCG).

import { test } from "node:test";
import assert from "node:assert/strict";
import { optionValue, qemuArgs, type VmLaunch } from "../../../src/backends/qemu/args.js";
import type { QemuSystemConfig } from "../../../src/backends/qemu/config.js";

const config: QemuSystemConfig = {
  label: "qemu:debian-12",
  image: "debian-12",
  imagePath: "/home/u/.spread/qemu/debian-12.img",
  memoryMb: 384,
  cpus: 2,
  bootTimeoutMs: 60_000,
  username: "root",
  password: "troupe",
};

function launch(over: Partial<VmLaunch> = {}, c: Partial<QemuSystemConfig> = {}): VmLaunch {
  return {
    config: { ...config, ...c },
    accel: { kind: "tcg", why: "no /dev/kvm" },
    sshPort: 40022,
    format: "raw",
    name: "troupe:run-debian-12-1",
    files: { serialLog: "/r/hosts/debian-12-1/serial.log", pidFile: "/run/troupe-qemu/x.pid" },
    ...over,
  };
}

/** The value after each occurrence of `flag`. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []));
}

test("a snapshot of the image, the ssh forward on loopback, memory, CPUs, serial to a file, TCG", () => {
  const args = qemuArgs(launch());
  assert.ok(args.includes("-snapshot"));
  assert.deepEqual(values(args, "-drive"), ["file=/home/u/.spread/qemu/debian-12.img,if=virtio,format=raw"]);
  assert.deepEqual(values(args, "-netdev"), ["user,id=net0,hostfwd=tcp:127.0.0.1:40022-:22"]);
  assert.deepEqual(values(args, "-m"), ["384"]);
  assert.deepEqual(values(args, "-smp"), ["2"]);
  assert.deepEqual(values(args, "-serial"), ["file:/r/hosts/debian-12-1/serial.log"]);
  assert.deepEqual(values(args, "-pidfile"), ["/run/troupe-qemu/x.pid"]);
  assert.deepEqual(values(args, "-accel"), ["tcg"]);
  assert.deepEqual(values(args, "-name"), ["troupe:run-debian-12-1"]);
  assert.equal(values(args, "-cpu").length, 0);
  assert.equal(values(args, "-kernel").length, 0);
  assert.equal(values(args, "-bios").length, 0);
});

test("KVM: -accel kvm with the host's CPU", () => {
  const args = qemuArgs(launch({ accel: { kind: "kvm" } }));
  assert.deepEqual(values(args, "-accel"), ["kvm"]);
  assert.deepEqual(values(args, "-cpu"), ["host"]);
});

test("a direct boot: -kernel, -initrd, -append; qcow2 images say so", () => {
  const args = qemuArgs(
    launch({ format: "qcow2" }, { direct: { kernel: "/k/vmlinuz", initrd: "/k/initrd", append: "root=/dev/vda rw console=ttyS0" } }),
  );
  assert.deepEqual(values(args, "-kernel"), ["/k/vmlinuz"]);
  assert.deepEqual(values(args, "-initrd"), ["/k/initrd"]);
  assert.deepEqual(values(args, "-append"), ["root=/dev/vda rw console=ttyS0"]);
  assert.match(values(args, "-drive")[0]!, /format=qcow2$/);
});

test("bios: uefi passes the firmware found", () => {
  const args = qemuArgs(launch({ files: { serialLog: "/s", pidFile: "/p", firmware: "/usr/share/OVMF/OVMF_CODE.fd" } }, { bios: "uefi" }));
  assert.deepEqual(values(args, "-bios"), ["/usr/share/OVMF/OVMF_CODE.fd"]);
});

test("commas in a path are doubled inside an option list", () => {
  assert.equal(optionValue("/a,b/c.img"), "/a,,b/c.img");
  const args = qemuArgs(launch({}, { imagePath: "/x,y.img" }));
  assert.deepEqual(values(args, "-drive"), ["file=/x,,y.img,if=virtio,format=raw"]);
});
