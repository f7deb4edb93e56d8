// Reuse through the CLI, as a user runs it: --reuse keeps hosts between
// runs (lab, local, and adhoc hosts recorded by Spread), --resend sends the
// project again, Ctrl-C keeps them, --discard throws them away, and a killed
// run's hosts go with --reuse-pid=PID --discard.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { labLeftovers, lines, privateTmp as newTmp, project as newProject, troupe, troupeAsync, type Result } from "./helpers.js";

/** Projects and TMPDIRs of these tests, removed at the end. */
const made: string[] = [];
const project = (files: Readonly<Record<string, string>>): string => {
  const d = newProject(files);
  made.push(d);
  return d;
};
const privateTmp = (): string => {
  const d = newTmp();
  made.push(d);
  return d;
};
after(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface Entry {
  readonly name: string;
  readonly address: string;
}

/** The hosts a reuse file records (troupe's own format: `- SYSTEM:` then `name:` and `address:`). */
function recorded(file: string): Entry[] {
  if (!existsSync(file)) return [];
  const out: Entry[] = [];
  let name = "";
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const n = /^\s+name: (\S+)$/.exec(line);
    if (n) name = n[1]!;
    const a = /^\s+address: (\S+)$/.exec(line);
    if (a) out.push({ name, address: a[1]! });
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/** Lab host records (anyone's) that are one of `hosts`, by name and address. */
function labRecordsOf(hosts: readonly Entry[]): Entry[] {
  const dir = "/run/troupe-lab/hosts";
  const out: Entry[] = [];
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (!f.endsWith(".json")) continue;
    try {
      const r = JSON.parse(readFileSync(join(dir, f), "utf8")) as Entry;
      if (hosts.some((h) => h.name === r.name && h.address === r.address)) out.push({ name: r.name, address: r.address });
    } catch {
      /* removed while being read */
    }
  }
  return out.sort((x, y) => x.name.localeCompare(y.name));
}

/** ssh processes a troupe process with this TMPDIR left (its masters). */
function sshLeft(pid: number, tmp: string): string[] {
  return labLeftovers(pid, tmp).filter((l) => l.startsWith("ssh process"));
}

/** `Allocated|Reusing BACKEND:SYSTEM (NAME) at ADDRESS.` lines. */
function hostsOf(r: Result, verb: "Allocated" | "Reusing"): Entry[] {
  return lines(r.stdout)
    .flatMap((l) => {
      const m = new RegExp(`^${verb} \\S+ \\((\\S+)\\) at (\\S+)\\.$`).exec(l);
      return m ? [{ name: m[1]!, address: m[2]! }] : [];
    })
    .sort((x, y) => x.name.localeCompare(y.name));
}

/** What each host of the pair job printed: `me=HOST data=... seen=...`. */
function reports(r: Result): Map<string, { data: string; seen: string }> {
  const out = new Map<string, { data: string; seen: string }>();
  for (const l of lines(r.stdout)) {
    const m = /^(?:\S+: )?me=(\S+) data=(\S+) seen=(\S+)$/.exec(l);
    if (m) out.set(m[1]!, { data: m[2]!, seen: m[3]! });
  }
  return out;
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function labProject(): string {
  return project({
    "troupe.yaml":
      "project: reuse-lab\npath: /srv/reuse-lab\nbackends:\n  lab:\n    systems:\n      - deb:\n          workers: 2\nsuites:\n  checks/:\n    summary: s\n",
    // One job on both hosts at once, so that each run uses each host.
    "checks/pair/task.yaml":
      "summary: both hosts\nhosts:\n  node: {count: 2}\nexecute: |\n" +
      '  echo "me=$(hostname) data=$(cat "$SPREAD_PATH/data.txt") seen=$(cat /root/seen 2>/dev/null || echo none)"\n' +
      '  echo "$TROUPE_HOST" > /root/seen\n',
    "checks/slow/task.yaml": "summary: slow\nexecute: |\n  echo started\n  sleep 600\n",
    "data.txt": "one\n",
  });
}

test("--reuse keeps lab hosts between runs, --resend sends the project again, Ctrl-C keeps them, --discard removes them", async () => {
  const dir = labProject();
  const file = join(dir, ".troupe-reuse.yaml");
  const run = (...args: string[]): Result => {
    const tmp = privateTmp();
    const r = troupe(["run", "-v", ...args], { cwd: dir, env: { TMPDIR: tmp } });
    assert.deepEqual(sshLeft(r.pid, tmp), [], `ssh masters left by troupe run ${args.join(" ")}`);
    return r;
  };
  let kept: Entry[] = [];
  try {
    const first = run("--reuse", "checks/pair");
    assert.equal(first.status, 0, first.stdout + first.stderr);
    kept = hostsOf(first, "Allocated");
    assert.equal(kept.length, 2, first.stdout);
    assert.deepEqual(recorded(file), kept);
    for (const h of kept)
      assert.match(first.stdout, new RegExp(`Keeping lab:deb \\(${h.name}\\) at ${h.address.replace(/\./g, "\\.")}\\.`));
    assert.match(first.stdout, /2 host\(s\) kept in \.troupe-reuse\.yaml: `troupe run --reuse` uses them again/);
    assert.deepEqual(
      [...reports(first).values()].map((x) => x.seen),
      ["none", "none"],
    );

    // Kept hosts outlive the run and show as such (what `lab gc` does with
    // them is tested in test/unit/reuse/lab-gc.test.ts: a gc here could take
    // hosts other tests are about to collect themselves).
    assert.deepEqual(labRecordsOf(kept), kept);
    const status = troupe(["lab", "status"]);
    for (const h of kept)
      assert.match(
        status.stdout,
        new RegExp(`${h.name}\\s+${h.address.replace(/\./g, "\\.")}\\s+kept for --reuse \\(${file.replace(/\./g, "\\.")}\\)`),
      );

    // The same hosts again, with what the first run left on them and its copy of the project.
    writeFileSync(join(dir, "data.txt"), "two\n");
    const second = run("--reuse", "checks/pair");
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.deepEqual(hostsOf(second, "Reusing"), kept);
    assert.deepEqual(hostsOf(second, "Allocated"), []);
    assert.equal(lines(second.stdout).filter((l) => /^Reusing project data on lab:deb/.test(l)).length, 2);
    assert.doesNotMatch(second.stdout, /Sending project content/);
    const seen = reports(second);
    assert.deepEqual(
      [...seen.keys()].sort(),
      kept.map((h) => h.name),
    );
    for (const x of seen.values()) {
      assert.equal(x.data, "one", "without --resend the hosts keep the project as first sent");
      assert.match(x.seen, /^node-[12]$/, "the first run's file is still there");
    }

    const third = run("--reuse", "--resend", "checks/pair");
    assert.equal(third.status, 0, third.stdout + third.stderr);
    assert.deepEqual(hostsOf(third, "Reusing"), kept);
    assert.equal(lines(third.stdout).filter((l) => /^Sending project content to lab:deb/.test(l)).length, 2);
    assert.deepEqual(
      [...reports(third).values()].map((x) => x.data),
      ["two", "two"],
    );

    // Ctrl-C in a --reuse run: the host is kept, not discarded (one job: one host).
    const tmp = privateTmp();
    const child = troupeAsync(["run", "-v", "--reuse", "checks/slow"], { cwd: dir, env: { TMPDIR: tmp } });
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    await waitFor(() => /Executing lab:deb:checks\/slow/.test(out), "the slow job to start");
    child.kill("SIGINT");
    assert.equal(await exited, 130, out);
    assert.equal(lines(out).filter((l) => /^Keeping lab:deb \(/.test(l)).length, 1, out);
    assert.doesNotMatch(out, /Discarding lab:deb/);
    assert.deepEqual(recorded(file), kept);
    assert.deepEqual(labRecordsOf(kept), kept);
    assert.deepEqual(sshLeft(child.pid!, tmp), []);

    const discard = run("--discard");
    assert.equal(discard.status, 0, discard.stdout + discard.stderr);
    assert.equal(lines(discard.stdout).filter((l) => /^Discarding lab:deb \(/.test(l)).length, 2, discard.stdout);
    assert.doesNotMatch(discard.stdout, /Successful tasks/, "-discard runs nothing");
    assert.deepEqual(recorded(file), []);
    assert.deepEqual(labRecordsOf(kept), [], "nothing is left of the hosts");
    kept = [];
  } finally {
    if (kept.length > 0) troupe(["run", "--discard"], { cwd: dir });
  }
});

test("a killed run's lab hosts are discarded with --reuse-pid=PID --discard", async () => {
  const dir = labProject();
  const tmp = privateTmp();
  const child = troupeAsync(["run", "checks/slow"], { cwd: dir, env: { TMPDIR: tmp } });
  const pid = child.pid!;
  const journal = join(dir, `.troupe-reuse.${pid}.yaml`);
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let hosts: Entry[] = [];
  try {
    await waitFor(() => /Executing lab:deb:checks\/slow/.test(out), "the slow job to start");
    assert.match(out, new RegExp(`If killed, discard hosts with: troupe run --reuse-pid=${pid} --discard`));
    hosts = recorded(journal);
    assert.ok(hosts.length >= 1, `the run records its hosts as they come up: ${hosts.length}`);
    assert.deepEqual(labRecordsOf(hosts), hosts);
    child.kill("SIGKILL");
    await exited;

    const r = troupe(["run", `--reuse-pid=${pid}`, "--discard"], { cwd: dir, env: { TMPDIR: privateTmp() } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const h of hosts) assert.match(r.stdout, new RegExp(`Discarding lab:deb \\(${h.name}\\)`));
    assert.deepEqual(labRecordsOf(hosts), []);
    assert.equal(existsSync(journal), false, "the file of the killed run is removed");
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.startsWith(".troupe-reuse")),
      [],
    );
    // The killed run's ssh masters lose their hosts and end.
    await waitFor(() => sshLeft(pid, tmp).length === 0, "the killed run's ssh masters to end", 30_000);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (labRecordsOf(hosts).length > 0) troupe(["run", `--reuse-pid=${pid}`, "--discard"], { cwd: dir });
    for (const l of sshLeft(pid, tmp)) {
      try {
        process.kill(Number(/^ssh process (\d+)/.exec(l)?.[1]));
      } catch {
        /* gone meanwhile */
      }
    }
  }
});

test("hosts recorded by Spread in .spread-reuse.yaml are reused and discarded, through `troupe spread`", () => {
  const lab = `rz${process.pid}`;
  const up = troupe(["lab", "up", "1", "--name", lab]);
  assert.equal(up.status, 0, up.stderr);
  try {
    const st = JSON.parse(troupe(["lab", "status", "--json"]).stdout) as {
      identityFile: string;
      hosts: { name: string; address: string; lab?: string }[];
    };
    const host = st.hosts.find((h) => h.lab === lab)!;
    const dir = project({
      "spread.yaml":
        "project: from-spread\npath: /srv/from-spread\nbackends:\n  cloud:\n    type: adhoc\n" +
        '    allocate: |\n      FATAL "no new machines: the recorded one is to be reused"\n' +
        '    discard: |\n      echo "$SPREAD_SYSTEM $SPREAD_SYSTEM_ADDRESS" >> discarded.log\n' +
        `    systems:\n      - centos-9:\n          identity-file: ${st.identityFile}\nsuites:\n  checks/:\n    summary: s\n`,
      "checks/where/task.yaml": 'summary: where\nexecute: echo "on $(hostname)"\n',
      // As Spread writes it (spread/reuse.go): no name, and the run's password.
      ".spread-reuse.yaml": `backends:\n  cloud:\n    systems:\n    - centos-9:\n        password: 5e2f0c1d9a8b7c6d\n        address: ${host.address}\n`,
    });
    const spreadFile = readFileSync(join(dir, ".spread-reuse.yaml"), "utf8");

    const r = troupe(["spread", "-reuse", "-v"], { cwd: dir, env: { TMPDIR: privateTmp() } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`Reusing cloud:centos-9 \\(centos-9-1\\) at ${host.address.replace(/\./g, "\\.")}\\.`));
    assert.match(r.stdout, new RegExp(`on ${host.name}`));
    assert.deepEqual(recorded(join(dir, ".troupe-reuse.yaml")), [{ name: "centos-9-1", address: host.address }]);
    // A Spread project: Spread's file is kept in Spread's format too, with what it held.
    assert.equal(
      readFileSync(join(dir, ".spread-reuse.yaml"), "utf8"),
      spreadFile.replace("    - ", "      - ").replace(/^ {8}/gm, "          "),
    );

    const d = troupe(["spread", "-discard"], { cwd: dir });
    assert.equal(d.status, 0, d.stdout + d.stderr);
    assert.match(d.stdout, /Discarding cloud:centos-9 \(centos-9-1\)/);
    assert.equal(readFileSync(join(dir, "discarded.log"), "utf8"), `centos-9 ${host.address}\n`);
    assert.deepEqual(recorded(join(dir, ".troupe-reuse.yaml")), []);
  } finally {
    troupe(["lab", "down", "--name", lab]);
  }
});

test("local hosts: --reuse keeps the worker's working copy, a gone one is replaced, --discard removes it", () => {
  const dir = project({
    "troupe.yaml":
      "project: reuse-local\npath: /srv/unused\nbackends:\n  local:\n    systems:\n      - box:\nsuites:\n  checks/:\n    summary: s\n",
    "checks/a/task.yaml":
      'summary: a\nexecute: |\n  echo "path=$SPREAD_PATH seen=$(cat "$SPREAD_PATH/seen" 2>/dev/null || echo none)"\n  echo "$SPREAD_JOB" > "$SPREAD_PATH/seen"\n',
  });
  const report = (r: Result): { path: string; seen: string } => {
    const m = /^path=(\S+) seen=(\S+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    return { path: m[1]!, seen: m[2]! };
  };
  const first = troupe(["run", "-v", "--reuse"], { cwd: dir });
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const a = report(first);
  assert.equal(a.seen, "none");
  assert.equal(lstatSync(a.path).isDirectory(), true, "a kept copy is a directory on disk, not a link to a copy in memory");
  assert.match(first.stdout, /Keeping local:box \(box-1\) at 127\.0\.0\.1\./);

  const second = troupe(["run", "-v", "--reuse"], { cwd: dir });
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /Reusing local:box \(box-1\) at 127\.0\.0\.1\./);
  assert.match(second.stdout, /Reusing project data on local:box \(box-1\)/);
  assert.deepEqual(report(second), { path: a.path, seen: "local:box:checks/a" });

  // A recorded host whose copy is gone is forgotten, and a new one takes its place.
  const file = join(dir, ".troupe-reuse.yaml");
  writeFileSync(file, readFileSync(file, "utf8").replace(/dir: .*/, "dir: /nonexistent/box-1"));
  const third = troupe(["run", "-v", "--reuse"], { cwd: dir });
  assert.equal(third.status, 0, third.stdout + third.stderr);
  assert.match(third.stdout, /local:box \(box-1\) at 127\.0\.0\.1 is gone; forgetting it/);
  assert.match(third.stdout, /Allocated local:box \(box-1\) at 127\.0\.0\.1\./);
  const c = report(third);
  assert.notEqual(c.path, a.path);
  assert.equal(c.seen, "none");

  const d = troupe(["run", "--discard"], { cwd: dir });
  assert.equal(d.status, 0, d.stdout + d.stderr);
  assert.match(d.stdout, /Discarding local:box \(box-1\)/);
  assert.equal(existsSync(c.path), false, "the working copy is removed");
  assert.equal(existsSync(a.path), true, "the copy of the first run is left as it is");
  assert.deepEqual(recorded(file), []);
});

test("a reuse file troupe cannot read, and reuse flags that make no sense, stop with a clear error", () => {
  const dir = project({
    "troupe.yaml": "project: bad\npath: /srv/bad\nbackends:\n  local:\n    systems:\n      - box:\nsuites:\n  checks/:\n    summary: s\n",
    "checks/a/task.yaml": "summary: a\nexecute: echo should not run > ran\n",
    ".troupe-reuse.yaml": "backends:\n  local:\n    systems:\n      - box:\n          name: box-1\n          addres: 127.0.0.1\n",
  });
  const r = troupe(["run", "--reuse"], { cwd: dir });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(
    r.stderr,
    /\.troupe-reuse\.yaml:5:11: backends\.local\.systems\[0\]\.box: has no `address:`; fix it, or remove the file to forget the hosts it records/,
  );
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, "no stack trace");

  writeFileSync(join(dir, ".troupe-reuse.yaml"), "backends:\n  local: [\n");
  const y = troupe(["run", "--discard"], { cwd: dir });
  assert.equal(y.status, 2);
  assert.match(y.stderr, /\.troupe-reuse\.yaml:\d+:\d+: invalid YAML/);

  const pid = troupe(["run", "--reuse-pid", "999999"], { cwd: dir });
  assert.equal(pid.status, 2);
  assert.match(
    pid.stderr,
    /no hosts are recorded for process 999999: neither \.troupe-reuse\.999999\.yaml nor \.spread-reuse\.999999\.yaml/,
  );

  const resend = troupe(["run", "--resend"], { cwd: dir });
  assert.equal(resend.status, 2);
  assert.match(resend.stderr, /--resend sends the project again to reused hosts: use it with --reuse or --reuse-pid/);
  assert.equal(existsSync(join(dir, "ran")), false);
});

test("`troupe run --help` shows the reuse options", () => {
  const r = troupe(["run", "--help"]);
  assert.equal(r.status, 0);
  for (const o of ["--reuse ", "--reuse-pid <pid>", "--resend", "--discard"]) assert.ok(r.stdout.includes(o), `${o} in:\n${r.stdout}`);
  assert.doesNotMatch(r.stdout, /--gc/);
});
