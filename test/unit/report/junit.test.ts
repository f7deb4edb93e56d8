import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toJUnit, writeJUnit } from "../../../src/report/junit.js";
import type { RunJson } from "../../../src/report/run-json.js";
import { escapeAttr, escapeText, xmlSafe } from "../../../src/report/xml.js";
import type { TroupeEvent } from "../../../src/report/events.js";
import { at, JOB_A, JOB_B, multiHostRun, rolesRun, singleHostRun, resultsWriter } from "./helpers.js";

interface Element {
  name: string;
  attrs: Record<string, string>;
  children: Element[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

function decode(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (_, ref: string) => {
    if (ref.startsWith("#x")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new Error(`unknown entity &${ref};`);
    return v;
  });
}

/** A strict little XML parser: throws on unbalanced tags, raw `<` or `&` in text, illegal characters. */
function parseXml(doc: string): Element {
  const illegal = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;
  assert.doesNotMatch(doc, illegal, "no character illegal in XML 1.0");
  let rest = doc.replace(/^<\?xml [^?]*\?>\s*/, "");
  const root: Element = { name: "#root", attrs: {}, children: [], text: "" };
  const stack: Element[] = [root];
  const text = (s: string): string => {
    if (/&(?!(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);)/.test(s)) throw new Error(`bare & in ${JSON.stringify(s)}`);
    if (s.includes(">") && s.includes("]]>")) throw new Error("]]> in text");
    return decode(s);
  };
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    if (lt < 0) {
      stack[stack.length - 1]!.text += text(rest);
      break;
    }
    stack[stack.length - 1]!.text += text(rest.slice(0, lt));
    const gt = rest.indexOf(">", lt);
    if (gt < 0) throw new Error("unterminated tag");
    const tag = rest.slice(lt + 1, gt);
    rest = rest.slice(gt + 1);
    if (tag.startsWith("/")) {
      const open = stack.pop()!;
      if (open.name !== tag.slice(1)) throw new Error(`</${tag.slice(1)}> closes <${open.name}>`);
      continue;
    }
    const self = tag.endsWith("/");
    const body = self ? tag.slice(0, -1) : tag;
    const m = /^([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*$/.exec(body);
    if (!m) throw new Error(`malformed tag <${tag}>`);
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(/([A-Za-z_][\w.-]*)="([^"]*)"/g)) {
      if (a[1]! in attrs) throw new Error(`duplicate attribute ${a[1]}`);
      attrs[a[1]!] = text(a[2]!);
    }
    const el: Element = { name: m[1]!, attrs, children: [], text: "" };
    stack[stack.length - 1]!.children.push(el);
    if (!self) stack.push(el);
  }
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  assert.equal(root.children.length, 1, "one document element");
  assert.equal(root.text.trim(), "");
  return root.children[0]!;
}

function all(el: Element, name: string): Element[] {
  const found: Element[] = [];
  const walk = (e: Element): void => {
    if (e.name === name) found.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return found;
}

async function runOf(events: readonly TroupeEvent[]): Promise<RunJson> {
  const dir = await mkdtemp(join(tmpdir(), "troupe-junit-"));
  try {
    const w = resultsWriter({ runDir: dir, rewriteMs: 0 });
    for (const e of events) w.handle(e);
    return await w.finish();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test("the XML checker itself rejects what it must", () => {
  assert.throws(() => parseXml("<a><b></a></b>"));
  assert.throws(() => parseXml("<a>x < y</a>"));
  assert.throws(() => parseXml("<a>x & y</a>"));
  assert.throws(() => parseXml('<a b="<"/>'));
  assert.throws(() => parseXml("<a>\u0001</a>"));
  assert.throws(() => parseXml("<a>"));
  assert.equal(parseXml('<a b="&quot;&#10;">&lt;&amp;</a>').text, "<&");
});

test("one testsuite per backend:system:suite, one testcase per job, failure with the script's output", async () => {
  const run = await runOf(singleHostRun());
  const root = parseXml(toJUnit(run));
  assert.equal(root.name, "testsuites");
  assert.deepEqual(
    { tests: root.attrs["tests"], failures: root.attrs["failures"], skipped: root.attrs["skipped"], time: root.attrs["time"] },
    { tests: "2", failures: "1", skipped: "0", time: "7.000" },
  );
  const suites = all(root, "testsuite");
  assert.equal(suites.length, 1);
  assert.equal(suites[0]!.attrs["name"], "local:debian-12:tests/main/");
  assert.equal(suites[0]!.attrs["timestamp"], "2016-06-02T12:34:59");
  const cases = all(root, "testcase");
  assert.deepEqual(
    cases.map((c) => [c.attrs["classname"], c.attrs["name"], c.attrs["time"]]),
    [
      ["local.debian-12.tests/main", "fail:v1", "1.500"],
      ["local.debian-12.tests/main", "hello", "1.000"],
    ],
  );
  const failure = all(cases[0]!, "failure")[0]!;
  assert.equal(failure.attrs["message"], "execute failed on local-1: exit status 1");
  assert.equal(failure.attrs["type"], "execute");
  assert.equal(failure.text, "+ echo 'a <b> & c'\na <b> & c\n+ exit 1");
  const out = all(cases[0]!, "system-out")[0]!.text;
  assert.match(out, /^job: local:debian-12:tests\/main\/fail:v1$/m);
  assert.match(out, /^ {2}local-1: failed, exit status 1, 1s, log local_debian-12_tests-main-fail_v1\/execute\.log$/m);
  assert.equal(all(cases[1]!, "failure").length, 0);
});

test("multi-host job: one testcase, failure naming the failing hosts, host details in system-out", async () => {
  const run = await runOf(multiHostRun());
  const root = parseXml(toJUnit(run));
  const cases = all(root, "testcase");
  assert.equal(cases.length, 1);
  const failure = all(cases[0]!, "failure")[0]!;
  assert.match(failure.attrs["message"]!, /^failed on client-1, client-2: /);
  assert.match(
    failure.text,
    /----- execute on client-1 -----\nconnect failed\n----- execute on client-2 -----\nwaiting\n<kill-timeout reached>/,
  );
  const out = all(cases[0]!, "system-out")[0]!.text;
  assert.match(out, /^ {2}server-1: passed, exit status 0, 2s, log .*execute\.server-1\.log$/m);
  assert.match(out, /^ {2}client-1: failed, exit status 2, 1s, log .*execute\.client-1\.log$/m);
  assert.match(out, /^ {2}client-2: failed \(execute: kill-timeout reached\), 8s, log .*execute\.client-2\.log$/m);
  assert.match(out, /execute on client-2: kill-timeout reached in 8s/);
});

test("multi-host job with roles: the failure names the first host to fail first; each host's status, exit status, duration and log", async () => {
  const run = await runOf(rolesRun());
  const cases = all(parseXml(toJUnit(run)), "testcase");
  assert.equal(cases.length, 1);
  const failure = all(cases[0]!, "failure")[0]!;
  assert.equal(failure.attrs["message"], "failed on lead, peer-1, peer-2: execute failed on lead: exit status 1");
  assert.match(failure.text, /^----- execute on lead \(debian-2\) -----\nlead gives up\n----- execute on peer-1 \(debian-3\) -----\n/);
  const out = all(cases[0]!, "system-out")[0]!.text;
  assert.match(out, /^ {2}lead \(debian-2\): failed, exit status 1, 0s, log .*\/execute\.lead\.log$/m);
  assert.match(out, /^ {2}peer-1 \(debian-3\): failed, exit status 125, 0s, log .*\/execute\.peer-1\.log$/m);
  assert.match(out, /^ {2}peer-2 \(debian-1\): failed, exit status 125, 0s, log .*\/execute\.peer-2\.log$/m);
  assert.match(out, /^ {2}prepare on peer-2 \(debian-1\): exit status 0 in 0s, log output\.log$/m);
});

test("aborted jobs are errors, never skipped or passed; failed suite hooks become testcases of their suite", async () => {
  const suite = "local:debian-12:tests/main/";
  const run = await runOf([
    at(0, { type: "run-started", runId: "r", dir: "/x", seed: 1, jobs: 2, workers: 1 }),
    at(0, {
      type: "hook-finished",
      job: suite,
      context: suite,
      level: "suite",
      phase: "prepare",
      host: "h",
      exitCode: 1,
      durationMs: 250,
      output: "no space left",
    }),
    at(1, { type: "run-finished", passed: [], failed: [], aborted: [JOB_A, JOB_B], failedHooks: [], durationMs: 1, interrupted: false }),
  ]);
  const root = parseXml(toJUnit(run));
  assert.equal(all(root, "testsuite").length, 1);
  const cases = all(root, "testcase");
  assert.deepEqual(
    cases.map((c) => c.attrs["name"]),
    ["fail:v1", "hello", "suite prepare on h"],
  );
  assert.equal(all(cases[0]!, "skipped").length, 0);
  assert.equal(all(cases[0]!, "error").length, 1);
  assert.deepEqual(all(cases[0]!, "error")[0]!.attrs, { message: "aborted", type: "aborted" });
  const hookFailure = all(cases[2]!, "failure")[0]!;
  assert.equal(hookFailure.attrs["message"], "suite prepare failed on h (local:debian-12:tests/main/)");
  assert.equal(hookFailure.text, "no space left");
  assert.equal(root.attrs["skipped"], "0");
  assert.equal(root.attrs["errors"], "2");
  assert.equal(root.attrs["failures"], "1");
});

test("escaping: markup, quotes, ANSI colors, control characters and lone surrogates", async () => {
  const nasty = "x < y && \"q\" 's' ]]> \x1b[31mred\x1b[0m bell\x07 nul\x00 vt\x0b ok\ttab \ud800 \ufffe end";
  const run = await runOf([
    at(0, { type: "job-started", job: JOB_A, hosts: ["h"], seq: 1, total: 1 }),
    at(0, {
      type: "hook-finished",
      job: JOB_A,
      context: JOB_A,
      level: "task",
      phase: "execute",
      host: "h",
      exitCode: 1,
      durationMs: 1,
      output: nasty,
    }),
    at(1, { type: "job-finished", job: JOB_A, status: "failed", durationMs: 1, reason: `bad "thing" <here>\nsecond line\x01` }),
  ]);
  const xml = toJUnit(run);
  const root = parseXml(xml);
  const failure = all(root, "failure")[0]!;
  assert.equal(failure.text, "x < y && \"q\" 's' ]]> red bell\\x07 nul\\x00 vt\\x0b ok\ttab \ufffd \\ufffe end");
  assert.equal(failure.attrs["message"], 'bad "thing" <here>\nsecond line\\x01');
  // Every `<` that came from the output is escaped: the only raw ones open tags.
  for (const m of xml.matchAll(/</g)) assert.match(xml.slice(m.index, m.index + 2), /^<[?/a-z]/);
});

test("escaping helpers", () => {
  assert.equal(escapeText("a<b>&c"), "a&lt;b&gt;&amp;c");
  assert.equal(escapeAttr('"\n\r\t<'), "&quot;&#10;&#13;&#9;&lt;");
  assert.equal(xmlSafe("\u{1F600}"), "\u{1F600}", "astral characters survive");
  assert.equal(xmlSafe("\udc00x"), "\ufffdx");
});

test("writeJUnit writes the same document to a file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-junit-"));
  try {
    const run = await runOf(singleHostRun());
    await writeJUnit(run, join(dir, "junit.xml"));
    assert.equal(await readFile(join(dir, "junit.xml"), "utf8"), toJUnit(run));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
