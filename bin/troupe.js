#!/usr/bin/env node
import module from "node:module";
import v8 from "node:v8";

// Node 22.1 and later keep compiled code between runs: start-up then skips
// compiling troupe's few hundred modules again. (Node 20 has no such cache.)
module.enableCompileCache?.();

// V8 hands a function to its optimizing compiler once it has run a while.
// On Node 20, a run of short jobs (1,000 trivial local tasks) had it compile
// about 230 functions that then ran little more: 0.4-0.7 s of CPU on
// background threads, taken from the scripts on a 2-core machine. With 4
// times the budget of bytecode before a function counts as hot (set before
// troupe's modules load, so that their functions get it), about 55 are; a
// loop that really is hot (200 MB of output through the line splitter)
// still is at once. 8 times saved little more CPU and slowed the main
// thread, which then runs more code unoptimized. Only for V8 11 (Node 20),
// where this was measured: later V8s tier up differently (Node 22 doubled
// this budget; newer ones count calls instead, and V8 prints an error for a
// flag it does not know).
if (process.versions.v8.startsWith("11.")) v8.setFlagsFromString("--interrupt-budget=270336");

// A reader that goes away (`troupe run | head`), or a terminal that hangs up
// (SIGHUP), must not kill the run half-way: its restores and discards still
// have to happen. Later writes to the closed pipe or terminal are dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err && (err.code === "EPIPE" || err.code === "EIO")) return;
    throw err;
  });
}

const { main } = await import("../dist/src/cli/main.js");
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 70;
  },
);
