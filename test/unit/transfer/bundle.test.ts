import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, link, readFile, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { buildProjectBundle, pushBundle, unpackLocal, type Bundle, type BuildBundleOptions } from "../../../src/transfer/bundle.js";
import { TroupeError } from "../../../src/util/errors.js";
import { DirTransport, listMembers, listNames, tempDir, writeTree } from "./helpers.js";

let root: string;
let cleanup: () => Promise<void>;
let counter = 0;

before(async () => {
  ({ dir: root, cleanup } = await tempDir());
});
after(async () => cleanup());

/** A fresh project dir and a fresh out dir (outside it). */
async function project(tree: Parameters<typeof writeTree>[1]): Promise<{ projectDir: string; outDir: string }> {
  counter++;
  const projectDir = path.join(root, `p${counter}`);
  await writeTree(projectDir, tree);
  return { projectDir, outDir: path.join(root, `out${counter}`) };
}

function opts(p: { projectDir: string; outDir: string }, more: Partial<BuildBundleOptions> = {}): BuildBundleOptions {
  return { ...p, include: [], exclude: [], rename: [], ...more };
}

async function rejectsWith(promise: Promise<unknown>, code: string, text: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof TroupeError, `not a TroupeError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, text);
    return true;
  });
}

const BASIC = {
  "spread.yaml": "project: x\n",
  "tests/main/hello/task.yaml": "execute: echo hi\n",
  "tests/main/hello/.spread-reuse.yaml": "nested reuse file\n",
  ".git/HEAD": "ref: refs/heads/main\n",
  ".spread-reuse.yaml": "reuse\n",
  ".troupe-reuse.yaml": "reuse\n",
  ".troupe/results/run.json": "{}\n",
  "tests/.troupe/kept": "only the top-level .troupe is troupe's\n",
  "src/a.c": "int a;\n",
  "src/a.o": "obj\n",
  "src/sub/b.o": "obj\n",
  "src/sub/c.c": "int c;\n",
};

describe("buildProjectBundle", () => {
  it("sends every top-level entry by default, dot-files too, but never reuse files or .troupe", async () => {
    const p = await project(BASIC);
    const bundle = await buildProjectBundle(opts(p));
    const names = await listNames(bundle.path);
    assert.deepEqual(names, [
      ".git/",
      ".git/HEAD",
      "spread.yaml",
      "src/",
      "src/a.c",
      "src/a.o",
      "src/sub/",
      "src/sub/b.o",
      "src/sub/c.c",
      "tests/",
      "tests/.troupe/",
      "tests/.troupe/kept",
      "tests/main/",
      "tests/main/hello/",
      "tests/main/hello/task.yaml",
    ]);
    assert.equal(bundle.files, names.length);
    assert.equal(bundle.path, path.join(p.outDir, "project.tar.gz"));
    const bytes = await readFile(bundle.path);
    assert.equal(bundle.bytes, bytes.length);
    assert.equal(bundle.sha256, createHash("sha256").update(bytes).digest("hex"));
    assert.equal(bytes[0], 0x1f, "gzip'd");
    assert.equal(bytes[1], 0x8b, "gzip'd");
  });

  it("applies exclude patterns the way tar does", async () => {
    const p = await project(BASIC);
    const bundle = await buildProjectBundle(opts(p, { exclude: ["*.o", ".git", "tests/main"] }));
    assert.deepEqual(await listNames(bundle.path), [
      "spread.yaml",
      "src/",
      "src/a.c",
      "src/sub/",
      "src/sub/c.c",
      "tests/",
      "tests/.troupe/",
      "tests/.troupe/kept",
    ]);
  });

  it("sends only the include entries, wildcards expanded, excludes still applied", async () => {
    const p = await project(BASIC);
    const bundle = await buildProjectBundle(opts(p, { include: ["spread.yaml", "src/*.c", "src/sub/"], exclude: ["b.o"] }));
    assert.deepEqual(await listNames(bundle.path), ["spread.yaml", "src/a.c", "src/sub/", "src/sub/c.c"]);
  });

  it("an include entry that names nothing is a project error", async () => {
    const p = await project(BASIC);
    await rejectsWith(buildProjectBundle(opts(p, { include: ["nope"] })), "E_PROJECT", /include path "nope" does not exist/);
    await rejectsWith(buildProjectBundle(opts(p, { include: ["src/*.rs"] })), "E_PROJECT", /matches nothing/);
    await rejectsWith(buildProjectBundle(opts(p, { include: ["../elsewhere"] })), "E_PROJECT", /leaves the project/);
  });

  it("never bundles its own output directory", async () => {
    const p = await project({ "spread.yaml": "x\n", "a.txt": "a\n" });
    const bundle = await buildProjectBundle({ ...opts(p), outDir: path.join(p.projectDir, "build-out") });
    await buildProjectBundle({ ...opts(p), outDir: path.join(p.projectDir, "build-out") });
    assert.deepEqual(await listNames(bundle.path), ["a.txt", "spread.yaml"]);
    const same = await buildProjectBundle({ ...opts(p), outDir: p.projectDir });
    // An earlier bundle elsewhere is project content like any file; this one's own files are not.
    assert.deepEqual(await listNames(same.path), ["a.txt", "build-out/", "build-out/project.tar.gz", "spread.yaml"]);
  });

  it("renames member names, symlink targets (unless S) and hard link targets", async () => {
    const p = await project({ "dir/f.txt": "hello\n", "dir/sub/g.txt": "g\n", link: { link: "dir/f.txt" } });
    await link(path.join(p.projectDir, "dir/f.txt"), path.join(p.projectDir, "hard"));

    const plain = await buildProjectBundle(opts(p, { rename: ["s,^dir,D,"] }));
    assert.deepEqual(await listMembers(plain.path), [
      { path: "D/", type: "Directory" },
      { path: "D/f.txt", type: "File" },
      { path: "D/sub/", type: "Directory" },
      { path: "D/sub/g.txt", type: "File" },
      { path: "hard", type: "Link", linkpath: "D/f.txt" },
      { path: "link", type: "SymbolicLink", linkpath: "D/f.txt" },
    ]);

    const keepTargets = await buildProjectBundle({ ...opts(p, { rename: ["s,dir,D,S", "s,^,top/,H"] }), outDir: `${p.outDir}-S` });
    assert.deepEqual(await listMembers(keepTargets.path), [
      { path: "top/D/", type: "Directory" },
      { path: "top/D/f.txt", type: "File" },
      { path: "top/D/sub/", type: "Directory" },
      { path: "top/D/sub/g.txt", type: "File" },
      { path: "top/hard", type: "Link", linkpath: "D/f.txt" },
      { path: "top/link", type: "SymbolicLink", linkpath: "top/dir/f.txt" },
    ]);

    // And the renamed tree unpacks as a working tree.
    const { dir: copy, cleanup: done } = await tempDir();
    try {
      await unpackLocal(plain, copy);
      assert.equal(await readFile(path.join(copy, "D/f.txt"), "utf8"), "hello\n");
      assert.equal(await readFile(path.join(copy, "hard"), "utf8"), "hello\n");
      assert.equal(await readlink(path.join(copy, "link")), "D/f.txt");
    } finally {
      await done();
    }
  });

  it("packs a hard link that comes last (node-tar 7.5 stream bug)", async () => {
    const p = await project({ "a/b/x.txt": "x\n", "f.txt": "f\n" });
    await link(path.join(p.projectDir, "f.txt"), path.join(p.projectDir, "h"));
    const bundle = await buildProjectBundle(opts(p));
    assert.deepEqual(await listMembers(bundle.path), [
      { path: "a/", type: "Directory" },
      { path: "a/b/", type: "Directory" },
      { path: "a/b/x.txt", type: "File" },
      { path: "f.txt", type: "File" },
      { path: "h", type: "Link", linkpath: "f.txt" },
    ]);
  });

  it("refuses a rename that empties a name or climbs out", async () => {
    const p = await project({ "a/b.txt": "x\n" });
    await rejectsWith(buildProjectBundle(opts(p, { rename: ["s,.*,,"] })), "E_PROJECT", /cannot be unpacked/);
    await rejectsWith(buildProjectBundle(opts(p, { rename: ["s,^a,..,"] })), "E_PROJECT", /cannot be unpacked/);
    await rejectsWith(buildProjectBundle(opts(p, { rename: ["s,a,b,z"] })), "E_PROJECT", /unknown flag/);
  });

  it("is built the same, byte for byte, every time", async () => {
    const p = await project(BASIC);
    const a = await buildProjectBundle({ ...opts(p, { exclude: ["*.o"] }), outDir: `${p.outDir}-a` });
    const b = await buildProjectBundle({ ...opts(p, { exclude: ["*.o"] }), outDir: `${p.outDir}-b` });
    assert.equal(a.sha256, b.sha256);
    assert.equal(a.bytes, b.bytes);
    assert.deepEqual(await readFile(a.path), await readFile(b.path));
    const c = await buildProjectBundle({ ...opts(p), outDir: `${p.outDir}-c` });
    assert.notEqual(c.sha256, a.sha256, "different content, different bytes");
  });

  it("repack reads the tarball on fd 3 and writes the new one on fd 4", async () => {
    const p = await project({ "spread.yaml": "x\n", "a.txt": "a\n" });
    const script = [
      "work=$(mktemp -d)",
      "trap 'rm -rf \"$work\"' EXIT",
      'cat <&3 > "$work/in.tar"',
      'printf "%s\\n" "$REPACK_NOTE" > "$work/added.txt"',
      'tar -rf "$work/in.tar" -C "$work" added.txt',
      'cat "$work/in.tar" >&4',
    ].join("\n");
    const bundle = await buildProjectBundle(opts(p, { repack: script, environment: [{ key: "REPACK_NOTE", value: "from the env" }] }));
    assert.deepEqual(await listNames(bundle.path), ["a.txt", "spread.yaml", "added.txt"]);
    assert.equal(bundle.files, 3);
    const { dir: copy, cleanup: done } = await tempDir();
    try {
      await unpackLocal(bundle, copy);
      assert.equal(await readFile(path.join(copy, "added.txt"), "utf8"), "from the env\n");
    } finally {
      await done();
    }
    // The scratch files are gone: only the bundle is left.
    await assert.rejects(stat(path.join(p.outDir, ".project.tar")));
    await assert.rejects(stat(path.join(p.outDir, ".project.repacked.tar")));
  });

  it("repack runs under bash and sees the project's environment evaluated in order, as Spread's", async () => {
    const p = await project({ "spread.yaml": "x\n", "a.txt": "a\n" });
    const environment = [
      { key: "GREETING", value: "hello" },
      { key: "MSG", value: "$GREETING-world" },
      { key: "GOPATH", value: "/nonexistent/go" },
      { key: "PATH", value: "$GOPATH/bin:$PATH" },
    ];
    const script = [
      "work=$(mktemp -d); trap 'rm -rf \"$work\"' EXIT",
      'cat <&3 > "$work/in.tar"',
      // bash's own syntax, and tar found through the PATH the environment made.
      '[[ "$MSG" == hello-* ]] && printf "%s %s\\n" "${MSG^^}" "${PATH%%:*}" > "$work/env.txt"',
      'tar -rf "$work/in.tar" -C "$work" env.txt',
      'cat "$work/in.tar" >&4',
    ].join("\n");
    const bundle = await buildProjectBundle(opts(p, { repack: script, environment }));
    const { dir: copy, cleanup: done } = await tempDir();
    try {
      await unpackLocal(bundle, copy);
      assert.equal(await readFile(path.join(copy, "env.txt"), "utf8"), "HELLO-WORLD /nonexistent/go/bin\n");
    } finally {
      await done();
    }
  });

  it("the identity repack keeps the content", async () => {
    const p = await project({ "spread.yaml": "x\n", "d/e.txt": "e\n" });
    const bundle = await buildProjectBundle(opts(p, { repack: "cat <&3 >&4" }));
    assert.deepEqual(await listNames(bundle.path), ["d/", "d/e.txt", "spread.yaml"]);
  });

  it("a failing repack is a project error carrying its stderr", async () => {
    const p = await project({ "spread.yaml": "x\n" });
    await rejectsWith(
      buildProjectBundle(opts(p, { repack: 'echo "cannot find delta-ref.tar" >&2\nexit 3' })),
      "E_PROJECT",
      // Its output as Spread shows it: traces and messages, in order.
      /exited with status 3:\n\+ echo 'cannot find delta-ref.tar'\ncannot find delta-ref.tar\n\+ exit 3$/,
    );
    // set -eu, as Spread runs it: a failing command stops the script.
    await rejectsWith(buildProjectBundle(opts(p, { repack: "false\ncat <&3 >&4" })), "E_PROJECT", /exited with status 1/);
    await rejectsWith(buildProjectBundle(opts(p, { repack: "echo 'not a tarball' >&4" })), "E_PROJECT", /did not write a tar archive/);
    await rejectsWith(buildProjectBundle(opts(p, { repack: "true" })), "E_PROJECT", /did not write a tar archive/);
  });
});

describe("buildProjectBundle interrupted", () => {
  it("stops a running repack script when the signal aborts", async () => {
    const p = await project({ "spread.yaml": "x\n" });
    const mark = path.join(root, `mark${counter}`);
    const controller = new AbortController();
    const building = buildProjectBundle(
      opts(p, { repack: ': > "$MARK"\nsleep 30\ncat <&3 >&4', environment: [{ key: "MARK", value: mark }], signal: controller.signal }),
    );
    // Abort once the script is surely running.
    for (;;) {
      try {
        await stat(mark);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    controller.abort();
    await rejectsWith(building, "E_INTERRUPTED", /interrupted/);
    await assert.rejects(stat(path.join(p.outDir, "project.tar.gz")));
  });
});

describe("pushBundle and unpackLocal", () => {
  let bundle: Bundle;
  before(async () => {
    const p = await project({ "spread.yaml": "x\n", "tests/t/task.yaml": "execute: true\n", "run.sh": "#!/bin/sh\n" });
    await chmod(path.join(p.projectDir, "run.sh"), 0o755);
    bundle = await buildProjectBundle(opts(p));
  });

  it("streams the bundle to a host, which unpacks it into a new directory", async () => {
    const { dir, cleanup: done } = await tempDir();
    try {
      const transport = new DirTransport("h1");
      const remote = path.join(dir, "remote", "project");
      await pushBundle(bundle, transport, remote);
      assert.equal(await readFile(path.join(remote, "tests/t/task.yaml"), "utf8"), "execute: true\n");
      assert.deepEqual(transport.calls, ["exec", `put ${remote}`]);
    } finally {
      await done();
    }
  });

  it("reports a host that cannot take it as a transport error naming the host", async () => {
    const transport = new DirTransport("h2");
    transport.put = async () => {
      throw new Error("connection reset");
    };
    await rejectsWith(pushBundle(bundle, transport, path.join(root, "unused")), "E_TRANSPORT", /^h2: .*connection reset/);
    const failing = new DirTransport("h3");
    await rejectsWith(pushBundle(bundle, failing, "/proc/no/such/dir"), "E_TRANSPORT", /^h3: cannot create/);
  });

  it("unpacks locally, preserving modes", async () => {
    const { dir, cleanup: done } = await tempDir();
    try {
      await unpackLocal(bundle, path.join(dir, "w1"));
      assert.equal(await readFile(path.join(dir, "w1", "spread.yaml"), "utf8"), "x\n");
      assert.equal((await stat(path.join(dir, "w1", "run.sh"))).mode & 0o777, 0o755);
      assert.equal((await stat(path.join(dir, "w1", "spread.yaml"))).mode & 0o111, 0);
    } finally {
      await done();
    }
  });
});
