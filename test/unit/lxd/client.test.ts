// Which client and which daemon: LXD_DIR when set, the default socket, else
// troupe's own LXD; incus (with INCUS_DIR) where lxc is absent. Incus is not
// installable here: only this choice, and that the same arguments go to
// either program, are tested for it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { clientSetup, TROUPE_LXD_DIR } from "../../../src/backends/lxd/client.js";

const fs =
  (...present: string[]) =>
  (p: string): boolean =>
    present.includes(p);

test("lxc on PATH, LXD_DIR set: that directory", () => {
  assert.deepEqual(clientSetup({ PATH: "/bin:/usr/bin", LXD_DIR: "/srv/lxd" }, fs("/usr/bin/lxc")), {
    kind: "lxc",
    bin: "/usr/bin/lxc",
    env: {},
    dir: "/srv/lxd",
  });
});

test("LXD_DIR unset: the default socket when it is there, else troupe's own LXD", () => {
  assert.deepEqual(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/lxc", "/var/lib/lxd/unix.socket", TROUPE_LXD_DIR)), {
    kind: "lxc",
    bin: "/usr/bin/lxc",
    env: {},
  });
  assert.deepEqual(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/lxc", "/var/snap/lxd/common/lxd/unix.socket")), {
    kind: "lxc",
    bin: "/usr/bin/lxc",
    env: {},
  });
  assert.deepEqual(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/lxc", TROUPE_LXD_DIR)), {
    kind: "lxc",
    bin: "/usr/bin/lxc",
    env: { LXD_DIR: TROUPE_LXD_DIR },
    dir: TROUPE_LXD_DIR,
  });
  assert.deepEqual(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/lxc")), { kind: "lxc", bin: "/usr/bin/lxc", env: {} });
});

test("incus where lxc is absent, with INCUS_DIR rather than LXD_DIR", () => {
  assert.deepEqual(clientSetup({ PATH: "/usr/local/bin:/usr/bin", LXD_DIR: "/srv/lxd" }, fs("/usr/bin/incus")), {
    kind: "incus",
    bin: "/usr/bin/incus",
    env: {},
  });
  assert.deepEqual(clientSetup({ PATH: "/usr/bin", INCUS_DIR: "/srv/incus" }, fs("/usr/bin/incus")), {
    kind: "incus",
    bin: "/usr/bin/incus",
    env: {},
    dir: "/srv/incus",
  });
  // troupe's own LXD is LXD's, not incus's.
  assert.deepEqual(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/incus", TROUPE_LXD_DIR)), {
    kind: "incus",
    bin: "/usr/bin/incus",
    env: {},
  });
  // lxc first when both are there.
  assert.equal(clientSetup({ PATH: "/usr/bin" }, fs("/usr/bin/incus", "/usr/bin/lxc"))?.kind, "lxc");
});

test("neither installed: no client", () => {
  assert.equal(clientSetup({ PATH: "/usr/bin" }, fs()), undefined);
});
