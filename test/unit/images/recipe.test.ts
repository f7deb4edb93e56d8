// Recipes: which system names troupe builds, from what, with what in them.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { TroupeError } from "../../../src/util/errors.js";
import { DEFAULT_MIRROR, knownNames, lxdAliases, outputName, parseTargets, recipeFor } from "../../../src/images/recipe.js";

function usageError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE" && pattern.test(e.message));
}

describe("image recipes", () => {
  it("maps Spread's system names to Debian suites", () => {
    assert.deepEqual(
      knownNames().map((n) => [n, recipeFor(n).suite]),
      [
        ["debian-11", "bullseye"],
        ["debian-12", "bookworm"],
        ["debian-13", "trixie"],
        ["debian-sid", "sid"],
      ],
    );
  });

  it("is minbase from Debian's mirror with what Spread's hosts need, and a kernel only for qemu", () => {
    const r = recipeFor("debian-12");
    assert.equal(r.variant, "minbase");
    assert.equal(r.mirror, DEFAULT_MIRROR);
    for (const p of [
      "openssh-server",
      "iproute2",
      "procps",
      "systemd-sysv",
      "bash",
      "tar",
      "gzip",
      "ca-certificates",
      "sudo",
      "iputils-ping",
    ]) {
      assert.ok(r.packages.includes(p), p);
    }
    assert.ok(!r.packages.includes("linux-image-amd64"));
    assert.ok(r.qemu.packages.includes("linux-image-amd64"));
  });

  it("lets root log in with a password, names the host, empties machine-id, and asks for an address by DHCP", () => {
    const base = recipeFor("debian-12").configuration;
    const files = new Map(base.files.map((f) => [f.path, f.content]));
    assert.match(files.get("/etc/systemd/network/80-troupe-dhcp.network") ?? "", /^DHCP=yes$/m);
    assert.ok(base.links.some((l) => l.path.endsWith("multi-user.target.wants/systemd-networkd.service")));
    assert.match(files.get("/etc/ssh/sshd_config.d/troupe.conf") ?? "", /^PermitRootLogin yes$/m);
    assert.match(files.get("/etc/ssh/sshd_config.d/troupe.conf") ?? "", /^PasswordAuthentication yes$/m);
    assert.equal(files.get("/etc/hostname"), "debian-12\n");
    assert.equal(files.get("/etc/machine-id"), "");
  });

  it("gives qemu a serial getty, root on /dev/vda and the password from the kernel command line", () => {
    const q = recipeFor("debian-13").qemu.configuration;
    const files = new Map(q.files.map((f) => [f.path, f.content]));
    assert.match(files.get("/etc/fstab") ?? "", /^\/dev\/vda\s+\/\s+ext4/);
    assert.match(files.get("/usr/local/sbin/troupe-password") ?? "", /troupe\.password=/);
    const links = q.links.map((l) => l.path);
    assert.ok(links.some((l) => l.endsWith("/serial-getty@ttyS0.service")));
  });

  it("takes another mirror, without its trailing slash, and refuses what is not a URL", () => {
    assert.equal(recipeFor("debian-12", { mirror: "http://ftp.de.debian.org/debian/" }).mirror, "http://ftp.de.debian.org/debian");
    usageError(() => recipeFor("debian-12", { mirror: "ftp.de.debian.org" }), /--mirror/);
  });

  it("refuses an unknown name, listing the known ones, and says why for Ubuntu", () => {
    usageError(() => recipeFor("debian-99"), /debian-99.*debian-11, debian-12, debian-13, debian-sid/);
    usageError(() => recipeFor("ubuntu-24.04"), /no Ubuntu mirror/);
  });

  it("parses --for in a fixed order and refuses unknown targets", () => {
    assert.deepEqual(parseTargets("qemu,docker,qemu"), ["docker", "qemu"]);
    usageError(() => parseTargets("docker,vbox"), /unknown target vbox/);
    usageError(() => parseTargets(" , "), /no target/);
  });

  it("gives LXD the aliases the lxd backend looks up for a system of the name: Spread's image name without its remote, and the name", () => {
    const r = recipeFor("debian-12");
    assert.deepEqual(lxdAliases(r), ["debian/12", "debian-12"]);
    assert.deepEqual(lxdAliases(recipeFor("debian-sid")), ["debian/sid", "debian-sid"]);
    assert.deepEqual(lxdAliases(r, "mine"), ["mine"]);
    // --as ubuntu-16.04: found where a Spread project asks for that system.
    assert.deepEqual(lxdAliases(r, "ubuntu-16.04"), ["ubuntu/16.04", "ubuntu-16.04"]);
  });

  it("accepts only output names that are a docker repository, an LXD alias and a file name", () => {
    assert.equal(outputName("tt-debian-12"), "tt-debian-12");
    usageError(() => outputName("../x"), /cannot name an image/);
    usageError(() => outputName("Debian"), /cannot name an image/);
  });
});
