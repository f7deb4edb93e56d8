// The ssh and adhoc backends through the CLI, against real lab hosts reached
// as plain SSH hosts: by address, through an Ansible inventory, and allocated
// by an adhoc script that runs `troupe lab up`.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { labLeftovers, lines, privateTmp, project, REPO, TROUPE, troupe } from "../cli/helpers.js";

const LAB_KEY = "/run/troupe-lab/id_ed25519";

/** Addresses of a lab's hosts, by host name, from `troupe lab up` output. */
function labUp(n: number, name: string): Map<string, string> {
  const up = troupe(["lab", "up", String(n), "--name", name]);
  assert.equal(up.status, 0, up.stdout + up.stderr);
  const hosts = new Map<string, string>();
  for (const l of up.stdout.split("\n")) {
    const m = /^\s+(\S+)\s+(10\.213\.\d+\.\d+)\s/.exec(l);
    if (m?.[1] && m[2]) hosts.set(m[1], m[2]);
  }
  assert.equal(hosts.size, n, up.stdout);
  return hosts;
}

function labDown(name: string): void {
  const down = troupe(["lab", "down", "--name", name]);
  assert.equal(down.status, 0, down.stdout + down.stderr);
}

/** Keys `file` holds for `address` (ssh-keygen -F), or none when there is no file. */
function knownKeys(file: string, address: string): string[] {
  if (!existsSync(file)) return [];
  const r = spawnSync("ssh-keygen", ["-F", address, "-f", file], { encoding: "utf8" });
  return r.stdout.split("\n").filter((l) => l !== "" && !l.startsWith("#"));
}

const TASKS = {
  "checks/write/task.yaml": [
    "summary: leave a mark on the host and bring a file back",
    "artifacts: [out.txt]",
    "execute: |",
    "  hostname > /root/troupe-ssh-mark-$MARK",
    '  echo "$(hostname) as $(id -un)" > out.txt',
    "",
  ].join("\n"),
};

function sshProject(systems: string, extra: Record<string, string> = {}, mark = "x"): string {
  return project({
    "troupe.yaml": [
      "project: ssh-it",
      "path: /root/ssh-it-project",
      "environment:",
      `  MARK: ${mark}`,
      "  LOGIN: root",
      "backends:",
      "  fleet:",
      "    type: ssh",
      systems,
      "suites:",
      "  checks/:",
      "    summary: checks",
      "",
    ].join("\n"),
    ...TASKS,
    ...extra,
  });
}

