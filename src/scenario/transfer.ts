// Moving files for copy jobs and file URIs: orchestrator -> host, host ->
// orchestrator and host -> host, through the transports' tar streams (a host
// needs only sh and tar). Semantics of `cp -r FROM TO`: when TO ends with `/`
// or is an existing directory, FROM goes inside it under its own name;
// otherwise FROM becomes TO (replacing a file of that name).

import { makeDirs } from "../util/mkdirs.js";
import { randomBytes } from "node:crypto";
import { lstat, rename, rm, stat } from "node:fs/promises";
import { posix, resolve } from "node:path";
import type { Readable } from "node:stream";
import * as tar from "tar";
import { shQuote } from "../exec/shell-quote.js";
import { extractSafely } from "../transfer/artifacts.js";
import { dropLinksOut } from "../transfer/link-guard.js";
import type { Transport } from "../transport/transport.js";
import { TroupeError } from "../util/errors.js";

/** One end of a copy: a path on the orchestrator, or on a host. */
export type Place =
  | { readonly where: "orchestrator"; readonly path: string }
  | { readonly where: "host"; readonly host: string; readonly transport: Transport; readonly path: string };

export function showPlace(p: Place): string {
  return p.where === "orchestrator" ? `orchestrator://${p.path}` : `${p.host}://${p.path}`;
}

/** A path on a host: absolute as written, or relative to its scenario directory. */
export function hostPath(dir: string, path: string): string {
  return posix.normalize(path.startsWith("/") ? path : posix.join(dir, path));
}

async function runChecked(transport: Transport, script: string, what: string, signal?: AbortSignal): Promise<string> {
  let out = "";
  const r = await transport.exec({
    script,
    onStdout: (c) => (out += c.toString("utf8")),
    onStderr: (c) => (out += c.toString("utf8")),
    ...(signal ? { signal } : {}),
  });
  if (r.exitCode !== 0) {
    const why = out.trim().split("\n").slice(-3).join("; ");
    throw new TroupeError("E_SCENARIO", `${what}${why ? `: ${why}` : ` (exit status ${r.exitCode ?? r.signal})`}`);
  }
  return out;
}

async function source(from: Place, signal?: AbortSignal): Promise<{ stream: Readable; base: string }> {
  const trimmed = from.path.replace(/(.)\/+$/, "$1");
  const base = posix.basename(trimmed);
  const dir = posix.dirname(trimmed);
  if (base === "" || base === "/" || base === "." || base === "..")
    throw new TroupeError("E_SCENARIO", `cannot copy ${showPlace(from)}: name a file or a directory`);
  if (from.where === "orchestrator") {
    try {
      await stat(trimmed);
    } catch {
      throw new TroupeError("E_SCENARIO", `cannot copy ${showPlace(from)}: no such file or directory on the orchestrator`);
    }
    return { stream: tar.c({ cwd: dir, gzip: true, portable: true }, [base]) as unknown as Readable, base };
  }
  await runChecked(
    from.transport,
    `[ -e ${shQuote(trimmed)} ] || [ -h ${shQuote(trimmed)} ] || { echo "no such file or directory" >&2; exit 1; }`,
    `cannot copy ${showPlace(from)}`,
    signal,
  );
  return { stream: await from.transport.get(dir, [base]), base };
}

/** Copy FROM to TO; returns where it landed. */
export async function copyPlace(from: Place, to: Place, signal?: AbortSignal): Promise<string> {
  const { stream, base } = await source(from, signal);
  const into = to.path.endsWith("/");
  const target = to.path.replace(/(.)\/+$/, "$1");
  const tmpName = `.troupe-copy-${randomBytes(4).toString("hex")}`;
  if (to.where === "orchestrator") {
    const parent = into ? target : resolve(target, "..");
    const tmp = resolve(parent, tmpName);
    await makeDirs(tmp);
    try {
      await extractSafely(stream, tmp);
      // What lands at `final` keeps only links that stay inside it.
      if ((await lstat(resolve(tmp, base)).catch(() => undefined))?.isDirectory()) await dropLinksOut(resolve(tmp, base));
      let isDir = into;
      if (!isDir)
        isDir = await stat(target).then(
          (s) => s.isDirectory(),
          () => false,
        );
      const final = isDir ? resolve(target, base) : target;
      await rm(final, { recursive: true, force: true });
      await rename(resolve(tmp, base), final);
      return final;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const parent = into ? target : posix.dirname(target);
  const tmp = posix.join(parent, tmpName);
  await to.transport.put(stream, tmp);
  const script = [
    `src=${shQuote(posix.join(tmp, base))}; dst=${shQuote(target)}`,
    into ? 'mkdir -p "$dst"' : ":",
    'if [ -d "$dst" ] && [ ! -h "$dst" ]; then dst="$dst"/' + shQuote(base) + "; fi",
    'rm -rf "$dst" && mv "$src" "$dst" && rmdir ' + shQuote(tmp) + ' && printf "%s\\n" "$dst"',
  ].join("\n");
  try {
    const out = await runChecked(to.transport, script, `cannot copy to ${showPlace(to)}`, signal);
    return out.trim().split("\n").pop() ?? target;
  } catch (e) {
    await to.transport.exec({ script: `rm -rf ${shQuote(tmp)}` }).catch(() => undefined);
    throw e;
  }
}
