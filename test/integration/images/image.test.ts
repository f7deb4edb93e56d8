// `troupe image build|list|rm` for real: debootstrap from Debian's mirror,
// docker's Engine API, LXD through lxc, and the qemu files. The suite builds
// one image, debian-12, into TROUPE_TEST_IMAGE_DIR when set (CI points it at
// the store .ci/images fills, so it is all cached) or else into a temporary
// store. Needs root, debootstrap, e2fsprogs, and dockerd and LXD running
// (share/engines/start.sh docker; share/engines/start.sh lxd).

import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  closeSync,
  existsSync,
  linkSync,
  openSync,
  readSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TROUPE } from "../cli/helpers.js";
import { cacheKey } from "../../../src/images/cache-key.js";
import { recipeFor } from "../../../src/images/recipe.js";
import { lxcEnv } from "../../../src/images/lxd-output.js";
import { dockerImage } from "../../../src/images/docker-output.js";

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const home = mkdtempSync(join(tmpdir(), "troupe-image-home-"));
const ownStore = !process.env["TROUPE_TEST_IMAGE_DIR"];
const store = process.env["TROUPE_TEST_IMAGE_DIR"] || mkdtempSync(join("/var/tmp", "troupe-image-store-"));
const key = cacheKey(recipeFor("debian-12"));
const entry = join(store, key);
/**
 * Without a store of CI's, these steps debootstrap or install a kernel: minutes
 * on a busy machine, more than the suite's five a test.
 */
const FIRST_BUILD_MS = 20 * 60_000;
/** A name of this process's own for the outputs of `--as` (never debian-12, which other tests use). */
const copy = `tt-images-${process.pid}`;

/** Run the CLI to the end, with no time limit of its own (a first build takes minutes). */
function image(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TROUPE, "image", ...args], {
      env: { ...process.env, NO_COLOR: "1", HOME: home, TROUPE_IMAGE_DIR: store, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    child.once("error", reject);
    child.once("close", (status) => resolve({ status, stdout, stderr }));
  });
}

interface Started {
  readonly child: ChildProcess;
  /** Resolves once stdout matches `re`; rejects if the process ends first. */
  until(re: RegExp): Promise<void>;
  readonly exited: Promise<number | null>;
  output(): string;
}

