// The sync service's trust boundaries through the CLI, on local hosts: a
// message value cannot forge a line of `troupe-ctl wait`'s output, `kv set`
// and `kv get` agree on one limit, and a job cannot read or write another
// job's store by pointing troupe-ctl at its control dir.

import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { project, troupe } from "./helpers.js";

/** A local project whose scripts write into OUT, a directory of the test's. */
function localProject(name: string, workers: number, tasks: Readonly<Record<string, string>>): { dir: string; out: string } {
  const out = mkdtempSync(join(tmpdir(), "troupe-trust-"));
  const dir = project({
    "troupe.yaml": `project: ${name}\nenvironment:\n  OUT: ${out}\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: ${workers}\nsuites:\n  s/:\n    summary: s\n`,
    ...tasks,
  });
  return { dir, out };
}

test("message values are printed so that no byte forges a line; printf '%b' gives the bytes back", () => {
  const { dir, out } = localProject("framing", 2, {
    "s/t/task.yaml": `summary: a sender tries to forge a field
hosts:
  a: {}
  b: {}
execute/a: |
  troupe-ctl send hello NAME="$(printf 'alice\\nROLE=admin')" RAW="$(printf 'x\\377y\\\\n=z\\r')" "$(printf 'K\\nEY')=v"
  troupe-ctl barrier done
execute/b: |
  troupe-ctl wait hello > "$OUT/wait.txt"
  troupe-ctl wait hello --all > "$OUT/all.txt"
  while IFS= read -r line; do
    key=$(printf '%bx' "\${line%%=*}"); key=\${key%x}
    value=$(printf '%bx' "\${line#*=}")
    printf '%s' "\${value%x}" > "$OUT/value-$(printf %s "$key" | od -An -tx1 | tr -d ' \\n')"
  done < "$OUT/wait.txt"
  troupe-ctl barrier done
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const waited = readFileSync(join(out, "wait.txt"), "latin1").split("\n");
    assert.deepEqual(waited, ["NAME=alice\\0012ROLE=admin", "RAW=x\\0377y\\\\n=z\\0015", "K\\0012EY=v", ""]);
    const all = readFileSync(join(out, "all.txt"), "latin1").split("\n");
    assert.deepEqual(all, ["a:NAME=alice\\0012ROLE=admin", "a:RAW=x\\0377y\\\\n=z\\0015", "a:K\\0012EY=v", ""]);
    const hex = (s: string): string => Buffer.from(s).toString("hex");
    assert.equal(readFileSync(join(out, `value-${hex("NAME")}`), "utf8"), "alice\nROLE=admin");
    assert.deepEqual([...readFileSync(join(out, `value-${hex("RAW")}`))], [...Buffer.from("x\xffy\\n=z\r", "latin1")]);
    assert.equal(readFileSync(join(out, `value-${hex("K\nEY")}`), "utf8"), "v");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test("kv set and kv get agree on one limit: 32768 bytes are set and got back whole, one more is refused with a clear error", () => {
  const { dir, out } = localProject("limit", 1, {
    "s/t/task.yaml": `summary: values at the limit and past it
hosts:
  a: {}
execute: |
  cd "$OUT"
  { head -c 16383 /dev/zero | tr '\\0' a; printf '\\n\\377'; head -c 16383 /dev/zero | tr '\\0' b; } > at
  troupe-ctl kv set at "$(cat at)"
  troupe-ctl kv get at > got
  set +e
  troupe-ctl kv set over "$(cat at)c" 2> over.err
  echo "over=$?" > status
  troupe-ctl kv set big "$(head -c 60000 /dev/zero | tr '\\0' v)" 2> big.err
  echo "big=$?" >> status
  troupe-ctl kv get over 2>/dev/null
  echo "get-over=$?" >> status
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const at = readFileSync(join(out, "at"));
    assert.equal(at.length, 32768);
    assert.deepEqual(readFileSync(join(out, "got")), Buffer.concat([at, Buffer.from("\n")]));
    assert.equal(readFileSync(join(out, "status"), "utf8"), "over=64\nbig=64\nget-over=1\n");
    assert.match(
      readFileSync(join(out, "over.err"), "utf8"),
      /^troupe-ctl: kv set over: value too large \(32769 bytes, at most 32768\); move larger data/,
    );
    assert.match(readFileSync(join(out, "big.err"), "utf8"), /value too large \(60000 bytes, at most 32768\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});

test("a job cannot read or write another job's store through its control dir: refused for want of the job's token", () => {
  const { dir, out } = localProject("jobs", 2, {
    "s/a/task.yaml": `summary: keeps a secret, and hands its control dir to job b
kill-timeout: 1m
hosts:
  n: {}
execute: |
  troupe-ctl kv set secret s3cr3t
  echo "$TROUPE_CTL_DIR" > "$OUT/dir.fifo"
  cat "$OUT/done.fifo" > /dev/null
  troupe-ctl kv get secret > "$OUT/a-after"
`,
    "s/b/task.yaml": `summary: tries job a's store
kill-timeout: 1m
hosts:
  n: {}
execute: |
  cd "$OUT"
  read -r dir < dir.fifo
  set +e
  TROUPE_CTL_DIR=$dir "$dir/bin/troupe-ctl" kv get secret > b-get 2> b-get.err
  echo "get=$?" > b-status
  TROUPE_CTL_DIR=$dir "$dir/bin/troupe-ctl" kv set secret pwned 2> b-set.err
  echo "set=$?" >> b-status
  (unset TROUPE_CTL_TOKEN; TROUPE_CTL_DIR=$dir "$dir/bin/troupe-ctl" kv get secret) 2> b-none.err
  echo "none=$?" >> b-status
  stat -c '%a' "$dir" "$dir/req" > b-modes
  echo done > done.fifo
`,
  });
  try {
    execFileSync("mkfifo", [join(out, "dir.fifo"), join(out, "done.fifo")]);
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(out, "b-get"), "utf8"), "");
    assert.equal(readFileSync(join(out, "b-status"), "utf8"), "get=77\nset=77\nnone=69\n");
    assert.match(
      readFileSync(join(out, "b-get.err"), "utf8"),
      /refused: this sync relay belongs to another job \(TROUPE_CTL_TOKEN does not match/,
    );
    assert.match(readFileSync(join(out, "b-none.err"), "utf8"), /TROUPE_CTL_TOKEN is not set/);
    assert.equal(readFileSync(join(out, "a-after"), "utf8"), "s3cr3t\n");
    assert.equal(readFileSync(join(out, "b-modes"), "utf8"), "700\n600\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  }
});
