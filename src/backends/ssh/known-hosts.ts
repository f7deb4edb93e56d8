// Host keys: troupe honours the user's known_hosts (a key found there must
// match), and accepts a host it has never seen only into the project's own
// `.troupe/known_hosts`, never into the user's file. OpenSSH writes new keys
// into the FIRST file of UserKnownHostsFile and checks against all of them, so
// the project file goes first, followed by whatever the user's ssh_config
// resolves for that host (`ssh -G`). A changed key is always refused.

import { execFile } from "node:child_process";
import { mkdir, open } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const PROJECT_KNOWN_HOSTS = join(".troupe", "known_hosts");

/** Create `<projectDir>/.troupe/known_hosts` (0600) if missing; return its path. */
export async function ensureProjectKnownHosts(projectDir: string): Promise<string> {
  const file = join(projectDir, PROJECT_KNOWN_HOSTS);
  await mkdir(dirname(file), { recursive: true });
  const fh = await open(file, "a", 0o600);
  await fh.close();
  return file;
}

/** What `ssh -G` says about a destination: lowercased keys, values as printed (repeatable keys joined by \n). */
export type ResolvedConfig = ReadonlyMap<string, string>;

export interface Destination {
  readonly host: string;
  readonly port?: number;
  readonly user?: string;
}

/** Ask the OpenSSH client how it would connect (`ssh -G`), honouring the user's ssh_config. */
export async function resolveSshConfig(dest: Destination, extraArgs: readonly string[] = [], ssh = "ssh"): Promise<ResolvedConfig> {
  const args = ["-G", ...extraArgs];
  if (dest.port !== undefined) args.push("-p", String(dest.port));
  if (dest.user !== undefined) args.push("-l", dest.user);
  args.push("--", dest.host);
  const { stdout } = await run(ssh, args, { timeout: 10_000, maxBuffer: 1 << 20 });
  return parseSshG(stdout);
}

export function parseSshG(text: string): ResolvedConfig {
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const key = line.slice(0, sp).toLowerCase();
    const value = line.slice(sp + 1).trim();
    const prev = out.get(key);
    out.set(key, prev === undefined ? value : `${prev}\n${value}`);
  }
  return out;
}

/**
 * The `-o` options that put the project's known_hosts first and accept new
 * keys only there. The user's own files (from `ssh -G`) stay in the list so
 * their recorded keys still count. StrictHostKeyChecking stays `yes` if the
 * user asked for it; otherwise it is `accept-new` (never `no`).
 */
export function hostKeyOptions(projectKnownHosts: string, resolved: ResolvedConfig | undefined): string[] {
  const userFiles = (resolved?.get("userknownhostsfile") ?? "~/.ssh/known_hosts ~/.ssh/known_hosts2")
    .split(/\s+/)
    .filter((f) => f !== "" && f !== "none" && f !== projectKnownHosts);
  const files = [projectKnownHosts, ...userFiles].map(quoteConfigToken).join(" ");
  const strict = resolved?.get("stricthostkeychecking")?.toLowerCase();
  const mode = strict === "yes" || strict === "true" ? "yes" : "accept-new";
  return ["-o", `UserKnownHostsFile=${files}`, "-o", `StrictHostKeyChecking=${mode}`];
}

function quoteConfigToken(path: string): string {
  return /[\s"]/.test(path) ? `"${path.replace(/"/g, "")}"` : path;
}
