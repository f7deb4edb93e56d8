#!/usr/bin/env node
import { main } from "../dist/src/cli/main.js";

// A reader that goes away (`troupe run | head`) must not kill the run
// half-way: its restores and discards still have to happen. Later writes to
// the closed pipe are dropped.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err && err.code === "EPIPE") return;
    throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exitCode = 70;
  },
);
