// Every reader of YAML refuses an alias bomb and an oversized file at once,
// with the position and what to do (issue 12).

import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { loadProject } from "../../../src/config/index.js";
import { MAX_INPUT_BYTES } from "../../../src/config/yaml-limits.js";
import { loadInventory, loadYamlInventories, parseInventory } from "../../../src/backends/inventory/index.js";
import { parseReuseFile } from "../../../src/backends/reuse/index.js";
import { loadScenarioFile, parseScenarioText } from "../../../src/scenario/index.js";
import { formatProblem, isTroupeError } from "../../../src/util/errors.js";
import { ALIAS_BOMB } from "./helpers.js";

// YAML inventories need their reader loaded (the ssh backend and loadInventory load it).
await loadYamlInventories();

const BOMB_AT = "7:10: a5[0]: alias *a4 expands the file past 100000 values (an alias bomb?)";
const TOO_LARGE = "1:1: the file is 4 MiB, more than troupe reads (4 MiB); make it smaller";
const tooLarge = "#".repeat(MAX_INPUT_BYTES + 1);

/** The first line of the E_YAML error `fn` throws. */
async function yamlError(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(isTroupeError(e), String(e));
    assert.equal(e.code, "E_YAML", e.message);
    return formatProblem(e.problems[0] ?? { message: "" });
  }
  assert.fail("no error");
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "yaml-limits-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const PROJECT = "project: p\nsuites:\n  s/:\n    summary: s\n";

describe("YAML limits in every reader", () => {
  it("project file: an alias bomb", async () => {
    const cwd = project({ "troupe.yaml": ALIAS_BOMB });
    assert.ok((await yamlError(() => loadProject({ cwd }))).startsWith(`troupe.yaml:${BOMB_AT}`));
  });

  it("project file: too large", async () => {
    const cwd = project({ "troupe.yaml": tooLarge });
    assert.equal(await yamlError(() => loadProject({ cwd })), `troupe.yaml:${TOO_LARGE}`);
  });

  it("task.yaml: an alias bomb, and a file too large, each at its file", async () => {
    const cwd = project({
      "troupe.yaml": PROJECT,
      "s/bomb/task.yaml": ALIAS_BOMB.replace("project: bomb", "summary: bomb"),
      "s/huge/task.yaml": tooLarge,
    });
    try {
      await loadProject({ cwd });
      assert.fail("loaded");
    } catch (e) {
      assert.ok(isTroupeError(e));
      assert.equal(e.code, "E_YAML");
      const lines = e.problems.map(formatProblem);
      assert.equal(lines.length, 2, lines.join("\n"));
      assert.ok(lines[0]?.startsWith(`s/bomb/task.yaml:${BOMB_AT}`), lines[0]);
      assert.equal(lines[1], `s/huge/task.yaml:${TOO_LARGE}`);
    }
  });

  it("scenario: an alias bomb, and a file too large", async () => {
    assert.ok((await yamlError(() => parseScenarioText(ALIAS_BOMB, "s.yaml"))).startsWith(`s.yaml:${BOMB_AT}`));
    const cwd = project({ "huge.yaml": tooLarge });
    assert.equal(await yamlError(() => loadScenarioFile("huge.yaml", cwd)), `huge.yaml:${TOO_LARGE}`);
  });

  it("Ansible YAML inventory: an alias bomb, and a file too large", async () => {
    const bomb = `all:\n  vars:\n${ALIAS_BOMB.split("\n").slice(1).join("\n    ")}\n`.replace("  vars:\n", "  vars:\n    ");
    const line = await yamlError(() => parseInventory(bomb, "yaml", "inv.yaml"));
    assert.ok(line.startsWith("inv.yaml:8:14: all.vars.a5[0]: alias *a4 expands the file past 100000 values"), line);
    const dir = project({ "huge.yml": tooLarge, "huge.ini": tooLarge });
    assert.equal(await yamlError(() => loadInventory(join(dir, "huge.yml"))), `${join(dir, "huge.yml")}:${TOO_LARGE}`);
    assert.equal(await yamlError(() => loadInventory(join(dir, "huge.ini"))), `${join(dir, "huge.ini")}:${TOO_LARGE}`);
  });

  it("Ansible YAML inventory: aliases are followed, as Ansible does", () => {
    const inv = parseInventory(
      "all:\n  vars: &common {ansible_user: deploy, opts: &o [a, b]}\n  children:\n    web:\n      vars: *common\n      hosts:\n        w1: {more: *o}\n",
      "yaml",
    );
    assert.deepEqual(inv.groups.get("web")?.vars, { ansible_user: "deploy", opts: ["a", "b"] });
    assert.deepEqual(inv.hosts.get("w1")?.vars, { ansible_user: "deploy", opts: ["a", "b"], more: ["a", "b"] });
  });

  it("reuse file: an alias bomb", async () => {
    const line = await yamlError(() => parseReuseFile(ALIAS_BOMB, ".troupe-reuse.yaml"));
    assert.ok(line.startsWith(`.troupe-reuse.yaml:${BOMB_AT}`), line);
  });
});
