// Spread's own integration tests (tests/ of github.com/canonical/spread)
// through troupe, as Spread's CI runs them: each outer task (tests/envs,
// tests/lxd, ...) runs on one machine with `spread` on its PATH, and that
// `spread` is `troupe spread`. The outer tasks run through troupe too, on
// this machine (a `local` backend), one at a time, in the order Spread's
// worker takes them; their inner projects use the lxd backend, so LXD must
// be up (share/engines/start.sh lxd) with the test image (.ci/images).
//
//   node dist/test/spread-suite/run.js [TEST...]     (default: every test below)
//
// Spread's files come from a git directory of canonical/spread, never from
// this repository: $TROUPE_SPREAD_GIT, else the fetch tool's mirror
// (/work/.mirror/canonical+spread/repo). Its `tests/` is unpacked into a
// temporary directory with `git archive` and removed at the end.
//
// What is not Spread's machine here, and what stands in for it:
// - Spread's CI machine is Ubuntu 20.04, whose PyYAML lets tests/adhoc call
//   `yaml.load(stream)`; PyYAML 6 (Debian 12) wants a Loader. A
//   sitecustomize on PYTHONPATH gives `yaml.load` the safe loader by default.
// - The systems' images (ubuntu-16.04 ... ubuntu-24.04) are the test image
//   under the aliases the lxd backend looks up (no image server here).
// - tests/qemu needs nested KVM and an Ubuntu cloud image downloaded by
//   autopkgtest-buildvm-ubuntu-cloud: it is not run (no internet in CI).
// - The outer project (its spread.yaml, written here) has what Spread's own
//   root spread.yaml does for the machine (PATH), a `local` backend, and a
//   project restore that discards what the inner runs kept (Spread's CI
//   throws its machine away instead).
//
// Exit status: 0 when every test passed, 1 when one failed, 2 when Spread's
// tests cannot be found.

import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEY_REUSE } from "../../src/backends/lxd/labels.js";
import { TROUPE } from "../integration/cli/helpers.js";
import { aliasImage, lxc } from "../integration/lxd/image.js";

/** Spread's tests that run here, in the order Spread's CI lists them. */
export const SPREAD_TESTS = ["adhoc", "artifacts", "envs", "lxd", "manual", "match", "nomatch", "reboot", "repack"] as const;
/** The systems Spread's tests name (tests/lxd has them all). */
const SYSTEMS = ["ubuntu-16.04", "ubuntu-18.04", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04"];
const MIRROR = "/work/.mirror/canonical+spread/repo";
/** Where Spread's tests keep their reuse file (tests/*\/task.yaml prepare). */
const SHARED_REUSE = "/run/spread-reuse.yaml";

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

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

const SITECUSTOMIZE = `# PyYAML 6 wants a Loader where Spread's tests (written on PyYAML 5) give none.
try:
    import yaml
    _load = yaml.load
    def _load_safe(stream, Loader=None):
        return _load(stream, Loader or yaml.SafeLoader)
    yaml.load = _load_safe
except ImportError:
    pass
`;

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
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "troupe-spread-suite-"));
  try {
    execFileSync("sh", ["-c", `git --git-dir=${q(git)} archive HEAD tests | tar -x -C ${q(work)}`]);
    const commit = execFileSync("git", ["--git-dir", git, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    mkdirSync(join(work, "bin"));
    writeFileSync(join(work, "bin", "spread"), `#!/bin/sh\nexec ${q(process.execPath)} ${q(TROUPE)} spread "$@"\n`);
    chmodSync(join(work, "bin", "spread"), 0o755);
    mkdirSync(join(work, "python"));
    writeFileSync(join(work, "python", "sitecustomize.py"), SITECUSTOMIZE);
    writeFileSync(join(work, "spread.yaml"), outerProject(work));
    for (const s of SYSTEMS) aliasImage(s);
    // A file an earlier, killed run left would hand its containers to this one.
    rmSync(SHARED_REUSE, { force: true });
    console.error(`spread-suite: Spread ${commit}'s tests ${tests.join(" ")} in ${work}`);
    const status = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [TROUPE, "spread", "-v", ...tests.map((t) => `tests/${t}`)], {
        cwd: work,
        stdio: ["ignore", "inherit", "inherit"],
        env: { ...process.env, NO_COLOR: "1" },
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
    try {
      removeLeftovers(work);
    } catch (err) {
      console.error(`spread-suite: cannot look for containers left in LXD: ${(err as Error).message}`);
    }
    rmSync(SHARED_REUSE, { force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = await main(process.argv.slice(2));
