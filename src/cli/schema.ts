// `troupe schema [project|task|scenario|octogram]`: the JSON Schema (draft-07) of troupe's files, for editors.

import type { Command } from "commander";
import { TroupeError } from "../util/errors.js";

const KINDS = {
  project: async () => (await import("../config/index.js")).projectJsonSchema(),
  task: async () => (await import("../config/index.js")).taskJsonSchema(),
  scenario: async () => (await import("../scenario/schema.js")).scenarioJsonSchema(),
  octogram: async () => (await import("../scenario/octogram.js")).octogramJsonSchema(),
} as const;

export function addSchemaCommand(program: Command): void {
  program
    .command("schema")
    .description(
      "print the JSON Schema (draft-07) of troupe.yaml (project), task.yaml (task), a scenario file (scenario) or an Octogram recipe (octogram), for editors",
    )
    .argument("[kind]", "project, task, scenario or octogram", "project")
    .addHelpText(
      "after",
      `
The scenario and octogram schemas include the job kinds of troupe's plugins
(builtins.*, tezos.*) with their arguments, so an editor checks
\`tezos.start_node: {path_node: ...}\` as it checks \`run:\`.

Example (VS Code with the YAML extension):
  troupe schema project > .troupe.schema.json
  # then, first line of troupe.yaml:
  # yaml-language-server: $schema=./.troupe.schema.json

  troupe schema octogram > .octogram.schema.json
  # first line of the recipe:
  # yaml-language-server: $schema=./.octogram.schema.json`,
    )
    .action(async (kind: string) => {
      if (!Object.hasOwn(KINDS, kind)) {
        throw new TroupeError("E_USAGE", `schema kind must be "project", "task", "scenario" or "octogram", not "${kind}"`);
      }
      const schema = await KINDS[kind as keyof typeof KINDS]();
      process.stdout.write(JSON.stringify(schema, null, 2) + "\n");
    });
}
