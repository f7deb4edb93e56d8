// KVM or TCG. KVM is usable when /dev/kvm can be opened for writing and the
// CPU has hardware virtualisation (vmx or svm among /proc/cpuinfo's flags);
// a /dev/kvm without them (a nested, paravirtualised KVM) cannot run a stock
// kernel, so QEMU then emulates with TCG, which is slower, and says so.

import { accessSync, constants, readFileSync } from "node:fs";

export interface Accel {
  readonly kind: "kvm" | "tcg";
  /** Why not KVM, for the message: "no vmx or svm CPU flag". */
  readonly why?: string;
}

export interface HostFacts {
  /** The text of /proc/cpuinfo; undefined when it cannot be read. */
  readonly cpuinfo: string | undefined;
  /** Whether /dev/kvm exists, and can be opened for writing. */
  readonly kvm: "writable" | "read-only" | "missing";
}

/** Pure: KVM or TCG from what the host says. */
export function chooseAccel(facts: HostFacts): Accel {
  if (facts.kvm === "missing") return { kind: "tcg", why: "no /dev/kvm" };
  if (facts.kvm === "read-only") return { kind: "tcg", why: "/dev/kvm is not writable by this user" };
  const flags = new Set(
    (facts.cpuinfo ?? "")
      .split("\n")
      .filter((l) => /^flags\s*:/.test(l))
      .flatMap((l) =>
        l
          .slice(l.indexOf(":") + 1)
          .trim()
          .split(/\s+/),
      ),
  );
  if (!flags.has("vmx") && !flags.has("svm")) return { kind: "tcg", why: "the CPU shows no vmx or svm flag" };
  return { kind: "kvm" };
}

/** This machine's facts. */
export function hostFacts(): HostFacts {
  let cpuinfo: string | undefined;
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    cpuinfo = undefined;
  }
  let kvm: HostFacts["kvm"] = "missing";
  try {
    accessSync("/dev/kvm", constants.F_OK);
    kvm = "read-only";
    accessSync("/dev/kvm", constants.W_OK);
    kvm = "writable";
  } catch {
    /* as far as we got */
  }
  return { cpuinfo, kvm };
}

/** What to tell the user at allocation. */
export function accelMessage(a: Accel): string {
  return a.kind === "kvm" ? "qemu: using KVM" : `qemu: no usable KVM (${a.why ?? "unknown"}), using TCG emulation: slower`;
}
