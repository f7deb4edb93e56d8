// The live dashboard (`troupe run --serve`) in a real browser (Debian's
// chromium through playwright-core): a job seen running, then passed, while
// the run goes on; a browser that joins late sees what already finished; the
// run does not wait for browsers and closes the server when it ends or is
// interrupted. The job waits on a FIFO the test writes to once the browser
// shows it running: no sleep anywhere.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { request } from "node:http";
import type { Browser, Page } from "playwright-core";
import { project, troupe, troupeAsync } from "../cli/helpers.js";
import { launchChromium, makeFifo } from "./browser.js";

const WAIT = { timeout: 0 } as const;

let browser: Browser;

before(async () => {
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
});

/** A project whose job `gate/wait` runs until a line arrives on the FIFO it returns. */
function gatedProject(): { dir: string; fifo: string } {
  const fifo = makeFifo();
  const dir = project({
    "troupe.yaml": "project: live-dash\nbackends:\n  local:\n    systems: [box]\nsuites:\n  gate/:\n    summary: gated\n",
    // Runs first (the other's priority is lower): finished when the browser comes.
    "gate/quick/task.yaml": "summary: quick\nexecute: echo quick\n",
    "gate/wait/task.yaml": `summary: wait\npriority: -10\nexecute: |\n  echo waiting\n  read line < ${fifo}\n  echo "got $line"\n`,
  });
  return { dir, fifo };
}

/** Start `troupe run --serve ...` and read the URL it prints. */
async function serve(
  dir: string,
  args: readonly string[],
): Promise<{ child: ChildProcess; url: string; out: () => string; err: () => string }> {
  const child = troupeAsync(["run", "--serve", ...args], { cwd: dir });
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^Live dashboard: (http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`troupe exited ${code} before saying its URL:\n${out}\n${err}`)));
  });
  return { child, url, out: () => out, err: () => err };
}

function row(page: Page, job: string, status: string): ReturnType<Page["locator"]> {
  return page.locator(`#jobs tbody tr[data-status="${status}"]`, { hasText: job });
}

/** Whether anything answers at `url` now. */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(url, () => resolve(true));
    req.on("error", () => resolve(false));
    req.end();
  });
}

test("the live page shows a job running, then passed; a late joiner sees what finished; the server closes with the run", async () => {
  const { dir, fifo } = gatedProject();
  const run = await serve(dir, []);
  assert.match(run.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const exited = once(run.child, "exit");

  const first = await browser.newPage();
  await first.goto(run.url);
  await row(first, "local:box:gate/wait", "running").waitFor(WAIT);
  assert.equal(await first.locator("body").getAttribute("class"), "running");

  // A browser that comes now gets the run so far: the quick job passed, the other running.
  const late = await browser.newPage();
  await late.goto(run.url);
  await row(late, "local:box:gate/quick", "passed").waitFor(WAIT);
  await row(late, "local:box:gate/wait", "running").waitFor(WAIT);

  // A log of the run through the same server, as the page links it.
  const logs = await (await fetch(new URL("output.log", run.url))).text();
  assert.match(logs, /^quick$/m);

  await writeFile(fifo, "go\n");
  for (const page of [first, late]) {
    await row(page, "local:box:gate/wait", "passed").waitFor(WAIT);
    await page.locator("#live", { hasText: "the run is over" }).waitFor(WAIT);
    assert.equal(await page.locator("body").getAttribute("class"), "passed");
  }
  const [code] = (await exited) as [number | null];
  assert.equal(code, 0, run.out() + run.err());
  assert.equal(await answers(run.url), false, "nothing listens once the run is over");
  await first.close();
  await late.close();
});

test("Ctrl-C while a browser watches: the run stops, says so to the page and closes the server", async () => {
  const { dir } = gatedProject();
  const run = await serve(dir, ["gate/wait"]);
  const exited = once(run.child, "exit");
  const page = await browser.newPage();
  await page.goto(run.url);
  await row(page, "local:box:gate/wait", "running").waitFor(WAIT);
  run.child.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 130, run.out() + run.err());
  await page.locator("#live", { hasText: "the run is over" }).waitFor(WAIT);
  assert.equal(await page.locator("body").getAttribute("class"), "interrupted");
  assert.equal(await answers(run.url), false);
  await page.close();
});

test("--serve on an address other than loopback is warned about; a bad one is refused", () => {
  const dir = project({
    "troupe.yaml": "project: live-addr\nbackends:\n  local:\n    systems: [box]\nsuites:\n  s/:\n    summary: s\n",
    "s/t/task.yaml": "summary: t\nexecute: echo hi\n",
  });
  const wide = troupe(["run", "--serve", "0.0.0.0:0"], { cwd: dir });
  assert.equal(wide.status, 0, wide.stdout + wide.stderr);
  assert.match(wide.stderr, /WARNING: the live dashboard listens on 0\.0\.0\.0, not on loopback/);
  assert.match(wide.stdout, /^Live dashboard: http:\/\/0\.0\.0\.0:\d+\/$/m);
  const bad = troupe(["run", "--serve", "127.0.0.1:70000"], { cwd: dir });
  assert.equal(bad.status, 2, bad.stdout + bad.stderr);
  assert.match(bad.stderr, /--serve takes \[ADDR:\]PORT/);
});
