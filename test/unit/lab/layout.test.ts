import { test } from "node:test";
import assert from "node:assert/strict";
import {
  BRIDGE_MAC,
  hostnameFor,
  MAX_SLOTS,
  slotMac,
  netnsName,
  slotAddress,
  slotOfName,
  vethName,
  hostPaths,
} from "../../../src/backends/lab/layout.js";
import { extraLayersFrom } from "../../../src/backends/lab/machine-mounts.js";
import { bootScript, sshdCanSkipReexec } from "../../../src/backends/lab/scripts.js";

test("slot addresses are distinct, in 10.213.0.0/16, never .0, .255 or the gateway", () => {
  const seen = new Set<string>();
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    const a = slotAddress(slot);
    const [p1, p2, p3, p4] = a.split(".").map(Number);
    assert.equal(`${p1}.${p2}`, "10.213");
    assert.ok(p3! >= 0 && p3! <= 255);
    assert.ok(p4! >= 1 && p4! <= 254, a);
    assert.notEqual(a, "10.213.0.1");
    seen.add(a);
  }
  assert.equal(seen.size, MAX_SLOTS);
  assert.equal(slotAddress(1), "10.213.0.2");
  assert.equal(slotAddress(254), "10.213.1.1");
  assert.throws(() => slotAddress(0), RangeError);
  assert.throws(() => slotAddress(MAX_SLOTS + 1), RangeError);
});

test("netns and veth names fit the kernel's 15 characters and map back to their slot", () => {
  for (const slot of [1, 42, MAX_SLOTS]) {
    assert.ok(vethName(slot).length <= 15);
    assert.equal(slotOfName(netnsName(slot)), slot);
    assert.equal(slotOfName(vethName(slot)), slot);
  }
  assert.equal(slotOfName("tlabx1"), undefined);
  assert.equal(slotOfName("troupe-lab0"), undefined);
  assert.equal(slotOfName("eth0"), undefined);
});

test("host names become valid hostnames", () => {
  assert.equal(hostnameFor("ubuntu-24.04-1"), "ubuntu-24.04-1");
  assert.equal(hostnameFor("Debian 12_x/1"), "debian-12-x-1");
  assert.equal(hostnameFor("--"), "lab");
  assert.ok(hostnameFor("a".repeat(100)).length <= 63);
});

test("host paths live under the state directory", () => {
  const p = hostPaths("/run/troupe-lab", 7);
  assert.equal(p.record, "/run/troupe-lab/hosts/7.json");
  assert.equal(p.upper, "/run/troupe-lab/hosts/7/fs/upper");
});

test("extra layers: other disk filesystems of the machine, parents first, nothing virtual or fresh", () => {
  const mounts = [
    "/dev/vda / ext4 rw 0 0",
    "proc /proc proc rw 0 0",
    "/dev/vdb /var/lib ext4 rw 0 0",
    "/dev/vdc /home xfs rw 0 0",
    "/dev/vda1 /boot/efi vfat rw 0 0",
    "/dev/vda2 /boot ext4 rw 0 0",
    "tmpfs /mnt/x tmpfs rw 0 0",
    "/dev/vda /run/netns ext4 rw 0 0",
    "/dev/vda /tmp/bind ext4 rw 0 0",
    "/dev/vdd /srv/with\\040space ext4 rw 0 0",
    "/dev/vde /home xfs rw 0 0",
    "/dev/vdf /lab-state/hosts ext4 rw 0 0",
  ].join("\n");
  const layers = extraLayersFrom(mounts, "/lab-state");
  assert.deepEqual(
    layers.map((l) => l.mountPoint),
    ["/boot", "/home", "/boot/efi", "/var/lib"],
  );
  assert.equal(new Set(layers.map((l) => l.key)).size, layers.length);
  for (const l of layers) assert.match(l.key, /^[A-Za-z0-9_]+-[0-9a-f]{8}$/);
});

test("each slot has its own fixed, locally administered MAC, apart from the bridge's", () => {
  const macs = new Set<string>();
  for (let slot = 1; slot <= MAX_SLOTS; slot++) {
    const mac = slotMac(slot);
    assert.match(mac, /^02(:[0-9a-f]{2}){5}$/);
    macs.add(mac);
  }
  assert.equal(macs.size, MAX_SLOTS);
  assert.equal(macs.has(BRIDGE_MAC), false);
  assert.equal(slotMac(300), "02:74:6c:00:01:2c");
});

test("lab hosts' sshd skips its re-execution where -r means that: OpenSSH before 9.8", () => {
  for (const [version, yes] of [
    ["OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL 3.0.15 3 Sep 2024", true],
    ["OpenSSH_9.2, OpenSSL 3.0.19 27 Jan 2026", true],
    ["OpenSSH_8.9p1 Ubuntu-3ubuntu0.10, OpenSSL 3.0.2 15 Mar 2022", true],
    ["OpenSSH_9.8p1, OpenSSL 3.3.1 4 Jun 2024", false],
    ["OpenSSH_10.0p2 Debian-5, OpenSSL 3.5.0 8 Apr 2025", false],
    ["sshd: illegal option -- V", false],
  ] as const) {
    assert.equal(sshdCanSkipReexec(version), yes, version);
  }
  const script = (sshdNoReexec: boolean): string =>
    bootScript({ paths: hostPaths("/run/troupe-lab", 7), hostname: "h", address: "10.213.0.8", sshdNoReexec });
  assert.match(script(true), /^exec \/usr\/sbin\/sshd -D -e -r -f /m);
  assert.match(script(false), /^exec \/usr\/sbin\/sshd -D -e -f /m);
});
