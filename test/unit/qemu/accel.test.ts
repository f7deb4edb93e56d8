// KVM only when /dev/kvm is writable and the CPU has vmx or svm; else TCG, with why.

import { test } from "node:test";
import assert from "node:assert/strict";
import { accelMessage, chooseAccel } from "../../../src/backends/qemu/accel.js";

const INTEL = "processor\t: 0\nflags\t\t: fpu vme de pse msr vmx sse2\n\nprocessor\t: 1\nflags\t\t: fpu vme vmx\n";
const AMD = "processor\t: 0\nflags\t\t: fpu svm lm\n";
const NESTED = "processor\t: 0\nflags\t\t: fpu vme hypervisor lm\n";

test("KVM with a writable /dev/kvm and vmx or svm", () => {
  assert.deepEqual(chooseAccel({ cpuinfo: INTEL, kvm: "writable" }), { kind: "kvm" });
  assert.deepEqual(chooseAccel({ cpuinfo: AMD, kvm: "writable" }), { kind: "kvm" });
  assert.equal(accelMessage({ kind: "kvm" }), "qemu: using KVM");
});

test("TCG, and why: no /dev/kvm, not writable, or no vmx/svm (a nested paravirtual KVM)", () => {
  assert.deepEqual(chooseAccel({ cpuinfo: INTEL, kvm: "missing" }), { kind: "tcg", why: "no /dev/kvm" });
  assert.equal(chooseAccel({ cpuinfo: INTEL, kvm: "read-only" }).kind, "tcg");
  const nested = chooseAccel({ cpuinfo: NESTED, kvm: "writable" });
  assert.equal(nested.kind, "tcg");
  assert.equal(accelMessage(nested), "qemu: no usable KVM (the CPU shows no vmx or svm flag), using TCG emulation: slower");
  assert.equal(chooseAccel({ cpuinfo: undefined, kvm: "writable" }).kind, "tcg");
  // "vmx" inside another word is not the flag.
  assert.equal(chooseAccel({ cpuinfo: "flags\t: vmxfoo svmbar\n", kvm: "writable" }).kind, "tcg");
});
