import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allocationRequest, expandHostNames, planHosts } from "../../../src/scenario/hosts.js";

describe("scenario hosts", () => {
  it("expands ranges with .. and pdsh's forms", () => {
    assert.deepEqual(expandHostNames("node-[1..3]"), ["node-1", "node-2", "node-3"]);
    assert.deepEqual(expandHostNames("n[01..03]"), ["n01", "n02", "n03"]);
    assert.deepEqual(expandHostNames("web,db[1-2]"), ["web", "db1", "db2"]);
    assert.throws(() => expandHostNames("node-[3..1]"), /bad host names 'node-\[3\.\.1\]'/);
  });

  it("gives each host its backend, system and groups, counting per backend and system", () => {
    const { hosts, problems } = planHosts(
      [
        { names: ["node-[1..2]"], backend: "lab", groups: ["nodes"], path: ["hosts", 0] },
        { names: ["client"], groups: [], path: ["hosts", 1] },
      ],
      [],
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(
      hosts.map((h) => [h.name, h.backend.name, h.backend.type, h.system.name, h.groups, h.index]),
      [
        ["node-1", "lab", "lab", "lab", ["nodes"], 1],
        ["node-2", "lab", "lab", "lab", ["nodes"], 2],
        ["client", "local", "local", "localhost", [], 1],
      ],
    );
  });

  it("reports unknown backends, repeated and reserved names", () => {
    const { problems } = planHosts(
      [
        { names: ["a", "a"], groups: [], path: ["hosts", 0] },
        { names: ["self"], groups: [], path: ["hosts", 1] },
        { names: ["x"], backend: "cloud", groups: [], path: ["hosts", 2] },
      ],
      [],
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      [
        "host 'a' is listed twice",
        "'self' cannot be a host name: self:// means something in URIs",
        "no backend 'cloud': declare it under backends: (as in troupe.yaml), or use local or lab",
      ],
    );
  });

  it("asks local and lab drivers for the scenario's name, others by index", () => {
    const { hosts } = planHosts([{ names: ["node-3", "web"], backend: "lab", groups: [], path: [] }], []);
    assert.deepEqual(
      hosts.map((h) => {
        const r = allocationRequest(h, "lab");
        return [r.system.name, r.index];
      }),
      [
        ["node", 3],
        ["web", 1],
      ],
    );
    assert.deepEqual([allocationRequest(hosts[0]!, "ssh").system.name, allocationRequest(hosts[0]!, "ssh").index], ["lab", 1]);
  });
});
