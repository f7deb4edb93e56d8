// What the results' tests share: Debian's chromium driven by playwright-core
// (no browser download), and a FIFO a job's script can wait on until the test
// lets it go (no sleep anywhere).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

// As root, without the sandbox; and no calls home, which this machine's closed network refuses.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export async function launchChromium(): Promise<Browser> {
  assert.ok(existsSync(CHROMIUM), "the HTML tests need Debian's chromium (apt-get install chromium)");
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS });
}

/** A new FIFO: `read line < FIFO` in a script waits until the test writes a line to it. */
export function makeFifo(): string {
  const fifo = join(mkdtempSync(join(tmpdir(), "troupe-fifo-")), "gate");
  execFileSync("mkfifo", [fifo]);
  return fifo;
}
