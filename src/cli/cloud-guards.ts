// `--max-hosts N` and `--max-hours H`, the cloud cost guards, for the
// commands that allocate machines (run, spread, play). They cap what the
// project's `max-hosts` and `max-hours` allow (the lower value wins) for
// every cloud backend of the run (ec2, google).

import { Option } from "commander";
import { TroupeError } from "../util/errors.js";
import { positiveInt } from "./common.js";

export interface CloudGuardCliOptions {
  readonly maxHosts?: number;
  readonly maxHours?: number;
}

function positiveHours(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0)) {
    throw new TroupeError("E_USAGE", `--max-hours takes a positive number of hours such as 2 or 0.5, not "${value}"`);
  }
  return n;
}

/** The two options, for a command's chain: `.addOption(o[0]).addOption(o[1])`. */
export function cloudGuardOptions(): [Option, Option] {
  return [
    new Option("--max-hosts <n>", "cloud backends: at most N machines of a backend at once (under the project's max-hosts)").argParser(
      positiveInt("--max-hosts"),
    ),
    new Option("--max-hours <h>", "cloud backends: no machine lives longer than H hours (under the project's max-hours)").argParser(
      positiveHours,
    ),
  ];
}

/** The guards as the API takes them, or nothing. */
export function cloudGuardsOf(opts: CloudGuardCliOptions): { cloudGuards?: { maxHosts?: number; maxHours?: number } } {
  if (opts.maxHosts === undefined && opts.maxHours === undefined) return {};
  return {
    cloudGuards: {
      ...(opts.maxHosts !== undefined ? { maxHosts: opts.maxHosts } : {}),
      ...(opts.maxHours !== undefined ? { maxHours: opts.maxHours } : {}),
    },
  };
}
