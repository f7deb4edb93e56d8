// The ports a job reserves: the task's `ports:` and TROUPE_PORTS, checked
// before anything runs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { jobPorts, jobToJSON, planJobs } from "../../../src/plan/index.js";
import { TroupeError } from "../../../src/util/errors.js";
import { buildProject } from "./builders.js";

const roles = [{ name: "server" }, { name: "client", count: 2 }];

function project(task: Parameters<typeof buildProject>[0]["suites"][string]["tasks"][string], suiteEnv?: Record<string, string>) {
  return buildProject({
    backends: { local: { systems: { debian: { workers: 3 } } } },
    suites: { "s/": { ...(suiteEnv ? { environment: suiteEnv } : {}), tasks: { t: task } } },
  });
}

test("ports: and TROUPE_PORTS end up on the job, ports: first; a job without either has none", () => {
  const p = project({
    hosts: roles,
    ports: [{ name: "http", on: "server" }, { name: "debug", on: "client-2" }, { name: "metrics" }],
    environment: { TROUPE_PORTS: '"db:server extra"' },
  });
  const [job] = planJobs(p);
  assert.deepEqual(job!.ports, [
    { name: "http", on: "server" },
    { name: "debug", on: "client-2" },
    { name: "metrics" },
    { name: "db", on: "server" },
    { name: "extra" },
  ]);
  assert.deepEqual(jobToJSON(job!).ports?.slice(0, 2), [
    { name: "http", on: "server", env: "TROUPE_PORT_HTTP" },
    { name: "debug", on: "client-2", env: "TROUPE_PORT_DEBUG" },
  ]);
  assert.equal(planJobs(project({ hosts: roles }))[0]!.ports, undefined);
  // A single-host task may reserve ports too: on its one host.
  assert.deepEqual(planJobs(project({ ports: [{ name: "http" }] }))[0]!.ports, [{ name: "http" }]);
});

test("TROUPE_PORTS is taken per variant, from the most specific level", () => {
  const p = project(
    { hosts: roles, environment: { "TROUPE_PORTS/a": "web:server", "TROUPE_PORTS/b": "api:client" } },
    { TROUPE_PORTS: "ignored" },
  );
  const jobs = planJobs(p);
  assert.deepEqual(
    jobs.map((j) => [j.variant, j.ports]),
    [
      ["a", [{ name: "web", on: "server" }]],
      ["b", [{ name: "api", on: "client" }]],
    ],
  );
});

test("a port asked for twice, names that make one variable, unknown hosts and bad entries are E_PROJECT at TROUPE_PORTS", () => {
  const cases: [Parameters<typeof project>[0], RegExp][] = [
    [
      { hosts: roles, ports: [{ name: "http", on: "server" }], environment: { TROUPE_PORTS: "http:server" } },
      /asks for port http, which is already reserved/,
    ],
    [
      { hosts: roles, ports: [{ name: "db-main" }], environment: { TROUPE_PORTS: "db_main" } },
      /ports db-main and db_main would both be TROUPE_PORT_DB_MAIN/,
    ],
    [
      { hosts: roles, environment: { TROUPE_PORTS: "http:sever" } },
      /"sever" is not a role or host of this task \(server, client, client-1, client-2\)/,
    ],
    [{ environment: { TROUPE_PORTS: "http:server" } }, /names a host, but this task has no hosts: section; write just "http"/],
    [{ hosts: roles, environment: { TROUPE_PORTS: "a/b" } }, /bad entry "a\/b"/],
  ];
  for (const [task, message] of cases) {
    const p = project(task);
    const envPos = p.suites[0]!.tasks[0]!.environment.find((e) => e.key === "TROUPE_PORTS")!.pos;
    assert.throws(
      () => planJobs(p),
      (e: unknown) => {
        assert.ok(e instanceof TroupeError);
        assert.equal(e.code, "E_PROJECT");
        assert.equal(e.problems[0]!.pos, envPos, "points at the TROUPE_PORTS that is wrong");
        assert.equal(e.problems[0]!.path, "s/t: environment.TROUPE_PORTS");
        assert.match(e.problems[0]!.message, message);
        return true;
      },
    );
  }
});

test("jobPorts alone: nothing asked, nothing given", () => {
  const pos = { file: "t.yaml", line: 1, col: 1 };
  assert.equal(jobPorts({ taskName: "s/t", ports: [], hosts: undefined, environment: [], envLevels: [], fallbackPos: pos }), undefined);
  assert.deepEqual(
    jobPorts({
      taskName: "s/t",
      ports: undefined,
      hosts: undefined,
      environment: [{ key: "TROUPE_PORTS", value: "a, b" }],
      envLevels: [],
      fallbackPos: pos,
    }),
    [{ name: "a" }, { name: "b" }],
  );
});
