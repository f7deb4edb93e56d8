// runJobs end to end on the local backend, as `troupe run` drives it: a real
// project directory packed with tar and unpacked into each host's copy,
// tasks reading their own files, artifacts fetched back, and a multi-host job
// whose hosts meet at a barrier (so they really run at the same time).

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { JobSessionFactory } from "../../../src/exec/index.js";
import { runLocal, tempDir, world } from "../../unit/exec/builders.js";

async function writeProject(dir: string): Promise<void> {
  await mkdir(join(dir, "tests", "greet"), { recursive: true });
  await mkdir(join(dir, "tests", "pair"), { recursive: true });
  await writeFile(join(dir, "tests", "greet", "expected.txt"), "hello from the project\n");
  await writeFile(join(dir, "lib.sh"), 'greet() { echo "hello from the project"; }\n');
}

test("a project runs end to end on local hosts: copies, variants, artifacts, a multi-host barrier", async () => {
  const projectDir = await tempDir("troupe-proj-");
  await writeProject(projectDir);
  const barrierDir = await tempDir("troupe-barrier-");
  const artifactsDir = await tempDir("troupe-artifacts-");

  const { jobs } = world({
    systems: [
      { name: "debian", workers: 2 },
      { name: "fedora", workers: 1 },
    ],
    project: { prepare: '. "$SPREAD_PATH/lib.sh"; [ "$(pwd)" = "$SPREAD_PATH" ]' },
    suites: [
      {
        name: "tests/",
        tasks: [
          {
            name: "greet",
            variants: ["en", "fr"],
            execute: '. "$SPREAD_PATH/lib.sh"\ngreet | MATCH "$(cat expected.txt)"\necho "$SPREAD_VARIANT on $SPREAD_SYSTEM" > result.txt',
          },
          {
            name: "pair",
            hosts: [{ name: "server" }, { name: "client" }],
            execute: [
              'touch "$BARRIER/$TROUPE_HOST"',
              'i=0; while [ "$(ls "$BARRIER" | wc -l)" -lt 2 ]; do i=$((i+1)); [ $i -lt 200 ] || ERROR "alone at the barrier"; sleep 0.05; done',
              'echo "$TROUPE_HOST passed the barrier"',
            ].join("\n"),
          },
        ],
      },
    ],
  });
  // One barrier directory per job: the session hands it out, as the sync service would.
  const session: JobSessionFactory = async (job) => {
    const dir = join(barrierDir, job.name.replace(/[^a-z0-9]/gi, "_"));
    await mkdir(dir, { recursive: true });
    return { env: () => ({ BARRIER: dir }), hostFailed: () => undefined, close: async () => undefined };
  };

  const h = await runLocal(jobs, {
    pushProject: async (host) => {
      const pack = tar.c({ cwd: projectDir, gzip: false, portable: true }, ["."]) as unknown as Readable;
      await host.transport.put(pack, host.projectPath);
    },
    jobSession: session,
    fetchArtifacts: async (job, host) => {
      const dest = join(artifactsDir, job.name.replace(/[:/]/g, "_"));
      await mkdir(dest, { recursive: true });
      const stream = await host.transport.get(join(host.projectPath, job.task.name), ["."]);
      await pipeline(stream, tar.x({ cwd: dest }));
    },
  });

  assert.equal(h.outcome.success, true, JSON.stringify(h.of("hook-finished").filter((e) => e.exitCode !== 0)));
  assert.deepEqual(h.outcome.passed, [
    "local:debian:tests/greet:en",
    "local:debian:tests/greet:fr",
    "local:debian:tests/pair",
    "local:fedora:tests/greet:en",
    "local:fedora:tests/greet:fr",
    "local:fedora:tests/pair",
  ]);
  // fedora has one worker but its pair job needs two hosts at once.
  const fedoraHosts = h
    .of("host-allocated")
    .filter((e) => e.system === "fedora")
    .map((e) => e.host)
    .sort();
  assert.deepEqual(fedoraHosts, ["fedora-1", "fedora-2"]);
  const result = await readFile(join(artifactsDir, "local_fedora_tests_greet_fr", "result.txt"), "utf8");
  assert.equal(result, "fr on fedora\n");
  const barrier = h
    .of("output")
    .filter((e) => !e.line.startsWith("+ ") && e.line.endsWith("passed the barrier"))
    .map((e) => e.line)
    .sort();
  assert.deepEqual(barrier, [
    "client passed the barrier",
    "client passed the barrier",
    "server passed the barrier",
    "server passed the barrier",
  ]);
  assert.equal(h.of("host-discarded").length, h.of("host-allocated").length);
});
