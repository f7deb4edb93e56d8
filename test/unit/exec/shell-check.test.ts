// A host without bash is told apart before any job runs on it, with a
// message naming the host. The host here is this machine seen from a mount
// namespace where bash is covered by /dev/null (not executable).

import { test } from "node:test";
import assert from "node:assert/strict";
import { realpathSync } from "node:fs";
import type { Host } from "../../../src/backends/backend.js";
import { missingShell } from "../../../src/exec/shell-check.js";
import { LocalTransport } from "../../../src/transport/local.js";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";

const bash = realpathSync("/bin/bash");

/** Runs each script where bash cannot be executed. */
class NoBashTransport implements Transport {
  readonly label = "nobash";
  private readonly inner = new LocalTransport({ label: "nobash" });
  exec(o: ExecOptions): Promise<ExecResult> {
    const wrapped = `mount --bind /dev/null ${bash} && exec /bin/sh -c "$TROUPE_TEST_SCRIPT"`;
    return this.inner.exec({ ...o, script: `exec unshare -m /bin/sh -c '${wrapped}'`, env: { ...o.env, TROUPE_TEST_SCRIPT: o.script } });
  }
  put = this.inner.put.bind(this.inner);
  get = this.inner.get.bind(this.inner);
  close = this.inner.close.bind(this.inner);
}

const hostWith = (transport: Transport): Host => ({
  name: "bare-1",
  address: "127.0.0.1",
  backend: "test",
  system: "bare",
  transport,
  projectPath: "/tmp",
});

test("a host without bash is named, with what to do, when the project's scripts are for bash", async () => {
  const why = await missingShell(hostWith(new NoBashTransport()), "bash");
  assert.match(why ?? "", /^bare-1 has no bash, .*install bash there, or set shell: sh/);
});

test("a host with bash, or a project written for sh, passes", async () => {
  assert.equal(await missingShell(hostWith(new LocalTransport({ label: "local" })), "bash"), undefined);
  assert.equal(await missingShell(hostWith(new NoBashTransport()), "sh"), undefined);
});
