import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPos } from "../../../src/model/position.js";
import { load } from "./helpers.js";

describe("loadProject: a real-world spread.yaml", async () => {
  const { project: p, warnings } = await load("spread-real");

  it("is read as a Spread project", () => {
    assert.equal(p.flavour, "spread");
    assert.equal(p.name, "acme");
    assert.equal(p.remotePath, "/home/gopath/src/example.com/acme");
    assert.equal(p.killTimeout, 1_800_000);
    assert.deepEqual(p.exclude, [".git", "*.o"]);
    assert.deepEqual(p.rename, ["s,^,acme-$RELEASE/,S"]);
  });

  it("keeps $(HOST:...) and variable references unevaluated, and numbers as written", () => {
    const env = Object.fromEntries(p.environment.map((e) => [e.key, e.value]));
    assert.equal(env["STORE"], '$(HOST: echo "${SPREAD_STORE:-production}")');
    assert.equal(env["GOPATH"], "$GOHOME");
    assert.equal(env["RELEASE"], "2.52");
  });

  it("warns about what Spread ignores instead of refusing it, in file order", () => {
    assert.deepEqual(warnings, [
      "spread.yaml:20:9: backends.google.cpu-family: unknown key 'cpu-family' is ignored, as Spread ignores it",
      "spread.yaml:43:19: backends.qemu.systems[1].flags: unknown key 'flags' is ignored, as Spread ignores it",
      "spread.yaml:47:15: backends.qemu.systems[3]: system 'debian-sid-64' is listed twice in backend 'qemu' (first at line 44); " +
        "the last one is used, as in Spread",
    ]);
  });

  it("keeps the last of two systems with the same name, as Spread does", () => {
    const qemu = p.backends.find((b) => b.name === "qemu");
    assert.deepEqual(
      qemu?.systems.map((s) => s.name),
      ["ubuntu-18.04-64", "ubuntu-core-20-64", "debian-sid-64"],
    );
    assert.equal(qemu?.systems[2]?.password, "sid");
    assert.deepEqual(qemu?.extra, { memory: "4G" });
  });

  it("applies << merge keys", () => {
    const core = p.backends.find((b) => b.name === "qemu")?.systems.find((s) => s.name === "ubuntu-core-20-64");
    assert.equal(core?.username, "ubuntu");
    assert.equal(core?.password, "ubuntu");
    assert.equal(core?.image, "ubuntu-20.04-64");
    assert.deepEqual(core?.extra, { bios: "uefi" });
  });

  it("cascades storage and plan from the backend to systems without their own", () => {
    const google = p.backends.find((b) => b.name === "google");
    assert.equal(google?.type, "google");
    assert.equal(google?.key, '$(HOST: echo "$SPREAD_GOOGLE_KEY")');
    assert.equal(google?.haltTimeout, 7_200_000);
    assert.deepEqual(
      google?.systems.map((s) => [s.name, s.image, s.workers, s.extra["storage"], s.extra["plan"], s.manual]),
      [
        ["ubuntu-20.04-64", "ubuntu-20.04-64", 8, "12G", "n2-standard-2", undefined],
        ["ubuntu-core-20-64", "ubuntu-20.04-64", 6, "20G", "n2-standard-2", undefined],
        ["ubuntu-secboot-20.04-64", "ubuntu-20.04-64", 1, "12G", "n2-standard-2", undefined],
        ["opensuse-tumbleweed-64", "opensuse-tumbleweed-64", 1, "12G", "n2-standard-2", true],
      ],
    );
    assert.equal(google?.systems[2]?.extra["secure-boot"], true);
  });

  it("reads an adhoc backend with its own environment", () => {
    const external = p.backends.find((b) => b.name === "external");
    assert.equal(external?.type, "adhoc");
    assert.equal(external?.allocate, "ADDRESS $ADDR");
    assert.deepEqual(
      external?.environment.map((e) => [e.key, formatPos(e.pos)]),
      [["ADDR", "spread.yaml:53:13"]],
    );
  });

  it("keeps +/- list items as written and variant environment keys", () => {
    const main = p.suites.find((s) => s.name === "tests/main/");
    assert.deepEqual(main?.systems, ["-ubuntu-secboot-*", "-ubuntu-core-*"]);
    assert.deepEqual(
      main?.environment.map((e) => e.key),
      ["_/plain", "_/funky"],
    );
    const install = main?.tasks.find((t) => t.name === "tests/main/install");
    assert.deepEqual(install?.systems, ["-opensuse-*"]);
    assert.deepEqual(
      install?.environment.map((e) => [e.key, e.value]),
      [
        ["SNAP/regular", "test-snapd-tools"],
        ["SNAP/classic", "test-snapd-classic"],
        ["CHANNEL", "stable"],
      ],
    );
    assert.equal(install?.priority, 100);
    assert.equal(install?.killTimeout, 300_000);
    const remove = main?.tasks.find((t) => t.name === "tests/main/remove");
    assert.deepEqual(remove?.backends, ["-external"]);
    assert.equal(remove?.samples, 3);
  });

  it("reads manual tasks and artifacts", () => {
    const boot = p.suites.find((s) => s.name === "tests/core/")?.tasks[0];
    assert.equal(boot?.name, "tests/core/boot");
    assert.equal(boot?.manual, true);
    assert.deepEqual(boot?.artifacts, ["boot.log"]);
  });
});
