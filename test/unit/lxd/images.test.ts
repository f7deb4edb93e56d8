// Which image a system launches: Spread's mapping of system names, troupe's
// local aliases (which `troupe image build` imports under), and the choice
// among the images LXD has.

import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chooseImage,
  debArch,
  lxdImageAliases,
  spreadImageName,
  spreadImageProperties,
  spreadRemoteImage,
  type LxdImage,
} from "../../../src/backends/lxd/images.js";

test("system names map to remote images as Spread maps them", () => {
  assert.equal(spreadRemoteImage("ubuntu-22.04", "amd64"), "ubuntu:22.04/amd64");
  assert.equal(spreadRemoteImage("ubuntu-16.04-i386", "amd64"), "ubuntu:16.04/i386");
  assert.equal(spreadRemoteImage("debian-12", "amd64"), "images:debian/12/amd64");
  assert.equal(spreadRemoteImage("fedora-39", "arm64"), "images:fedora/39/arm64");
  assert.equal(spreadRemoteImage("images:alpine/3.19"), "images:alpine/3.19", "a remote given is taken as it is");
});

test("Spread's lookup reads a name into a remote and parts", () => {
  assert.deepEqual(spreadImageName("ubuntu-22.04", "amd64"), { remote: "ubuntu", parts: ["22.04", "amd64"] });
  assert.deepEqual(spreadImageName("debian-12", "amd64"), { remote: "images", parts: ["debian", "12", "amd64"] });
  assert.deepEqual(spreadImageName("images:debian/12", "amd64"), { remote: "images", parts: ["debian", "12", "amd64"] });
  assert.deepEqual(spreadImageName("debian/12/arm64", "amd64"), { remote: "images", parts: ["debian", "12", "arm64"] });
});

test("Debian's names of Node's architectures", () => {
  assert.equal(debArch("x64"), "amd64");
  assert.equal(debArch("arm64"), "arm64");
  assert.equal(debArch("ia32"), "i386");
  assert.equal(debArch("mips"), "amd64", "Spread's fallback");
});

test("local aliases: the Spread name without its remote, then the system's name", () => {
  assert.deepEqual(lxdImageAliases("debian-12"), ["debian/12", "debian-12"]);
  assert.deepEqual(lxdImageAliases("ubuntu-22.04"), ["ubuntu/22.04", "ubuntu-22.04"]);
  assert.deepEqual(lxdImageAliases("debian-12", ""), ["debian/12", "debian-12"], "an empty image: is no image");
  // image: overrides: its own aliases, not the system's name.
  assert.deepEqual(lxdImageAliases("mybox", "debian-13"), ["debian/13", "debian-13"]);
  assert.deepEqual(lxdImageAliases("mybox", "images:debian/13"), ["debian/13"]);
  assert.deepEqual(lxdImageAliases("mybox", "ubuntu:24.04"), ["ubuntu/24.04"]);
  assert.deepEqual(lxdImageAliases("mybox", "debian/13"), ["debian/13"]);
  assert.deepEqual(lxdImageAliases("debian-12", "debian-12"), ["debian/12", "debian-12"]);
});

test("properties by which Spread's own lookup finds an image under a system's name", () => {
  assert.deepEqual(spreadImageProperties("debian-12", "amd64"), {
    os: "debian",
    version: "12",
    architecture: "amd64",
    remote: "images",
    aliases: "debian/12,debian-12",
  });
  assert.deepEqual(spreadImageProperties("ubuntu-24.04", "amd64"), {
    os: "ubuntu",
    version: "24.04",
    architecture: "amd64",
    remote: "ubuntu",
    aliases: "ubuntu/24.04,ubuntu-24.04",
  });
});

const img = (fingerprint: string, more: Partial<LxdImage> = {}): LxdImage => ({ fingerprint, type: "container", ...more });

test("an alias wins, in the aliases' order; a VM image is never a container's", () => {
  const images = [
    img("aaa", { aliases: [{ name: "debian-12" }] }),
    img("bbb", { aliases: [{ name: "debian/12" }] }),
    img("vvv", { aliases: [{ name: "debian/12" }], type: "virtual-machine" }),
  ];
  assert.deepEqual(chooseImage("debian-12", undefined, images, {}, "amd64"), { launch: "debian/12", how: "alias" });
  assert.deepEqual(chooseImage("debian-12", undefined, [images[0]!], {}, "amd64"), { launch: "debian-12", how: "alias" });
  assert.deepEqual(chooseImage("debian-12", undefined, [images[2]!], {}, "amd64"), { launch: "images:debian/12/amd64", how: "remote" });
});

test("without an alias, a cached image matched the way Spread matches it", () => {
  const cached = img("ccc", { properties: { os: "debian", version: "12", architecture: "amd64", remote: "images" } });
  const fetched = img("ddd", {
    properties: { os: "ubuntu", release: "jammy", version: "22.04", architecture: "amd64" },
    update_source: { server: "https://cloud-images.ubuntu.com/releases" },
  });
  const remotes = { "https://cloud-images.ubuntu.com/releases": "ubuntu" };
  assert.deepEqual(chooseImage("debian-12", undefined, [fetched, cached], remotes, "amd64"), { launch: "ccc", how: "cached" });
  assert.deepEqual(chooseImage("ubuntu-22.04", undefined, [cached, fetched], remotes, "amd64"), { launch: "ddd", how: "cached" });
  // An imported image without its remote in its properties is not Spread's to take.
  const bare = img("eee", { properties: { os: "debian", version: "12", architecture: "amd64" } });
  assert.equal(chooseImage("debian-12", undefined, [bare], {}, "amd64").how, "remote");
  // The wrong version or architecture is not a match.
  assert.equal(chooseImage("debian-11", undefined, [cached], {}, "amd64").how, "remote");
  assert.equal(chooseImage("debian-12", undefined, [cached], {}, "arm64").how, "remote");
});

test("image: overrides the system's name", () => {
  const images = [img("aaa", { aliases: [{ name: "debian-12" }] }), img("fff", { aliases: [{ name: "mine" }] })];
  assert.deepEqual(chooseImage("debian-12", "mine", images), { launch: "mine", how: "alias" });
  assert.deepEqual(chooseImage("debian-12", "images:alpine/3.19", images), { launch: "images:alpine/3.19", how: "remote" });
});
