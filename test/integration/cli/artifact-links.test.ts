// Artifact symlinks through the CLI, from a real (local) host: links whose
// chain leads out of the job's artifact folder are not kept, whatever their
// target looks like when read as written, so that a step that follows links
// in the folder (a CI upload, cp -rL) cannot reach the orchestrator's files.

import { test } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { project, troupe } from "./helpers.js";

/** Every symbolic link under `dir`, relative to it. */
function linksUnder(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${e.name}` : e.name;
    if (e.isSymbolicLink()) out.push(child);
    else if (e.isDirectory()) out.push(...linksUnder(dir, child));
  }
  return out.sort();
}

test("artifact links that lead out of the job's folder through other links, absolute or looping, are not kept", () => {
  const p = project({
    "troupe.yaml": "project: links\nsuites:\n  t/:\n    summary: s\n",
    "t/links/task.yaml": `summary: a host sends links that climb out
artifacts: [out, d, up]
execute: |
  mkdir -p out/sub
  echo inside > out/file.txt
  ln -s . out/sub/l
  ln -s l/l/l/../../../.. out/sub/esc
  ln -s . d
  ln -s d/.. up
  ln -s /etc out/abs
  ln -s /etc/passwd out/passwd
  ln -s self out/self
  ln -s file.txt out/latest
  ln -s ../file.txt out/sub/back
`,
  });
  const art = join(p, "art");
  try {
    const r = troupe(["run", `--artifacts=${art}`], { cwd: p });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const job = join(art, "local/localhost/t/links");
    assert.deepEqual(linksUnder(job), ["d", "out/latest", "out/sub/back", "out/sub/l"]);
    assert.equal(readlinkSync(join(job, "out/latest")), "file.txt");
    assert.equal(readFileSync(join(job, "out/sub/back"), "utf8"), "inside\n");
    assert.ok(lstatSync(join(job, "out/file.txt")).isFile());
    // Whoever follows the links stays in the folder.
    const root = realpathSync(job);
    for (const l of linksUnder(job)) {
      const to = relative(root, realpathSync(join(job, l)));
      assert.ok(!to.startsWith(".."), `${l} leads to ${to}`);
    }
  } finally {
    rmSync(p, { recursive: true, force: true });
  }
});
