// `troupe play`'s results for people and CI: JUnit XML that the schema
// Jenkins and GitLab read accepts, a test case per stage, job, host and item;
// and report.html, opened in Debian's chromium: failures first, a timeline
// lane per host with a line where each stage starts, the steps filtered and
// searched.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { project, REPO, troupe } from "../cli/helpers.js";
import { launchChromium } from "./browser.js";

const SCHEMA = join(REPO, "test", "fixtures", "junit", "junit.xsd");

let dir: string;
let stdout: string;
let browser: Browser;
let page: Page;

before(async () => {
  dir = project({
    "s.yaml": `hosts:
  - names: node-[1..2]
stages:
  - name: tolerated
    jobs:
      - name: flaky
        run: echo "flaky here"; exit 4
        ignore_failure: true
  - name: work
    with_hosts: 'node-(\\d)'
    run_hosts: sequential
    jobs:
      - name: process
        with_items: "1..2"
        run: |
          echo "processing {{ item }} on {{ host.name }}"
          [ "{{ re[1] }}-{{ item }}" != 2-2 ] || { echo "bad input"; exit 3; }
  - name: never
    jobs:
      - run: echo should not run
`,
  });
  const r = troupe(["play", "--junit", "out/junit.xml", "--html", "--serve", "s.yaml"], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  stdout = r.stdout;
  // --serve before the scenario file: the file stays the scenario, the dashboard takes a free port on loopback.
  assert.match(stdout, /^Live dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
});

after(async () => {
  await browser?.close();
});

test("play --junit: schema-valid, a test case per stage, job, host and item, the failure with its output", () => {
  const file = join(dir, "out", "junit.xml");
  const lint = spawnSync("xmllint", ["--noout", "--schema", SCHEMA, file], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr);
  const xml = readFileSync(file, "utf8");
  assert.match(xml, /<testsuites name="troupe play s \([^)]+\)" tests="6" failures="1" errors="0" skipped="0"/);
  assert.match(xml, /<testsuite name="01 tolerated" tests="2" failures="0"/);
  assert.match(xml, /<testsuite name="02 work" tests="4" failures="1"/);
  const names = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(names, [
    "s.tolerated flaky on node-1",
    "s.tolerated flaky on node-2",
    "s.work process on node-1 [1]",
    "s.work process on node-1 [2]",
    "s.work process on node-2 [1]",
    "s.work process on node-2 [2]",
  ]);
  assert.match(xml, /name="process on node-2 \[2\]"[^>]*>\s*<failure message="exit status 3" type="run">[^<]*bad input[^<]*<\/failure>/);
  assert.match(xml, /<system-out>failed, ignored \(ignore_failure\): exit status 4\n/);
});

test("play's report.html: failures first, a lane per host, a line per stage, steps filtered and searched", async () => {
  const said = /^HTML report: (\S+)$/m.exec(stdout);
  assert.ok(said, stdout);
  await page.goto(`file://${join(dir, said[1]!)}`);
  const sections: (string | null)[] = [];
  for (const s of await page.locator("main > section").all()) sections.push(await s.getAttribute("id"));
  assert.deepEqual(sections, ["failures", "timeline", "stages", "steps", "hosts"]);
  const failures = await page.locator("#failures article").allInnerTexts();
  assert.equal(failures.length, 3);
  assert.match(failures[0]!, /^failed\s+work \/ process \[2\] on node-2/);
  assert.match(failures[0]!, /^bad input$/m);
  assert.match(failures[1]!, /^ignored\s+tolerated \/ flaky on node-\d/);
  assert.deepEqual((await page.locator("svg.timeline text.lane").allTextContents()).sort(), ["node-1", "node-2"]);
  assert.deepEqual(await page.locator("svg.timeline text.marker").allTextContents(), ["tolerated", "work"]);
  assert.equal(await page.locator("svg.timeline rect.bar.failed").count(), 1);
  await page.locator('input[name="status"][value="passed"]').uncheck();
  assert.equal(await page.locator("#shown").textContent(), "3 of 6 steps");
  await page.locator('input[name="status"][value="passed"]').check();
  await page.locator("#search").fill("node-1 process");
  assert.equal(await page.locator("#shown").textContent(), "2 of 6 steps");
  // The hosts' logs, linked from the page, are there.
  const href = await page.locator("#hosts a").first().getAttribute("href");
  assert.match(readFileSync(join(dir, said[1]!, "..", href!), "utf8"), /flaky here/);
});
