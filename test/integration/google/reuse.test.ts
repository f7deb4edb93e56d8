// --reuse on google (the fake Compute API, lab hosts for the VMs): the
// run's instance stays up, labelled reuse=true and without its troupe
// process, so `troupe gc` leaves it until its halt time; the next --reuse
// run logs into it again with the recorded password instead of inserting
// one; --discard deletes it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project } from "../cli/helpers.js";
import { PROJECT, spreadYaml, troupe, useFake, userEnv, writeKey, ZONE } from "./helpers.js";

const ctx = useFake();

function inserts(since: number): { name: string; labels: Record<string, string> }[] {
  return ctx.fake.seen
    .slice(since)
    .flatMap((r) =>
      r.method === "POST" && /\/instances$/.test(r.path) ? [r.body as { name: string; labels: Record<string, string> }] : [],
    );
}

test("--reuse keeps the instance for the next run, gc leaves it until its halt time, --discard deletes it", async () => {
  const dir = project({
    "spread.yaml": spreadYaml(`
type: google
key: "$(HOST: echo $GCE_IT_KEY)"
location: ${PROJECT}/${ZONE}
halt-timeout: 2h
systems:
  - ubuntu-24.04-64:
`),
    "checks/count/task.yaml":
      'summary: one line per run\nexecute: |\n  echo run >> /var/tmp/gce-reuse-runs\n  echo "RUNS $(wc -l < /var/tmp/gce-reuse-runs)"\n',
  });
  ctx.made.push(dir);
  const env = await userEnv(ctx.fake, { GCE_IT_KEY: writeKey(ctx.fake, dir) });
  const since = ctx.fake.seen.length;
  const first = await troupe(["run", "--reuse", "-v"], { cwd: dir, env });
  assert.equal(first.status, 0, first.stdout + first.stderr);
  assert.match(first.stdout, /RUNS 1/);
  const [made, ...more] = inserts(since);
  assert.ok(made);
  assert.deepEqual(more, []);
  assert.equal(made.labels["reuse"], "true");
  assert.equal(made.labels["troupe-process"], undefined, "kept on purpose: its troupe process is no reason to collect it");
  assert.deepEqual(ctx.fake.running(), [made.name], "kept, not deleted");

  const gc = await troupe(["gc", "--type", "google", "--dry-run"], { cwd: dir, env });
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  assert.doesNotMatch(gc.stdout, new RegExp(made.name), "gc waits for its halt time");

  const again = ctx.fake.seen.length;
  const second = await troupe(["run", "--reuse", "-v"], { cwd: dir, env });
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /Reusing google:ubuntu-24\.04-64/);
  assert.match(second.stdout, /RUNS 2/, "the same machine");
  assert.deepEqual(inserts(again), [], "no new instance");

  const discard = await troupe(["run", "--discard"], { cwd: dir, env });
  assert.equal(discard.status, 0, discard.stdout + discard.stderr);
  assert.deepEqual(ctx.fake.running(), []);
});
