import assert from "node:assert/strict";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { fetchArtifacts, listArtifactsScript } from "../../../src/transfer/artifacts.js";
import { TroupeError } from "../../../src/util/errors.js";
import { DirTransport, rawTar, tempDir, writeTree } from "./helpers.js";

let root: string;
let cleanup: () => Promise<void>;
let taskDir: string;
let n = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
  taskDir = path.join(root, "host", "project", "tests", "main", "hello");
  await writeTree(taskDir, {
    "task.yaml": "artifacts: [...]\n",
    "some/file": "a file\n",
    "some/dir/one.log": "1\n",
    "some/dir/two.log": "2\n",
    "logs/a.log": "a\n",
    "logs/b.log": "b\n",
    "logs/c.txt": "c\n",
    "it's here": "quoted\n",
    latest: { link: "logs/a.log" },
  });
});
after(async () => cleanup());

const dest = (): string => path.join(root, "artifacts", `job${++n}`);

async function tree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...(await tree(path.join(dir, e.name), `${rel}/`)));
    else out.push(rel);
  }
  return out;
}

describe("fetchArtifacts", () => {
  it("copies files and directories relative to the task dir into destDir", async () => {
    const destDir = dest();
    const transport = new DirTransport();
    const got = await fetchArtifacts({ transport, remoteDir: taskDir, patterns: ["some/file", "some/dir/"], destDir });
    assert.deepEqual(got, ["some/file", "some/dir"]);
    assert.deepEqual(await tree(destDir), ["some/dir/one.log", "some/dir/two.log", "some/file"]);
    assert.equal(await readFile(path.join(destDir, "some/file"), "utf8"), "a file\n");
  });

  it("skips missing paths, as Spread does, and still creates destDir", async () => {
    const destDir = dest();
    const got = await fetchArtifacts({
      transport: new DirTransport(),
      remoteDir: taskDir,
      patterns: ["missing.log", "some/file", "nope/*"],
      destDir,
    });
    assert.deepEqual(got, ["some/file"]);
    assert.deepEqual(await tree(destDir), ["some/file"]);

    const none = dest();
    const transport = new DirTransport();
    assert.deepEqual(await fetchArtifacts({ transport, remoteDir: taskDir, patterns: ["gone"], destDir: none }), []);
    assert.ok((await stat(none)).isDirectory());
    assert.deepEqual(transport.calls, ["exec"], "nothing to get");

    const noTaskDir = await fetchArtifacts({
      transport: new DirTransport(),
      remoteDir: path.join(root, "host", "no-such-task"),
      patterns: ["x"],
      destDir: dest(),
    });
    assert.deepEqual(noTaskDir, []);
  });

  it("expands * on the host; other characters are literal", async () => {
    const destDir = dest();
    const got = await fetchArtifacts({ transport: new DirTransport(), remoteDir: taskDir, patterns: ["logs/*.log", "it's here"], destDir });
    assert.deepEqual(got, ["logs/a.log", "logs/b.log", "it's here"]);
    assert.deepEqual(await tree(destDir), ["it's here", "logs/a.log", "logs/b.log"]);
    assert.equal(await readFile(path.join(destDir, "it's here"), "utf8"), "quoted\n");

    const literal = await fetchArtifacts({ transport: new DirTransport(), remoteDir: taskDir, patterns: ["logs/?.log"], destDir: dest() });
    assert.deepEqual(literal, []);
  });

  it("fetches symbolic links as links", async () => {
    const destDir = dest();
    await fetchArtifacts({ transport: new DirTransport(), remoteDir: taskDir, patterns: ["latest"], destDir });
    assert.equal(await readlink(path.join(destDir, "latest")), "logs/a.log");
  });

  it("does not touch the host when there is nothing to fetch", async () => {
    const transport = new DirTransport();
    assert.deepEqual(await fetchArtifacts({ transport, remoteDir: taskDir, patterns: [], destDir: dest() }), []);
    assert.deepEqual(transport.calls, []);
  });

  it("refuses artifact paths with ..", async () => {
    await assert.rejects(
      fetchArtifacts({ transport: new DirTransport(), remoteDir: taskDir, patterns: ["../../x"], destDir: dest() }),
      (e: unknown) => e instanceof TroupeError && e.code === "E_PROJECT" && /must not contain/.test(e.message),
    );
  });

  it("quotes patterns for the host shell, leaving only * unquoted", () => {
    const script = listArtifactsScript("/p/t", ["a b/*.log", "it's"]);
    assert.ok(script.includes(`for f in 'a b/'*'.log' 'it'\\''s'; do`), script);
    assert.match(script, /^cd -- '\/p\/t' /);
  });
});

/** A host that answers `get` with a hand-made (hostile) archive. */
class HostileTransport extends DirTransport {
  constructor(private readonly archive: Buffer) {
    super("evil");
  }
  override async get(): Promise<Readable> {
    return Readable.from([this.archive]);
  }
}

