// The QEMU command line of one VM: pure, from the system's config and what
// the driver found (accelerator, port, files). As Spread's: a snapshot of
// the image (never written), user networking with the guest's port 22
// forwarded from a loopback port, the serial console kept (in a file here,
// not a telnet port), no display. Disk and NIC are virtio.

import type { Accel } from "./accel.js";
import type { QemuSystemConfig } from "./config.js";

export const QEMU_BINARY = "qemu-system-x86_64";

export interface VmFiles {
  /** The serial console's output. */
  readonly serialLog: string;
  /** Where QEMU writes its pid. */
  readonly pidFile: string;
  /** The OVMF firmware, for `bios: uefi`. */
  readonly firmware?: string;
}

export interface VmLaunch {
  readonly config: QemuSystemConfig;
  readonly accel: Accel;
  /** The loopback port forwarded to the guest's port 22. */
  readonly sshPort: number;
  /** The image's format (`raw` or `qcow2`), read from its first bytes. */
  readonly format: "raw" | "qcow2";
  /** QEMU's `-name`: troupe's id of the VM, shown by ps and read back by gc. */
  readonly name: string;
  readonly files: VmFiles;
}

/** A value inside a QEMU option list: commas are doubled. */
export function optionValue(s: string): string {
  return s.replace(/,/g, ",,");
}

/** The arguments after the binary. */
export function qemuArgs(l: VmLaunch): string[] {
  const c = l.config;
  const args = [
    "-name",
    optionValue(l.name),
    "-nodefaults",
    "-no-user-config",
    "-display",
    "none",
    "-accel",
    l.accel.kind,
    ...(l.accel.kind === "kvm" ? ["-cpu", "host"] : []),
    "-m",
    String(c.memoryMb),
    "-smp",
    String(c.cpus),
    "-snapshot",
    "-drive",
    `file=${optionValue(c.imagePath)},if=virtio,format=${l.format}`,
    "-netdev",
    `user,id=net0,hostfwd=tcp:127.0.0.1:${l.sshPort}-:22`,
    "-device",
    "virtio-net-pci,netdev=net0",
    "-device",
    "virtio-rng-pci",
    "-serial",
    `file:${l.files.serialLog}`,
    "-monitor",
    "none",
    "-pidfile",
    l.files.pidFile,
  ];
  if (c.bios === "uefi") {
    if (!l.files.firmware) throw new Error("bios: uefi needs the firmware's path");
    args.push("-bios", l.files.firmware);
  }
  if (c.direct) {
    args.push("-kernel", c.direct.kernel);
    if (c.direct.initrd) args.push("-initrd", c.direct.initrd);
    args.push("-append", c.direct.append);
  }
  return args;
}
