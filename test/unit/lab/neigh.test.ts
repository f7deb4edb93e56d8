// The neighbour-table thresholds the lab raises while it has hosts, and puts
// back once its bridge goes: run against a directory standing in for
// /proc/sys/net/ipv4/neigh/default.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NEIGH_THRESHOLDS, raiseNeighScript, restoreNeighScript } from "../../../src/backends/lab/scripts.js";

function fakeSysctl(values: Record<string, number>): { dir: string; saved: string; read: (k: string) => number } {
  const dir = mkdtempSync(join(tmpdir(), "troupe-neigh-"));
  for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, k), `${v}\n`);
  return { dir, saved: join(dir, "saved"), read: (k) => Number(readFileSync(join(dir, k), "utf8")) };
}

function sh(script: string): void {
  const r = spawnSync("/bin/sh", ["-c", `set -eu\n${script}`], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
}

describe("neighbour-table thresholds", () => {
  it("are sized for a full lab", () => {
    assert.ok(NEIGH_THRESHOLDS.gc_thresh3 >= 16 * 1000);
    assert.ok(NEIGH_THRESHOLDS.gc_thresh2 >= 8 * 1000 && NEIGH_THRESHOLDS.gc_thresh2 < NEIGH_THRESHOLDS.gc_thresh3);
  });

  it("are raised where lower, the originals kept once, and put back when the lab goes", () => {
    const s = fakeSysctl({ gc_thresh1: 128, gc_thresh2: 512, gc_thresh3: 1024 });
    try {
      sh(raiseNeighScript(s.saved, s.dir));
      assert.equal(s.read("gc_thresh2"), NEIGH_THRESHOLDS.gc_thresh2);
      assert.equal(s.read("gc_thresh3"), NEIGH_THRESHOLDS.gc_thresh3);
      assert.equal(s.read("gc_thresh1"), 128);
      // Every host brought up raises them again: the originals stay the originals.
      sh(raiseNeighScript(s.saved, s.dir));
      sh(restoreNeighScript(s.saved, s.dir));
      assert.deepEqual([s.read("gc_thresh1"), s.read("gc_thresh2"), s.read("gc_thresh3")], [128, 512, 1024]);
      assert.equal(existsSync(s.saved), false);
      // Nothing saved: nothing to restore.
      sh(restoreNeighScript(s.saved, s.dir));
      assert.equal(s.read("gc_thresh3"), 1024);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });

  it("never lowers a higher setting, and leaves one changed by someone else meanwhile", () => {
    const s = fakeSysctl({ gc_thresh1: 128, gc_thresh2: 512, gc_thresh3: 100_000 });
    try {
      sh(raiseNeighScript(s.saved, s.dir));
      assert.equal(s.read("gc_thresh3"), 100_000);
      assert.equal(s.read("gc_thresh2"), NEIGH_THRESHOLDS.gc_thresh2);
      writeFileSync(join(s.dir, "gc_thresh2"), "9999\n");
      sh(restoreNeighScript(s.saved, s.dir));
      assert.equal(s.read("gc_thresh2"), 9999);
      assert.equal(s.read("gc_thresh3"), 100_000);
    } finally {
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
});
