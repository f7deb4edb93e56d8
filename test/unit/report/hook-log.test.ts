import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HookLog } from "../../../src/report/hook-log.js";

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "troupe-hooklog-"));
}

test("a log waits for its directory before writing", async () => {
  const dir = scratch();
  try {
    const sub = join(dir, "job");
    let made!: () => void;
    const ready = new Promise<void>((r) => (made = r));
    const log = new HookLog(
      join(sub, "execute.log"),
      () => ready,
      (e: Error) => assert.fail(e),
    );
    log.writeLine("hello");
    const ended = log.end();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(existsSync(join(sub, "execute.log")), false);
    mkdirSync(sub);
    made();
    await ended;
    assert.equal(readFileSync(join(sub, "execute.log"), "utf8"), "hello\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a short hook's log is written whole when it ends, not before", async () => {
  const dir = scratch();
  try {
    const path = join(dir, "execute.log");
    const log = new HookLog(
      path,
      () => Promise.resolve(),
      (e: Error) => assert.fail(e),
    );
    log.writeLine("one");
    log.writeLine("two");
    assert.equal(existsSync(path), false);
    assert.equal(log.lines, 2);
    await log.end();
    assert.equal(readFileSync(path, "utf8"), "one\ntwo\n");
    log.writeLine("after the end");
    assert.equal(readFileSync(path, "utf8"), "one\ntwo\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a hook that ends silent still leaves its (empty) log", async () => {
  const dir = scratch();
  try {
    const path = join(dir, "prepare.log");
    const log = new HookLog(
      path,
      () => Promise.resolve(),
      (e: Error) => assert.fail(e),
    );
    await log.end();
    assert.equal(readFileSync(path, "utf8"), "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log switched to streaming keeps what was buffered, in order, and fills as lines come", async () => {
  const dir = scratch();
  try {
    const path = join(dir, "execute.log");
    const log = new HookLog(
      path,
      () => Promise.resolve(),
      (e: Error) => assert.fail(e),
    );
    log.writeLine("before");
    log.startStreaming();
    log.writeLine("after");
    await log.flush();
    assert.equal(readFileSync(path, "utf8"), "before\nafter\n", "the file fills while the hook runs");
    log.write("<kill-timeout reached>\n");
    await log.end();
    assert.equal(readFileSync(path, "utf8"), "before\nafter\n<kill-timeout reached>\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log that grows past the buffer streams on its own", async () => {
  const dir = scratch();
  try {
    const path = join(dir, "execute.log");
    const log = new HookLog(
      path,
      () => Promise.resolve(),
      (e: Error) => assert.fail(e),
    );
    const line = "x".repeat(1000);
    for (let i = 0; i < 100; i++) log.writeLine(line);
    assert.equal(log.streaming, true, "past 64 KiB it streams");
    await log.flush();
    assert.ok(existsSync(path) && readFileSync(path, "utf8").length > 64 * 1024, "streamed before the end");
    await log.end();
    assert.equal(readFileSync(path, "utf8"), (line + "\n").repeat(100));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a log that cannot be written reports the error and does not throw", async () => {
  const errors: Error[] = [];
  const log = new HookLog(
    "/nonexistent-dir/x/execute.log",
    () => Promise.resolve(),
    (e: Error) => errors.push(e),
  );
  log.writeLine("lost");
  await log.end();
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.message, /ENOENT/);
});