describe("fetchArtifacts against a hostile host", () => {
  const attempt = async (archive: Buffer): Promise<{ destDir: string; error: unknown }> => {
    const destDir = dest();
    let error: unknown;
    try {
      await fetchArtifacts({ transport: new HostileTransport(archive), remoteDir: taskDir, patterns: ["some/file"], destDir });
    } catch (e) {
      error = e;
    }
    return { destDir, error };
  };
  const assertRefused = (error: unknown): void => {
    assert.ok(error instanceof TroupeError, `expected a TroupeError, got ${String(error)}`);
    assert.equal(error.code, "E_TRANSPORT");
    assert.match(error.message, /^evil: refused artifact member/);
  };

  it("refuses members climbing out with ..", async () => {
    const { destDir, error } = await attempt(
      rawTar([
        { path: "ok.txt", type: "File", body: "fine\n" },
        { path: "../escaped.txt", type: "File", body: "pwned\n" },
        { path: "a/../../escaped2.txt", type: "File", body: "pwned\n" },
      ]),
    );
    assertRefused(error);
    assert.deepEqual(await tree(path.dirname(destDir)).then((l) => l.filter((f) => f.includes("escaped"))), []);
    assert.equal(await readFile(path.join(destDir, "ok.txt"), "utf8"), "fine\n");
  });

  it("never writes through a symbolic link that points outside", async () => {
    // destDir is ROOT/artifacts/jobN: the link would point at ROOT/outside.
    const outside = path.join(root, "outside");
    const { destDir, error } = await attempt(
      rawTar([
        { path: "esc", type: "SymbolicLink", linkpath: "../../outside" },
        { path: "abs", type: "SymbolicLink", linkpath: outside },
        { path: "esc/pwn.txt", type: "File", body: "pwned\n" },
        { path: "abs/pwn.txt", type: "File", body: "pwned\n" },
      ]),
    );
    assert.equal(error, undefined, "links out are dropped, not fatal");
    await assert.rejects(stat(outside));
    assert.equal((await lstat(path.join(destDir, "esc"))).isSymbolicLink(), false);
    assert.equal((await lstat(path.join(destDir, "abs"))).isSymbolicLink(), false);
    assert.deepEqual(await tree(destDir), ["abs/pwn.txt", "esc/pwn.txt"]);
  });

  it("drops links whose chain leads out, as the kernel resolves it, and keeps those that stay inside", async () => {
    const chain = Array.from({ length: 45 }, (_, i) => ({ path: `c${i}`, type: "SymbolicLink" as const, linkpath: `c${i + 1}` }));
    const { destDir, error } = await attempt(
      // Each link comes before those it goes through: tar refuses to make a
      // link through one it has made already.
      rawTar([
        { path: "file.txt", type: "File", body: "inside\n" },
        // These lead out, or nowhere: up and sub/up stay inside when read as written.
        { path: "up", type: "SymbolicLink", linkpath: "d/.." },
        { path: "sub/esc", type: "SymbolicLink", linkpath: "l/l/l/../../../.." },
        { path: "sub/up", type: "SymbolicLink", linkpath: "l/../../d/.." },
        { path: "abs", type: "SymbolicLink", linkpath: "/etc" },
        { path: "loop", type: "SymbolicLink", linkpath: "self/x" },
        { path: "self", type: "SymbolicLink", linkpath: "self" },
        // These stay inside.
        { path: "keep", type: "SymbolicLink", linkpath: "d/d/sub/l/../file.txt" },
        { path: "sub/keep", type: "SymbolicLink", linkpath: "l/../d/file.txt" },
        { path: "short", type: "SymbolicLink", linkpath: "c40" },
        { path: "dangling", type: "SymbolicLink", linkpath: "nothing/there" },
        { path: "d", type: "SymbolicLink", linkpath: "." },
        { path: "sub/l", type: "SymbolicLink", linkpath: "." },
        ...chain,
        { path: "c45", type: "File", body: "end\n" },
      ]),
    );
    assert.equal(error, undefined, "links out are dropped, not fatal");
    const links = async (dir: string, prefix = ""): Promise<string[]> => {
      const out: string[] = [];
      for (const e of await readdir(dir, { withFileTypes: true })) {
        if (e.isSymbolicLink()) out.push(prefix + e.name);
        else if (e.isDirectory()) out.push(...(await links(path.join(dir, e.name), `${prefix}${e.name}/`)));
      }
      return out.sort();
    };
    const kept = await links(destDir);
    assert.deepEqual(
      kept,
      // c0 to c4 are more than 40 links from the file: the kernel would refuse them too.
      [...Array.from({ length: 40 }, (_, i) => `c${i + 5}`), "d", "dangling", "keep", "short", "sub/keep", "sub/l"].sort(),
    );
    assert.equal(await readFile(path.join(destDir, "keep"), "utf8"), "inside\n");
    assert.equal(await readFile(path.join(destDir, "sub/keep"), "utf8"), "inside\n");
    assert.equal(await readFile(path.join(destDir, "short"), "utf8"), "end\n");
  });

  it("refuses writing through a symbolic link unpacked just before", async () => {
    const { destDir, error } = await attempt(
      rawTar([
        { path: "in", type: "SymbolicLink", linkpath: "." },
        { path: "in/x.txt", type: "File", body: "through the link\n" },
      ]),
    );
    assertRefused(error);
    assert.equal(await readlink(path.join(destDir, "in")), ".");
    await assert.rejects(stat(path.join(destDir, "x.txt")));
  });

  it("refuses hard links to files outside", async () => {
    const { destDir, error } = await attempt(rawTar([{ path: "pw", type: "Link", linkpath: "../../../etc/passwd" }]));
    assertRefused(error);
    await assert.rejects(stat(path.join(destDir, "pw")));
  });

  it("keeps an absolute member inside destDir", async () => {
    const { destDir, error } = await attempt(rawTar([{ path: "/abs/file.txt", type: "File", body: "x\n" }]));
    assert.equal(error, undefined);
    assert.equal(await readFile(path.join(destDir, "abs/file.txt"), "utf8"), "x\n");
  });
});
