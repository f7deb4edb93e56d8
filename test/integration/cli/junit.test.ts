// JUnit that tells the truth, from a real run: a failing task prepare, a
// restore that breaks its host, a multi-host job failing on one host and a
// job aborted for want of hosts each count, on the right test case, in a
// document that the JUnit schema Jenkins and GitLab read accepts.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { failingProject } from "./failing-project.js";
import { REPO, troupe } from "./helpers.js";

const SCHEMA = join(REPO, "test", "fixtures", "junit", "junit.xsd");

interface Case {
  readonly name: string;
  readonly outcome?: { readonly kind: string; readonly message: string; readonly type: string; readonly body: string };
}

/** The test cases of a troupe JUnit document (one attribute order, as troupe writes it). */
function casesOf(xml: string): Case[] {
  const unescape = (s: string): string =>
    s
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&quot;/g, '"')
      .replace(/&#10;/g, "\n")
      .replace(/&amp;/g, "&");
  return [...xml.matchAll(/<testcase classname="[^"]*" name="([^"]*)"[^>]*>([\s\S]*?)<\/testcase>/g)].map((m) => {
    const o = /<(failure|error|skipped) message="([^"]*)"(?: type="([^"]*)")?(?:\/>|>([\s\S]*?)<\/\1>)/.exec(m[2]!);
    return {
      name: m[1]!,
      ...(o ? { outcome: { kind: o[1]!, message: unescape(o[2]!), type: o[3] ?? "", body: unescape(o[4] ?? "") } } : {}),
    };
  });
}

function junitOf(dir: string, args: readonly string[]): string {
  const r = troupe(["run", "--junit", "junit.xml", ...args], { cwd: dir });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const lint = spawnSync("xmllint", ["--noout", "--schema", SCHEMA, join(dir, "junit.xml")], { encoding: "utf8" });
  assert.equal(lint.status, 0, lint.stderr);
  return readFileSync(join(dir, "junit.xml"), "utf8");
}

function totals(xml: string): string[] | undefined {
  return /<testsuites [^>]*tests="(\d+)" failures="(\d+)" errors="(\d+)" skipped="(\d+)"/.exec(xml)?.slice(1);
}

test("every failed script counts on its own test case, aborted jobs are errors, and the schema accepts the document", () => {
  const dir = failingProject();
  const xml = junitOf(dir, []);
  assert.deepEqual(totals(xml), ["4", "2", "1", "0"], xml);

  const cases = new Map(casesOf(xml).map((c) => [c.name, c]));
  assert.deepEqual([...cases.keys()].sort(), ["late", "ok", "prep", "rest"]);
  assert.equal(cases.get("ok")!.outcome, undefined);

  const prep = cases.get("prep")!.outcome!;
  assert.deepEqual([prep.kind, prep.type, prep.message], ["failure", "prepare", "prepare failed: exit status 3"]);
  assert.match(prep.body, /^preparing$/m);

  const rest = cases.get("rest")!.outcome!;
  assert.deepEqual([rest.kind, rest.type], ["failure", "restore"]);
  assert.match(rest.message, /^restore failed on box-\d: exit status 4$/);
  assert.match(rest.body, /^restoring badly$/m);

  const late = cases.get("late")!.outcome!;
  assert.deepEqual([late.kind, late.type], ["error", "aborted"]);
  assert.match(late.message, /^needs 2 hosts of local:box, only 1 left \(box-\d broken: restore of local:box:checks\/rest failed\)$/);
});

test("a multi-host job failing on one host is one failure naming that host, with its output", () => {
  const dir = failingProject();
  const xml = junitOf(dir, ["checks/pair"]);
  assert.deepEqual(totals(xml), ["1", "1", "0", "0"], xml);
  const pair = casesOf(xml)[0]!.outcome!;
  assert.deepEqual([pair.kind, pair.type], ["failure", "execute"]);
  assert.match(pair.message, /^failed on node-2: /);
  assert.match(pair.body, /^node-2 went wrong$/m);
  assert.match(xml, /^ {2}node-1 \(box-\d\): passed/m);
  assert.match(xml, /^ {2}node-2 \(box-\d\): failed/m);
});

test("a results file that cannot be written fails the run with the reason, whatever the path", () => {
  const dir = failingProject();
  writeFileSync(join(dir, "a-file"), "not a directory\n");
  // A file where a directory should be; a directory no one may make (Node's own mkdir -p spins there).
  for (const path of [join(dir, "a-file", "junit.xml"), "/proc/troupe-nope/junit.xml"]) {
    for (const flag of ["--junit", "--json"]) {
      // `--json=FILE` writes (`--json` alone prints); `--junit FILE` always writes.
      const r = troupe(["run", ...(flag === "--json" ? [`--json=${path}`] : [flag, path]), "checks/ok"], { cwd: dir });
      assert.equal(r.status, 1, `${flag} ${path}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /Successful tasks: 1/);
      assert.match(r.stderr, new RegExp(`cannot write ${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}: E(NOTDIR|NOENT)`));
    }
  }
});

test(".troupe/latest points at the newest run's results", () => {
  const dir = failingProject();
  const first = troupe(["run", "checks/ok"], { cwd: dir });
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const second = troupe(["run", "checks/prep"], { cwd: dir });
  assert.equal(second.status, 1);
  // Run ids sort by second only: the second run is the one that ran checks/prep.
  const runs = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(runs.length, 2);
  const newest = runs.find((id) => readFileSync(join(dir, ".troupe", "runs", id, "run.json"), "utf8").includes("checks/prep"))!;
  assert.equal(readlinkSync(join(dir, ".troupe", "latest")), join("runs", newest));
  const latest = JSON.parse(readFileSync(join(dir, ".troupe", "latest", "run.json"), "utf8")) as { runId: string };
  assert.equal(latest.runId, newest);
});
