// `$(HOST:cmd)`: a command that hangs is stopped by a timeout, an interrupt
// kills it (and what it started), failures are E_PROJECT naming the command
// and where it was written, and each distinct command runs once (issue 12).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  DEFAULT_HOST_COMMAND_TIMEOUT_MS,
  hostCommandTimeout,
  makeAsyncHostCommand,
  makeHostCommand,
  runHostCommand,
} from "../../../src/api/host-command.js";
import { planWithHostCommands } from "../../../src/plan/host-commands.js";
import { planJobs } from "../../../src/plan/index.js";
import { isTroupeError, TroupeError } from "../../../src/util/errors.js";
import { simpleProject } from "./builders.js";
import { processGone as gone } from "../../support/processes.js";

const dir = mkdtempSync(join(tmpdir(), "host-cmd-"));

/** A command that starts a background sleep (writing its pid to `file`) and then hangs in the foreground. */
function hanging(file: string): string {
  return `sleep 1000 & echo $! > ${file}; sleep 1000`;
}

function pidIn(file: string): number {
  return Number(readFileSync(file, "utf8").trim());
}

function troupeError(e: unknown, code: string, message: RegExp): true {
  assert.ok(isTroupeError(e), String(e));
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  return true;
}

describe("runHostCommand", () => {
  it("returns stdout without trailing newlines, run by bash in the given directory", async () => {
    assert.equal(await runHostCommand("[ -n \"$BASH_VERSION\" ] && echo bash; pwd; printf '\\n\\n'", { cwd: dir }), `bash\n${dir}`);
  });

  it("a failing command is E_PROJECT, naming it, with what it printed on stderr", async () => {
    await assert.rejects(runHostCommand("echo one >&2; echo two >&2; exit 3", { cwd: dir }), (e) =>
      troupeError(e, "E_PROJECT", /^\$\(HOST:echo one >&2; echo two >&2; exit 3\) returned error: one; two$/),
    );
    await assert.rejects(runHostCommand("exit 4", { cwd: dir }), (e) => troupeError(e, "E_PROJECT", /returned error: exit status 4$/));
  });

  it("a command that hangs is killed with everything it started once the timeout passes", async () => {
    const pidFile = join(dir, "timeout.pid");
    await assert.rejects(runHostCommand(hanging(pidFile), { cwd: dir, timeoutMs: 300 }), (e) =>
      troupeError(
        e,
        "E_PROJECT",
        /^\$\(HOST:sleep 1000 & .*\) did not finish within 300ms, so it was stopped; fix it, or allow it longer with TROUPE_HOST_COMMAND_TIMEOUT \(e\.g\. 30m, or -1 for no limit\)$/,
      ),
    );
    await gone(pidIn(pidFile));
  });

  it("an interrupt kills the command and what it started: E_INTERRUPTED", async () => {
    const pidFile = join(dir, "abort.pid");
    const ac = new AbortController();
    const running = runHostCommand(`${hanging(pidFile)}`, { cwd: dir, signal: ac.signal, timeoutMs: -1 });
    // Abort once the command has started its background process.
    const started = runHostCommand(`while [ ! -s ${pidFile} ]; do :; done`, { cwd: dir });
    await started;
    ac.abort();
    await assert.rejects(running, (e) => troupeError(e, "E_INTERRUPTED", /^\$\(HOST:sleep 1000 .*\) was interrupted$/));
    await gone(pidIn(pidFile));
    await assert.rejects(runHostCommand("true", { cwd: dir, signal: ac.signal }), { code: "E_INTERRUPTED" });
  });
});

describe("makeHostCommand (synchronous, for the planner as it is wired today)", () => {
  it("stops a hanging command at its timeout, E_PROJECT naming it", () => {
    const run = makeHostCommand(dir, { timeoutMs: 300 });
    assert.throws(
      () => run("sleep 1000"),
      (e) => troupeError(e, "E_PROJECT", /^\$\(HOST:sleep 1000\) did not finish within 300ms, so it was stopped/),
    );
    assert.equal(run("echo ok"), "ok");
  });
});

