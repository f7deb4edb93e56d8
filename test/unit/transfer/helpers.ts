// Test helpers for transfer/: temp projects, archive listings, and a real
// (not mocked) transport whose "host" is this machine's file system.

import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { ExecOptions, ExecResult, Transport } from "../../../src/transport/transport.js";

export async function tempDir(prefix = "troupe-transfer-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Files to create: path -> content, or `{ link: target }` for a symbolic link. */
export type Tree = Readonly<Record<string, string | { readonly link: string }>>;

export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [rel, content] of Object.entries(tree)) {
    const full = path.join(root, rel);
    await mkdir(path.dirname(full), { recursive: true });
    if (typeof content === "string") await writeFile(full, content);
    else await symlink(content.link, full);
  }
}

export interface Member {
  readonly path: string;
  readonly type: string;
  readonly linkpath?: string;
}

/** The members of a (gzip'd) tarball, in order. */
export async function listMembers(file: string): Promise<Member[]> {
  const out: Member[] = [];
  await tar.t({
    file,
    onReadEntry: (e) => {
      out.push(e.linkpath ? { path: e.path, type: e.type, linkpath: e.linkpath } : { path: e.path, type: e.type });
    },
  });
  return out;
}

export async function listNames(file: string): Promise<string[]> {
  return (await listMembers(file)).map((m) => m.path);
}

/** A transport to "a host" that is this machine: real shell, real tar streams. */
export class DirTransport implements Transport {
  readonly label: string;
  readonly calls: string[] = [];

  constructor(label = "dirhost") {
    this.label = label;
  }

  exec(options: ExecOptions): Promise<ExecResult> {
    this.calls.push("exec");
    return new Promise((resolve, reject) => {
      const child = spawn("/bin/sh", ["-c", options.script], {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.on("data", (c: Buffer) => options.onStdout?.(c));
      child.stderr.on("data", (c: Buffer) => options.onStderr?.(c));
      child.on("error", reject);
      child.on("close", (exitCode, signal) => resolve({ exitCode, signal }));
    });
  }

  async put(archive: Readable, dir: string): Promise<void> {
    this.calls.push(`put ${dir}`);
    await mkdir(dir, { recursive: true });
    await pipeline(archive, tar.x({ cwd: dir, preserveOwner: false }));
  }

  async get(dir: string, paths: readonly string[]): Promise<Readable> {
    this.calls.push(`get ${dir} ${paths.join(" ")}`);
    return Readable.from(tar.c({ cwd: dir, gzip: true, portable: true }, [...paths]));
  }

  async close(): Promise<void> {}
}

/** Raw tar bytes for hand-made members (to play a hostile host). */
export function rawTar(
  members: readonly { path: string; type: "File" | "SymbolicLink" | "Link"; body?: string; linkpath?: string }[],
): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const body = Buffer.from(m.body ?? "");
    const header = new tar.Header({
      path: m.path,
      type: m.type,
      linkpath: m.linkpath,
      size: m.type === "File" ? body.length : 0,
      mode: 0o644,
      mtime: new Date(0),
    });
    header.encode();
    blocks.push(header.block!);
    if (m.type === "File" && body.length > 0) {
      const padded = Buffer.alloc(Math.ceil(body.length / 512) * 512);
      body.copy(padded);
      blocks.push(padded);
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
