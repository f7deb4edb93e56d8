// The secret of a sync server (`troupe sync serve`): every line a caller
// sends starts with it. Taken from --token-file or TROUPE_SYNC_TOKEN, or,
// on loopback only, made here and written to a file of its own (0600 in a
// 0700 directory) that goes when the server stops.

import { randomBytes, timingSafeEqual } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TroupeError } from "../util/errors.js";
import { errorText } from "../util/text.js";

/** Hex digits, as troupe-ctl checks it: at least 128 bits. */
const TOKEN = /^[0-9a-f]{32,512}$/;
const MAKE_ONE = "make one with: openssl rand -hex 16 > token && chmod 600 token";

export interface ServerToken {
  readonly token: string;
  /** Where it is, when it is in a file. */
  readonly file?: string;
  /** Made by this server: say it, and remove its file at the end. */
  readonly made?: { readonly dir: string };
}

export function newToken(): string {
  return randomBytes(16).toString("hex");
}

/** Equal secrets, in a time that does not tell how much of them matched. */
export function sameToken(got: string, want: string): boolean {
  const a = Buffer.from(got, "latin1");
  const b = Buffer.from(want, "latin1");
  return a.length === b.length && timingSafeEqual(a, b);
}

function checked(token: string, from: string): string {
  if (!TOKEN.test(token)) {
    throw new TroupeError(
      "E_USAGE",
      `${from}: a sync token is 32 to 512 lowercase hex digits (${token.length} characters given); ${MAKE_ONE}`,
    );
  }
  return token;
}

/** The token of --token-file F (its first line), TROUPE_SYNC_TOKEN, or a new one on loopback. */
export async function serverToken(o: {
  readonly file?: string | undefined;
  readonly env: NodeJS.ProcessEnv;
  readonly loopback: boolean;
  readonly warn: (line: string) => void;
}): Promise<ServerToken> {
  if (o.file !== undefined) {
    let text: string;
    try {
      text = await readFile(o.file, "utf8");
      const mode = (await stat(o.file)).mode & 0o777;
      if (mode & 0o077) o.warn(`troupe: warning: ${o.file} can be read by other users (mode ${mode.toString(8)}): chmod 600 ${o.file}`);
    } catch (e) {
      throw new TroupeError("E_USAGE", `--token-file ${o.file}: ${errorText(e)}; ${MAKE_ONE}`);
    }
    return { token: checked(text.split("\n")[0]!.trim(), `--token-file ${o.file}`), file: o.file };
  }
  const env = o.env.TROUPE_SYNC_TOKEN;
  if (env !== undefined && env !== "") return { token: checked(env.trim(), "TROUPE_SYNC_TOKEN") };
  if (!o.loopback) {
    throw new TroupeError(
      "E_USAGE",
      `a sync server on an address other machines can reach needs a token: --token-file F or TROUPE_SYNC_TOKEN (${MAKE_ONE})`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "troupe-sync-token-"));
  const file = join(dir, "token");
  const token = newToken();
  await writeFile(file, `${token}\n`, { mode: 0o600, flag: "wx" });
  return { token, file, made: { dir } };
}

/** Remove the file of a token this server made. */
export async function forgetToken(t: ServerToken): Promise<void> {
  if (t.made) await rm(t.made.dir, { recursive: true, force: true });
}
