// A Tezt-cloud-sized fleet: `troupe play` with 100 hosts on ec2 (moto's
// instances, stood in for by 100 lab hosts) allocates them in a few
// RunInstances calls, runs a barrier across every host, and terminates
// every instance at the end.

import { test } from "node:test";
import assert from "node:assert/strict";
import { project } from "../cli/helpers.js";
import { troupeAsyncResult } from "../cloud/moto.js";
import { useMoto } from "../cloud/moto-account.js";

const HOSTS = 100;

const account = useMoto({ subnet: "10.213.3.0/25" });
const { reservations } = account;

test(`troupe play: ${HOSTS} ec2 hosts meet at one barrier, then every instance is terminated`, async (t) => {
  const t0 = Date.now();
  const dir = project({
    "scenario.yaml": `name: ec2t-fleet
backends:
  cloud:
    type: ec2
    location: eu-west-1
    subnet: ${account.subnet}
    boot-timeout: 10m
    max-hosts: ${HOSTS}
    systems:
      - trusty:
          image: ami-1e749f67
hosts:
  - names: n-[1..${HOSTS}]
    backend: cloud
stages:
  - name: all together
    jobs:
      - run: |
          troupe-ctl barrier all-up
          echo "{{ host.name }} at {{ host.addr }} passed the barrier"
`,
  });
  const r = await troupeAsyncResult(["play", "scenario.yaml"], account.moto.env, dir);
  assert.equal(r.status, 0, r.stdout.slice(-4000) + r.stderr.slice(-4000));
  for (let i = 1; i <= HOSTS; i++) assert.match(r.stdout, new RegExp(`n-${i} at 10\\.213\\.3\\.\\d+ passed the barrier`));

  const calls = await reservations();
  const all = calls.flat();
  assert.equal(all.length, HOSTS);
  assert.deepEqual(
    all.filter((i) => i.State?.Name !== "terminated").map((i) => i.InstanceId),
    [],
  );
  // Made in batches, not one call per host: instances of one call share a reservation.
  t.diagnostic(`${HOSTS} hosts: ${calls.length} RunInstances calls, troupe play took ${Math.round((Date.now() - t0) / 1000)} s`);
  assert.ok(calls.length <= HOSTS / 4, `${calls.length} RunInstances calls for ${HOSTS} hosts`);
  assert.deepEqual(account.standIn.errors, []);
});
