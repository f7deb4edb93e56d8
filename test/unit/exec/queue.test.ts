import assert from "node:assert/strict";
import { test } from "node:test";
import { JobQueue } from "../../../src/exec/queue.js";
import type { SchedWorker } from "../../../src/exec/scheduler.js";
import { world } from "./builders.js";

const w = (id: number, extra: Partial<SchedWorker> = {}): SchedWorker => ({ id, key: "local:sys", ...extra });

test("the queue hands jobs out by priority then run order, each once", () => {
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "low", priority: -5 }, { name: "mid" }, { name: "high", priority: 10 }] }],
  });
  const q = new JobQueue();
  assert.deepEqual(q.add(jobs), []);
  const me = w(1);
  const order: string[] = [];
  for (let pick = q.take(me, [me]); pick; pick = q.take(me, [me])) {
    order.push(pick.entry.job.task.name);
    assert.deepEqual(pick.members, [me]);
    q.done(pick.entry.job, 1);
  }
  assert.deepEqual(order, ["s/high", "s/mid", "s/low"]);
  assert.equal(q.wants("local:sys"), false);
  assert.deepEqual(q.drain(), []);
});

test("a task whose hosts cannot be planned is given back at once with why", () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "t", hosts: [{ name: "a", system: "nowhere" }] }] }] });
  const q = new JobQueue();
  const bad = q.add(jobs);
  assert.equal(bad.length, 1);
  assert.equal(bad[0]![0].name, jobs[0]!.name);
  assert.match(bad[0]![1], /no system "nowhere"/);
  assert.deepEqual(q.waiting(), []);
});

test("a multi-host job takes a whole gang of idle workers, or waits", () => {
  const { jobs } = world({ suites: [{ name: "s/", tasks: [{ name: "pair", hosts: [{ name: "server" }, { name: "client" }] }] }] });
  const q = new JobQueue();
  q.add(jobs);
  assert.equal(q.take(w(1), [w(1)]), undefined, "one idle worker is not enough");
  const pick = q.take(w(1), [w(1), w(2), w(3)]);
  assert.deepEqual(
    pick?.members.map((m) => m.id),
    [1, 2],
  );
});

test("jobs that need more hosts than are left alive are dropped, once per change", () => {
  const { jobs } = world({
    suites: [{ name: "s/", tasks: [{ name: "pair", hosts: [{ name: "a" }, { name: "b" }] }, { name: "one" }] }],
  });
  const q = new JobQueue();
  q.add(jobs);
  assert.deepEqual(q.dropImpossible(new Map([["local:sys", 2]])), []);
  const dropped = q.dropImpossible(new Map([["local:sys", 1]]));
  assert.deepEqual(
    dropped.map(([j, why]) => [j.task.name, why]),
    [["s/pair", "needs 2 hosts of local:sys, only 1 left"]],
  );
  assert.deepEqual(q.dropImpossible(new Map([["local:sys", 1]])), [], "nothing changed: no scan");
  const gone = q.dropImpossible(new Map());
  assert.deepEqual(
    gone.map(([j, why]) => [j.task.name, why]),
    [["s/one", "no host of local:sys left to run it"]],
  );
  assert.equal(q.wants("local:sys"), false);
});

test("a long queue stays correct across compaction", () => {
  const tasks = Array.from({ length: 300 }, (_, i) => ({ name: `t${String(i).padStart(3, "0")}` }));
  const { jobs } = world({ suites: [{ name: "s/", tasks }] });
  const q = new JobQueue();
  q.add(jobs);
  const me = w(1, { suite: "s/" });
  const seen: string[] = [];
  for (let pick = q.take(me, [me]); pick; pick = q.take(me, [me])) seen.push(pick.entry.job.task.name);
  assert.deepEqual(
    seen,
    jobs.map((j) => j.task.name),
  );
});