/** The CLI started, its output watched as it comes. */
function started(args: readonly string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [TROUPE, "image", ...args], {
    env: { ...process.env, NO_COLOR: "1", HOME: home, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  child.stdout.on("data", (b: Buffer) => {
    stdout += b.toString();
    for (const w of waiters.filter((x) => x.re.test(stdout))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  const output = (): string => `${stdout}\n${stderr}`;
  return {
    child,
    exited,
    output,
    until: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(stdout)) return resolve();
        waiters.push({ re, resolve });
        void exited.then(() => reject(new Error(`exited before ${re}:\n${output()}`)));
      }),
  };
}

function ok(r: Run): Run {
  assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r;
}

function lxc(args: readonly string[]): string {
  const r = spawnSync("lxc", args, { env: { ...process.env, ...lxcEnv() }, encoding: "utf8" });
  assert.equal(r.status, 0, `lxc ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function lxdImages(): { fingerprint: string; aliases: { name: string }[]; properties: Record<string, string> }[] {
  return JSON.parse(lxc(["image", "list", "--format", "json"])) as ReturnType<typeof lxdImages>;
}

const mtime = (p: string): number => statSync(p).mtimeMs;
const qemuFile = (name: string, ext: string): string => join(home, ".spread", "qemu", `${name}.${ext}`);

describe("troupe image", { concurrency: false }, () => {
  before(() => mkdirSync(store, { recursive: true }));
  after(() => {
    rmSync(home, { recursive: true, force: true });
    if (ownStore) rmSync(store, { recursive: true, force: true });
  });

  it(
    "builds debian-12 for docker and lxd: a store entry, NAME:latest labelled as troupe's, an LXD image under Spread's names",
    { timeout: FIRST_BUILD_MS },
    async () => {
      const r = ok(await image(["build", "debian-12", "--for", "docker,lxd"]));
      assert.match(r.stdout, new RegExp(`Building debian-12 \\(recipe ${key}\\) for docker, lxd`));
      const record = JSON.parse(readFileSync(join(entry, "recipe.json"), "utf8")) as { key: string; recipe: { suite: string } };
      assert.equal(record.key, key);
      assert.equal(record.recipe.suite, "bookworm");
      assert.ok(statSync(join(entry, "rootfs.tar")).size > 50e6);
      assert.deepEqual(
        readdirSync(store).filter((f) => f.startsWith(".partial")),
        [],
      );

      const d = await dockerImage("debian-12");
      assert.ok(d, "debian-12:latest is in docker");
      assert.equal(d.labels["troupe.image"], "1");
      assert.equal(d.labels["troupe.image.recipe"], key);

      const l = lxdImages().find((i) => i.aliases.some((a) => a.name === "debian-12"));
      assert.ok(l, "an LXD image has the alias debian-12");
      assert.deepEqual(l.aliases.map((a) => a.name).sort(), ["debian-12", "debian/12"]);
      assert.equal(l.properties["troupe.image"], "1");
      assert.equal(l.properties["troupe.image.recipe"], key);
      assert.equal(l.properties["os"], "debian");
      assert.equal(l.properties["release"], "bookworm");
    },
  );

  it("makes an LXD image that boots to systemd, gets an address by DHCP and runs sshd", () => {
    const name = `tt-images-${process.pid}`;
    try {
      lxc(["launch", "debian-12", name, "--ephemeral"]);
      // Inside: wait for eth0's lease, and for sshd to be started (or to have failed).
      const out = lxc([
        "exec",
        name,
        "--",
        "sh",
        "-c",
        "until ip -4 -o addr show eth0 | grep -q inet; do sleep 0.1; done; ip -4 -o addr show eth0; " +
          'until s=$(systemctl is-active ssh); [ "$s" = active ] || [ "$s" = failed ]; do sleep 0.1; done; echo "$s"; hostname',
      ]);
      assert.match(out, /inet \d+\.\d+\.\d+\.\d+\//);
      assert.match(out, /^active$/m);
      assert.match(out, new RegExp(`^${name}$`, "m"));
    } finally {
      spawnSync("lxc", ["delete", "--force", name], { env: { ...process.env, ...lxcEnv() } });
    }
  });

  it(
    "adds the qemu output from the cached root filesystem: ext4 image, kernel and initramfs in ~/.spread/qemu",
    { timeout: FIRST_BUILD_MS },
    async () => {
      const tarTime = mtime(join(entry, "rootfs.tar"));
      const r = ok(await image(["build", "debian-12", "--for", "qemu"]));
      assert.match(r.stdout, /^cached: root filesystem/m);
      assert.doesNotMatch(r.stdout, /debootstrap/);
      assert.equal(mtime(join(entry, "rootfs.tar")), tarTime);
      const img = qemuFile("debian-12", "img");
      // A partitionless ext4 file system: its magic number at byte 1080.
      const magic = Buffer.alloc(2);
      const fd = openSync(img, "r");
      try {
        readSync(fd, magic, 0, 2, 1080);
      } finally {
        closeSync(fd);
      }
      assert.deepEqual([...magic], [0x53, 0xef]);
      assert.ok(statSync(qemuFile("debian-12", "vmlinuz")).size > 1e6);
      assert.ok(statSync(qemuFile("debian-12", "initrd")).size > 1e6);
    },
  );

  it("builds it again from the cache: every output reported cached, no file rewritten", async () => {
    const files = [
      join(entry, "rootfs.tar"),
      join(entry, "qemu", "root.img"),
      qemuFile("debian-12", "img"),
      qemuFile("debian-12", "vmlinuz"),
    ];
    const before = files.map(mtime);
    const r = ok(await image(["build", "debian-12", "--for", "docker,lxd,qemu"]));
    for (const what of ["root filesystem", "docker image debian-12:latest", "lxd image debian-12", "qemu root filesystem", "qemu image"]) {
      assert.match(r.stdout, new RegExp(`^cached: ${what}`, "m"));
    }
    assert.doesNotMatch(r.stdout, /^- /m, "no step ran");
    assert.deepEqual(files.map(mtime), before);
  });

  it("lists the entry, as text and as JSON", async () => {
    const text = ok(await image(["list"])).stdout;
    assert.match(text, new RegExp(`^debian-12\\s+${key}\\s+`, "m"));
    const json = JSON.parse(ok(await image(["list", "--json"])).stdout) as { name: string; key: string; outputs: { target: string }[] }[];
    const mine = json.find((e) => e.key === key);
    assert.ok(mine);
    assert.equal(mine.name, "debian-12");
  });

  it("makes a private copy with --as, and rm removes that copy's outputs only", async () => {
    const r = ok(await image(["build", "debian-12", "--as", copy, "--for", "docker,lxd,qemu"]));
    assert.match(r.stdout, /^cached: root filesystem/m);
    assert.match(r.stdout, new RegExp(`^- docker import ${copy}:latest`, "m"));
    assert.ok(await dockerImage(copy));
    assert.deepEqual(
      lxdImages()
        .filter((i) => i.properties["troupe.image.name"] === copy)
        .map((i) => i.aliases.map((a) => a.name).sort()),
      // The aliases the lxd backend looks up for a system of that name.
      [[copy.replace(/-/g, "/"), copy].sort()],
    );
    assert.ok(existsSync(qemuFile(copy, "img")));

    const rm = ok(await image(["rm", copy]));
    assert.match(rm.stdout, new RegExp(`^removed docker: ${copy}:latest`, "m"));
    assert.match(rm.stdout, /^removed lxd: /m);
    assert.match(rm.stdout, /^removed qemu: /m);
    assert.equal(await dockerImage(copy), undefined);
    assert.deepEqual(
      lxdImages().filter((i) => i.properties["troupe.image.name"] === copy),
      [],
    );
    assert.ok(!existsSync(qemuFile(copy, "img")));
    // debian-12 itself stays: its entry, its docker image, its qemu files.
    assert.ok(existsSync(join(entry, "rootfs.tar")));
    assert.ok(await dockerImage("debian-12"));
    assert.ok(existsSync(qemuFile("debian-12", "img")));
  });

  it("rm removes a system's store entry; engines that are not running are skipped, saying so", async () => {
    const other = mkdtempSync(join("/var/tmp", "troupe-image-rm-"));
    try {
      // The same entry in a second store, by hard links (no copy of the data).
      mkdirSync(join(other, key));
      for (const f of ["recipe.json", "rootfs.tar"]) linkSync(join(entry, f), join(other, key, f));
      const env = { TROUPE_IMAGE_DIR: other, DOCKER_HOST: `unix://${other}/no.sock`, LXD_DIR: join(other, "no-lxd") };
      const r = ok(await image(["rm", "debian-12"], env));
      assert.match(r.stdout, new RegExp(`^removed store: ${other}/${key}$`, "m"));
      assert.match(r.stdout, /^skipped docker: .*share\/engines\/start\.sh docker/m);
      assert.match(r.stdout, /^skipped lxd: .*share\/engines\/start\.sh lxd/m);
      assert.ok(!existsSync(join(other, key)));
      assert.ok(existsSync(join(entry, "rootfs.tar")), "the first store is untouched");
      const again = await image(["rm", "debian-12"], env);
      assert.equal(again.status, 2);
      assert.match(again.stderr, /^error: image rm: troupe has no image debian-12/m);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("fails at once, exit 3, with one line saying how to start an engine that is not running", async () => {
    const fresh = mkdtempSync(join("/var/tmp", "troupe-image-noengine-"));
    try {
      const docker = await image(["build", "debian-12", "--for", "docker"], {
        TROUPE_IMAGE_DIR: fresh,
        DOCKER_HOST: `unix://${fresh}/no.sock`,
      });
      assert.equal(docker.status, 3);
      assert.match(docker.stderr, /^error: docker: no Docker engine answers at .*share\/engines\/start\.sh docker/);
      assert.equal(docker.stderr.trim().split("\n").length, 1);
      const lxd = await image(["build", "debian-12", "--for", "lxd"], { TROUPE_IMAGE_DIR: fresh, LXD_DIR: join(fresh, "no-lxd") });
      assert.equal(lxd.status, 3);
      assert.match(lxd.stderr, /^error: lxd: .*share\/engines\/start\.sh lxd/);
      assert.doesNotMatch(docker.stdout + lxd.stdout, /debootstrap/);
      assert.deepEqual(readdirSync(fresh), []);
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });

  it("refuses unknown names, listing the known ones, with exit 2", async () => {
    const r = await image(["build", "ubuntu-24.04"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no Ubuntu mirror.*debian-12/);
  });

  it("two builds of one recipe take turns, and Ctrl-C leaves no partial entry, no process and no mount behind", async () => {
    const fresh = mkdtempSync(join("/var/tmp", "troupe-image-int-"));
    try {
      const env = { TROUPE_IMAGE_DIR: fresh };
      const a = started(["build", "debian-12", "--for", "qemu"], env);
      await a.until(/^- debootstrap /m);
      assert.ok(existsSync(join(fresh, `.partial-${key}`)), "the build is under way");
      const b = started(["build", "debian-12", "--for", "qemu"], env);
      await b.until(new RegExp(`^waiting for pid ${a.child.pid}, which is building the same recipe$`, "m"));
      a.child.kill("SIGINT");
      assert.equal(await a.exited, 130, a.output());
      assert.match(a.output(), /interrupted/);
      // The second build goes on once the first is gone, from scratch.
      await b.until(/^- debootstrap /m);
      b.child.kill("SIGINT");
      assert.equal(await b.exited, 130, b.output());
      assert.deepEqual(
        readdirSync(fresh).filter((f) => f !== "logs"),
        [],
      );
      const mounts = readFileSync("/proc/self/mountinfo", "utf8");
      assert.ok(!mounts.includes(fresh), "no mount under the store");
      const left = readdirSync("/proc")
        .filter((p) => /^\d+$/.test(p))
        .filter((p) => {
          try {
            return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(fresh);
          } catch {
            return false;
          }
        });
      assert.deepEqual(left, [], "no process works on the store any more");
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
