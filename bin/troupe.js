#!/usr/bin/env node
import module from "node:module";

// Node 22.1 and later keep compiled code between runs: start-up then skips
// compiling troupe's few hundred modules again. (Node 20 has no such cache.)
module.enableCompileCache?.();

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
