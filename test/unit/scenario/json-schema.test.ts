// `troupe schema scenario` and `troupe schema octogram`: the JSON Schema
// editors read, with the plugins' job kinds and their arguments. Checked
// with a real JSON Schema validator (ajv, draft-07) against the Octogram
// recipes of the tests and the example scenarios, as an editor would read
// them (YAML 1.2).

import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";
import { octogramJsonSchema } from "../../../src/scenario/octogram.js";
import { scenarioJsonSchema } from "../../../src/scenario/schema.js";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const RECIPES = join(REPO, "test", "fixtures", "octogram");

function validator(schema: Record<string, unknown>) {
  const check = new Ajv({ allErrors: true }).compile(schema);
  return (data: unknown): string[] => {
    if (check(data)) return [];
    return (check.errors ?? []).map(
      (e) => `${e.dataPath} ${e.message ?? ""}${e.keyword === "additionalProperties" ? ` (${JSON.stringify(e.params)})` : ""}`,
    );
  };
}

const RECIPE = `agents:
  - {name: a, address: 10.1.1.1, user: root, port: 22, identity: k}
stages:
  - name: s
    jobs:
      - name: node
        tezos.start_node:
          path_node: self://octez-node
          rpc_port: '8732'
`;

describe("troupe schema octogram", () => {
  const errors = validator(octogramJsonSchema());

  it("is draft-07 and knows every plugin job kind, with its arguments", () => {
    const s = octogramJsonSchema() as { $schema: string; properties: { stages: { items: { properties: { jobs: { items: unknown } } } } } };
    assert.equal(s.$schema, "http://json-schema.org/draft-07/schema#");
    const job = s.properties.stages.items.properties.jobs.items as {
      properties: Record<string, { properties?: Record<string, unknown>; required?: string[] }>;
      additionalProperties: boolean;
    };
    assert.equal(job.additionalProperties, false);
    for (const kind of ["builtins.tar", "builtins.prefetch", "builtins.start_http_server", "tezos.start_node", "tezos.generate_keys"])
      assert.ok(job.properties[kind], kind);
    assert.deepEqual(job.properties["tezos.start_node"]?.required, ["path_node"]);
    assert.ok(job.properties["tezos.start_node"]?.properties?.["dal_cryptobox_parameters"]);
  });

  it("accepts both recipes of the tests as they are written", () => {
    const files = readdirSync(RECIPES).filter((f) => f.endsWith(".yml"));
    assert.deepEqual(files.sort(), ["basic-scenario.yml", "dal-throughput-scenario.yml"]);
    for (const f of files) assert.deepEqual(errors(YAML.parse(readFileSync(join(RECIPES, f), "utf8"))), [], f);
  });

  it("points at a plugin job's wrong arguments and at an unknown job kind", () => {
    assert.deepEqual(errors(YAML.parse(RECIPE)), []);
    assert.deepEqual(errors(YAML.parse(RECIPE.replace("path_node:", "path_nod:"))), [
      '.stages[0].jobs[0][\'tezos.start_node\'] should NOT have additional properties ({"additionalProperty":"path_nod"})',
      ".stages[0].jobs[0]['tezos.start_node'] should have required property 'path_node'",
    ]);
    assert.deepEqual(errors(YAML.parse(RECIPE.replace("tezos.start_node:", "tezos.start_nod:"))), [
      '.stages[0].jobs[0] should NOT have additional properties ({"additionalProperty":"tezos.start_nod"})',
    ]);
  });
});

describe("troupe schema scenario", () => {
  const errors = validator(scenarioJsonSchema());

  it("accepts plugin jobs in troupe's scenarios, and prometheus: on", () => {
    const scenario = `hosts: [node-1, mon]
prometheus: {on: mon, scrape_interval: 1s}
stages:
  - name: s
    jobs:
      - name: files
        builtins.start_http_server: {directory: out}
      - name: node
        tezos.start_node: {path_node: self://octez-node}
`;
    assert.deepEqual(errors(YAML.parse(scenario)), []);
    assert.deepEqual(errors(YAML.parse(scenario.replace("{directory: out}", "{dir: out}"))), [
      '.stages[0].jobs[0][\'builtins.start_http_server\'] should NOT have additional properties ({"additionalProperty":"dir"})',
    ]);
  });

  it("accepts the example scenarios", () => {
    const dir = join(REPO, "examples", "scenarios");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    assert.ok(files.length >= 3, files.join(" "));
    for (const f of files) assert.deepEqual(errors(YAML.parse(readFileSync(join(dir, f), "utf8"))), [], f);
  });
});
