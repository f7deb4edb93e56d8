// Issue 15's "done when", in one run: a project with a failing prepare, a
// failing restore, an aborted job and a multi-host failure gives JUnit the
// schema accepts and that counts each, and an HTML report that shows those
// failures first, in Debian's chromium, with a screenshot of the first
// screen written next to the project (report.png in the test's temp dir).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { project, REPO, troupe } from "../cli/helpers.js";
import { launchChromium } from "./browser.js";

const SCHEMA = join(REPO, "test", "fixtures", "junit", "junit.xsd");
const VIEWPORT = { width: 1280, height: 900 };

let dir: string;
let report: string;
let browser: Browser;
let page: Page;

before(async () => {
  dir = project({
    "troupe.yaml":
      "project: done-when\nbackends:\n  local:\n    systems:\n      - box:\n          workers: 2\n      - duo:\n          workers: 2\n" +
      "suites:\n  checks/:\n    summary: checks\n    systems: [box]\n",
    // On hosts of its own, that the broken restore below does not touch: fails on one of them.
    "checks/pair/task.yaml":
      "summary: pair\nsystems: [duo]\nhosts:\n  node: {count: 2}\nexecute: |\n" +
      '  if [ "$TROUPE_HOST" = node-2 ]; then echo "node-2 went wrong"; exit 7; fi\n  echo fine\n',
    "checks/prep/task.yaml": "summary: p\nprepare: echo preparing; exit 3\nexecute: echo never\n",
    // Passes, but its restore breaks its host...
    "checks/rest/task.yaml": "summary: r\nartifacts: [out.txt]\nexecute: echo ran > out.txt\nrestore: echo restoring badly; exit 4\n",
    // ... so that this one, which needs both, is aborted.
    "checks/late/task.yaml": "summary: late\npriority: -10\nhosts:\n  node: {count: 2}\nexecute: echo never\n",
  });
  const r = troupe(["run", "--junit", "junit.xml", "--html", "--artifacts", "arts"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const said = /^HTML report: (\S+)$/m.exec(r.stdout);
  assert.ok(said, r.stdout);
  report = join(dir, said[1]!);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: VIEWPORT });
  await page.goto(`file://${report}`);
});

after(async () => {
  await browser?.close();
});

test("JUnit: the schema accepts it and it counts each failure", () => {
  const lint = spawnSync("xmllint", ["--noout", "--schema", SCHEMA, join(dir, "junit.xml")], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr);
  const xml = readFileSync(join(dir, "junit.xml"), "utf8");
  assert.match(xml, /<testsuites [^>]*tests="4" failures="3" errors="1" skipped="0"/);
  assert.match(xml, /name="pair"[^>]*>\s*<failure message="failed on node-2: [^"]*" type="execute">/);
  assert.match(xml, /name="prep"[^>]*>\s*<failure [^>]*type="prepare">/);
  assert.match(xml, /name="rest"[^>]*>\s*<failure [^>]*type="restore">/);
  assert.match(xml, /name="late"[^>]*>\s*<error [^>]*type="aborted"\/>/);
});

test("the report shows the four failures first, on the first screen; a screenshot of it is written", async () => {
  // Failures are the page's first section, above everything else.
  const first = await page.locator("main > section").first().getAttribute("id");
  assert.equal(first, "failures");
  const articles = page.locator("#failures article");
  const heads = (await articles.locator("h3").allInnerTexts()).map((t) => t.replace(/\s+/g, " ").trim());
  assert.deepEqual(heads, [
    "failed local:duo:checks/pair",
    "aborted local:box:checks/prep",
    "aborted local:box:checks/late",
    "passed local:box:checks/rest",
  ]);
  const texts = await articles.allInnerTexts();
  assert.match(texts[0]!, /execute on node-2 \(duo-\d\): exit status 7/);
  assert.match(texts[0]!, /^node-2 went wrong$/m);
  assert.match(texts[1]!, /prepare on box-\d: exit status 3/);
  assert.match(texts[2]!, /only 1 left \(box-\d broken: restore of local:box:checks\/rest failed\)/);
  assert.match(texts[3]!, /restore on box-\d: exit status 4/);
  // All four on the first screen, above the timeline and the jobs.
  const timeline = (await page.locator("#timeline").boundingBox())!;
  for (let i = 0; i < 4; i++) {
    const box = (await articles.nth(i).boundingBox())!;
    assert.ok(box.y + box.height <= VIEWPORT.height, `failure ${i + 1} is on the first screen (${box.y + box.height})`);
    assert.ok(box.y < timeline.y);
  }
  const shot = join(dir, "report.png");
  await page.screenshot({ path: shot });
  const png = readFileSync(shot);
  assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from("PNG")]);
  assert.ok(png.length > 20_000, `a screenshot with something in it (${png.length} bytes)`);
});

test("the jobs table links the artifacts --artifacts fetched", async () => {
  const links = page.locator("#jobs tbody tr", { hasText: "checks/rest" }).locator("a", { hasText: "artifacts" });
  assert.equal(await links.count(), 1);
  const href = (await links.getAttribute("href"))!;
  assert.equal(readFileSync(join(report, "..", href, "out.txt"), "utf8"), "ran\n");
  assert.equal(await page.locator("#jobs a", { hasText: "artifacts" }).count(), 1, "only jobs with artifacts fetched link them");
});
