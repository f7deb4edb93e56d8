// JSON Schema of each file kind, for editors (`troupe schema project|task`).

import * as z from "zod";
import { textInput } from "./schema/common.js";
import { projectSchema } from "./schema/project.js";
import { taskSchema } from "./schema/task.js";

export type JsonSchema = Record<string, unknown>;

/**
 * A file kind's schema as JSON Schema draft-07 (what editors' YAML and JSON
 * support reads best), describing what may be written (zod's input side).
 */
export function toJson(schema: z.ZodType, title: string): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: "draft-07",
    io: "input",
    unrepresentable: "any",
    override: (ctx) => {
      // Text fields take numbers and booleans too (as Spread does), but editors should suggest text.
      if (ctx.zodSchema === textInput) {
        delete ctx.jsonSchema.anyOf;
        ctx.jsonSchema.type = "string";
      }
    },
  }) as JsonSchema;
  return { ...json, title };
}

/** The JSON Schema of troupe.yaml (and of the spread.yaml files troupe reads). */
export function projectJsonSchema(): JsonSchema {
  return toJson(projectSchema(), "troupe project file (troupe.yaml, spread.yaml)");
}

/** The JSON Schema of task.yaml, including per-role scripts such as `execute/server`. */
export function taskJsonSchema(): JsonSchema {
  const json = toJson(taskSchema, "troupe task file (task.yaml)");
  return {
    ...json,
    patternProperties: {
      "^(prepare|execute|restore|debug)/[a-z][a-z0-9]*([-_][a-z0-9]+)*$": {
        type: "string",
        description: "the script for one role of a multi-host task (the role must be listed in hosts:)",
      },
    },
  };
}
