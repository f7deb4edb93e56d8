// Whether a reuse file still records a host, for garbage collectors (`troupe
// lab gc`) that must not remove hosts kept for reuse. Read without the lock:
// the file is only ever replaced whole.

import { readFileSync } from "node:fs";
import type { RecordedHost } from "../backend.js";
import { parseReuseFile } from "./file.js";

/**
 * True while `file` lists a host of `backend` at `address` (and of that name,
 * when the entry has one). A file that cannot be read or parsed counts as
 * listing it: when in doubt, keep the host. A missing file lists nothing.
 */
export function isRecorded(file: string, host: Pick<RecordedHost, "backend" | "address"> & { readonly name?: string }): boolean {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ENOENT";
  }
  try {
    return parseReuseFile(text, file).some(
      (h) =>
        h.backend === host.backend &&
        h.address === host.address &&
        (h.name === undefined || host.name === undefined || h.name === host.name),
    );
  } catch {
    return true;
  }
}
