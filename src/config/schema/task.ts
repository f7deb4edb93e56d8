// The schema of task.yaml: Spread's task fields plus troupe's `hosts:` for
// multi-host tasks. Per-role scripts (`execute/server`, ...) have open-ended
// keys, so the loader takes them out before validating the rest.

import * as z from "zod";
import { deltaList, environment, integer, manual, priority, script, secrets, strict, text, textList, timeoutFields } from "./common.js";

export const hostRoleSchema = strict({
  count: integer
    .min(1, { error: "count must be 1 or more: how many hosts play this role" })
    .optional()
    .describe("how many hosts play this role (default 1)"),
  system: text.optional().describe("backend:system or system the role's hosts come from; the job's own by default"),
});

const taskFields = {
  summary: text.optional(),
  details: text.optional(),
  systems: deltaList.optional(),
  backends: deltaList.optional(),
  variants: deltaList.optional(),
  environment: environment.optional(),
  secrets: secrets.optional(),
  samples: integer.min(0, { error: "samples must not be negative; write how many times to run the task (default 1)" }).optional(),
  prepare: script.optional(),
  restore: script.optional(),
  execute: script.optional(),
  debug: script.optional(),
  artifacts: textList.optional(),
  ...timeoutFields,
  priority: priority.optional(),
  manual: manual.optional(),
};

const portName = text.describe("a port name: lowercase letters and digits, words joined by - or _ (http, db-admin)");

const portsDescription =
  "ports reserved before the job starts, free on the hosts that listen on them; every host sees TROUPE_PORT_<NAME> " +
  "and `troupe-ctl port NAME`. A list of names (free on every host of the job), or role-or-host -> name or list of names";

/** `ports: [http]` or `ports: {server: [http, admin], client-1: debug}`. */
export const portsSchema = z
  .union([z.array(portName), z.record(z.string(), z.union([portName, z.array(portName)]))])
  .describe(portsDescription);

const hostsDescription = "multi-host task: role -> {count, system}; each host runs execute/ROLE (or execute)";

/** The whole file in one schema (for JSON Schema). */
export const taskSchema = strict({
  ...taskFields,
  hosts: z.record(z.string(), hostRoleSchema.optional()).optional().describe(hostsDescription),
  ports: portsSchema.optional(),
});

/** What the loader validates first; each role of `hosts:` is then validated on its own. */
export const taskTopSchema = strict({
  ...taskFields,
  hosts: z.record(z.string(), z.unknown()).optional().describe(hostsDescription),
  // Checked piece by piece by the loader (build-task.ts), for messages that say what to write.
  ports: z.unknown().optional().describe(portsDescription),
});

export type TaskData = z.output<typeof taskTopSchema>;

/** Role-script values: the same as any script. */
export const roleScriptSchema = script;
