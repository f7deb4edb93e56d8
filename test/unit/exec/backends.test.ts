import { test } from "node:test";
import { describeFailedHook } from "../../../src/report/events.js";
import assert from "node:assert/strict";
import { access, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLocalDriver } from "../../../src/backends/local/index.js";
import { driverFor, loadBackendTypes, registerBackendType, supportedBackendTypes } from "../../../src/backends/registry.js";
import { EventStream } from "../../../src/report/events.js";
import { TroupeError } from "../../../src/util/errors.js";
import { pushTaskDirs, runLocal, tempDir, world } from "./builders.js";

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );

test("local hosts are named <system>-<n>, each with its own copy under <runDir>/hosts, unique across backends", async () => {
  const runDir = await tempDir();
  const ctx = { runDir, projectDir: "/nowhere", remotePath: "/remote/proj", events: new EventStream() };
  const { project } = world({ systems: [{ name: "ubuntu-24.04" }], suites: [] });
  const backend = project.backends[0]!;
  const other = { ...backend, name: "local2" };
  const d1 = createLocalDriver(backend, ctx);
  const d2 = createLocalDriver(other, ctx);
  const system = backend.systems[0]!;
  const [h1, h2] = await Promise.all([d1.allocate(system, 1), d1.allocate(system, 2)]);
  // The name is first come, first served: the second backend's host, asked
  // for after, gets its backend's name before it.
  const h3 = await d2.allocate(system, 1);
  assert.deepEqual([h1.name, h2.name, h3.name], ["ubuntu-24.04-1", "ubuntu-24.04-2", "local2-ubuntu-24.04-1"]);
  assert.equal(h1.projectPath, join(runDir, "hosts", "ubuntu-24.04-1", "project"));
  assert.equal(h1.address, "127.0.0.1");
  assert.equal(typeof d1.reboot, "undefined", "the local backend cannot reboot");
  await writeFile(join(h1.projectPath, "file"), "x");
  await d1.discard(h1);
  await d1.discard(h1); // twice is fine
  assert.equal(await exists(h1.projectPath), false);
  assert.equal(await exists(join(runDir, "hosts", "ubuntu-24.04-1")), true, "the host's directory (logs, traces) stays");
  await d1.close?.();
  await d2.close?.();
});

test("the registry runs local, refuses other types naming what it runs, and honours --backend-as", async () => {
  const ctx = { runDir: await tempDir(), projectDir: "/nowhere", remotePath: "/remote/proj", events: new EventStream() };
  const { project } = world({ suites: [] });
  const local = project.backends[0]!;
  await loadBackendTypes([local]);
  assert.equal(driverFor(local, ctx).type, "local");
  const linode = { ...local, name: "linode", type: "linode", where: { type: { file: "spread.yaml", line: 7, col: 11 } } };
  assert.throws(
    () => driverFor(linode, ctx),
    (e: unknown) =>
      e instanceof TroupeError &&
      e.code === "E_UNSUPPORTED" &&
      /spread\.yaml:7:11/.test(e.message) &&
      /troupe runs: .*local/.test(e.message) &&
      /--backend-as linode=local/.test(e.message),
  );
  assert.equal(driverFor(linode, ctx, { backendAs: { linode: "local" } }).type, "local");
  assert.throws(() => driverFor(local, ctx, { backendAs: { local: "openstack" } }), /--backend-as local=openstack/);
  registerBackendType("fake-for-test", (b, c) => ({ ...createLocalDriver(b, c), type: "fake-for-test" }));
  assert.ok(supportedBackendTypes().includes("fake-for-test"));
  assert.equal(driverFor({ ...local, type: "fake-for-test" }, ctx).type, "fake-for-test");
});

test("artifacts are fetched after execute, passed or not, once per host", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 2 }],
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "ok", execute: "true" },
          { name: "bad", execute: "false" },
          { name: "duo", hosts: [{ name: "n", count: 2 }], execute: "true" },
        ],
      },
    ],
  });
  const fetched: string[] = [];
  const h = await runLocal(jobs, {
    fetchArtifacts: async (job, host) => {
      fetched.push(`${job.task.name}@${host.name}`);
      if (job.task.name === "s/ok") throw new Error("disk full");
    },
  });
  assert.deepEqual(fetched.map((f) => f.split("@")[0]).sort(), ["s/bad", "s/duo", "s/duo", "s/ok"]);
  assert.deepEqual(h.outcome.failedHooks.map(describeFailedHook), ["artifacts (local:sys:s/ok)"]);
  assert.ok(h.of("message").some((m) => m.level === "error" && /disk full/.test(m.text)));
});

test("a host that cannot be allocated leaves its jobs aborted, with a message", async () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "t", execute: "true" }] }] });
  const h = await runLocal(jobs, {
    driver: () => ({
      type: "broken",
      allocate: async () => {
        throw new TroupeError("E_BACKEND", "no capacity");
      },
      discard: async () => undefined,
    }),
  });
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/t"]);
  assert.ok(h.of("message").some((m) => /Cannot allocate local:sys: no capacity/.test(m.text)));
});

test("a new host the project cannot be sent to is discarded and another allocated, three times at most (Spread's retries); then the worker is broken", async () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "t", execute: "true" }] }] });
  const h = await runLocal(jobs, {
    pushProject: async () => {
      throw new Error("tar exploded");
    },
  });
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/t"]);
  assert.match(h.of("worker-broken")[0]!.reason, /cannot send project content: tar exploded/);
  assert.equal(h.of("host-allocated").length, 3);
  assert.equal(h.of("host-discarded").length, 3);
  assert.ok(h.of("message").some((m) => /Cannot allocate local:sys after too many retries/.test(m.text)));
});

test("a host sent the project on the second try runs the jobs", async () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "t", execute: "true" }] }] });
  let tries = 0;
  const push = pushTaskDirs(jobs);
  const h = await runLocal(jobs, {
    pushProject: async (host) => {
      if (++tries === 1) throw new Error("tar exploded");
      await push(host);
    },
  });
  assert.deepEqual(h.outcome.passed, ["local:sys:s/t"]);
  assert.equal(h.of("host-allocated").length, 2);
  assert.equal(h.of("worker-broken").length, 0);
});

test("ssh and adhoc are registered next to local", () => {
  assert.deepEqual(
    ["adhoc", "local", "ssh"].filter((t) => supportedBackendTypes().includes(t)),
    ["adhoc", "local", "ssh"],
  );
});
