// The neighbour table on real lab hosts: the lab pins the entries of its own
// traffic (each slot on the bridge, the gateway in each host) as permanent,
// so that a lab of any size does not fill the kernel's table (one table for
// every namespace, 1024 entries by default), and raises the thresholds for
// what hosts learn from each other while it has hosts.
// Needs root, Linux and openssh-server (.ci/lab-deps.sh).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import type { BackendDriver, Host } from "../../../src/backends/backend.js";
import { createLabDriver, LAB_BRIDGE, LAB_GATEWAY } from "../../../src/backends/lab/index.js";
import { BRIDGE_MAC, MAX_SLOTS, slotAddress, slotMac } from "../../../src/backends/lab/layout.js";
import { NEIGH_SYSCTL_DIR, NEIGH_THRESHOLDS } from "../../../src/backends/lab/scripts.js";
import { backend, context, local, sh, system } from "./fixtures.js";

/** `ip neigh` of `address` on the bridge: "LLADDR STATE...", or "" when there is none. */
function bridgeEntry(address: string): string {
  return local("ip", ["neigh", "show", address, "dev", LAB_BRIDGE]).trim();
}

describe("lab neighbour table", () => {
  const sys = system("neigh");
  const ctx = context("/srv/project");
  let driver: BackendDriver;
  let hosts: Host[] = [];

  before(async () => {
    driver = createLabDriver(backend([sys]), ctx);
    hosts = await Promise.all([1, 2].map((i) => driver.allocate(sys, i)));
  });

  after(async () => {
    await driver.close?.();
    rmSync(ctx.runDir, { recursive: true, force: true });
  });

  it("pins each host's entry on the bridge and the gateway's in each host, with the fixed MACs", async () => {
    for (const h of hosts) {
      const slot = h.data?.["slot"] as number;
      assert.match(bridgeEntry(h.address), new RegExp(`^${h.address} lladdr ${slotMac(slot)} PERMANENT$`));
      const r = await sh(h.transport, `ip neigh show ${LAB_GATEWAY} dev eth0`);
      assert.equal(r.out.trim(), `${LAB_GATEWAY} lladdr ${BRIDGE_MAC} PERMANENT`);
    }
    // Hosts still find each other by ARP.
    const [a, b] = hosts as [Host, Host];
    assert.equal((await sh(a.transport, `ping -c1 -W5 ${b.address} >/dev/null && echo ok`)).out, "ok\n");
  });

  it("raises the thresholds while the lab has hosts", () => {
    for (const [name, want] of Object.entries(NEIGH_THRESHOLDS)) {
      assert.ok(Number(readFileSync(`${NEIGH_SYSCTL_DIR}/${name}`, "utf8")) >= want, name);
    }
  });

  it("pins the entry of every slot, and keeps a slot's for its next host", async () => {
    const h = hosts.pop()!;
    const slot = h.data?.["slot"] as number;
    await driver.discard(h);
    assert.match(bridgeEntry(h.address), new RegExp(`^${h.address} lladdr ${slotMac(slot)} PERMANENT$`));
    assert.match(bridgeEntry(slotAddress(MAX_SLOTS)), new RegExp(`^${slotAddress(MAX_SLOTS)} lladdr ${slotMac(MAX_SLOTS)} PERMANENT$`));
  });

  it("keeps the hosts from flooding the lab with duplicate address checks and router solicitations", async () => {
    const r = await sh(hosts[0]!.transport, "cd /proc/sys/net/ipv6/conf/eth0 && cat accept_dad dad_transmits router_solicitations");
    assert.equal(r.out, "0\n0\n0\n");
  });
});
