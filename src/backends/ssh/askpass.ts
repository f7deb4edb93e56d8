// Passwords for OpenSSH without sshpass: a private helper script that ssh runs
// as SSH_ASKPASS (with SSH_ASKPASS_REQUIRE=force, so no terminal or DISPLAY is
// needed). The password sits in a 0600 file in a 0700 directory of its own;
// never on a command line, never in the environment of remote scripts.

import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Askpass {
  /** Environment for the `ssh` process (only the master connection needs it). */
  readonly env: Readonly<Record<string, string>>;
  /** ssh options that go with a password: one prompt, so a wrong password fails at once. */
  readonly options: readonly string[];
  readonly dir: string;
  dispose(): Promise<void>;
}

/** Write the helper; `dispose()` removes it. */
export async function createAskpass(password: string, parent: string = tmpdir()): Promise<Askpass> {
  if (password.includes("\n")) throw new Error("a password cannot contain a newline");
  const dir = await mkdtemp(join(parent, "troupe-askpass-"));
  await chmod(dir, 0o700);
  const secret = join(dir, "password");
  const script = join(dir, "askpass");
  await writeFile(secret, `${password}\n`, { mode: 0o600 });
  await writeFile(script, `#!/bin/sh\nexec cat ${shQuote(secret)}\n`, { mode: 0o700 });
  let disposed = false;
  return {
    env: { SSH_ASKPASS: script, SSH_ASKPASS_REQUIRE: "force" },
    options: ["-o", "NumberOfPasswordPrompts=1", "-o", "BatchMode=no"],
    dir,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Quote a string for a POSIX shell. */
export function shQuote(s: string): string {
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}
