import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatReuseFile, parseReuseFile, reuseFileName, spreadReuseFileName } from "../../../src/backends/reuse/file.js";
import { nameAll } from "../../../src/backends/reuse/store.js";
import { TroupeError } from "../../../src/util/errors.js";
import type { RecordedHost } from "../../../src/backends/backend.js";

/** A file as Spread's yaml.v2 writes it (spread/reuse.go): lower-case keys, `password` always there. */
const SPREAD_FILE = `backends:
  google:
    systems:
    - ubuntu-16.04:
        password: 9f2c1e0ab4d3
        address: 35.1.2.3
        data:
          name: spread-ubuntu-16-04-1
          zone: us-east1-b
    - ubuntu-16.04:
        username: admin
        password: ""
        address: 35.1.2.4
  adhoc:
    systems:
    - centos-9:
        password: secret
        address: 10.0.0.7:2222
`;

function problems(text: string): string {
  try {
    parseReuseFile(text, "/p/.troupe-reuse.yaml");
  } catch (e) {
    assert.ok(e instanceof TroupeError, String(e));
    return e.message;
  }
  assert.fail("expected an error");
}

describe("reuse file", () => {
  it("is named per run with a pid, as Spread names its own", () => {
    assert.equal(reuseFileName(), ".troupe-reuse.yaml");
    assert.equal(reuseFileName(4242), ".troupe-reuse.4242.yaml");
    assert.equal(spreadReuseFileName(), ".spread-reuse.yaml");
    assert.equal(spreadReuseFileName(4242), ".spread-reuse.4242.yaml");
  });

  it("reads Spread's file: backends, systems in order, username/password/address/data; an empty password is none", () => {
    const hosts = parseReuseFile(SPREAD_FILE, ".spread-reuse.yaml");
    assert.deepEqual(hosts, [
      {
        backend: "google",
        system: "ubuntu-16.04",
        address: "35.1.2.3",
        password: "9f2c1e0ab4d3",
        data: { name: "spread-ubuntu-16-04-1", zone: "us-east1-b" },
      },
      { backend: "google", system: "ubuntu-16.04", address: "35.1.2.4", username: "admin" },
      { backend: "adhoc", system: "centos-9", address: "10.0.0.7:2222", password: "secret" },
    ]);
  });

  it("names Spread's nameless entries SYSTEM-N, unique in the file, and keeps names it has", () => {
    const named = nameAll([
      { backend: "b", system: "ubuntu-16.04", address: "a1" },
      { backend: "b", system: "ubuntu-16.04", address: "a2", name: "ubuntu-16.04-1" },
      { backend: "b", system: "ubuntu-16.04", address: "a3" },
      { backend: "c", system: "weird/name", address: "a4" },
      { backend: "c", system: "x", address: "a5", name: "dup" },
      { backend: "c", system: "x", address: "a6", name: "dup" },
    ]);
    assert.deepEqual(
      named.map((h) => h.name),
      ["ubuntu-16.04-2", "ubuntu-16.04-1", "ubuntu-16.04-3", "weird-name-1", "dup", "x-1"],
    );
  });

  it("writes what it reads back, text that YAML 1.1 would take for something else included", () => {
    const hosts: RecordedHost[] = [
      { backend: "lab", system: "debian", name: "debian-1", address: "10.213.0.5", data: { slot: 4, dir: "/run/troupe-lab/hosts/4" } },
      {
        backend: "adhoc",
        system: "yes",
        name: "on",
        address: "0123",
        username: "no",
        password: "null",
        data: { address: "host:22", sudo: false },
      },
      { backend: "local", system: "l", name: "l-1", address: "127.0.0.1", password: "#: {x} - [y]" },
    ];
    const text = formatReuseFile(hosts);
    assert.match(text, /^# Hosts kept by `troupe run --reuse`/);
    assert.deepEqual(parseReuseFile(text, "f"), hosts);
  });

  it("groups entries by backend, as Spread does, and writes `backends: {}` for none", () => {
    const text = formatReuseFile([
      { backend: "a", system: "s", name: "s-1", address: "1" },
      { backend: "b", system: "s", name: "s-2", address: "2" },
      { backend: "a", system: "t", name: "t-1", address: "3" },
    ]);
    assert.deepEqual(
      parseReuseFile(text, "f").map((h) => `${h.backend}:${h.name}`),
      ["a:s-1", "a:t-1", "b:s-2"],
    );
    assert.match(formatReuseFile([]), /^backends: \{\}$/m);
    assert.deepEqual(parseReuseFile(formatReuseFile([]), "f"), []);
  });

  it("takes an empty file, a null backend and empty lists as no hosts", () => {
    assert.deepEqual(parseReuseFile("", "f"), []);
    assert.deepEqual(parseReuseFile("# nothing\n", "f"), []);
    assert.deepEqual(parseReuseFile("backends:\n  lab:\n  adhoc:\n    systems: []\n", "f"), []);
  });

  it("says where a file is wrong and what to do, for each mistake", () => {
    assert.match(problems("backends: [\n"), /^\/p\/\.troupe-reuse\.yaml:\d+:\d+: invalid YAML: .*; fix it, or remove the file/);
    assert.match(
      problems("just text\n"),
      /^\/p\/\.troupe-reuse\.yaml:1:1: a reuse file is a map with a `backends:` key; fix it, or remove the file to forget the hosts it records/,
    );
    assert.match(problems("backends: 3\n"), /:1:11: backends: must be a map of backend names/);
    assert.match(problems("backends:\n  lab:\n    systems: {a: 1}\n"), /:3:14: backends\.lab\.systems: must be a list/);
    assert.match(
      problems("backends:\n  lab:\n    systems:\n      - a: {address: x}\n        b: {address: y}\n"),
      /:4:9: backends\.lab\.systems\[0\]: must name one system/,
    );
    assert.match(
      problems("backends:\n  lab:\n    systems:\n      - deb:\n          name: deb-1\n"),
      /:5:11: backends\.lab\.systems\[0\]\.deb: has no `address:`/,
    );
    assert.match(
      problems("backends:\n  lab:\n    systems:\n      - deb:\n          address: [1, 2]\n"),
      /:5:20: backends\.lab\.systems\[0\]\.deb\.address: must be text/,
    );
    // Every mistake at once, not only the first.
    const both = problems("backends:\n  a:\n    systems: 1\n  b:\n    systems:\n      - deb: {}\n");
    assert.match(both, /backends\.a\.systems: must be a list/);
    assert.match(both, /backends\.b\.systems\[0\]\.deb: has no `address:`/);
  });
});
