import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LocalTransport } from "../../../src/transport/local.js";
import { buildScript, buildShellScript, type ScriptSpec } from "../../../src/exec/prelude.js";
import { parseMarker } from "../../../src/script/markers.js";
import { effectiveTimeouts } from "../../../src/exec/timeouts.js";
import { tempDir } from "./builders.js";
import { SCRIPT_SHELLS, type ScriptShell } from "../../../src/model/project.js";

const t = new LocalTransport({ label: "prelude" });

/** The shell the current test's scripts are built for: every test runs once for each. */
let shell: ScriptShell = "bash";
function both(name: string, fn: () => Promise<void>): void {
  for (const s of SCRIPT_SHELLS)
    test(`${name} [${s}]`, async () => {
      shell = s;
      await fn();
    });
}

/**
 * Run a hook script. Its stderr is merged into stdout by the prelude (as
 * Spread's `bash - 2>&1`), so `out` and `err` are both that one stream, less
 * the `set -x` trace lines; `raw` keeps them; `ctl` is fd 9, where only
 * REBOOT/ERROR/FATAL markers go.
 */
async function sh(spec: ScriptSpec, stdin?: string): Promise<{ code: number | null; out: string; err: string; raw: string; ctl: string }> {
  let raw = "";
  let ctl = "";
  const r = await t.exec({
    script: buildScript({ shell, ...spec }),
    ...(stdin !== undefined ? { stdin } : {}),
    onStdout: (b) => (raw += b.toString()),
    onStderr: (b) => (ctl += b.toString()),
  });
  const out = raw
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith("+ "))
    .join("");
  return { code: r.exitCode, out, err: out, raw, ctl };
}

both("MATCH passes on a match and fails printing Spread's message and the input otherwise", async () => {
  const ok = await sh({ trace: false, script: "printf 'hello\\nworld\\n' | MATCH 'wor.d'\necho after" });
  assert.equal(ok.code, 0);
  assert.equal(ok.out, "after\n");

  const bad = await sh({ trace: false, script: "printf 'hello\\nworld\\n' | MATCH '^bye$'\necho not-reached" });
  assert.equal(bad.code, 1);
  assert.doesNotMatch(bad.out, /not-reached/);
  assert.match(bad.err, /grep error: pattern not found, got:\nhello\nworld\n/);
});

both("MATCH uses extended regexps and complains without a pattern", async () => {
  assert.equal((await sh({ trace: false, script: "echo 'abc123' | MATCH '[a-c]+[0-9]{3}'" })).code, 0);
  const none = await sh({ trace: false, script: "echo x | MATCH" });
  assert.equal(none.code, 1);
  assert.match(none.out, /error: missing regexp argument/);
});

both("NOMATCH fails when the pattern is found, naming it and the input", async () => {
  const ok = await sh({ trace: false, script: "echo hello | NOMATCH bye\necho fine" });
  assert.equal(ok.code, 0);
  assert.equal(ok.out, "fine\n");
  const bad = await sh({ trace: false, script: "echo hello | NOMATCH 'h.l'" });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /NOMATCH pattern='h\.l' found in:\nhello/);
});

both("ERROR and FATAL leave with status 213 and a marker line carrying the message", async () => {
  const e = await sh({ script: "echo before\nERROR something broke badly\necho never" });
  assert.equal(e.code, 213);
  assert.deepEqual(parseMarker(e.out), { kind: "ERROR", arg: "something broke badly" });
  assert.doesNotMatch(e.out, /never/);

  const f = await sh({ script: "FATAL machine is toast" });
  assert.equal(f.code, 213);
  assert.deepEqual(parseMarker(f.out), { kind: "FATAL", arg: "machine is toast" });

  const r = await sh({ script: "REBOOT after-kernel" });
  assert.equal(r.code, 213);
  assert.deepEqual(parseMarker(r.out), { kind: "REBOOT", arg: "after-kernel" });
  assert.deepEqual(parseMarker((await sh({ script: "REBOOT" })).out), { kind: "REBOOT", arg: "" });
  assert.equal(parseMarker("<NOTAMARKER x>\n"), undefined);
  assert.equal(parseMarker("<ERROR x>\nmore\n"), undefined);
});

both("the environment is evaluated in order: references, $(...), quoted values as written", async () => {
  const r = await sh({
    script: 'echo "A=$A"; echo "B=$B"; echo "C=$C"; echo "D=[$D]"; echo "P=$SPREAD_PATH"',
    vars: [["SPREAD_PATH", "/work/it's here"]],
    environment: [
      { key: "A", value: "$(echo one)" },
      { key: "B", value: "$A-two-${SPREAD_PATH}" },
      { key: "C", value: "'single $A'" },
      { key: "D", value: "" },
      // The engine owns SPREAD_PATH: a planned value does not override the host's.
      { key: "SPREAD_PATH", value: "/remote/proj" },
    ],
  });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, "A=one\nB=one-two-/work/it's here\nC=single $A\nD=[]\nP=/work/it's here\n");
});

both("set -eu: a failing command or an unset variable stops the script", async () => {
  const e = await sh({ script: "false\necho not-reached" });
  assert.equal(e.code, 1);
  assert.equal(e.out, "");
  const u = await sh({ script: "echo $NOPE_NOT_SET\necho not-reached" });
  assert.notEqual(u.code, 0);
  assert.match(u.out, /NOPE_NOT_SET: (parameter not set|unbound variable)\n$/);
});

