// snapd's unchanged spread.yaml through troupe, as far as a lab host can
// take it: one job of google-core:ubuntu-core-18-64 with the google-core
// backend mapped to lab hosts. It checks that troupe gets through `repack`
// (snapd's, under bash, with the project environment) and through every line
// of the project `prepare` that spread.yaml itself holds (bash's `[[ ]]`,
// the move out of the renamed $DELTA_PREFIX directory, `type MATCH`, ...),
// up to its last line, snapd's own tests/lib/prepare-restore.sh. What that
// script does next is snapd's: it needs a virtual machine (it refuses a
// container, which a lab host on a container is) and the network.
//
//   node dist/test/spread-suite/snapd.js
//
// snapd's tree comes from a git directory of github.com/snapcore/snapd:
// $TROUPE_SNAPD_GIT, else the fetch tool's mirror
// (/work/.mirror/snapcore+snapd/repo); exit 2 when there is none. Offline;
// about 20 s. Exit 0 when troupe got that far, 1 when it did not.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TROUPE } from "../integration/cli/helpers.js";

const MIRROR = "/work/.mirror/snapcore+snapd/repo";
const JOB = "google-core:ubuntu-core-18-64:tests/core/apt";
const LAST_PREPARE_LINE = "+ /home/gopath/src/github.com/snapcore/snapd/tests/lib/prepare-restore.sh --prepare-project";

function gitDir(): string | undefined {
  const c = process.env["TROUPE_SNAPD_GIT"] ?? MIRROR;
  for (const dir of [join(c, ".git"), c]) {
    const r = spawnSync("git", ["--git-dir", dir, "cat-file", "-e", "HEAD:spread.yaml"], { stdio: "ignore" });
    if (r.status === 0) return dir;
  }
  return undefined;
}

function main(): number {
  const git = gitDir();
  if (!git) {
    console.error(
      `snapd: no git directory of github.com/snapcore/snapd at ${process.env["TROUPE_SNAPD_GIT"] ?? MIRROR}; ` +
        "point TROUPE_SNAPD_GIT at one (a clone, or what the fetch tool returns for github:snapcore/snapd)",
    );
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), "troupe-snapd-"));
  try {
    execFileSync("sh", ["-c", `git --git-dir='${git}' archive HEAD | tar -x -C '${work}'`]);
    const r = spawnSync(process.execPath, [TROUPE, "spread", "-v", "--backend-as", "google-core=lab", JOB], {
      cwd: work,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      maxBuffer: 64 * 1024 * 1024,
    });
    const out = r.stdout;
    const checks: [string, boolean][] = [
      ["the project was packed (rename, repack) and sent", /Sending project content to google-core:ubuntu-core-18-64/.test(out)],
      ["bash ran spread.yaml's prepare: [[ ]] tests", out.includes("+ [[ ubuntu-core-18-64 == fedora-* ]]")],
      ["the renamed content was moved out of $DELTA_PREFIX", out.includes("+ rmdir snapd-2.62/") || out.includes("+ rmdir snapd-")],
      ["type MATCH gave the helper's text", out.includes("+ unset MATCH")],
      ["the last line of spread.yaml's prepare was reached", out.includes(LAST_PREPARE_LINE)],
    ];
    for (const [what, ok] of checks) console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
    const stop = /^\+ echo '([^']*)'$/m.exec(out.slice(out.indexOf(LAST_PREPARE_LINE)))?.[1];
    console.log(`snapd's prepare-restore.sh then ${r.status === 0 ? "passed" : `stopped${stop ? `: ${stop}` : ""}`} (exit ${r.status})`);
    if (checks.some(([, ok]) => !ok)) {
      console.log(out + r.stderr);
      return 1;
    }
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

process.exitCode = main();