describe("the ssh backend on lab hosts", () => {
  const lab = `ssh${process.pid}`;
  let hosts: Map<string, string>;
  let one: string;
  let two: string;
  const dirs: string[] = [];
  const tmp = (): string => {
    const d = mkdtempSync(join(tmpdir(), "troupe-ssh-it-"));
    dirs.push(d);
    return d;
  };

  before(() => {
    hosts = labUp(2, lab);
    one = hosts.get(`${lab}-1`) ?? "";
    two = hosts.get(`${lab}-2`) ?? "";
  });
  after(() => {
    labDown(lab);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** Run the project with a HOME and TMPDIR of its own; check what every run must hold. */
  function runOn(dir: string, mark: string): { out: string; artifacts: string; home: string } {
    const home = tmp();
    const artifacts = join(tmp(), "artifacts");
    const sshTmp = privateTmp();
    dirs.push(sshTmp);
    const userKnown = join(userInfo().homedir, ".ssh", "known_hosts");
    const before = [one, two].map((a) => knownKeys(userKnown, a).length);
    const r = troupe(["run", "--artifacts", artifacts], { cwd: dir, env: { HOME: home, TMPDIR: sshTmp } });
    const out = r.stdout + r.stderr;
    assert.equal(r.status, 0, out);
    assert.match(r.stdout, /Successful tasks: 2/);
    // Each host ran one job and kept what the task wrote there.
    const marks = troupe(["exec", `lab:${lab}`, "--", `cat /root/troupe-ssh-mark-${mark}`]);
    assert.equal(marks.status, 0, marks.stdout + marks.stderr);
    assert.deepEqual(marks.stdout.trim().split("\n").sort(), [`${lab}-1: ${lab}-1`, `${lab}-2: ${lab}-2`]);
    // New host keys went into the project's known_hosts only.
    const projectKnown = join(dir, ".troupe", "known_hosts");
    for (const a of [one, two]) assert.ok(knownKeys(projectKnown, a).length > 0, `no key for ${a} in ${projectKnown}`);
    assert.equal(existsSync(join(home, ".ssh", "known_hosts")), false, "troupe wrote into $HOME/.ssh/known_hosts");
    assert.deepEqual(
      [one, two].map((a) => knownKeys(userKnown, a).length),
      before,
      `troupe wrote into ${userKnown}`,
    );
    assert.deepEqual(labLeftovers(r.pid, sshTmp), []);
    return { out: r.stdout, artifacts, home };
  }

  test("hosts by address with the lab key: jobs on both hosts, files left there, artifacts back, keys only in the project", () => {
    const dir = sshProject(
      [
        "    systems:",
        "      - first:",
        `          hosts: [${one}]`,
        `          identity-file: ${LAB_KEY}`,
        "      - second:",
        `          hosts: [root@${two}:22]`,
        `          identity-file: ${LAB_KEY}`,
      ].join("\n"),
      {},
      "byaddr",
    );
    dirs.push(dir);
    const { artifacts } = runOn(dir, "byaddr");
    assert.equal(readFileSync(join(artifacts, "fleet/first/checks/write", "out.txt"), "utf8"), `${lab}-1 as root\n`);
    assert.equal(readFileSync(join(artifacts, "fleet/second/checks/write", "out.txt"), "utf8"), `${lab}-2 as root\n`);
  });

  test("the same project through an Ansible inventory (INI): groups are systems", () => {
    const dir = sshProject(
      ["    inventory: hosts.ini", "    systems:", "      - web:", "      - db:"].join("\n"),
      {
        "hosts.ini": [
          "[web]",
          `front ansible_host=${one} ansible_user=root ansible_ssh_private_key_file=${LAB_KEY}`,
          "",
          "[db]",
          `store ansible_host=${two} ansible_port=22`,
          "",
          "[db:vars]",
          "ansible_user=root",
          `ansible_ssh_private_key_file=${LAB_KEY}`,
          "",
        ].join("\n"),
      },
      "byinv",
    );
    dirs.push(dir);
    const { artifacts, out } = runOn(dir, "byinv");
    assert.match(out, /Allocated fleet:web \(front\)/);
    assert.match(out, /Allocated fleet:db \(store\)/);
    assert.equal(readFileSync(join(artifacts, "fleet/web/checks/write", "out.txt"), "utf8"), `${lab}-1 as root\n`);
    assert.equal(readFileSync(join(artifacts, "fleet/db/checks/write", "out.txt"), "utf8"), `${lab}-2 as root\n`);
  });

  test("a system listing two hosts gets a worker on each, unless workers: says fewer", () => {
    const extra = {
      "checks/second/task.yaml": 'summary: another job for the same system\nexecute: "true"\n',
      "checks/third/task.yaml": 'summary: and one more\nexecute: "true"\n',
    };
    const allocated = (out: string): Set<string> =>
      new Set(lines(out).flatMap((l) => /^Allocated fleet:pair \((\S+)\)/.exec(l)?.[1] ?? []));
    const both = sshProject(
      ["    systems:", "      - pair:", `          hosts: [${one}, ${two}]`, `          identity-file: ${LAB_KEY}`].join("\n"),
      extra,
      "pair",
    );
    dirs.push(both);
    const r = troupe(["run"], { cwd: both });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Successful tasks: 3/);
    assert.deepEqual(allocated(r.stdout), new Set([one, two]));

    const limited = sshProject(
      [
        "    systems:",
        "      - pair:",
        `          hosts: [${one}, ${two}]`,
        "          workers: 1",
        `          identity-file: ${LAB_KEY}`,
      ].join("\n"),
      extra,
      "pair1",
    );
    dirs.push(limited);
    const l = troupe(["run"], { cwd: limited });
    assert.equal(l.status, 0, l.stdout + l.stderr);
    assert.equal(allocated(l.stdout).size, 1, l.stdout);
  });

  test("username given as $VAR is expanded from the project environment", () => {
    const dir = sshProject(
      [
        "    systems:",
        "      - first:",
        `          hosts: [${one}]`,
        "          username: $LOGIN",
        `          identity-file: ${LAB_KEY}`,
      ].join("\n"),
      {},
      "user",
    );
    dirs.push(dir);
    const artifacts = join(tmp(), "a");
    const r = troupe(["run", "--artifacts", artifacts], { cwd: dir });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.equal(readFileSync(join(artifacts, "fleet/first/checks/write", "out.txt"), "utf8"), `${lab}-1 as root\n`);
  });
});

describe("hosts that cannot be had", () => {
  test("an unreachable ssh host is exit 3 with the reason, not a failed task", () => {
    const dir = sshProject(["    systems:", "      - gone:", "          hosts: [127.0.0.1:1]"].join("\n"));
    const sshTmp = privateTmp();
    try {
      const r = troupe(["run"], { cwd: dir, env: { TMPDIR: sshTmp } });
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /Cannot allocate fleet:gone: .*127\.0\.0\.1.*Connection refused/);
      assert.doesNotMatch(r.stdout, /Failed tasks/);
      assert.deepEqual(labLeftovers(r.pid, sshTmp), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(sshTmp, { recursive: true, force: true });
    }
  });

  test("FATAL from an adhoc allocate script is exit 3 with its message", () => {
    const dir = project({
      "troupe.yaml": [
        "project: adhoc-fatal",
        "backends:",
        "  pool:",
        "    type: adhoc",
        '    allocate: FATAL "the pool is empty today"',
        '    discard: "true"',
        "    systems: [box]",
        "suites:",
        "  checks/:",
        "    summary: checks",
        "",
      ].join("\n"),
      "checks/one/task.yaml": 'summary: one\nexecute: "true"\n',
    });
    try {
      const r = troupe(["run"], { cwd: dir });
      assert.equal(r.status, 3, r.stdout + r.stderr);
      assert.match(r.stdout, /Cannot allocate pool:box: .*the pool is empty today/);
      assert.doesNotMatch(r.stdout, /Failed tasks/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("the adhoc backend allocates lab hosts through a script and discards them", () => {
  const prefix = `adh${process.pid}`;
  const dir = project({
    "troupe.yaml": [
      "project: adhoc-it",
      "path: /root/adhoc-it-project",
      "backends:",
      "  lab-script:",
      "    type: adhoc",
      "    allocate: |",
      `      name=${prefix}-$SPREAD_SYSTEM`,
      '      out=$("$TROUPE_BIN" lab up 1 --name "$name")',
      '      ADDRESS "$(printf \'%s\\n\' "$out" | awk -v h="$name-1" \'$1 == h { print $2 }\')"',
      "    discard: |",
      `      "$TROUPE_BIN" lab down --name ${prefix}-$SPREAD_SYSTEM`,
      "    systems:",
      "      - one:",
      `          identity-file: ${LAB_KEY}`,
      "      - two:",
      `          identity-file: ${LAB_KEY}`,
      "suites:",
      "  checks/:",
      "    summary: checks",
      "",
    ].join("\n"),
    "checks/where/task.yaml": 'summary: where am I\nexecute: |\n  test "$(hostname)" = "' + prefix + '-$SPREAD_SYSTEM-1"\n',
  });
  const sshTmp = privateTmp();
  try {
    const r = troupe(["run"], { cwd: dir, env: { TROUPE_BIN: TROUPE, TMPDIR: sshTmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Successful tasks: 2/);
    assert.match(r.stdout, /Allocated lab-script:one .* at 10\.213\.\d+\.\d+/);
    // discard ran: neither lab is up any more.
    const status = troupe(["lab", "status"]);
    assert.doesNotMatch(status.stdout, new RegExp(`${prefix}-(one|two)-1`));
    assert.deepEqual(labLeftovers(r.pid, sshTmp), []);
  } finally {
    for (const s of ["one", "two"]) troupe(["lab", "down", "--name", `${prefix}-${s}`]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(sshTmp, { recursive: true, force: true });
  }
});

test("examples/adhoc-lab runs with one command and leaves no lab behind", () => {
  const sshTmp = privateTmp();
  try {
    const r = troupe(["run", "--project", join(REPO, "examples/adhoc-lab")], { env: { TROUPE_BIN: TROUPE, TMPDIR: sshTmp } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /Successful tasks: 2/);
    assert.doesNotMatch(troupe(["lab", "status"]).stdout, /adhoc-lab-(alpha|beta)-1/);
    assert.deepEqual(labLeftovers(r.pid, sshTmp), []);
  } finally {
    rmSync(sshTmp, { recursive: true, force: true });
  }
});
