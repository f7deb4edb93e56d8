import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { projectJsonSchema, taskJsonSchema } from "../../../src/config/index.js";

type Json = Record<string, unknown>;
const props = (schema: unknown): Json => (schema as { properties: Json }).properties;

describe("JSON Schema for editors", () => {
  it("describes troupe.yaml: Spread's fields, strict, backends and suites as maps", () => {
    const schema = projectJsonSchema();
    assert.equal(schema["type"], "object");
    assert.equal(schema["additionalProperties"], false);
    assert.match(String(schema["$schema"]), /json-schema\.org/);
    const top = props(schema);
    for (const key of ["project", "path", "environment", "backends", "suites", "prepare-each", "kill-timeout", "rename", "repack"]) {
      assert.ok(key in top, key);
    }
    const backend = (top["backends"] as { additionalProperties: unknown }).additionalProperties;
    const backendProps = props(backend);
    for (const key of ["type", "systems", "halt-timeout", "allocate", "memory", "networks"]) assert.ok(key in backendProps, key);
    // A system is a name or a map from its name to its settings.
    const items = (backendProps["systems"] as { items: { anyOf: Json[] } }).items.anyOf;
    assert.ok(items.some((s) => s["type"] === "string"));
    const systemMap = items.find((s) => s["type"] === "object") as { additionalProperties: unknown } | undefined;
    assert.ok(systemMap);
    assert.ok("workers" in props(systemMap.additionalProperties));
    assert.ok("secure-boot" in props(systemMap.additionalProperties));
    const suite = (top["suites"] as { additionalProperties: unknown }).additionalProperties;
    assert.ok("summary" in props(suite));
  });

  it("describes task.yaml, with hosts: and the per-role script keys", () => {
    const schema = taskJsonSchema();
    assert.equal(schema["additionalProperties"], false);
    const top = props(schema);
    for (const key of ["summary", "execute", "artifacts", "samples", "hosts", "variants"]) assert.ok(key in top, key);
    const role = (top["hosts"] as { additionalProperties: unknown }).additionalProperties;
    assert.ok("count" in props(role));
    const patterns = Object.keys(schema["patternProperties"] as Json);
    assert.equal(patterns.length, 1);
    const re = new RegExp(patterns[0] ?? "");
    assert.ok(re.test("execute/server"));
    assert.ok(re.test("prepare/db-primary"));
    assert.ok(!re.test("execute/"));
    assert.ok(!re.test("summary"));
  });

  it("is plain JSON", () => {
    assert.deepEqual(JSON.parse(JSON.stringify(projectJsonSchema())), projectJsonSchema());
    assert.deepEqual(JSON.parse(JSON.stringify(taskJsonSchema())), taskJsonSchema());
  });
});
