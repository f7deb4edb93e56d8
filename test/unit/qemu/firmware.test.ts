// Where bios: uefi looks for OVMF, in Spread's order.

import { test } from "node:test";
import assert from "node:assert/strict";
import { findFirmware, firmwareCandidates } from "../../../src/backends/qemu/firmware.js";

test("~/.spread/qemu/bios/uefi.img, then SPREAD_QEMU_FALLBACK_BIOS_PATH, then Debian's ovmf", () => {
  const c = firmwareCandidates("/home/u", { SPREAD_QEMU_FALLBACK_BIOS_PATH: "/fw" });
  assert.deepEqual(c.slice(0, 3), ["/home/u/.spread/qemu/bios/uefi.img", "/fw/uefi.img", "/usr/share/OVMF/OVMF_CODE.fd"]);
  assert.equal(firmwareCandidates("/home/u", {})[1], "/usr/share/OVMF/OVMF_CODE.fd");
  assert.equal(
    findFirmware("/home/u", {}, (p) => p.endsWith("OVMF_CODE_4M.fd")),
    "/usr/share/OVMF/OVMF_CODE_4M.fd",
  );
  assert.equal(
    findFirmware("/home/u", {}, () => false),
    undefined,
  );
});
