// Spread's own integration tests (tests/ of github.com/canonical/spread)
// through troupe, as Spread's CI runs them: each outer task (tests/envs,
// tests/lxd, ...) runs on one machine with `spread` on its PATH, and that
// `spread` is `troupe spread`. The outer tasks run through troupe too, on
// this machine (a `local` backend), one at a time, in the order Spread's
// worker takes them; their inner projects use the lxd backend (LXD up:
// share/engines/start.sh lxd, with the test image of .ci/images), and
// tests/qemu's the qemu backend.
//
//   node dist/test/spread-suite/run.js [TEST...]     (default: every test below)
//   TROUPE_TEST_IMAGE_DIR=... (the image store, default CI's; see test/integration/images/store.ts)
//
// Spread's files come from a git directory of canonical/spread, never from
// this repository: $TROUPE_SPREAD_GIT, else the fetch tool's mirror
// (/work/.mirror/canonical+spread/repo). Its `tests/` is unpacked into a
// temporary directory with `git archive` and removed at the end.
//
// What is not Spread's machine here, and what stands in for it:
// - PyYAML 5's `yaml.load`, `kvm-ok`, `apt` and
//   `autopkgtest-buildvm-ubuntu-cloud` (tests/qemu, which needs nested KVM
//   and downloads an Ubuntu cloud image): see stand-ins.ts. tests/qemu boots
//   troupe's debian-12 qemu image with a user ubuntu, from the image store
//   (.ci/images), under TCG: 20-40 s.
// - The systems' images for the lxd backend (ubuntu-16.04 ... ubuntu-24.04)
//   are the test image under the aliases the lxd backend looks up (no image
//   server here). LXD is needed only for the tests other than qemu.
// - HOME is a folder of the work directory (tests/qemu writes ~/.spread/qemu),
//   so that nothing of the machine's own is touched.
// - The outer project (its spread.yaml, written here) has what Spread's own
//   root spread.yaml does for the machine (PATH), a `local` backend, and a
//   project restore that discards what the inner runs kept (Spread's CI
//   throws its machine away instead).
//
// Exit status: 0 when every test passed, 1 when one failed, 2 when Spread's
// tests cannot be found.

import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEY_REUSE } from "../../src/backends/lxd/labels.js";
import { killId } from "../../src/backends/lab/procs.js";
import { qemuOf } from "../../src/backends/qemu/gc.js";
import { defaultStateDir, listVmRecords, removeVmRecord } from "../../src/backends/qemu/state.js";
import { TROUPE } from "../integration/cli/helpers.js";
import { TEST_IMAGE_DIR } from "../integration/images/store.js";
import { aliasImage, lxc } from "../integration/lxd/image.js";
import { troupeCommand, writeStandIns } from "./stand-ins.js";
import { shQuote } from "../../src/exec/shell-quote.js";

/** Spread's tests that run here, in the order Spread's CI lists them; qemu last, as it boots a VM under TCG. */
export const SPREAD_TESTS = ["adhoc", "artifacts", "envs", "lxd", "manual", "match", "nomatch", "reboot", "repack", "qemu"] as const;
/** The tests whose inner projects use the lxd backend. */
const LXD_TESTS: readonly string[] = SPREAD_TESTS.filter((t) => t !== "qemu");
/** The systems Spread's tests name (tests/lxd has them all). */
const SYSTEMS = ["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04"];
const MIRROR = "/work/.mirror/canonical+spread/repo";
/** Where Spread's tests keep their reuse file (tests/*\/task.yaml prepare). */
const SHARED_REUSE = "/run/spread-reuse.yaml";

/** The git directory of canonical/spread, or a clear error. */
export function spreadGitDir(env: NodeJS.ProcessEnv = process.env): string {
  const given = env["TROUPE_SPREAD_GIT"];
  const candidates = given ? [given] : [MIRROR];
  for (const c of candidates) {
    for (const dir of [join(c, ".git"), c]) {
      try {
        execFileSync("git", ["--git-dir", dir, "cat-file", "-e", "HEAD:tests/envs/spread.yaml"], { stdio: "ignore" });
        return dir;
      } catch {
        /* not this one */
      }
    }
  }
  throw new Error(
    `Spread's own tests are not here: ${given ? `TROUPE_SPREAD_GIT=${given}` : MIRROR} is no git directory of ` +
      `github.com/canonical/spread with tests/. Point TROUPE_SPREAD_GIT at one (a clone, or what the fetch tool ` +
      `returns for github:canonical/spread); its files are read with git and never copied into this repository.`,
  );
}

