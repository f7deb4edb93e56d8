// Barrier waits on the report's timeline: each host of a multi-host job that
// waits on its peers through troupe-ctl gets a `sync-wait` event, kept in
// run.json (`jobs[].waits`) and drawn over its lane in report.html.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { project, troupe } from "../cli/helpers.js";
import { launchChromium } from "./browser.js";

interface Wait {
  readonly host: string;
  readonly as: string;
  readonly what: string;
  readonly durationMs: number;
  readonly ok: boolean;
}

test("each host's barrier wait is in run.json and on its lane of the timeline", async () => {
  const dir = project({
    "troupe.yaml":
      "project: waits\nbackends:\n  local:\n    systems:\n      - box:\n          workers: 2\nsuites:\n  m/:\n    summary: m\n",
    "m/pair/task.yaml":
      "summary: pair\nhosts:\n  node: {count: 2}\nexecute: |\n  troupe-ctl barrier ready --timeout 5m\n  echo past the barrier\n",
  });
  const r = troupe(["run", "--html"], { cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const run = JSON.parse(readFileSync(join(dir, ".troupe", "latest", "run.json"), "utf8")) as { jobs: { waits?: Wait[] }[] };
  const waits = run.jobs[0]!.waits ?? [];
  assert.deepEqual(waits.map((w) => [w.as, w.what, w.ok]).sort(), [
    ["node-1", "barrier ready", true],
    ["node-2", "barrier ready", true],
  ]);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`file://${join(dir, ".troupe", "latest", "report.html")}`);
    const titles = await page.locator("svg.timeline rect.bar.wait title").allTextContents();
    assert.equal(titles.length, 2, titles.join("\n"));
    for (const t of titles) assert.match(t, /^local:box:m\/pair: node-\d waits \(barrier ready\), /);
    // One on each host's lane.
    const ys: (string | null)[] = [];
    for (const rect of await page.locator("svg.timeline rect.bar.wait").all()) ys.push(await rect.getAttribute("y"));
    assert.equal(new Set(ys).size, 2);
  } finally {
    await browser.close();
  }
});
