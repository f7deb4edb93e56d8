// The run's HTML report, opened in a real browser (Debian's chromium,
// driven by playwright-core): failures first with their output, a timeline
// lane per host, and the jobs table narrowed by the status filter and the
// search box.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { failingProject } from "./failing-project.js";
import { troupe } from "./helpers.js";
import { launchChromium } from "../serve/browser.js";

// As root, without the sandbox; and no calls home, which this machine's closed network refuses.

let browser: Browser;
let page: Page;
let report: string;

before(async () => {
  const dir = failingProject();
  const r = troupe(["run", "--html"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const said = /^HTML report: (\S+)$/m.exec(r.stdout);
  assert.ok(said, r.stdout);
  report = join(dir, said[1]!);
  assert.equal(realpathSync(report), realpathSync(join(dir, ".troupe", "latest", "report.html")));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  await page.goto(`file://${report}`);
});

after(async () => {
  await browser?.close();
});

test("the report is one file: no script, style or image from anywhere else", () => {
  const html = readFileSync(report, "utf8");
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)="(https?:)?\/\//);
  assert.match(html, /<style>/);
});

test("failures come first, each with the output of the script that failed", async () => {
  const sections: (string | null)[] = [];
  for (const s of await page.locator("main > section").all()) sections.push(await s.getAttribute("id"));
  assert.deepEqual(sections, ["failures", "timeline", "jobs", "hosts"]);
  const failures = page.locator("#failures article");
  assert.equal(await failures.count(), 3);
  const texts = await failures.allInnerTexts();
  // Aborted jobs first (failed or aborted), then the job that passed but whose restore failed.
  assert.match(texts[0]!, /aborted\s+local:box:checks\/(late|prep)/);
  // Each failure by its heading: the job's name on its first line.
  const of = (job: string): string => texts.find((t) => t.split("\n")[0]!.endsWith(job))!;
  const prep = of("checks/prep");
  assert.match(prep, /prepare failed: exit status 3/);
  assert.match(prep, /^preparing$/m);
  const late = of("checks/late");
  assert.match(late, /needs 2 hosts of local:box, only 1 left \(box-\d broken: restore of local:box:checks\/rest failed\)/);
  const rest = of("checks/rest");
  assert.match(rest, /restore on box-\d: exit status 4/);
  assert.match(rest, /^restoring badly$/m);
  const shot = `${report}.png`;
  await page.screenshot({ path: shot, fullPage: true });
  assert.ok(statSync(shot).size > 10_000, "a screenshot with something in it");
});

test("the timeline has a lane per host and a bar per script, the failed ones marked", async () => {
  const lanes = await page.locator("svg.timeline text.lane").allTextContents();
  assert.deepEqual(lanes.sort(), ["box-1", "box-2"]);
  const failed = await page.locator("svg.timeline rect.bar.failed title").allTextContents();
  assert.ok(
    failed.some((t) => /checks\/prep prepare on box-\d: failed/.test(t)),
    failed.join("\n"),
  );
  assert.ok(
    failed.some((t) => /checks\/rest restore on box-\d: failed/.test(t)),
    failed.join("\n"),
  );
});

test("the status filter and the search box narrow the jobs table", async () => {
  const visible = async (): Promise<string[]> =>
    (await page.locator("#jobs tbody tr:not([hidden]) td:nth-child(2) code").allTextContents()).sort();
  assert.deepEqual(await visible(), ["local:box:checks/late", "local:box:checks/ok", "local:box:checks/prep", "local:box:checks/rest"]);
  await page.locator('input[name="status"][value="passed"]').uncheck();
  assert.deepEqual(await visible(), ["local:box:checks/late", "local:box:checks/prep"]);
  assert.equal(await page.locator("#shown").textContent(), "2 of 4 jobs");
  await page.locator('input[name="status"][value="passed"]').check();
  await page.locator("#search").fill("broken");
  assert.deepEqual(await visible(), ["local:box:checks/late"]);
  await page.locator("#search").fill("");
  assert.equal(await page.locator("#shown").textContent(), "4 of 4 jobs");
});
