// `troupe exec` gives each host a connection of its own (no ControlMaster):
// Ctrl-C must still kill the command on every host, and no ssh process may
// outlive the command. Both clients a lab host can be reached with: troupe's
// own (in-process, the default) and OpenSSH's (TROUPE_LAB_SSH=openssh, the
// one ssh hosts get).

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { troupe, troupeAsync } from "./helpers.js";
import { processesRunning as processes } from "../../support/processes.js";

/** ssh processes whose command line names one of `addresses`. */
function sshTo(addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (args[0] === "ssh" && args.some((a) => addresses.includes(a))) out.push(`${p}: ${args.join(" ")}`);
  }
  return out;
}

async function until(what: string, fn: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// SIGINT (Ctrl-C), SIGTERM (a CI timeout) and SIGHUP (the terminal closed) alike.
// The exit status says which: 130 for SIGINT, 143 (128+15) for SIGTERM, 129 (128+1) for SIGHUP, as a shell's would.
const cases = [
  ["inprocess", "SIGINT", "767", 130],
  ["inprocess", "SIGTERM", "771", 143],
  ["inprocess", "SIGHUP", "773", 129],
  ["openssh", "SIGINT", "769", 130],
  ["openssh", "SIGTERM", "775", 143],
] as const;

for (const [client, signal, sleep, status] of cases) {
  test(`${signal} to troupe exec kills the command on every host, exits ${status} and leaves no ssh process (${client} client)`, async () => {
    const env = { TROUPE_LAB_SSH: client };
    const name = `exint-${client === "inprocess" ? "i" : "o"}${signal.slice(3, 5).toLowerCase()}`;
    const up = troupe(["lab", "up", "2", "--name", name]);
    assert.equal(up.status, 0, up.stderr);
    try {
      const addresses = [...up.stdout.matchAll(/10\.213\.\d+\.\d+/g)].map((m) => m[0]);
      assert.ok(addresses.length >= 2, up.stdout);
      // A plain run first: done, and nothing of ssh is left.
      const plain = troupe(["exec", `lab:${name}`, "--", "hostname"], { env });
      assert.equal(plain.status, 0, plain.stderr);
      assert.deepEqual(plain.stdout.trim().split("\n").sort(), [`${name}-1: ${name}-1`, `${name}-2: ${name}-2`]);
      assert.deepEqual(sshTo(addresses), []);

      const child = troupeAsync(["exec", `lab:${name}`, "--", `sleep ${sleep}`], { env });
      let output = "";
      child.stdout?.on("data", (b: Buffer) => (output += b.toString()));
      child.stderr?.on("data", (b: Buffer) => (output += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      await until("the command on both hosts", () => processes(["sleep", sleep]).length === 2);
      child.kill(signal);
      assert.equal(await exited, status, output);
      await until(`no sleep ${sleep} left on the hosts`, () => processes(["sleep", sleep]).length === 0, 15_000);
      await until("no ssh to the hosts", () => sshTo(addresses).length === 0, 15_000);
      assert.doesNotMatch(output, /internal error/);
    } finally {
      const down = troupe(["lab", "down", "--name", name]);
      assert.equal(down.status, 0, down.stderr);
    }
  });
}
