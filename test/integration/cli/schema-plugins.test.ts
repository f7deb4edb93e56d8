// `troupe schema octogram` and `troupe schema scenario` as a user runs them:
// the schema they print holds the plugins' job kinds, so a validator (ajv,
// draft-07, what editors read) accepts the Octogram recipes of the tests
// and refuses a tezos.start_node job with a misspelt argument.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv";
import YAML from "yaml";
import { REPO, troupe } from "./helpers.js";

function schemaOf(kind: string): Record<string, unknown> {
  const r = troupe(["schema", kind]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

test("troupe schema octogram validates Octogram's recipes, plugin jobs and their arguments included", () => {
  const check = new Ajv({ allErrors: true }).compile(schemaOf("octogram"));
  for (const f of ["basic-scenario.yml", "dal-throughput-scenario.yml"]) {
    const text = readFileSync(join(REPO, "test", "fixtures", "octogram", f), "utf8");
    assert.equal(check(YAML.parse(text)), true, `${f}: ${JSON.stringify(check.errors)}`);
    // The same recipe with a misspelt argument of its first tezos.start_node job.
    const bad = text.replace(/path_node:/, "path_nodes:");
    assert.notEqual(bad, text);
    assert.equal(check(YAML.parse(bad)), false, f);
    assert.ok(
      check.errors?.some((e) => e.dataPath.endsWith("['tezos.start_node']") && e.keyword === "required"),
      JSON.stringify(check.errors),
    );
  }
});

test("troupe schema scenario knows the plugin job kinds too; --help says so", () => {
  const check = new Ajv({ allErrors: true }).compile(schemaOf("scenario"));
  const scenario = YAML.parse(`hosts: [a]
stages:
  - name: s
    jobs:
      - name: keys
        tezos.generate_keys: {base_dir: self://wallet, kind: {fresh: {count: 3, path_client: self://octez-client, alias_prefix: b}}}
`) as unknown;
  assert.equal(check(scenario), true, JSON.stringify(check.errors));
  const help = troupe(["schema", "--help"]);
  assert.match(help.stdout, /builtins\.\*, tezos\.\*/);
});
