// Login users an image is built with (`troupe image build --user NAME[:PASSWORD]`),
// as cloud images have them: a home in /home, bash, the sudo group, and sudo
// without a password. Pure: the account files' new text from their old text;
// writing them into an image is ext4-edit.ts's part.

import { TroupeError } from "../util/errors.js";

export interface LoginUser {
  readonly name: string;
  /** The password; a user without one logs in only with a key. */
  readonly password?: string;
}

/** A Debian user name useradd accepts without --badname. */
const USER_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Parse `NAME[:PASSWORD]` (E_USAGE when NAME cannot be a user, or is root). */
export function parseUser(text: string): LoginUser {
  const at = text.indexOf(":");
  const name = at < 0 ? text : text.slice(0, at);
  const password = at < 0 ? undefined : text.slice(at + 1);
  if (!USER_NAME.test(name)) {
    throw new TroupeError("E_USAGE", `--user ${JSON.stringify(text)}: ${JSON.stringify(name)} cannot be a user name (a-z, 0-9, _ and -)`);
  }
  if (name === "root") throw new TroupeError("E_USAGE", `--user root: root is in every image already (its password is set at boot)`);
  if (password === "") throw new TroupeError("E_USAGE", `--user ${name}: an empty password: leave out the colon for no password`);
  return password === undefined ? { name } : { name, password };
}

/** The account files a user is added to, as text. */
export interface AccountFiles {
  readonly passwd: string;
  readonly shadow: string;
  readonly group: string;
  readonly gshadow: string;
}

/** One user as it goes in: its ids and its password's crypt(3) hash ("!" for none). */
export interface NewAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly hash: string;
}

/** The group that may use sudo on Debian (and on Ubuntu's cloud images). */
export const SUDO_GROUP = "sudo";
/** Where the users' sudo rule goes: read by Debian's /etc/sudoers (@includedir /etc/sudoers.d). */
export const SUDOERS_FILE = "/etc/sudoers.d/troupe-users";

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");
const ids = (text: string, field: number): Set<number> => new Set(lines(text).map((l) => Number(l.split(":")[field])));

/** The first id from 1000 up that neither file uses (as useradd picks them). */
function freeId(used: Set<number>, taken: Set<number>): number {
  let id = 1000;
  while (used.has(id) || taken.has(id)) id++;
  taken.add(id);
  return id;
}

/** Ids for each user (user and its own group alike, as useradd gives them on a fresh system). */
export function allocateIds(files: AccountFiles, users: readonly LoginUser[]): { name: string; uid: number; gid: number }[] {
  const used = new Set([...ids(files.passwd, 2), ...ids(files.group, 2)]);
  const taken = new Set<number>();
  const names = new Set(lines(files.passwd).map((l) => l.split(":")[0]));
  return users.map((u) => {
    if (names.has(u.name)) throw new TroupeError("E_USAGE", `--user ${u.name}: the image has a user ${u.name} already`);
    const id = freeId(used, taken);
    return { name: u.name, uid: id, gid: id };
  });
}

/** The account files with `accounts` added: each in its own group and in the sudo group. */
export function addAccounts(files: AccountFiles, accounts: readonly NewAccount[], days: number): AccountFiles {
  const add = (text: string, more: string[]): string => [...lines(text), ...more].join("\n") + "\n";
  const inSudo = (text: string, field: number): string =>
    lines(text)
      .map((l) => {
        const f = l.split(":");
        if (f[0] !== SUDO_GROUP) return l;
        const members = (f[field] ?? "").split(",").filter((m) => m !== "");
        f[field] = [...members, ...accounts.map((a) => a.name).filter((n) => !members.includes(n))].join(",");
        return f.join(":");
      })
      .join("\n") + "\n";
  if (!lines(files.group).some((l) => l.startsWith(`${SUDO_GROUP}:`))) {
    throw new TroupeError("E_BACKEND", `image build: the image has no ${SUDO_GROUP} group (is sudo in its packages?)`);
  }
  return {
    passwd: add(
      files.passwd,
      accounts.map((a) => `${a.name}:x:${a.uid}:${a.gid}::/home/${a.name}:/bin/bash`),
    ),
    shadow: add(
      files.shadow,
      accounts.map((a) => `${a.name}:${a.hash}:${days}:0:99999:7:::`),
    ),
    group: inSudo(
      add(
        files.group,
        accounts.map((a) => `${a.name}:x:${a.gid}:`),
      ),
      3,
    ),
    gshadow: inSudo(
      add(
        files.gshadow,
        accounts.map((a) => `${a.name}:!::`),
      ),
      3,
    ),
  };
}

/** The sudo rule: the users run anything as anyone without a password, as on a cloud image. */
export function sudoers(users: readonly LoginUser[]): string {
  return `# Written by troupe image build --user.\n${users.map((u) => `${u.name} ALL=(ALL) NOPASSWD:ALL\n`).join("")}`;
}
