#!/usr/bin/env node
import module from "node:module";
import v8 from "node:v8";

// Node 22.1 and later keep compiled code between runs: start-up then skips
// compiling troupe's few hundred modules again. (Node 20 has no such cache.)
module.enableCompileCache?.();

// V8 hands a function to its optimizing compiler once it has run a while.
// A run of short jobs (1,000 trivial local tasks) had it compile about 230
// functions that then ran little more: 0.4-0.7 s of CPU on background
// threads, taken from the scripts on a 2-core machine. With a budget of
// 264 KB of bytecode before a function counts as hot (4 times Node 20's, 2
// times Node 22's; set before troupe's modules load, so that their
// functions get it), about 55 are; a loop that really is hot (200 MB of
// output through the line splitter) still is at once. A larger budget saves
// little more CPU and slows the main thread, which then runs more code
// unoptimized. The flag exists in the V8 of every Node troupe supports.
v8.setFlagsFromString("--interrupt-budget=270336");

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
