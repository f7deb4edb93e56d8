import { test } from "node:test";
import assert from "node:assert/strict";
import { controlArgs, masterArgs, sessionArgs } from "../../../src/transport/ssh/args.js";
import { TroupeError } from "../../../src/util/errors.js";

function optValue(args: string[], key: string): string | undefined {
  for (let i = 0; i < args.length - 1; i++) {
    if (args[i] === "-o" && args[i + 1]!.startsWith(`${key}=`)) return args[i + 1]!.slice(key.length + 1);
  }
  return undefined;
}

test("by default nothing overrides the user's ssh_config, agent or known_hosts", () => {
  const a = masterArgs({ host: "example.org" }, "/tmp/x/c1");
  assert.equal(a.includes("-F"), false);
  assert.equal(a.includes("-i"), false);
  assert.equal(optValue(a, "UserKnownHostsFile"), undefined);
  assert.equal(optValue(a, "StrictHostKeyChecking"), undefined);
  assert.equal(optValue(a, "BatchMode"), "yes");
  assert.deepEqual(a.slice(-2), ["--", "example.org"]);
  assert.ok(a.includes("-M") && a.includes("-N"));
  assert.equal(a[a.indexOf("-S") + 1], "/tmp/x/c1");
});

test("explicit options: config file, key, known_hosts, port, user, extra options", () => {
  const a = masterArgs(
    {
      host: "10.0.0.2",
      port: 2222,
      user: "root",
      configFile: "/dev/null",
      identityFile: "/k/id",
      identitiesOnly: true,
      knownHostsFile: "/k/known",
      strictHostKeyChecking: "yes",
      options: { Ciphers: "aes128-ctr" },
    },
    "/c",
  );
  assert.equal(a[a.indexOf("-F") + 1], "/dev/null");
  assert.equal(a[a.indexOf("-i") + 1], "/k/id");
  assert.equal(a[a.indexOf("-p") + 1], "2222");
  assert.equal(a[a.indexOf("-l") + 1], "root");
  assert.equal(optValue(a, "UserKnownHostsFile"), "/k/known");
  assert.equal(optValue(a, "StrictHostKeyChecking"), "yes");
  assert.equal(optValue(a, "IdentitiesOnly"), "yes");
  assert.equal(optValue(a, "Ciphers"), "aes128-ctr");
  // ssh keeps the first value it sees: the user's options come before troupe's defaults.
  const mine = masterArgs(
    { host: "h", options: { BatchMode: "no", ConnectTimeout: "3", ControlPath: "/elsewhere", controlmaster: "auto" } },
    "/c",
  );
  assert.ok(mine.indexOf("BatchMode=no") < mine.indexOf("BatchMode=yes"));
  assert.ok(mine.indexOf("ConnectTimeout=3") < mine.indexOf("ConnectTimeout=15"));
  // ...except the ones multiplexing depends on.
  assert.equal(
    mine.some((x) => /^control(path|master)=/i.test(x)),
    false,
  );
});

test("a password turns batch mode off so the askpass helper is asked", () => {
  assert.equal(optValue(masterArgs({ host: "h", withPassword: true }, "/c"), "BatchMode"), "no");
});

test("sessions go through the master, never prompt, and ask for a tty only when told", () => {
  const s = sessionArgs({ host: "h", user: "u" }, "/c", "echo hi", { noStdin: true });
  assert.equal(optValue(s, "ControlMaster"), "no");
  assert.equal(optValue(s, "BatchMode"), "yes");
  assert.ok(s.includes("-T") && s.includes("-n") && !s.includes("-t"));
  assert.deepEqual(s.slice(-3), ["--", "h", "echo hi"]);
  const t = sessionArgs({ host: "h" }, "/c", "sh", { tty: true });
  assert.ok(t.includes("-t") && !t.includes("-T") && !t.includes("-n"));
  assert.deepEqual(controlArgs({ host: "h" }, "/c", "exit").slice(-4), ["-O", "exit", "--", "h"]);
});

test("hosts, users, ports and option names that could inject options are refused", () => {
  for (const t of [
    { host: "-oProxyCommand=x" },
    { host: "" },
    { host: "a b" },
    { host: "h", user: "-x" },
    { host: "h", port: 0 },
    { host: "h", options: { "A=B": "c" } },
  ]) {
    assert.throws(
      () => masterArgs(t, "/c"),
      (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE",
      JSON.stringify(t),
    );
  }
});
