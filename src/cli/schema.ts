// `troupe schema [project|task]`: the JSON Schema of troupe's files, for editors.

import type { Command } from "commander";
import { projectJsonSchema, taskJsonSchema } from "../config/index.js";
import { TroupeError } from "../util/errors.js";

export function addSchemaCommand(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of troupe.yaml (project) or task.yaml (task), for editors")
    .argument("[kind]", "project or task", "project")
    .addHelpText(
      "after",
      `
Example (VS Code with the YAML extension):
  troupe schema project > .troupe.schema.json
  # then, first line of troupe.yaml:
  # yaml-language-server: $schema=./.troupe.schema.json`,
    )
    .action((kind: string) => {
      if (kind !== "project" && kind !== "task") {
        throw new TroupeError("E_USAGE", `schema kind must be "project" or "task", not "${kind}"`);
      }
      const schema = kind === "project" ? projectJsonSchema() : taskJsonSchema();
      process.stdout.write(JSON.stringify(schema, null, 2) + "\n");
    });
}