both("scripts run in the given directory, traced, with stdin from /dev/null and Spread's fixed variables", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, "sub dir"));
  const r = await sh(
    { script: 'pwd\ncat\necho "$DEBIAN_FRONTEND"\ncase ":$PATH:" in *:/usr/sbin:*) echo path-ok;; esac', dir: join(dir, "sub dir") },
    "this must not be read\n",
  );
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `${join(dir, "sub dir")}\nnoninteractive\npath-ok\n`);
  assert.match(r.raw, /^\+ pwd$/m, "commands are traced, in the output stream");
  const quiet = await sh({ script: "echo hi", trace: false, vars: [["SECRET", "s3cr3t"]] });
  assert.equal(quiet.raw, "hi\n");
  const traced = await sh({ script: "echo hi", vars: [["SECRET", "s3cr3t"]] });
  assert.match(traced.raw, /^\+ echo hi\nhi\n$/);
  assert.doesNotMatch(traced.raw, /s3cr3t/, "variables are exported before tracing starts");
});

both("PATH from the engine's variables goes in front of the current PATH", async () => {
  const r = await sh({ script: 'echo "$PATH"', vars: [["PATH", "/opt/troupe/bin:$PATH"]] });
  assert.match(r.out, /^\/opt\/troupe\/bin:.*\/usr\/bin/);
});

test("the debugging shell gets the helpers and the environment", async () => {
  const dir = await tempDir();
  let out = "";
  const r = await t.exec({
    script: buildShellScript({ dir, vars: [["SPREAD_SYSTEM", "sys-1"]], environment: [{ key: "X", value: "$(echo ex)" }] }),
    stdin: 'echo "$SPREAD_SYSTEM $X $(pwd)"\necho abc | MATCH b && echo matched\nexit\n',
    onStdout: (b) => (out += b.toString()),
    onStderr: () => undefined,
  });
  assert.equal(r.exitCode, 0);
  assert.match(out, new RegExp(`sys-1 ex ${dir}\\n`));
  assert.match(out, /matched/);
});

test("timeouts: 0 and -1 disable; a kill that is a multiple of warn comes a little earlier", () => {
  assert.deepEqual(effectiveTimeouts({ warn: 0, kill: -1 }), {});
  assert.deepEqual(effectiveTimeouts({ warn: 300, kill: 700 }), { warnMs: 300, killMs: 700 });
  assert.deepEqual(effectiveTimeouts({ warn: 300, kill: 600 }), { warnMs: 300, killMs: 450 });
  assert.deepEqual(effectiveTimeouts({ warn: 300_000, kill: 900_000 }), { warnMs: 300_000, killMs: 899_000 });
  assert.deepEqual(effectiveTimeouts({ warn: -1, kill: 900_000 }), { killMs: 900_000 });
});

both("in a sync session the prelude makes troupe-ctl a function; a control dir without troupe-ctl is left alone", async () => {
  const dir = await tempDir();
  await mkdir(join(dir, "bin"));
  // A stand-in for the relay's copy: defines troupe_ctl when sourced with troupe_ctl_lib set.
  await writeFile(join(dir, "bin", "troupe-ctl"), 'troupe_ctl() { echo "fn:$*"; }\n[ -n "${troupe_ctl_lib-}" ] || echo program\n');
  const withCtl = await sh({ script: "troupe-ctl a b; echo lib=${troupe_ctl_lib-unset}", vars: { TROUPE_CTL_DIR: dir } });
  assert.deepEqual([withCtl.code, withCtl.out], [0, "fn:a b\nlib=unset\n"]);
  const missing = await sh({ script: "type troupe-ctl >/dev/null 2>&1 || echo none", vars: { TROUPE_CTL_DIR: join(dir, "nope") } });
  assert.deepEqual([missing.code, missing.out], [0, "none\n"]);
  assert.doesNotMatch(buildScript({ script: "true" }), /troupe_ctl/, "no sync session: no function");
});

test("scripts of a bash project run under bash: the idioms that dash gets wrong work", async () => {
  shell = "bash";
  const script = [
    "set -o pipefail",
    'arr=(one two three); echo "n=${#arr[@]} last=${arr[2]}"',
    'x=hello; [[ "$x" == h* ]] && echo "upper=${x^^}"',
    "echo -e 'a\\tb'",
    "ls /nonexistent-troupe &> /dev/null || echo both-redirected",
    "pushd / > /dev/null; popd > /dev/null; echo pushd-ok",
    "read -r w <<< 'here string'; echo \"$w\"",
    "cat <(echo process-substitution)",
    "echo {1..3}",
    "function f { echo function-keyword; }; f",
    "if false | true; then echo no-pipefail; else echo pipefail-on; fi",
  ].join("\n");
  const r = await sh({ trace: false, script });
  assert.equal(r.code, 0, r.raw);
  assert.equal(
    r.out,
    "n=3 last=three\nupper=HELLO\na\tb\nboth-redirected\npushd-ok\nhere string\nprocess-substitution\n1 2 3\nfunction-keyword\npipefail-on\n",
  );
});

test("a bash script reaches bash on its stdin: neither the script nor the environment is in any process's arguments", async () => {
  const secret = `troupe-secret-${process.pid}`;
  const r = await sh({
    shell: "bash",
    trace: false,
    environment: [{ key: "TOKEN", value: secret }],
    script: `ps -eo args | grep -c "${secret.slice(0, 6)}[-]secret" || true`,
  });
  assert.equal(r.code, 0, r.raw);
  assert.equal(r.out, "0\n");
});

test("a script that holds the launcher's end line still runs whole", async () => {
  const r = await sh({ shell: "bash", trace: false, script: "cat <<'TROUPE_SCRIPT_END'\ninside\nTROUPE_SCRIPT_END\necho after" });
  assert.equal(r.code, 0, r.raw);
  assert.equal(r.out, "inside\nafter\n");
});
