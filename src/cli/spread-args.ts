// `troupe spread` accepts Spread's own single-dash flags (Go's flag package
// syntax: `-flag`, `--flag`, `-flag=value`, `-flag value`, booleans as
// `-flag=false`) so that `alias spread='troupe spread'` works, plus troupe's
// own long options. This turns them into the argument list of `troupe run`
// (or `troupe list` for `-list`). Pure, so it is tested on its own.

import { TroupeError } from "../util/errors.js";

interface FlagSpec {
  /** The `troupe run` option it becomes. */
  readonly to: string;
  readonly takesValue: boolean;
}

/** Spread's flags (cmd/spread/main.go) and what they become. */
const SPREAD_FLAGS: Readonly<Record<string, FlagSpec>> = {
  v: { to: "--verbose", takesValue: false },
  vv: { to: "-vv", takesValue: false },
  list: { to: "list", takesValue: false },
  pass: { to: "--pass", takesValue: true },
  reuse: { to: "--reuse", takesValue: false },
  "reuse-pid": { to: "--reuse-pid", takesValue: true },
  resend: { to: "--resend", takesValue: false },
  debug: { to: "--debug", takesValue: false },
  shell: { to: "--shell", takesValue: false },
  "shell-before": { to: "--shell-before", takesValue: false },
  "shell-after": { to: "--shell-after", takesValue: false },
  abend: { to: "--abend", takesValue: false },
  restore: { to: "--restore", takesValue: false },
  discard: { to: "--discard", takesValue: false },
  artifacts: { to: "--artifacts", takesValue: true },
  seed: { to: "--seed", takesValue: true },
  repeat: { to: "--repeat", takesValue: true },
  gc: { to: "--gc", takesValue: false },
};

/** troupe's own long options that `troupe spread` passes through (with their arity). */
const TROUPE_OPTIONS: Readonly<Record<string, boolean>> = {
  "backend-as": true,
  junit: true,
  // `--json` prints, `--json=FILE` writes (cli/common.ts): passed on as written.
  json: false,
  workers: true,
  quiet: false,
  project: true,
  "no-color": false,
  color: false,
  html: false,
  failed: false,
  "max-hosts": true,
  "max-hours": true,
};

export interface SpreadTranslation {
  readonly command: "run" | "list";
  readonly args: readonly string[];
}

export function translateSpreadArgs(argv: readonly string[]): SpreadTranslation {
  let command: "run" | "list" = "run";
  const out: string[] = [];
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      filters.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      filters.push(arg);
      continue;
    }
    const body = arg.replace(/^--?/, "");
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const inline = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (name === "h" || name === "help") {
      out.push("--help");
      continue;
    }
    const spec = SPREAD_FLAGS[name];
    if (spec) {
      if (spec.takesValue) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw usage(`flag needs an argument: -${name}`);
        out.push(spec.to, value);
      } else if (inline === undefined || isTrue(name, inline)) {
        if (spec.to === "list") command = "list";
        else out.push(spec.to);
      }
      continue;
    }
    const takesValue = TROUPE_OPTIONS[name];
    if (takesValue !== undefined && arg.startsWith("--")) {
      if (takesValue) {
        const value = inline ?? argv[++i];
        if (value === undefined) throw usage(`option needs an argument: --${name}`);
        out.push(`--${name}`, value);
      } else {
        out.push(name === "json" && inline !== undefined ? `--json=${inline}` : `--${name}`);
      }
      continue;
    }
    throw usage(
      `flag provided but not defined: ${arg}\n` +
        `Spread's flags: ${Object.keys(SPREAD_FLAGS)
          .map((f) => "-" + f)
          .join(" ")}\n` +
        `troupe's options: ${Object.keys(TROUPE_OPTIONS)
          .map((f) => "--" + f)
          .join(" ")}`,
    );
  }
  if (command === "list") {
    // `spread -list` only takes filters; run-only flags are accepted and ignored as Spread does.
    const keep = out.filter((a, i) => a === "--project" || out[i - 1] === "--project" || a === "--help");
    return { command, args: [...keep, ...filters] };
  }
  // Spread takes -resend alone: without -reuse or -reuse-pid its run reuses no
  // host (its reuse file is the run's own, new), so there is nothing to resend.
  const reusing = out.includes("--reuse") || out.includes("--reuse-pid");
  const run = reusing ? out : out.filter((a) => a !== "--resend");
  return { command, args: [...run, ...filters] };
}

function isTrue(name: string, value: string): boolean {
  if (/^(1|t|T|TRUE|true|True)$/.test(value)) return true;
  if (/^(0|f|F|FALSE|false|False)$/.test(value)) return false;
  throw usage(`invalid boolean value "${value}" for -${name}`);
}

function usage(message: string): TroupeError {
  return new TroupeError("E_USAGE", message);
}
