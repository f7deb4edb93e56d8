import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile, mkdir } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { execSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalTransport } from "../../../src/transport/local.js";
import { inBash } from "../../../src/script/launcher.js";

/** Alive and not a zombie waiting for its reaper. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

function execSyncText(script: string): string {
  return execSync(script, { shell: "/bin/sh", encoding: "utf8", maxBuffer: 1 << 24 });
}

const t = new LocalTransport({ label: "local-1" });

function collect(): { chunks: Buffer[]; text: () => string; on: (b: Buffer) => void } {
  const chunks: Buffer[] = [];
  return { chunks, text: () => Buffer.concat(chunks).toString(), on: (b) => chunks.push(b) };
}

test("exec streams output, sets env and cwd, returns the exit status", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-lt-"));
  const out = collect();
  const err = collect();
  const r = await t.exec({
    script: 'echo "$GREETING from $(pwd)"; echo oops >&2; exit 3',
    env: { GREETING: "hello" },
    cwd: dir,
    onStdout: out.on,
    onStderr: err.on,
  });
  assert.deepEqual(r, { exitCode: 3, signal: null });
  assert.equal(out.text(), `hello from ${dir}\n`);
  assert.equal(err.text(), "oops\n");
});

test("exec feeds stdin", async () => {
  const out = collect();
  await t.exec({ script: "tr a-z A-Z", stdin: "shout\n", onStdout: out.on });
  assert.equal(out.text(), "SHOUT\n");
});

test("abort kills the whole process group, background children included", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-lt-"));
  const ac = new AbortController();
  const p = t.exec({ script: `sleep 100 & echo $! > ${dir}/child; wait`, signal: ac.signal });
  for (let i = 0; i < 100; i++) {
    try {
      if ((await readFile(join(dir, "child"), "utf8")).trim()) break;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const childPid = Number((await readFile(join(dir, "child"), "utf8")).trim());
  ac.abort();
  const r = await p;
  assert.equal(r.exitCode, null);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(isAlive(childPid), false, `background child ${childPid} survived the kill`);
});

test("put and get move tar streams", async () => {
  const src = await mkdtemp(join(tmpdir(), "troupe-lt-"));
  const dst = await mkdtemp(join(tmpdir(), "troupe-lt-"));
  await mkdir(join(src, "sub"));
  await writeFile(join(src, "sub", "f.txt"), "content");
  await t.put(await t.get(src, ["sub"]), join(dst, "new"));
  assert.equal(await readFile(join(dst, "new", "sub", "f.txt"), "utf8"), "content");
});

test("output without a final newline, empty output and large output come back exactly", async () => {
  for (const script of ["printf abc", "true", "printf 'x\\n\\n'", "head -c 300000 /dev/zero | tr '\\0' y"]) {
    const out = collect();
    const expected = execSyncText(script);
    const r = await t.exec({ script, onStdout: out.on });
    assert.equal(r.exitCode, 0);
    assert.equal(out.text(), expected, script);
  }
});

test("a line reaches onStdout/onStderr as soon as it is printed, not when the script prints more or ends", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-lt-"));
  for (const stream of ["stdout", "stderr"] as const) {
    const go = join(dir, `go-${stream}`);
    const out = collect();
    let seen: () => void = () => undefined;
    const line = new Promise<"line">((resolve) => (seen = () => resolve("line")));
    // The script goes on only once the test saw its line; if the line never comes
    // alone, the script gives up (exit 7) and the test fails instead of hanging.
    const wait = `i=0; while [ ! -e ${go} ]; do i=$((i+1)); [ $i -lt 1200 ] || exit 7; sleep 0.05; done`;
    const run = t.exec({
      script: `echo first${stream === "stderr" ? " >&2" : ""}; ${wait}; echo second`,
      [stream === "stdout" ? "onStdout" : "onStderr"]: (b: Buffer) => {
        out.on(b);
        if (out.text().includes("first\n")) seen();
      },
    });
    const first = await Promise.race([line, run.then(() => "end" as const)]);
    assert.equal(first, "line", `${stream}: "first\\n" came only at the script's end: ${JSON.stringify(out.text())}`);
    await writeFile(go, "");
    const r = await run;
    assert.equal(r.exitCode, 0);
    assert.equal(out.text(), stream === "stdout" ? "first\nsecond\n" : "first\n");
  }
});

test("concurrent scripts on one host each get their own output and status", async () => {
  const runs = Array.from({ length: 5 }, (_, i) => {
    const out = collect();
    return t.exec({ script: `sleep 0.0${i}; echo run-${i}; exit ${i}`, onStdout: out.on }).then((r) => ({ r, text: out.text(), i }));
  });
  for (const { r, text, i } of await Promise.all(runs)) {
    assert.equal(r.exitCode, i);
    assert.equal(text, `run-${i}\n`);
  }
});

test("a background child's late output does not leak into the next script", async () => {
  await t.exec({ script: "(sleep 0.2; echo late) &" });
  const out = collect();
  await t.exec({ script: "sleep 0.4; echo mine", onStdout: out.on });
  assert.equal(out.text(), "mine\n");
});

test("a killed script reports the signal, and the host runs the next one", async () => {
  const ac = new AbortController();
  const p = t.exec({ script: "sleep 30", signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const r = await p;
  assert.equal(r.exitCode, null);
  assert.equal(r.signal, "SIGTERM");
  const out = collect();
  assert.equal((await t.exec({ script: "echo next", onStdout: out.on })).exitCode, 0);
  assert.equal(out.text(), "next\n");
});

test("binary output and multi-byte text pass through unchanged", async () => {
  const out = collect();
  await t.exec({
    script: "printf 'h\\303\\251llo \\342\\202\\254\\n'; head -c 4096 /dev/urandom > /tmp/troupe-bin-test; cat /tmp/troupe-bin-test",
    onStdout: out.on,
  });
  const bytes = Buffer.concat(out.chunks);
  const expected = Buffer.concat([Buffer.from("héllo €\n"), readFileSync("/tmp/troupe-bin-test")]);
  assert.ok(bytes.equals(expected));
});

test("a bash script runs in a subshell of the runner that looks like `bash FILE`", async () => {
  const out = collect();
  const script = [
    'echo "zero=$0 args=$# flags=$- exec=${BASH_EXECUTION_STRING-unset} source=${BASH_SOURCE[0]}"',
    'echo "runner vars=${file-}${id-}${how-}${pid-}${st-}${left-}."',
    "sleep 30 & child=$!",
    'echo "groups $(ps -o pgid= -p "$child") $(ps -o pgid= -p "$BASHPID")"',
    'kill "$child"',
    "read -r line || echo stdin=empty",
  ].join("\n");
  const r = await t.exec({ script: inBash(script), onStdout: out.on });
  assert.deepEqual(r, { exitCode: 0, signal: null });
  const [head, vars, groups, stdin] = out.text().trim().split("\n");
  const file = /zero=(\S+)/.exec(head ?? "")?.[1] ?? "";
  assert.match(file, /\/script\.sh$/);
  assert.equal(head, `zero=${file} args=0 flags=hB exec=unset source=${file}`);
  assert.equal(vars, "runner vars=.");
  const [, childGroup, ownGroup] = (groups ?? "").split(/\s+/);
  assert.equal(childGroup, ownGroup, "a background job of the script stays in the script's process group");
  assert.equal(stdin, "stdin=empty");
});

test("a bash script aborted before the runner has forked it is still killed", async () => {
  const ac = new AbortController();
  const p = t.exec({ script: inBash("sleep 30"), signal: ac.signal });
  ac.abort();
  const r = await p;
  assert.deepEqual(r, { exitCode: null, signal: "SIGTERM" });
  const out = collect();
  assert.equal((await t.exec({ script: inBash("echo next"), onStdout: out.on })).exitCode, 0);
  assert.equal(out.text(), "next\n");
});

test("a bash script's `kill $$` ends that script as the signal would, and the host runs the next one", async () => {
  const out = collect();
  // The signal reaches the worker's bash, which passes it on: a moment later than to a bash of the script's own.
  const r = await t.exec({ script: inBash("echo before; kill $$; sleep 30; echo not reached"), onStdout: out.on });
  assert.deepEqual(r, { exitCode: 143, signal: null });
  assert.equal(out.text(), "before\n");
  const next = collect();
  assert.equal((await t.exec({ script: inBash("echo next"), onStdout: next.on })).exitCode, 0);
  assert.equal(next.text(), "next\n");
});
