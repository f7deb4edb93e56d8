import { test } from "node:test";
import assert from "node:assert/strict";
import { escapeHtml } from "../../../src/report/html/escape.js";
import { reportPage } from "../../../src/report/html/page.js";
import type { RunJson } from "../../../src/report/run-json.js";

const hook = {
  phase: "execute",
  level: "task",
  context: "local:sys:s/t",
  host: "sys-1",
  exitCode: 1,
  status: "failed",
  durationMs: 1500,
  startTime: "2026-12-07T10:00:01.000Z",
  endTime: "2026-12-07T10:00:02.500Z",
  output: '</pre><script>alert("x")</script> \x1b[31mred\x1b[0m bell\x07',
} as const;

const run: RunJson = {
  format: "troupe-run/1",
  runId: "r1",
  seed: 7,
  status: "finished",
  startTime: "2026-12-07T10:00:00.000Z",
  endTime: "2026-12-07T10:00:03.000Z",
  durationMs: 3000,
  workers: 1,
  totals: { jobs: 2, passed: 1, failed: 1, aborted: 0, skipped: 0 },
  failedHooks: [],
  jobs: [
    {
      name: "local:sys:s/ok",
      backend: "local",
      system: "sys",
      suite: "s/",
      task: "s/ok",
      variant: "",
      sample: 1,
      status: "passed",
      seq: 1,
      durationMs: 100,
      hosts: [],
      hooks: [],
    },
    {
      name: "local:sys:s/t",
      backend: "local",
      system: "sys",
      suite: "s/",
      task: "s/t",
      variant: "",
      sample: 1,
      status: "failed",
      seq: 2,
      durationMs: 1500,
      reason: "execute failed: exit status 1",
      hosts: [{ name: "sys-1", status: "failed", exitCode: 1, durationMs: 1500 }],
      hooks: [hook],
    },
  ],
  hooks: [],
  hosts: [{ name: "sys-1", backend: "local", system: "sys", address: "127.0.0.1", allocatedTime: "2026-12-07T10:00:00.500Z" }],
};

test("a script's output cannot end the page's markup, and its colors and control characters are neutralised", () => {
  const html = reportPage(run);
  assert.equal((html.match(/<script>/g) ?? []).length, 1, "only the page's own script");
  assert.match(html, /&lt;\/pre&gt;&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; red bell\\x07/);
  assert.equal(escapeHtml(`a"b'c&<>`), "a&quot;b&#39;c&amp;&lt;&gt;");
});

test("the failed job comes before the jobs table, with its reason and output; the verdict is in the title", () => {
  const html = reportPage(run);
  assert.match(html, /<title>troupe run r1: failed<\/title>/);
  const failures = html.indexOf('id="failures"');
  const jobs = html.indexOf('id="jobs"');
  assert.ok(failures >= 0 && failures < jobs);
  const block = html.slice(failures, jobs);
  assert.match(block, /local:sys:s\/t/);
  assert.doesNotMatch(block, /local:sys:s\/ok/);
  assert.match(block, /execute failed: exit status 1/);
});

test("a run where nothing failed says so", () => {
  const ok = reportPage({ ...run, totals: { ...run.totals, passed: 1, failed: 0, jobs: 1 }, jobs: [run.jobs[0]!] });
  assert.match(ok, /<title>troupe run r1: passed<\/title>/);
  assert.match(ok, /Nothing failed\./);
});
