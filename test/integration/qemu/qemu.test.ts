// The qemu backend through the CLI, on real QEMU (TCG where KVM is not
// usable) booting the Debian image of fixture.ts: a Spread project with a
// suite's prepare/execute/restore, REBOOT and a two-host job, all in one run
// of two VMs; a missing image refused before anything boots; and, with QEMU
// started but no VM booted, SIGTERM discarding the VM and `troupe gc`
// stopping the VM of a troupe killed with SIGKILL.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { project, troupe, troupeAsync } from "../cli/helpers.js";
import { guestImage, qemuHome, qemuProcesses, troupeToEnd } from "./fixture.js";

const PROJECT = {
  "spread.yaml": `project: vms
path: /root/vms
backends:
  qemu:
    memory: 384M
    systems:
      - debian-12:
          workers: 2
suites:
  tests/:
    summary: on VMs
    prepare: echo suite-prepare >> /root/marks
    restore: echo suite-restore >> /root/marks
`,
  "tests/hello/task.yaml": `summary: a task's hooks around its script, in order
prepare: echo task-prepare >> /root/marks
execute: |
  echo execute >> /root/marks
  echo "MARKS $(tr '\\n' ' ' < /root/marks)"
  echo "KERNEL $(uname -r)"
restore: echo task-restore >> /root/marks
`,
  "tests/reboot/task.yaml": `summary: REBOOT comes back with a new boot id and the same disk
execute: |
  if [ "$SPREAD_REBOOT" = 0 ]; then
    cat /proc/sys/kernel/random/boot_id > /root/boot-before
    REBOOT
  fi
  test "$(cat /proc/sys/kernel/random/boot_id)" != "$(cat /root/boot-before)"
  echo "REBOOTED $SPREAD_REBOOT"
`,
  "tests/pair/task.yaml": `summary: two VMs in one job, synchronised by troupe-ctl
hosts:
  server: {}
  client: {}
execute/server: |
  troupe-ctl kv set greeting "hello from $(cat /proc/sys/kernel/random/boot_id)"
  cat /proc/sys/kernel/random/boot_id > /tmp/mine
  troupe-ctl barrier done
execute/client: |
  echo "GOT $(troupe-ctl kv get greeting --wait)"
  echo "MINE $(cat /proc/sys/kernel/random/boot_id)"
  troupe-ctl barrier done
`,
};

/** Temporary folders (projects, HOMEs, state directories), removed at the end. */
const temps: string[] = [];
after(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function temp(dir: string): string {
  temps.push(dir);
  return dir;
}

function stateDir(): string {
  return temp(mkdtempSync(join(tmpdir(), "troupe-qemu-state-")));
}

function runIdOf(out: string): string {
  const m = /Run (\S+): results in/.exec(out);
  assert.ok(m, out);
  return m[1]!;
}

test("a missing image: exit 3 with one line saying what to do, before anything boots", () => {
  const dir = temp(
    project({
      "spread.yaml": PROJECT["spread.yaml"].replace("debian-12:", "debian-99:"),
      "tests/hello/task.yaml": "summary: x\nexecute: true\n",
    }),
  );
  const state = stateDir();
  const r = troupe(["run"], { cwd: dir, env: { HOME: temp(qemuHome()), TROUPE_QEMU_STATE_DIR: state } });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 3, out);
  const lines = out.split("\n").filter((l) => l.includes("qemu:"));
  assert.deepEqual(lines.length, 1, out);
  assert.match(lines[0]!, /no image at ~\/\.spread\/qemu\/debian-99\.img; make it with `troupe image build debian-99`/);
  assert.doesNotMatch(out, /Allocating|booting/);
  assert.deepEqual(readdirSync(state), []);
});

// Two boots and a reboot under TCG take 1.5 to 6 minutes here, depending on
// what else the machine runs (measured on 2 shared cores); the image build,
// when not cached, a few more. The runner's default limit is for tests that
// boot nothing.
const VM_TEST = { timeout: 30 * 60_000 };

test("a suite's hooks, REBOOT and a two-host job on two VMs, kept with --reuse, reused, discarded", VM_TEST, async () => {
  const img = guestImage();
  const dir = temp(project(PROJECT));
  const state = stateDir();
  const env = { HOME: temp(qemuHome(img)), TROUPE_QEMU_STATE_DIR: state };
  const { status, out } = await troupeToEnd(["run", "-v", "--seed", "1", "--reuse"], { cwd: dir, env });
  assert.equal(status, 0, out);
  assert.match(out, /qemu: (using KVM|no usable KVM \(.+\), using TCG emulation: slower)/);
  assert.match(out, /Successful tasks: 3/);
  // The suite's prepare, then the task's hooks around its script, on a VM of its own kernel.
  assert.match(out, /MARKS suite-prepare task-prepare execute /);
  assert.match(out, /KERNEL \d+\.\d+\.\d+-\d+-amd64/);
  assert.match(out, /REBOOTED 1/);
  // The client got what the server set, and is another machine.
  const got = /GOT hello from (\S+)/.exec(out)?.[1];
  const mine = /MINE (\S+)/.exec(out)?.[1];
  assert.ok(got && mine, out);
  assert.notEqual(got, mine);
  const runId = runIdOf(out);
  const runDir = join(dir, ".troupe", "runs", runId);
  const hosts = readdirSync(join(runDir, "hosts")).sort();
  assert.deepEqual(hosts, ["debian-12-1", "debian-12-2"]);
  for (const h of hosts) assert.match(readFileSync(join(runDir, "hosts", h, "serial.log"), "utf8"), /Linux version/);

  // Kept: QEMU runs on, and gc leaves VMs alone while the reuse file lists them.
  assert.equal(qemuProcesses(runId).length, 2, out);
  const gc = troupe(["gc", "--type", "qemu"], { env });
  assert.match(gc.stdout, /Nothing to remove/, gc.stdout + gc.stderr);
  assert.equal(qemuProcesses(runId).length, 2, "gc stopped a kept VM");

  // Taken back: no boot, the project already there.
  const again = await troupeToEnd(["run", "-v", "--reuse", "tests/hello"], { cwd: dir, env });
  assert.equal(again.status, 0, again.out);
  assert.match(again.out, /Reusing qemu:debian-12 \(debian-12-\d\) at 127\.0\.0\.1:\d+/);
  assert.doesNotMatch(again.out, /qemu: booting/);
  assert.match(again.out, /MARKS suite-prepare .*suite-restore suite-prepare task-prepare execute /);

  // Discarded: nothing left.
  const gone = await troupeToEnd(["run", "--discard"], { cwd: dir, env });
  assert.equal(gone.status, 0, gone.out);
  assert.deepEqual(qemuProcesses(runId), [], "QEMU still runs");
  assert.deepEqual(readdirSync(state), [], "VM records left");
});

