// The OpenSSH transport with no shared connection (`troupe exec`: one
// connection per command) needs no ControlMaster: it must not make one, nor
// its control directory, nor load the command session's code (nor
// node:crypto, for session tokens: 20-40 ms on a busy machine), all of which
// a `troupe exec` would pay for on every start. Run in a fresh node with a
// stand-in for `ssh` that runs the command as sshd would (`sh -c COMMAND`).

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionToken } from "../../../src/transport/ssh/remote.js";

const transport = new URL("../../../src/transport/ssh/index.js", import.meta.url).href;

test("a transport with no shared connection runs a command without a master, a control directory or the command session's modules", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-direct-"));
  try {
    const fakeSsh = join(dir, "ssh");
    // The command is ssh's last argument; sshd runs it with the login shell.
    writeFileSync(fakeSsh, '#!/bin/sh\nfor last; do :; done\nexec /bin/sh -c "$last"\n');
    chmodSync(fakeSsh, 0o755);
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      "export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`LOADED ${r.url}\\n`); return r; }\n",
    );
    const register = join(dir, "register.mjs");
    writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(new URL(`file://${hooks}`).href)});\n`);
    const script = [
      `import { SshTransport } from ${JSON.stringify(transport)};`,
      `const t = new SshTransport({ host: "h", ssh: ${JSON.stringify(fakeSsh)}, shareConnection: false });`,
      `let out = "";`,
      `const r = await t.exec({ script: "echo from the host; exit 3", onStdout: (c) => (out += c) });`,
      `process.stdout.write(JSON.stringify({ code: r.exitCode, out, masterPid: t.masterPid ?? null, connected: t.connected }));`,
      `await t.close();`,
    ].join("\n");
    // Its own TMPDIR: the control directory, if one were made, would appear there.
    const tmp = join(dir, "tmp");
    mkdirSync(tmp);
    const r = spawnSync(process.execPath, ["--import", register, "--input-type=module", "-e", script], {
      encoding: "utf8",
      env: { ...process.env, TMPDIR: tmp },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { code: 3, out: "from the host\n", masterPid: null, connected: false });
    assert.deepEqual(readdirSync(tmp), [], "a control directory was made");
    const loaded = r.stderr
      .split("\n")
      .filter((l) => l.startsWith("LOADED "))
      .map((l) => l.slice("LOADED ".length));
    assert.ok(
      loaded.some((u) => u.endsWith("/ssh-transport.js")),
      r.stderr,
    );
    for (const name of ["/loop-runner.js", "/command-session.js", "/peek.js", "node:crypto"]) {
      assert.equal(
        loaded.some((u) => u.endsWith(name)),
        false,
        `${name} was loaded`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("session tokens are 12 hex digits, a new one each time", () => {
  const tokens = Array.from({ length: 1000 }, sessionToken);
  for (const t of tokens) assert.match(t, /^[0-9a-f]{12}$/);
  assert.equal(new Set(tokens).size, tokens.length);
});
