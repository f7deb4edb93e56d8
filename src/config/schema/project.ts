// The schema of a project file: troupe.yaml, spread.yaml or .spread.yaml.
//
// The loader validates a project piece by piece (the top level, then each
// backend, each system entry, each suite) so that one broken backend does not
// hide the problems of the others; `projectSchema()` assembles the pieces into
// one schema for editors.

import * as z from "zod";
import { SCRIPT_SHELLS } from "../../model/project.js";
import {
  deltaList,
  duration,
  environment,
  hookFields,
  integer,
  manual,
  priority,
  script,
  secrets,
  strict,
  text,
  textList,
  timeoutFields,
} from "./common.js";
import { backendExtraFields, systemExtraFields } from "./extra.js";

export const systemSchema = strict({
  image: text.optional().describe("the image to boot; defaults to the system's name"),
  username: text.optional(),
  password: text.optional(),
  workers: integer
    .min(0, { error: "workers must not be negative; write how many hosts of this system may run at once (default 1)" })
    .optional()
    .describe("how many hosts of this system run jobs at once (default 1)"),
  environment: environment.optional(),
  secrets: secrets.optional(),
  variants: deltaList.optional(),
  priority: priority.optional(),
  manual: manual.optional(),
  ...systemExtraFields,
});

/** The map form of a `systems:` item: `- ubuntu-16.04: {image: ..., workers: 2}`. */
export const systemMapSchema = z.record(z.string(), systemSchema.optional());

/** One item of a backend's `systems:`: `- ubuntu-16.04` or the map form. */
export const systemItemSchema = z.union([text, systemMapSchema]);

const backendFields = {
  type: text.optional().describe("the backend type; defaults to the backend's name"),
  key: text.optional(),
  allocate: script.optional().describe("adhoc: the script that allocates a host and prints ADDRESS <address>"),
  discard: script.optional().describe("adhoc: the script that releases a host"),
  ...hookFields,
  environment: environment.optional(),
  secrets: secrets.optional(),
  variants: deltaList.optional(),
  ...timeoutFields,
  "halt-timeout": duration.optional(),
  priority: priority.optional(),
  manual: manual.optional(),
  ...backendExtraFields,
};

/** A backend with its `systems:` items left for `systemItemSchema`. */
export const backendSchema = strict({ ...backendFields, systems: z.array(z.unknown()).optional() });

export const suiteSchema = strict({
  summary: text.optional(),
  systems: deltaList.optional(),
  backends: deltaList.optional(),
  variants: deltaList.optional(),
  environment: environment.optional(),
  secrets: secrets.optional(),
  ...hookFields,
  ...timeoutFields,
  priority: priority.optional(),
  manual: manual.optional(),
});

const projectFields = {
  project: text.optional().describe("the project's name"),
  path: text.optional().describe("where the project is put on each host (absolute)"),
  environment: environment.optional(),
  secrets: secrets.optional(),
  shell: z
    .enum(SCRIPT_SHELLS)
    .optional()
    .describe("what runs the scripts on hosts: bash (the default, as Spread) or sh (a POSIX shell, for hosts without bash)"),
  repack: script.optional(),
  reroot: text.optional(),
  ...hookFields,
  include: textList.optional(),
  exclude: textList.optional(),
  rename: textList.optional(),
  ...timeoutFields,
};

/** The top level, with backends and suites left for their own schemas. */
export const projectTopSchema = strict({
  ...projectFields,
  backends: z.record(z.string(), z.unknown()).optional(),
  suites: z.record(z.string(), z.unknown()).optional(),
});

/** The whole file in one schema (for JSON Schema). */
export function projectSchema() {
  const backend = strict({ ...backendFields, systems: z.array(systemItemSchema).optional() });
  return strict({
    ...projectFields,
    backends: z.record(z.string(), backend.optional()).optional(),
    suites: z.record(z.string(), suiteSchema.optional()).optional(),
  });
}

export type ProjectTopData = z.output<typeof projectTopSchema>;
export type BackendData = z.output<typeof backendSchema>;
export type SystemData = z.output<typeof systemSchema>;
export type SuiteData = z.output<typeof suiteSchema>;