test("a VM that cannot come up: QEMU's own words, or the console's end after boot-timeout; exit 3, nothing left", VM_TEST, async () => {
  const img = guestImage();
  const state = stateDir();
  const home = temp(qemuHome(img));
  // Firmware QEMU cannot load: it stops at once, and says why.
  mkdirSync(join(home, ".spread", "qemu", "bios"));
  writeFileSync(join(home, ".spread", "qemu", "bios", "uefi.img"), "not firmware");
  const env = { HOME: home, TROUPE_QEMU_STATE_DIR: state };
  const bad = temp(
    project({ ...PROJECT, "spread.yaml": PROJECT["spread.yaml"].replace("workers: 2", "workers: 1\n          bios: uefi") }),
  );
  const r1 = await troupeToEnd(["run", "tests/hello"], { cwd: bad, env });
  assert.equal(r1.status, 3, r1.out);
  assert.match(r1.out, /qemu: debian-12-1: QEMU stopped while booting: .*(BIOS|firmware|bios)/i);
  assert.deepEqual(readdirSync(state), []);

  // A boot that takes longer than boot-timeout: the error ends with the serial console.
  const slow = temp(
    project({ ...PROJECT, "spread.yaml": PROJECT["spread.yaml"].replace("workers: 2", "workers: 1\n          boot-timeout: 3s") }),
  );
  const r2 = await troupeToEnd(["run", "-v", "tests/hello"], { cwd: slow, env });
  assert.equal(r2.status, 3, r2.out);
  assert.match(
    r2.out,
    /qemu: debian-12-1 did not answer on ssh within 3s \(.+\); raise boot-timeout if it is only slow; the serial console \(\S+serial\.log\) (ends with:|is empty)/,
  );
  assert.deepEqual(qemuProcesses(runIdOf(r2.out)), []);
  assert.deepEqual(readdirSync(state), []);
});

/** Start `troupe run` and resolve once QEMU runs for it (the VM has not booted yet). */
async function startBooting(env: Record<string, string>) {
  const dir = temp(project(PROJECT));
  const child = troupeAsync(["run", "-v", "tests/hello"], { cwd: dir, env });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const look = (): void => {
      if (/qemu: booting /.test(out)) resolve();
    };
    child.stdout?.on("data", look);
    void exit.then(() => reject(new Error(`troupe exited before booting:\n${out}`)));
  });
  const runId = runIdOf(out);
  return { child, exit, runId, output: () => out };
}

test("SIGTERM while a VM boots discards it; after kill -9, troupe gc stops it", VM_TEST, async () => {
  const img = guestImage();
  const state = stateDir();
  const env = { HOME: temp(qemuHome(img)), TROUPE_QEMU_STATE_DIR: state };

  const term = await startBooting(env);
  assert.equal(qemuProcesses(term.runId).length, 1);
  term.child.kill("SIGTERM");
  assert.equal(await term.exit, 130, term.output());
  assert.deepEqual(qemuProcesses(term.runId), [], "SIGTERM left QEMU running");
  assert.deepEqual(readdirSync(state), []);

  const killed = await startBooting(env);
  killed.child.kill("SIGKILL");
  await killed.exit;
  const left = qemuProcesses(killed.runId);
  assert.equal(left.length, 1, "kill -9 took QEMU with it: nothing for gc to find");
  const dry = troupe(["gc", "--type", "qemu", "--dry-run"], { env });
  assert.equal(dry.status, 0, dry.stdout + dry.stderr);
  assert.match(
    dry.stdout,
    new RegExp(`would remove qemu vm debian-12-1 \\(run ${killed.runId}\\): the troupe process \\d+ that made it is gone`),
  );
  assert.equal(qemuProcesses(killed.runId).length, 1);
  const gc = troupe(["gc", "--type", "qemu"], { env });
  assert.equal(gc.status, 0, gc.stdout + gc.stderr);
  assert.match(gc.stdout, /removed qemu vm debian-12-1/);
  assert.deepEqual(qemuProcesses(killed.runId), [], "gc left QEMU running");
  assert.deepEqual(readdirSync(state), []);
  const again = troupe(["gc", "--type", "qemu"], { env });
  assert.match(again.stdout, /Nothing to remove/);
});
