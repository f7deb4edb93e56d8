// Login users written into a built ext4 root filesystem image with debugfs
// (e2fsprogs): no mount, no chroot, no package downloaded. The account files
// are read out, given the users (users.ts), and written back with their
// owners and modes; each user gets a home, and the sudo rule its file.
// e2fsck checks the filesystem afterwards.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { TroupeError } from "../util/errors.js";
import { runCommand } from "./command.js";
import type { StepContext } from "./rootfs.js";
import { addAccounts, allocateIds, sudoers, SUDOERS_FILE, type AccountFiles, type LoginUser, type NewAccount } from "./users.js";

const ACCOUNT_FILES = ["passwd", "shadow", "group", "gshadow"] as const;

/** debugfs's one command on `img`, its output (debugfs says errors on stderr, after its banner, and exits 0: they are failures here). */
async function debugfs(img: string, args: readonly string[], what: string, ctx: StepContext): Promise<string> {
  const r = await runCommand("debugfs", [...args, img], { signal: ctx.signal, what });
  const errors = r.stderr.split("\n").filter((l) => l.trim() !== "" && !/^debugfs \d/.test(l));
  if (errors.length > 0) throw new TroupeError("E_BACKEND", `${what} failed: ${errors.slice(0, 3).join("; ")}`);
  return r.stdout;
}

interface Inode {
  /** debugfs's `sif mode` value: the type and permission bits in octal. */
  readonly mode: string;
  readonly uid: number;
  readonly gid: number;
}

/** Mode (octal digits of the type and permissions), uid and gid of `path` in the image. */
async function inodeOf(img: string, path: string, ctx: StepContext): Promise<Inode> {
  const out = await debugfs(img, ["-R", `stat ${path}`], `reading ${path} of ${img}`, ctx);
  const mode = /Mode:\s+(\d+)/.exec(out)?.[1];
  const owner = /User:\s+(\d+)\s+Group:\s+(\d+)/.exec(out);
  if (!mode || !owner) throw new TroupeError("E_BACKEND", `image build: cannot read ${path}'s owner and mode in ${img}`);
  return { mode: `0100${mode.slice(-3)}`, uid: Number(owner[1]), gid: Number(owner[2]) };
}

/** A password's SHA-512 crypt(3) hash, made by openssl with a fresh salt (the password goes on stdin, not argv). */
async function passwordHash(password: string, ctx: StepContext): Promise<string> {
  const salt = randomBytes(12)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "x");
  const r = await runCommand("openssl", ["passwd", "-6", "-salt", salt, "-stdin"], {
    input: `${password}\n`,
    signal: ctx.signal,
    what: "openssl passwd",
  });
  return r.stdout.trim();
}

/** Add `users` (see users.ts) to the ext4 root filesystem `img`, in place. */
export async function addUsersToExt4(img: string, users: readonly LoginUser[], ctx: StepContext, days: number): Promise<void> {
  const read = async (name: string): Promise<string> => debugfs(img, ["-R", `cat /etc/${name}`], `reading /etc/${name} of ${img}`, ctx);
  const before: AccountFiles = {
    passwd: await read("passwd"),
    shadow: await read("shadow"),
    group: await read("group"),
    gshadow: await read("gshadow"),
  };
  const accounts: NewAccount[] = [];
  for (const [i, a] of allocateIds(before, users).entries()) {
    const password = users[i]?.password;
    accounts.push({ ...a, hash: password === undefined ? "!" : await passwordHash(password, ctx) });
  }
  const after = addAccounts(before, accounts, days);
  const tmp = await mkdtemp(join(tmpdir(), "troupe-users-"));
  try {
    const script: string[] = [];
    /** Write `path` (replacing the file there when `replace`) with its owner and mode. */
    const put = async (path: string, content: string, inode: Inode, replace: boolean): Promise<void> => {
      const local = join(tmp, path.replace(/\//g, "_"));
      await writeFile(local, content);
      if (replace) script.push(`rm ${path}`);
      script.push(
        `write ${local} ${path}`,
        `sif ${path} mode ${inode.mode}`,
        `sif ${path} uid ${inode.uid}`,
        `sif ${path} gid ${inode.gid}`,
      );
    };
    for (const f of ACCOUNT_FILES) await put(`/etc/${f}`, after[f], await inodeOf(img, `/etc/${f}`, ctx), true);
    await put(SUDOERS_FILE, sudoers(users), { mode: "0100440", uid: 0, gid: 0 }, false);
    for (const a of accounts) {
      const home = `/home/${a.name}`;
      script.push(`mkdir ${home}`, `sif ${home} mode 040755`, `sif ${home} uid ${a.uid}`, `sif ${home} gid ${a.gid}`);
    }
    const file = join(tmp, "debugfs.cmds");
    await writeFile(file, script.join("\n") + "\n");
    await debugfs(img, ["-w", "-f", file], `writing users into ${img}`, ctx);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  await runCommand("e2fsck", ["-f", "-n", img], { signal: ctx.signal, what: `e2fsck of ${img} after adding users` });
}
