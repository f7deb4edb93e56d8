// `troupe schema [project|task|scenario]`: the JSON Schema of troupe's files, for editors.

import type { Command } from "commander";
import { TroupeError } from "../util/errors.js";

const KINDS = {
  project: async () => (await import("../config/index.js")).projectJsonSchema(),
  task: async () => (await import("../config/index.js")).taskJsonSchema(),
  scenario: async () => (await import("../scenario/schema.js")).scenarioJsonSchema(),
} as const;

export function addSchemaCommand(program: Command): void {
  program
    .command("schema")
    .description("print the JSON Schema of troupe.yaml (project), task.yaml (task) or a scenario file (scenario), for editors")
    .argument("[kind]", "project, task or scenario", "project")
    .addHelpText(
      "after",
      `
Example (VS Code with the YAML extension):
  troupe schema project > .troupe.schema.json
  # then, first line of troupe.yaml:
  # yaml-language-server: $schema=./.troupe.schema.json`,
    )
    .action(async (kind: string) => {
      if (!Object.hasOwn(KINDS, kind)) {
        throw new TroupeError("E_USAGE", `schema kind must be "project", "task" or "scenario", not "${kind}"`);
      }
      const schema = await KINDS[kind as keyof typeof KINDS]();
      process.stdout.write(JSON.stringify(schema, null, 2) + "\n");
    });
}
