// Which values are secret. Pure: the registry (registry.ts) is fed by the
// callers.
//
// A job's variable is secret when its name is listed under `secrets:` at any
// level of the project (project, backend, system, suite, task), or when the
// name says so: one of its `_`-separated words is TOKEN, PASSWORD, PASSWD,
// PASSPHRASE, SECRET, CREDENTIAL(S), APIKEY or PRIVATEKEY, or it holds
// API_KEY, ACCESS_KEY or PRIVATE_KEY, unless its last word says the value
// only points at a secret or describes one (FILE, PATH, DIR, URL, NAME, ID,
// TYPE, LENGTH, SIZE, USER, HOST, PORT): `GITHUB_TOKEN`, `DB_PASSWORD`,
// `AWS_SECRET_ACCESS_KEY` and `SPREAD_PASSWORD` are secret; `KEYBOARD`,
// `SSH_KEY_PATH`, `TOKEN_FILE` and `AWS_ACCESS_KEY_ID` are not. A bare KEY
// is not enough: `KEY`, `SORT_KEY` and `CACHE_KEY` are seldom secrets, and
// hiding their values would garble the output. A name the rule misses goes
// in `secrets:`.
//
// The value hidden is the one troupe knows: a literal (quotes removed) or
// the output of `$(HOST:...)`, which the planner has put in its place. A
// value the host's shell computes (`$(cat /etc/token)`, `$OTHER`) is not
// known to troupe, so it cannot be hidden; a literal with a reference in it
// has its literal parts hidden.

import type { Job } from "../model/job.js";
import type { System } from "../model/project.js";

const SECRET_WORDS = new Set(["TOKEN", "PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "CREDENTIAL", "CREDENTIALS", "APIKEY", "PRIVATEKEY"]);
const SECRET_PAIRS = ["API_KEY", "ACCESS_KEY", "PRIVATE_KEY"];
const NOT_THE_VALUE = new Set(["FILE", "PATH", "DIR", "URL", "NAME", "ID", "TYPE", "LENGTH", "LEN", "SIZE", "USER", "HOST", "PORT"]);

/** Names already judged: a project's jobs share a few dozen names, asked about once per job. */
const judged = new Map<string, boolean>();

/** Whether a variable named `name` holds a secret by its name alone. */
export function isSecretName(name: string): boolean {
  let secret = judged.get(name);
  if (secret === undefined) judged.set(name, (secret = judgeName(name)));
  return secret;
}

function judgeName(name: string): boolean {
  const upper = name.toUpperCase();
  const words = upper.split("_").filter((w) => w !== "");
  if (words.length === 0 || NOT_THE_VALUE.has(words[words.length - 1]!)) return false;
  if (words.some((w) => SECRET_WORDS.has(w))) return true;
  const joined = `_${words.join("_")}_`;
  return SECRET_PAIRS.some((p) => joined.includes(`_${p}_`));
}

/** The parts of an environment value that are known text: quotes removed, `$...` and backquoted parts left out. */
export function knownParts(value: string): string[] {
  let v = value.trim();
  if (v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0]) v = v.slice(1, -1);
  return v
    .split(/\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|`[^`]*`/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

/** Names listed under `secrets:` at the levels of a job. */
function listedNames(job: Job): Set<string> {
  const names = new Set<string>();
  for (const level of [job.project, job.backend, job.system, job.suite, job.task]) for (const n of level.secrets ?? []) names.add(n);
  return names;
}

/** The secret values troupe knows of a job's environment. */
export function jobSecrets(job: Job): string[] {
  const listed = listedNames(job);
  const out: string[] = [];
  for (const { key, value } of job.environment) if (listed.has(key) || isSecretName(key)) out.push(...knownParts(value));
  return out;
}

/**
 * Passwords (evaluated) the project takes from elsewhere: a system's `password:` that
 * reads the environment (`$PASS`, `$(HOST:...)`) is secret once evaluated
 * (api/logins.ts). One written out in the project file is not: it is in the
 * repository for anyone who reads it, and hiding a word such as `ubuntu`
 * would blank every system name that holds it (snapd's systems do).
 */
export function loginSecrets(
  project: { readonly backends: readonly { readonly name: string; readonly systems: readonly Pick<System, "name" | "password">[] }[] },
  evaluated: Readonly<Record<string, { readonly password?: string }>>,
): string[] {
  const out: string[] = [];
  for (const backend of project.backends) {
    for (const system of backend.systems) {
      const value = evaluated[`${backend.name}:${system.name}`]?.password;
      if (system.password?.includes("$") && value) out.push(value);
    }
  }
  return out;
}
