import { test } from "node:test";
import assert from "node:assert/strict";
import { pickJob, workerCounts, type PendingJob, type SchedWorker } from "../../../src/exec/scheduler.js";
import { needsOf, slotsFor } from "../../../src/exec/roles.js";
import type { Job } from "../../../src/model/job.js";
import { world } from "./builders.js";

function pending(jobs: readonly Job[]): PendingJob[] {
  return jobs.map((job) => {
    const slots = slotsFor(job);
    return { job, key: `${job.backend.name}:${job.system.name}`, needs: needsOf(slots), multi: slots.length > 1 };
  });
}

const w = (id: number, extra: Partial<SchedWorker> = {}): SchedWorker => ({ id, key: "local:sys", ...extra });
const name = (p: readonly (PendingJob | null)[], i: number | undefined): string | undefined =>
  i === undefined ? undefined : p[i]!.job.task.name;

test("a worker takes jobs at the top priority first, then in run order", () => {
  const { jobs } = world({
    suites: [
      {
        name: "s/",
        tasks: [{ name: "low", priority: -5 }, { name: "mid" }, { name: "high", priority: 10 }, { name: "high2", priority: 10 }],
      },
    ],
  });
  const p: (PendingJob | null)[] = pending(jobs);
  const me = w(1);
  const order: string[] = [];
  for (;;) {
    const pick = pickJob(me, p, [me], new Map());
    if (!pick) break;
    order.push(name(p, pick.index)!);
    p[pick.index] = null;
  }
  assert.deepEqual(order, ["s/high", "s/high2", "s/mid", "s/low"]);
});

test("a worker prefers its own suite; otherwise the suite with the fewest workers", () => {
  const { jobs } = world({
    suites: [
      { name: "a/", tasks: [{ name: "1" }, { name: "2" }] },
      { name: "b/", tasks: [{ name: "1" }, { name: "2" }] },
      { name: "c/", tasks: [{ name: "1" }] },
    ],
  });
  const p = pending(jobs);
  assert.equal(name(p, pickJob(w(1, { suite: "b/" }), p, [w(1, { suite: "b/" })], new Map())?.index), "b/1");
  const busy = new Map([
    ["local:sys:a/", 2],
    ["local:sys:b/", 1],
  ]);
  assert.equal(name(p, pickJob(w(2), p, [w(2)], busy)?.index), "c/1");
  assert.equal(name(p, pickJob(w(2), p.slice(0, 4), [w(2)], busy)?.index), "b/1");
});

test("a worker only takes jobs of its own backend and system", () => {
  const { jobs } = world({ systems: [{ name: "one" }, { name: "two" }], suites: [{ name: "s/", tasks: [{ name: "t" }] }] });
  const p = pending(jobs);
  const pick = pickJob({ id: 1, key: "local:two" }, p, [{ id: 1, key: "local:two" }], new Map());
  assert.equal(p[pick!.index]!.job.system.name, "two");
  assert.equal(pickJob({ id: 1, key: "local:three" }, p, [], new Map()), undefined);
});

test("samples of a task run in sample order, one after the other on a worker", () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "other" }, { name: "sampled", samples: 3 }] }] });
  const p: (PendingJob | null)[] = pending(jobs).reverse(); // a seeded order could put #3 first
  let me: SchedWorker = w(1, { suite: "s/" });
  const order: string[] = [];
  for (;;) {
    const pick = pickJob(me, p, [me], new Map());
    if (!pick) break;
    const job = p[pick.index]!.job;
    order.push(job.name.replace("local:sys:", ""));
    p[pick.index] = null;
    me = { ...me, last: job };
  }
  assert.deepEqual(order, ["s/sampled#1", "s/sampled#2", "s/sampled#3", "s/other"]);
});

test("a multi-host job is taken only when all its hosts are idle at once, and takes them all", () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 3 }],
    suites: [{ name: "s/", tasks: [{ name: "trio", hosts: [{ name: "n", count: 3 }] }] }],
  });
  const p = pending(jobs);
  const [a, b, c] = [w(1), w(2, { suite: "s/" }), w(3)];
  assert.equal(pickJob(a, p, [a, b], new Map()), undefined, "two idle workers are not enough; nothing is held");
  const pick = pickJob(a, p, [a, b, c], new Map())!;
  assert.deepEqual(
    pick.members.map((m) => m.id),
    [1, 2, 3],
  );
});

test("the gang prefers the picking worker, then workers already inside the job's suite", () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "duo", hosts: [{ name: "n", count: 2 }] }] }] });
  const p = pending(jobs);
  const me = w(3);
  const pick = pickJob(me, p, [w(1), w(2, { suite: "s/" }), me], new Map())!;
  assert.deepEqual(
    pick.members.map((m) => m.id),
    [3, 2],
  );
});

test("worker counts: the system's workers, never more than the hosts its jobs need, at least the largest gang", () => {
  const { jobs } = world({
    systems: [{ name: "sys", workers: 4 }],
    suites: [{ name: "s/", tasks: [{ name: "a" }, { name: "b" }] }],
  });
  assert.deepEqual(workerCounts(pending(jobs), () => 4).get("local:sys"), { count: 2, raised: false });
  const gang = world({ suites: [{ name: "s/", tasks: [{ name: "g", hosts: [{ name: "n", count: 3 }] }] }] }).jobs;
  assert.deepEqual(workerCounts(pending(gang), () => 1).get("local:sys"), { count: 3, raised: true });
  assert.deepEqual(workerCounts(pending([...gang, ...jobs]), () => 4).get("local:sys"), { count: 4, raised: false });
});

test("the maxPriority hint never changes the pick: random queues, suites and priorities", () => {
  let state = 12345;
  const rand = (n: number): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const { jobs } = world({
    suites: ["a/", "b/", "c/"].map((s) => ({
      name: s,
      tasks: Array.from({ length: 12 }, (_, i) => ({ name: `t${i}`, priority: [0, 0, 0, 5, -1][i % 5]!, samples: i === 7 ? 3 : 1 })),
    })),
  });
  for (let round = 0; round < 200; round++) {
    const p: (PendingJob | null)[] = pending(jobs).map((x) => (rand(3) === 0 ? null : x));
    const live = p.filter((x): x is PendingJob => x !== null);
    if (live.length === 0) continue;
    const max = Math.max(...live.map((x) => x.job.priority));
    const suite = ["a/", "b/", "c/", undefined][rand(4)];
    const me = w(1, suite ? { suite } : {});
    const counts = new Map([
      ["local:sys:a/", rand(3)],
      ["local:sys:b/", rand(3)],
    ]);
    const plain = pickJob(me, p, [me], counts);
    const hinted = pickJob(me, p, [me], counts, max);
    assert.equal(hinted?.index, plain?.index, `round ${round}`);
  }
});
