// What resolving ssh targets loads: `troupe exec` over ssh reads a hostlist
// or an INI inventory before its first connection, and the YAML parser (a
// large package, 30-40 ms of CPU to load) is not needed for either.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const targets = fileURLToPath(new URL("../../../src/backends/ssh/targets.js", import.meta.url));

/** In a fresh node: resolve targets with `code`, then say whether the yaml package was loaded. */
function yamlLoadedAfter(code: string): boolean {
  const script = [
    `import { createRequire } from "node:module";`,
    `import * as t from ${JSON.stringify(targets)};`,
    code,
    `const loaded = Object.keys(createRequire(import.meta.url).cache).some((k) => /[\\\\/]node_modules[\\\\/]yaml[\\\\/]/.test(k));`,
    `process.stdout.write(String(loaded));`,
  ].join("\n");
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout === "true";
}

it("reads hostlists and INI inventories without loading the YAML parser, and YAML inventories with it", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-targets-"));
  try {
    const ini = join(dir, "hosts.ini");
    writeFileSync(ini, "[web]\nw1 ansible_host=10.0.0.1\n");
    const yml = join(dir, "hosts.yml");
    writeFileSync(yml, "all:\n  children:\n    web:\n      hosts:\n        w1:\n");
    assert.equal(yamlLoadedAfter(`if (t.targetsFromSpecs(["root@node[1-3]"], {}).length !== 3) throw new Error("hostlist");`), false);
    assert.equal(
      yamlLoadedAfter(
        `if (t.targetsFromInventory(t.readInventorySync(${JSON.stringify(ini)}), "web", {}).length !== 1) throw new Error("ini");`,
      ),
      false,
    );
    assert.equal(
      yamlLoadedAfter(
        `if (t.targetsFromInventory(t.readInventorySync(${JSON.stringify(yml)}), "web", {}).length !== 1) throw new Error("yaml");`,
      ),
      true,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
