import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import * as tar from "tar";
import { SudoTransport, killByTokenScript, sudoScript } from "../../../src/backends/ssh/sudo.js";
import { spawnSync } from "node:child_process";
import { TroupeError } from "../../../src/util/errors.js";
import { LocalTransport } from "../../../src/transport/local.js";

// Runs through the real sudo as root (CI runs as root; sudo is installed by .ci
// scripts); the non-root path over SSH is in test/integration/ssh.

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "troupe-sudo-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const capture = async (t: SudoTransport, script: string, env?: Record<string, string>, cwd?: string) => {
  const out: Buffer[] = [];
  const r = await t.exec({ script, ...(env ? { env } : {}), ...(cwd ? { cwd } : {}), onStdout: (c) => out.push(c) });
  return { code: r.exitCode, out: Buffer.concat(out).toString("utf8") };
};

describe("SudoTransport", () => {
  const t = new SudoTransport(new LocalTransport({ label: "sudo-test" }));

  it("runs a multi-line script as root with env and cwd set inside sudo", async () => {
    const r = await capture(t, 'id -u\necho "$GREETING"\npwd\necho "${SUDO_USER:-none}"', { GREETING: 'it\'s "quoted" $HOME' }, dir);
    assert.equal(r.code, 0);
    assert.equal(r.out, `0\nit's "quoted" $HOME\n${dir}\nnone\n`);
  });

  it("passes the exit status and stdin through", async () => {
    const out: Buffer[] = [];
    const r = await t.exec({ script: "cat; exit 7", stdin: "hello", onStdout: (c) => out.push(c) });
    assert.equal(r.exitCode, 7);
    assert.equal(Buffer.concat(out).toString(), "hello");
  });

  it("kills everything the script started on abort", async () => {
    const marker = `troupe-sudo-kill-${process.pid}`;
    const ac = new AbortController();
    const pidFile = join(dir, "bg.pid");
    const running = t.exec({ script: `sh -c 'exec -a ${marker} sleep 300' & echo $! > ${pidFile}; wait`, signal: ac.signal });
    for (let i = 0; i < 100; i++) {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      if (text.trim() !== "") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const pid = Number((await readFile(pidFile, "utf8")).trim());
    assert.ok(pid > 0);
    ac.abort();
    await running;
    let alive = true;
    for (let i = 0; i < 60 && alive; i++) {
      try {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, "the background sleep survived the abort");
  });

  it("puts and gets tar streams as root", async () => {
    const src = join(dir, "src");
    await mkdir(src, { recursive: true });
    await writeFile(join(src, "a.txt"), "alpha");
    const archive = tar.c({ cwd: src, gzip: true }, ["a.txt"]) as unknown as Readable;
    await t.put(archive, join(dir, "dest/inner"));
    assert.equal(await readFile(join(dir, "dest/inner/a.txt"), "utf8"), "alpha");
    const back = await t.get(join(dir, "dest/inner"), ["a.txt"]);
    const got = join(dir, "back");
    await mkdir(got);
    await new Promise<void>((resolve, reject) => {
      back
        .pipe(tar.x({ cwd: got }))
        .on("finish", resolve)
        .on("error", reject);
      back.on("error", reject);
    });
    assert.equal(await readFile(join(got, "a.txt"), "utf8"), "alpha");
  });

  it("rejects a bad variable name instead of running it", () => {
    assert.throws(
      () => sudoScript("true", { "A;rm": "x" }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE",
    );
  });

  it("unpacks a plain tar as well as a gzip'd one (put's contract: a tar stream)", async () => {
    const src = join(dir, "plain-src");
    await mkdir(src, { recursive: true });
    await writeFile(join(src, "p.txt"), "plain");
    const archive = tar.c({ cwd: src }, ["p.txt"]) as unknown as Readable;
    await t.put(archive, join(dir, "plain-dest"));
    assert.equal(await readFile(join(dir, "plain-dest/p.txt"), "utf8"), "plain");
  });

  it("takes directories whose names hold quotes, $(...) and a leading dash as they are", async () => {
    const work = join(dir, "odd");
    await mkdir(work, { recursive: true });
    for (const name of ["-x", "it's $(touch pwned)", "-n ` touch pwned2`"]) {
      // A relative directory, from the shell's own working directory, as sudo keeps it.
      await mkdir(join(work, name), { recursive: true });
      const r = spawnSync("/bin/sh", ["-c", sudoScript("pwd", undefined, name)], { cwd: work, encoding: "utf8" });
      assert.equal(r.stdout, `${join(work, name)}\n`, `${JSON.stringify(name)}: ${r.stderr}`);
    }
    const archive = tar.c({ cwd: work }, ["-x"]) as unknown as Readable;
    await t.put(archive, join(work, "-n ` touch pwned2`"));
    const back = await t.get(join(work, "it's $(touch pwned)"), ["."]);
    back.resume();
    await new Promise((r) => back.on("end", r));
    assert.deepEqual(
      (await readdir(work)).filter((f) => f.startsWith("pwned")),
      [],
    );
  });

  it("refuses a kill token that is not a plain word instead of quoting it into the script", () => {
    assert.match(killByTokenScript("0123abcd", "TERM"), /TROUPE_SUDO_TOKEN=0123abcd/);
    for (const token of ["a'b", "$(id)", "", "a b"]) {
      assert.throws(
        () => killByTokenScript(token, "KILL"),
        (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE",
        JSON.stringify(token),
      );
      assert.throws(
        () => sudoScript("true", undefined, undefined, token),
        (e: unknown) => e instanceof TroupeError && e.code === "E_USAGE",
        JSON.stringify(token),
      );
    }
  });
});
