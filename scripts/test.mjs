#!/usr/bin/env node
// Runs troupe's compiled tests with Node's built-in runner, on the Node.js
// that runs this script (process.execPath, never whatever `node` is on PATH).
//
//   node scripts/test.mjs [--test-flag...] DIR...
//
// Every `--...` argument goes to `node --test` as is; every other argument is
// a directory searched for `*.test.js` files. The files are listed here
// because no form of `node --test ARGS` means the same on Node 20, 22 and 24:
// Node 20 does not expand globs ("dist/test/**/*.test.js" is taken as a file
// name) and, given a directory, runs every .js file under it (helpers too),
// while Node 22 and later take a directory for a test file and fail it.
//
// TROUPE_TEST_NODE=v20 (or v22.23.5, ...) makes it refuse to run on any other
// Node.js: CI sets it so that no PATH mix-up runs a suite on the wrong one.
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";

const flags = [];
const dirs = [];
// --alone=DIR: the files under DIR run after the others, one at a time (the
// tests that boot virtual machines, which take both cores of a small machine
// and would starve the timing of the rest).
const alone = [];
for (const arg of process.argv.slice(2)) {
  if (arg.startsWith("--alone=")) alone.push(arg.slice("--alone=".length).replace(/\/+$/, "") + "/");
  else (arg.startsWith("--") ? flags : dirs).push(arg);
}
if (dirs.length === 0) {
  console.error("usage: node scripts/test.mjs [--test-flag...] [--alone=DIR...] DIR...");
  process.exit(2);
}

const files = [];
for (const dir of dirs) {
  let found = [];
  try {
    found = readdirSync(dir, { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".test.js"))
      .map((f) => join(dir, f))
      .sort();
  } catch (err) {
    console.error(`scripts/test.mjs: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (found.length === 0) {
    console.error(`scripts/test.mjs: no *.test.js file under ${dir} (built? run tsc first)`);
    process.exit(2);
  }
  files.push(...found);
}

const want = process.env["TROUPE_TEST_NODE"];
if (want && process.version !== want && !process.version.startsWith(`${want}.`)) {
  console.error(`scripts/test.mjs: this is Node ${process.version} (${process.execPath}), not ${want} as TROUPE_TEST_NODE asks`);
  process.exit(2);
}
console.error(`scripts/test.mjs: ${files.length} test files on Node ${process.version} (${process.execPath})`);

const later = files.filter((f) => alone.some((d) => f.startsWith(d)));
const first = files.filter((f) => !later.includes(f));
const serial = [...flags.filter((f) => !f.startsWith("--test-concurrency")), "--test-concurrency=1"];

let child;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child?.kill(signal));
/** `node --test` on `list`; resolves to its exit status. */
function run(testFlags, list) {
  return new Promise((resolve) => {
    child = spawn(process.execPath, ["--test", ...testFlags, ...list], { stdio: "inherit" });
    child.on("exit", (code, signal) => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : (code ?? 1)));
  });
}
let status = first.length ? await run(flags, first) : 0;
if (later.length && status < 128) {
  console.error(`scripts/test.mjs: ${later.length} test files alone, one at a time`);
  const after = await run(serial, later);
  status = status || after;
}
process.exitCode = status;
