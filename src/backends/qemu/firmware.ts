// Where the UEFI firmware for `bios: uefi` is, as Spread looks for it:
// ~/.spread/qemu/bios/uefi.img, then $SPREAD_QEMU_FALLBACK_BIOS_PATH/uefi.img,
// then Debian's `ovmf` package (OVMF_CODE.fd, or the 4M build that newer
// releases ship alone).

import { join } from "node:path";
import { imageDir } from "./config.js";

/** The places to look, in order. Pure. */
export function firmwareCandidates(home: string, env: Readonly<Record<string, string | undefined>>): string[] {
  const fallback = env["SPREAD_QEMU_FALLBACK_BIOS_PATH"];
  return [
    join(imageDir(home), "bios", "uefi.img"),
    ...(fallback ? [join(fallback, "uefi.img")] : []),
    "/usr/share/OVMF/OVMF_CODE.fd",
    "/usr/share/OVMF/OVMF_CODE_4M.fd",
    "/usr/share/ovmf/OVMF.fd",
    "/usr/share/qemu/OVMF.fd",
  ];
}

/** The first candidate that is there, or undefined. */
export function findFirmware(
  home: string,
  env: Readonly<Record<string, string | undefined>>,
  exists: (p: string) => boolean,
): string | undefined {
  return firmwareCandidates(home, env).find(exists);
}
