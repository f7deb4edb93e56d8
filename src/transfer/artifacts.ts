// Fetching a task's `artifacts:` back from a host, as Spread does
// (runner.go fetchArtifacts, client.go RecvTar):
//
// - paths are relative to the task directory on the host; an absolute path is
//   fetched too and lands under destDir without its leading `/`;
// - `*` is a wildcard expanded by the host's shell, everything else is literal;
// - missing paths are skipped silently: residual content is fetched "even if
//   some of the provided paths are missing";
// - the content is unpacked into destDir (the caller's `ARTIFACTS/<job>/`),
//   which is created even if nothing is fetched.
//
// Unpacking is guarded: a member that would land outside destDir (`..`, a
// hard link out, a write through a symbolic link) is not written, and the
// fetch fails with E_TRANSPORT naming it: the host sent something it should
// not. A symbolic link pointing out of the fetched tree is not kept either,
// quietly: it would mean nothing on this machine, and whoever follows links
// there would read the orchestrator's files. A target that is plainly out
// (absolute, or up past destDir as written) is skipped as it comes; once all
// is unpacked, every link is resolved through the links it meets
// (link-guard.ts) and those that lead out are removed.

import { makeDirs } from "../util/mkdirs.js";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar";
import type { Transport } from "../transport/transport.js";
import { TroupeError } from "../util/errors.js";
import { dropLinksOut } from "./link-guard.js";
import { shQuote, shQuoteGlob } from "../exec/shell-quote.js";

export interface FetchArtifactsOptions {
  readonly transport: Transport;
  /** The task directory on the host. */
  readonly remoteDir: string;
  /** The task's `artifacts:` entries. */
  readonly patterns: readonly string[];
  /** Local directory receiving them (created if missing). */
  readonly destDir: string;
  readonly signal?: AbortSignal;
}

/** Check and tidy the artifact entries; E_PROJECT for one that climbs out with `..`. */
function cleanPatterns(patterns: readonly string[]): string[] {
  const out: string[] = [];
  for (const raw of patterns) {
    const p = raw.trim();
    if (p === "") continue;
    if (p.split("/").includes("..")) {
      throw new TroupeError("E_PROJECT", {
        path: "artifacts",
        message: `artifact path ${JSON.stringify(raw)} must not contain ".."`,
      });
    }
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** A script printing, NUL-terminated, each existing path the patterns name. */
export function listArtifactsScript(remoteDir: string, patterns: readonly string[]): string {
  return [
    `cd -- ${shQuote(remoteDir)} 2>/dev/null || exit 0`,
    `for f in ${patterns.map(shQuoteGlob).join(" ")}; do`,
    `  if [ -e "$f" ] || [ -h "$f" ]; then printf '%s\\000' "$f"; fi`,
    `done`,
  ].join("\n");
}

/** Expand the patterns on the host; the paths that exist, in pattern order. */
async function listExisting(options: FetchArtifactsOptions, patterns: readonly string[]): Promise<string[]> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = await options.transport.exec({
    script: listArtifactsScript(options.remoteDir, patterns),
    onStdout: (c) => out.push(c),
    onStderr: (c) => err.push(c),
    signal: options.signal,
  });
  if (result.exitCode !== 0) {
    const why = Buffer.concat(err).toString("utf8").trim();
    throw new Error(`listing artifacts failed (${result.exitCode ?? result.signal})${why ? `: ${why}` : ""}`);
  }
  const found: string[] = [];
  for (const p of Buffer.concat(out).toString("utf8").split("\0")) {
    if (p !== "" && !found.includes(p)) found.push(p);
  }
  return found;
}

type Verdict = { readonly refuse: string } | "skip" | "ok";

/** Whether a member may be unpacked, must be refused (the host misbehaves) or is quietly skipped. */
function judge(entry: tar.ReadEntry): Verdict {
  const name = entry.path.replace(/^\/+/, "");
  if (name.split("/").includes("..")) return { refuse: `${JSON.stringify(entry.path)} climbs out with ".."` };
  const link = entry.linkpath;
  if (entry.type === "Link" && link !== undefined) {
    if (link.startsWith("/") || link.split("/").includes("..")) {
      return { refuse: `hard link ${JSON.stringify(entry.path)} points outside: ${JSON.stringify(link)}` };
    }
  }
  if (entry.type === "SymbolicLink" && link !== undefined) {
    // A link out of the fetched tree means nothing here and could be written through: not kept.
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(name), link));
    if (link.startsWith("/") || resolved === ".." || resolved.startsWith("../")) return "skip";
  }
  return "ok";
}

/** Unpack a tar (or gzip'd tar) stream into `dir`, refusing anything that would land outside it. */
export async function extractSafely(stream: Readable, dir: string): Promise<void> {
  const problems: string[] = [];
  const unpack = tar.x({
    cwd: dir,
    preserveOwner: false,
    strict: false,
    filter: (_p, entry) => {
      if (!(entry instanceof tar.ReadEntry)) return true;
      const verdict = judge(entry);
      if (typeof verdict === "object") problems.push(verdict.refuse);
      return verdict === "ok";
    },
    onwarn: (code, message, data) => {
      if (code === "TAR_ENTRY_INFO") return; // e.g. a leading "/" stripped: still inside dir
      const where = data.entry instanceof tar.ReadEntry ? data.entry.path : typeof data.path === "string" ? data.path : undefined;
      problems.push(where ? `${where}: ${message}` : message);
    },
  });
  try {
    await pipeline(stream, unpack);
  } finally {
    await dropLinksOut(dir);
  }
  if (problems.length > 0) {
    throw new TroupeError(
      "E_TRANSPORT",
      problems.map((message) => ({ message: `refused artifact member ${message}` })),
    );
  }
}

/** Fetch a job's artifacts into destDir; returns the remote paths fetched (relative to remoteDir). */
export async function fetchArtifacts(options: FetchArtifactsOptions): Promise<string[]> {
  const patterns = cleanPatterns(options.patterns);
  if (patterns.length === 0) return [];
  const label = options.transport.label;
  await makeDirs(options.destDir);
  let found: string[];
  try {
    found = await listExisting(options, patterns);
    if (found.length === 0) return [];
    const stream = await options.transport.get(options.remoteDir, found);
    await extractSafely(stream, options.destDir);
  } catch (e) {
    if (options.signal?.aborted) throw new TroupeError("E_INTERRUPTED", `${label}: fetching artifacts was interrupted`);
    if (e instanceof TroupeError) {
      throw new TroupeError(
        e.code,
        e.problems.map((p) => ({ ...p, message: `${label}: ${p.message}` })),
      );
    }
    throw new TroupeError("E_TRANSPORT", `${label}: cannot fetch artifacts: ${(e as Error).message}`);
  }
  return found.map((p) => path.posix.normalize(p).replace(/(.)\/+$/, "$1"));
}