describe("the timeout's default and TROUPE_HOST_COMMAND_TIMEOUT", () => {
  it("is 5 minutes unless the variable says otherwise, in Go's duration syntax", () => {
    assert.equal(DEFAULT_HOST_COMMAND_TIMEOUT_MS, 5 * 60_000);
    assert.equal(hostCommandTimeout({}), DEFAULT_HOST_COMMAND_TIMEOUT_MS);
    assert.equal(hostCommandTimeout({ TROUPE_HOST_COMMAND_TIMEOUT: "" }), DEFAULT_HOST_COMMAND_TIMEOUT_MS);
    assert.equal(hostCommandTimeout({ TROUPE_HOST_COMMAND_TIMEOUT: "0" }), DEFAULT_HOST_COMMAND_TIMEOUT_MS);
    assert.equal(hostCommandTimeout({ TROUPE_HOST_COMMAND_TIMEOUT: "1h30m" }), 90 * 60_000);
    assert.equal(hostCommandTimeout({ TROUPE_HOST_COMMAND_TIMEOUT: "-1" }), -1);
  });

  it("a value that is not a duration is a usage error saying what to write", () => {
    assert.throws(
      () => hostCommandTimeout({ TROUPE_HOST_COMMAND_TIMEOUT: "ten minutes" }),
      (e) =>
        troupeError(
          e,
          "E_USAGE",
          /^TROUPE_HOST_COMMAND_TIMEOUT="ten minutes" is not a duration; write e\.g\. 30s, 10m or 1h, or -1 for no limit$/,
        ),
    );
  });
});

describe("planWithHostCommands: the synchronous planner with commands run asynchronously", () => {
  const project = simpleProject(
    {
      a: { environment: { A: "$(HOST:echo one)", B: "$(HOST:echo two)-$(HOST:echo one)" } },
      b: { environment: { C: "$(HOST:echo two)" } },
    },
    { environment: { P: "$(HOST:printf 'p\\n\\n')" } },
  );
  const plan = (hostCommand: (cmd: string) => string, hostCache: Map<string, string>) => planJobs(project, { hostCommand, hostCache });

  it("gives the plan the synchronous runner gives, running each distinct command once, in the same order", async () => {
    const asyncCalls: string[] = [];
    const run = makeAsyncHostCommand({ cwd: dir });
    const jobs = await planWithHostCommands(plan, (cmd) => {
      asyncCalls.push(cmd);
      return run(cmd);
    });
    const syncCalls: string[] = [];
    const sync = makeHostCommand(dir);
    const expected = planJobs(project, {
      hostCommand: (cmd) => {
        syncCalls.push(cmd);
        return sync(cmd);
      },
    });
    assert.deepEqual(jobs, expected);
    assert.deepEqual(asyncCalls, syncCalls);
    assert.equal(new Set(asyncCalls).size, asyncCalls.length);
    const a = jobs.find((j) => j.task.name.endsWith("/a"))!;
    assert.deepEqual(
      a.environment.filter((e) => ["P", "A", "B"].includes(e.key)).map((e) => `${e.key}=${e.value}`),
      ["P=p", "A=one", "B=two-one"],
    );
  });

  it("a failing command is the error the synchronous planner gives: E_PROJECT at the entry", async () => {
    const failing = simpleProject({ t: { environment: { A: "$(HOST:echo x >&2; false)" } } });
    const plan1 = (hostCommand: (cmd: string) => string, hostCache: Map<string, string>) => planJobs(failing, { hostCommand, hostCache });
    let syncError: unknown;
    try {
      plan1(makeHostCommand(dir), new Map());
    } catch (e) {
      syncError = e;
    }
    await assert.rejects(planWithHostCommands(plan1, makeAsyncHostCommand({ cwd: dir })), (e) => {
      assert.ok(e instanceof TroupeError && syncError instanceof TroupeError);
      assert.deepEqual(e.problems, syncError.problems);
      assert.equal(e.code, "E_PROJECT");
      assert.match(
        e.message,
        /^\/proj\/tests\/t\/task\.yaml:\d+:1: task tests\/t environment: \$\(HOST:echo x >&2; false\) returned error: x$/,
      );
      return true;
    });
  });

  it("an interrupt stops planning with E_INTERRUPTED", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(planWithHostCommands(plan, makeAsyncHostCommand({ cwd: dir, signal: ac.signal })), { code: "E_INTERRUPTED" });
  });
});
