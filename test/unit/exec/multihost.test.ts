import { test } from "node:test";
import assert from "node:assert/strict";
import type { HostAssignment, JobSessionFactory } from "../../../src/exec/index.js";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runLocal, tempDir, world } from "./builders.js";

test("gang allocation: two jobs needing two hosts each share three workers without deadlock", async () => {
  const busy = 'sleep 0.2; echo "$TROUPE_HOST on $SPREAD_PATH"';
  const { jobs } = world({
    systems: [{ name: "sys", workers: 3 }],
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "one", hosts: [{ name: "node", count: 2 }], execute: busy },
          { name: "two", hosts: [{ name: "node", count: 2 }], execute: busy },
        ],
      },
    ],
  });
  let inUse = 0;
  let maxInUse = 0;
  const h = await runLocal(jobs, {
    onEvent: (e) => {
      if (e.type === "job-started") maxInUse = Math.max(maxInUse, (inUse += e.hosts.length));
      if (e.type === "job-finished" && e.status !== "aborted") inUse -= 2;
    },
  });
  assert.deepEqual(h.outcome.passed, ["local:sys:s/one", "local:sys:s/two"]);
  assert.equal(h.of("run-started")[0]!.workers, 3);
  assert.ok(maxInUse <= 3);
  const started = h.of("job-started");
  assert.equal(started.length, 2);
  for (const e of started) {
    assert.equal(e.hosts.length, 2);
    assert.notEqual(e.hosts[0], e.hosts[1], "a job's hosts are distinct");
  }
  // The second job could only start once the first one freed its hosts.
  const types = h.events.filter((e) => e.type === "job-started" || e.type === "job-finished").map((e) => e.type);
  assert.deepEqual(types, ["job-started", "job-finished", "job-started", "job-finished"]);
});

test("a system with fewer workers than a job needs gets enough, with a warning", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 1 }],
    suites: [{ name: "s/", tasks: [{ name: "pair", hosts: [{ name: "peer", count: 2 }], execute: "true" }] }],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/pair"]);
  assert.equal(h.of("host-allocated").length, 2);
  assert.ok(h.of("message").some((m) => m.level === "warn" && /needs 2 of its hosts/.test(m.text)));
});

