// `troupe exec --serve`: the live page of `troupe run`, a row per host, in a
// real browser (Debian's chromium through playwright-core), on lab hosts
// (real sshd). One host's command waits on a FIFO on that host until the
// test, having seen the page show it running, writes to the FIFO with a
// second exec; then the page shows it passed and the server closes. No sleep.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import type { Browser } from "playwright-core";
import { troupe, troupeAsync } from "../cli/helpers.js";
import { launchChromium } from "./browser.js";

const LAB = "wtxlive";
const H1 = `${LAB}-1`;
const H2 = `${LAB}-2`;
const WAIT = { timeout: 0 } as const;
const GATE = "/tmp/troupe-exec-live-gate";

let browser: Browser;

before(async () => {
  const up = troupe(["lab", "up", "2", "--name", LAB]);
  assert.equal(up.status, 0, up.stderr);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  const down = troupe(["lab", "down", "--name", LAB]);
  assert.equal(down.status, 0, down.stderr);
});

test("exec --serve: a row per host, seen running, then passed or failed with its exit status; the server closes at the end", async () => {
  // H1 waits on its FIFO; H2 fails at once.
  const script = `if [ "$(hostname)" = ${H1} ]; then rm -f ${GATE}; mkfifo ${GATE}; echo waiting; read l < ${GATE}; echo "got $l"; else echo broken; exit 3; fi`;
  const child = troupeAsync(["exec", "--serve", `lab:${LAB}`, "--", script]);
  const exited = once(child, "exit");
  let out = "";
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  let waiting!: () => void;
  const gateReady = new Promise<void>((r) => (waiting = r));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^Live dashboard: (http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
      if (out.includes(`${H1}: waiting`)) waiting();
    });
    child.once("exit", (code) => reject(new Error(`troupe exited ${code} before saying its URL:\n${out}\n${err}`)));
  });
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await browser.newPage();
  await page.goto(url);
  const row = (host: string, status: string) => page.locator(`#jobs tbody tr[data-status="${status}"]`, { hasText: host });
  await row(H1, "running").waitFor(WAIT);
  await row(H2, "failed").waitFor(WAIT);
  await page.locator("#jobs", { hasText: "exit status 3" }).waitFor(WAIT);

  await gateReady;
  const release = troupe(["exec", `lab:${LAB}`, "--", `[ "$(hostname)" != ${H1} ] || echo go > ${GATE}`]);
  assert.equal(release.status, 0, release.stdout + release.stderr);
  await row(H1, "passed").waitFor(WAIT);
  await page.locator("#live", { hasText: "the run is over" }).waitFor(WAIT);
  const [code] = (await exited) as [number | null];
  assert.equal(code, 3, out + err);
  assert.match(out, new RegExp(`^${H1}: got go$`, "m"));
  await assert.rejects(fetch(url), "nothing listens once exec is over");
  await page.close();
});

test("Ctrl-C during exec --serve: the command is killed, the page says the run was interrupted and the server closes", async () => {
  const child = troupeAsync(["exec", "--serve", `lab:${LAB}`, "--", "echo started; sleep 7779"]);
  const exited = once(child, "exit");
  let out = "";
  const url = await new Promise<string>((resolve) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^Live dashboard: (http:\/\/\S+)$/m.exec(out);
      if (m) resolve(m[1]!);
    });
  });
  const page = await browser.newPage();
  await page.goto(url);
  for (const host of [H1, H2]) await page.locator('#jobs tbody tr[data-status="running"]', { hasText: host }).waitFor(WAIT);
  child.kill("SIGINT");
  const [code] = (await exited) as [number | null];
  assert.equal(code, 130, out);
  await page.locator("#live", { hasText: "the run is over" }).waitFor(WAIT);
  assert.equal(await page.locator("body").getAttribute("class"), "interrupted");
  await assert.rejects(fetch(url), "nothing listens once exec is over");
  await page.close();
});
