// What a multi-host job leaves behind, through the CLI on local processes:
// each host's artifacts in a folder of its own, the job's key-value store in
// run.json, and the blame for `troupe-ctl fail` on the host that called it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, privateTmp, project, troupe } from "./helpers.js";

const PROJECT = "project: mhres\nbackends:\n  local:\n    systems:\n      - sys:\n          workers: 3\nsuites:\n  s/:\n    summary: s\n";

function onlyRun(dir: string): string {
  const ids = readdirSync(join(dir, ".troupe", "runs"));
  assert.equal(ids.length, 1);
  return ids[0]!;
}

const ARTIFACTS_TASK = `summary: every host writes the same file
hosts:
  server: {}
  client: {count: 2}
artifacts: [out.txt]
execute: |
  echo "written by $TROUPE_HOST" > out.txt
`;

/** Run the artifacts task (extra: e.g. --backend-as local=lab); each host's file must be in its own folder. */
function checkArtifacts(extra: readonly string[], env: Record<string, string> = {}): ReturnType<typeof troupe> {
  const dir = project({ "troupe.yaml": PROJECT, "s/t/task.yaml": ARTIFACTS_TASK });
  try {
    const art = join(dir, "art");
    const r = troupe(["run", "--artifacts", art, "--html", ...extra], { cwd: dir, env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const job = join(art, "local", "sys", "s", "t");
    assert.deepEqual(readdirSync(job).sort(), ["client-1", "client-2", "server"]);
    for (const as of ["server", "client-1", "client-2"]) {
      assert.equal(readFileSync(join(job, as, "out.txt"), "utf8"), `written by ${as}\n`);
    }
    const page = readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), "report.html"), "utf8");
    assert.match(page, /art\/local\/sys\/s\/t\//);
    return r;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("each host of a multi-host job fetches its artifacts into a folder of its own, which the report links to", () => {
  checkArtifacts([]);
});

test("the same on three lab hosts, artifacts coming over ssh, and nothing left behind", () => {
  const tmp = privateTmp();
  try {
    const r = checkArtifacts(["--backend-as", "local=lab"], { TMPDIR: tmp });
    assert.match(r.stdout, /Allocated local:sys \(sys-\d+\) at 10\.213\./);
    assert.deepEqual(labLeftovers(r.pid, tmp), []);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test("troupe-ctl fail is blamed on the host that called it, with its message, in the summary, run.json and JUnit", () => {
  const dir = project({
    "troupe.yaml": PROJECT,
    "s/t/task.yaml": `summary: a client gives up on purpose while the others wait
hosts:
  server: {}
  client: {count: 2}
execute/server: |
  troupe-ctl barrier done
execute/client: |
  if [ "$TROUPE_HOST" = client-2 ]; then
    troupe-ctl fail "no route to server" || true
    exit 0
  fi
  troupe-ctl barrier done
`,
  });
  try {
    const junit = join(dir, "junit.xml");
    const r = troupe(["run", "--junit", junit], { cwd: dir });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const why = "execute failed on client-2: troupe-ctl fail: no route to server";
    assert.match(r.stdout, new RegExp(`Failed tasks: 1\\n\\s+- local:sys:s/t \\(${why}\\)\\n`));
    const runJson = JSON.parse(readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), "run.json"), "utf8")) as {
      jobs: { status: string; reason?: string }[];
    };
    assert.equal(runJson.jobs[0]!.status, "failed");
    assert.equal(runJson.jobs[0]!.reason, why);
    assert.match(readFileSync(junit, "utf8"), new RegExp(`<failure message="failed on [^"]*: ${why}"`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a multi-host job's key-value store ends up in run.json, redacted, at most 100 keys with the rest counted", () => {
  const dir = project({
    "troupe.yaml": PROJECT.replace("project: mhres\n", "project: mhres\nsecrets: [DEPLOY_CODE]\nenvironment:\n  DEPLOY_CODE: 7f3a9c1e55\n"),
    "s/t/task.yaml": `summary: the hosts leave values behind
hosts:
  server: {}
  client: {count: 2}
execute/server: |
  troupe-ctl kv set server/version 2.4.1
  troupe-ctl kv set code "deployed with $DEPLOY_CODE"
  troupe-ctl kv set gone soon
  troupe-ctl kv del gone
  troupe-ctl barrier seen
  i=0
  while [ $i -lt 110 ]; do troupe-ctl kv set "n/$i" "$i"; i=$((i + 1)); done
  troupe-ctl barrier done
execute/client: |
  troupe-ctl kv set "$TROUPE_HOST/seen" "$(troupe-ctl kv get server/version --wait)"
  troupe-ctl barrier seen
  troupe-ctl barrier done
`,
  });
  try {
    const r = troupe(["run"], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const text = readFileSync(join(dir, ".troupe", "runs", onlyRun(dir), "run.json"), "utf8");
    assert.doesNotMatch(text, /7f3a9c1e55/);
    const job = (JSON.parse(text) as { jobs: { kv?: Record<string, string>; kvDropped?: number }[] }).jobs[0]!;
    const kv = job.kv!;
    assert.equal(kv["server/version"], "2.4.1");
    assert.equal(kv["code"], "deployed with ***");
    assert.equal(kv["client-1/seen"], "2.4.1");
    assert.equal(kv["client-2/seen"], "2.4.1");
    assert.equal("gone" in kv, false);
    // 2 from the server, 2 from the clients, then 110 numbered: 114 keys, the last 14 counted only.
    assert.equal(Object.keys(kv).length, 100);
    assert.equal(job.kvDropped, 14);
    assert.equal(kv["n/95"], "95");
    assert.equal("n/96" in kv, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