test("per-role scripts replace the task's; others run the common script with TROUPE_HOST, TROUPE_ROLE, TROUPE_HOSTS and addresses", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 3 }],
    suites: [
      {
        name: "s/",
        prepareEach: 'echo "each $TROUPE_HOST"',
        tasks: [
          {
            name: "net",
            hosts: [{ name: "server" }, { name: "client", count: 2 }],
            execute: 'echo "common $TROUPE_HOST $TROUPE_ROLE [$TROUPE_HOSTS] $TROUPE_HOST_ADDR_SERVER $TROUPE_HOST_ADDR_CLIENT_2"',
            prepare: 'echo "task prepare $TROUPE_HOST"',
            roleScripts: {
              execute: { server: 'echo "server script as $TROUPE_HOST/$TROUPE_ROLE"' },
              prepare: { server: 'echo "server prepare"' },
            },
          },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/net"]);
  const lines = (phase: string): string[] =>
    h
      .of("output")
      .filter((e) => e.phase === phase && !e.line.startsWith("+ "))
      .map((e) => `${e.host}: ${e.line}`)
      .sort();
  const started = h.of("job-started")[0]!;
  assert.equal(started.hosts.length, 3);
  const [serverHost, c1, c2] = started.hosts;
  assert.deepEqual(
    lines("execute"),
    [
      `${serverHost}: server script as server/server`,
      `${c1}: common client-1 client [server client-1 client-2] 127.0.0.1 127.0.0.1`,
      `${c2}: common client-2 client [server client-1 client-2] 127.0.0.1 127.0.0.1`,
    ].sort(),
  );
  // The role's prepare replaces only the task part; the -each scripts still run before it.
  assert.deepEqual(
    lines("prepare"),
    [
      `${serverHost}: each server`,
      `${serverHost}: server prepare`,
      `${c1}: each client-1`,
      `${c1}: task prepare client-1`,
      `${c2}: each client-2`,
      `${c2}: task prepare client-2`,
    ].sort(),
  );
});

test("roles can come from other systems; each host runs project and suite hooks as a worker of its own system", async () => {
  const { jobs } = world({
    project: { prepare: 'echo "project prepare on $SPREAD_SYSTEM"' },
    systems: [{ name: "alpha" }, { name: "beta" }],
    suites: [
      {
        name: "s/",
        tasks: [{ name: "x", hosts: [{ name: "a" }, { name: "b", system: "beta" }], execute: 'echo "$TROUPE_ROLE on $SPREAD_SYSTEM"' }],
      },
    ],
  });
  // world() makes the job on every system; keep the one planned on alpha.
  const job = jobs.find((j) => j.system.name === "alpha")!;
  const h = await runLocal([job]);
  assert.deepEqual(h.outcome.passed, [job.name]);
  const out = h
    .of("output")
    .filter((e) => !e.line.startsWith("+ "))
    .map((e) => `${e.host}: ${e.line}`)
    .sort();
  assert.deepEqual(out, [
    "alpha-1: a on alpha",
    "alpha-1: project prepare on alpha",
    "beta-1: b on beta",
    "beta-1: project prepare on beta",
  ]);
});

test("the job session adds its environment, hears about failed hosts, and is closed; one failing host fails the job", async () => {
  const calls: string[] = [];
  let seen: readonly HostAssignment[] = [];
  const factory: JobSessionFactory = async (job, hosts, signal) => {
    seen = hosts;
    calls.push(`open ${job.name} ${hosts.map((h) => `${h.name}=${h.role}#${h.index}`).join(",")} aborted=${signal.aborted}`);
    return {
      env: (a) => ({ TROUPE_CTL_TEST: `ctl-for-${a.name}`, PATH: "/opt/ctl/bin:$PATH" }),
      hostFailed: (a, reason) => calls.push(`failed ${a.name}: ${reason}`),
      close: async () => {
        calls.push("close");
      },
    };
  };
  const { jobs } = world({
    systems: [{ name: "sys", workers: 2 }],
    suites: [
      {
        name: "s/",
        tasks: [
          {
            name: "duo",
            hosts: [{ name: "left" }, { name: "right" }],
            execute: 'echo "$TROUPE_CTL_TEST ${PATH%%:*}"\n[ "$TROUPE_ROLE" = left ]',
          },
        ],
      },
    ],
  });
  const h = await runLocal(jobs, { jobSession: factory });
  assert.deepEqual(h.outcome.failed, ["local:sys:s/duo"]);
  assert.deepEqual(calls[0], "open local:sys:s/duo left=left#1,right=right#1 aborted=false");
  assert.equal(calls.filter((c) => c.startsWith("failed")).length, 1);
  assert.match(
    calls.find((c) => c.startsWith("failed"))!,
    /^failed right: execute task failed on right: exit status 1/,
  );
  assert.equal(calls.at(-1), "close");
  assert.equal(calls.filter((c) => c === "close").length, 1);
  assert.deepEqual(seen.map((a) => a.host.name).sort(), ["sys-1", "sys-2"]);
  const lines = h
    .of("output")
    .filter((e) => e.phase === "execute" && !e.line.startsWith("+ "))
    .map((e) => e.line)
    .sort();
  assert.deepEqual(lines, ["ctl-for-left /opt/ctl/bin", "ctl-for-right /opt/ctl/bin"]);
  assert.match(h.of("job-finished")[0]!.reason ?? "", /execute failed on right/);
});

test("single-host jobs get no sync session (no one to wait for), but TROUPE_HOST is the host's name", async () => {
  let opened = 0;
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "t", execute: 'echo "$TROUPE_HOST|$TROUPE_ROLE|$TROUPE_HOSTS|$TROUPE_HOST_ADDR_SYS_1"' }] }],
  });
  const h = await runLocal(jobs, {
    jobSession: async () => {
      opened++;
      return { env: () => ({}), hostFailed: () => undefined, close: async () => undefined };
    },
  });
  assert.equal(opened, 0);
  assert.ok(h.of("output").some((e) => e.line === "sys-1||sys-1|127.0.0.1"));
});