/** The outer project: Spread's tests as one suite, on this machine. */
function outerProject(work: string): string {
  return [
    "project: spread",
    "",
    "environment:",
    `    PATH: ${work}/bin:$PATH`,
    `    PYTHONPATH: ${work}/python`,
    "",
    "backends:",
    "    local:",
    "        systems:",
    "            - ubuntu-24.04",
    "",
    "path: /home/test/src/github.com/canonical/spread",
    "",
    "suites:",
    "    tests/:",
    "        summary: Integration tests",
    "",
    "# What the inner runs kept with -reuse goes when the machine is done.",
    "restore: |",
    "    for d in tests/*/; do",
    '        if [ -e "$d/.troupe-reuse.yaml" ]; then (cd "$d" && spread -discard) || true; fi',
    "    done",
    `    rm -f ${SHARED_REUSE}`,
    "",
  ].join("\n");
}

/** Stop the qemu VMs a run of this work directory kept (a safety net: the outer restore discards them). */
function removeQemuLeftovers(work: string): void {
  const stateDir = defaultStateDir();
  for (const r of listVmRecords(stateDir)) {
    if (!(r.reuse ?? "").startsWith(work + "/")) continue;
    console.error(`spread-suite: stopping qemu VM ${r.id}, left by the run`);
    killId(qemuOf(r), "SIGKILL");
    removeVmRecord(stateDir, r.id);
    rmSync(r.pidFile, { force: true });
  }
}

/** Remove what a run of this work directory may have left in LXD (a safety net: the outer restore discards it). */
function removeLeftovers(work: string): void {
  const all = JSON.parse(lxc(["query", "/1.0/instances?recursion=1"])) as { name: string; config: Record<string, string> }[];
  for (const c of all) {
    if ((c.config[KEY_REUSE] ?? "").startsWith(work + "/")) {
      console.error(`spread-suite: removing ${c.name}, left by the run`);
      lxc(["delete", "--force", c.name]);
    }
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let git: string;
  try {
    git = spreadGitDir();
  } catch (err) {
    console.error(`spread-suite: ${(err as Error).message}`);
    return 2;
  }
  const tests = argv.length > 0 ? argv : SPREAD_TESTS;
  const unknown = tests.filter((t) => !(SPREAD_TESTS as readonly string[]).includes(t));
  if (unknown.length > 0) {
    console.error(`spread-suite: no such test: ${unknown.join(" ")} (tests: ${SPREAD_TESTS.join(" ")})`);
    return 2;
  }
  const usesLxd = tests.some((t) => LXD_TESTS.includes(t));
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "troupe-spread-suite-"));
  try {
    execFileSync("sh", ["-c", `git --git-dir=${shQuote(git)} archive HEAD tests | tar -x -C ${shQuote(work)}`]);
    const commit = execFileSync("git", ["--git-dir", git, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    writeStandIns(work, troupeCommand(process.execPath, TROUPE), TEST_IMAGE_DIR);
    mkdirSync(join(work, "home"));
    writeFileSync(join(work, "spread.yaml"), outerProject(work));
    if (usesLxd) for (const s of SYSTEMS) aliasImage(s);
    // A file an earlier, killed run left would hand its containers to this one.
    rmSync(SHARED_REUSE, { force: true });
    console.error(`spread-suite: Spread ${commit}'s tests ${tests.join(" ")} in ${work}`);
    const status = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [TROUPE, "spread", "-v", ...tests.map((t) => `tests/${t}`)], {
        cwd: work,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, HOME: join(work, "home"), NO_COLOR: "1" },
      });
      const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
      for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(sig, forward);
      child.once("exit", (code, signal) => {
        for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(sig, forward);
        resolve(code ?? (signal ? 130 : 1));
      });
    });
    console.error(`spread-suite: ${status === 0 ? "passed" : `FAILED (${status})`} in ${Math.round((Date.now() - started) / 1000)}s`);
    return status === 0 ? 0 : 1;
  } finally {
    removeQemuLeftovers(work);
    try {
      if (usesLxd) removeLeftovers(work);
    } catch (err) {
      console.error(`spread-suite: cannot look for containers left in LXD: ${(err as Error).message}`);
    }
    rmSync(SHARED_REUSE, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