test("a single-host job that reserves ports gets a session for them", async () => {
  const opened: string[] = [];
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "t", ports: [{ name: "http" }], execute: 'echo "port $TROUPE_PORT_HTTP"' }] }],
  });
  const h = await runLocal(jobs, {
    jobSession: async (job, hosts) => {
      opened.push(`${job.name} ${hosts.map((a) => a.name).join(",")} ${job.ports?.map((p) => p.name).join(",")}`);
      return { env: () => ({ TROUPE_PORT_HTTP: "20001" }), hostFailed: () => undefined, close: async () => undefined };
    },
  });
  assert.deepEqual(opened, ["local:sys:s/t sys-1 http"]);
  assert.ok(h.of("output").some((e) => e.line === "port 20001"));
  assert.equal(h.of("job-started")[0]!.roles, undefined, "a single-host job has no roles");
});

test("job-started says who plays what; when several hosts fail, the first to fail is named as the cause", async () => {
  // A stand-in for the sync service's poison: once a host fails, the others' "waits" fail.
  const dir = await tempDir();
  const poison = join(dir, "poisoned");
  const factory: JobSessionFactory = async () => ({
    env: () => ({ POISON: poison }),
    hostFailed: (a) => void writeFile(poison, a.name, { flag: "a" }),
    close: async () => undefined,
  });
  const { jobs } = world({
    systems: [{ name: "sys", workers: 3 }],
    suites: [
      {
        name: "s/",
        tasks: [
          {
            name: "trio",
            hosts: [{ name: "peer", count: 2 }, { name: "lead" }],
            execute: 'if [ "$TROUPE_ROLE" = lead ]; then exit 3; fi\nuntil [ -s "$POISON" ]; do sleep 0.01; done\nexit 125',
          },
        ],
      },
    ],
  });
  try {
    const h = await runLocal(jobs, { jobSession: factory });
    const started = h.of("job-started")[0]!;
    assert.deepEqual(
      started.roles?.map((r) => [r.name, r.role]),
      [
        ["peer-1", "peer"],
        ["peer-2", "peer"],
        ["lead", "lead"],
      ],
    );
    assert.deepEqual(
      started.roles?.map((r) => r.host),
      started.hosts,
    );
    // lead comes last in the job's order, but failed first.
    assert.equal(h.of("job-finished")[0]!.reason, "execute failed on lead: exit status 3");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a job that needs more hosts than can ever be alive is aborted, not waited for forever", async () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 2 }],
    suites: [
      {
        name: "s/",
        tasks: [
          // Breaks its worker (failing restore): afterwards only one host of sys is left.
          { name: "a", execute: "true", restore: "exit 1" },
          { name: "pair", hosts: [{ name: "p", count: 2 }], execute: "true", priority: -1 },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/a"]);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/pair"]);
  assert.match(h.of("job-finished").find((e) => e.job === "local:sys:s/pair")!.reason ?? "", /needs 2 hosts of local:sys, only 1 left/);
});

test("a role on a system the project does not have aborts that job only; an empty run just finishes", async () => {
  const { jobs } = world({
    suites: [
      {
        name: "s/",
        tasks: [
          { name: "odd", hosts: [{ name: "x", system: "nosuch" }], execute: "true" },
          { name: "fine", execute: "true" },
        ],
      },
    ],
  });
  const h = await runLocal(jobs);
  assert.deepEqual(h.outcome.aborted, ["local:sys:s/odd"]);
  assert.deepEqual(h.outcome.passed, ["local:sys:s/fine"]);
  assert.match(h.of("job-finished").find((e) => e.job === "local:sys:s/odd")!.reason ?? "", /no system "nosuch"/);

  const empty = await runLocal([]);
  assert.equal(empty.outcome.success, true);
  assert.deepEqual(
    empty.events.map((e) => e.type),
    ["run-started", "run-finished"],
  );
});
