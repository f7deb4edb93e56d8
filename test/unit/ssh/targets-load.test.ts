// What resolving ssh targets loads: `troupe exec` over ssh reads a hostlist
// or an INI inventory before its first connection, and the YAML parser (a
// large package, 30-40 ms of CPU to load) is not needed for either.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";

const dist = new URL("../../../src/", import.meta.url);

/**
 * In a fresh node: run `code` (with `t` the ssh targets module and `inv` the
 * inventory module), then say whether the yaml package was loaded. Every
 * module Node resolves is noted by a resolve hook, ES modules included.
 */
function yamlLoadedAfter(dir: string, code: string): boolean {
  const log = join(dir, `resolved-${Math.random().toString(36).slice(2)}.txt`);
  const hook = `import { appendFileSync } from "node:fs"; export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`;
  const script = [
    `import { register } from "node:module";`,
    `register("data:text/javascript," + encodeURIComponent(${JSON.stringify(hook)}));`,
    `const t = await import(${JSON.stringify(new URL("backends/ssh/targets.js", dist).href)});`,
    `const inv = await import(${JSON.stringify(new URL("backends/inventory/index.js", dist).href)});`,
    code,
  ].join("\n");
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return /\/node_modules\/yaml\//.test(readFileSync(log, "utf8"));
}

it("reads hostlists and INI inventories without loading the YAML parser, and YAML inventories with it", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-targets-"));
  try {
    const ini = join(dir, "hosts.ini");
    writeFileSync(ini, "[web]\nw1 ansible_host=10.0.0.1\n");
    const yml = join(dir, "hosts.yml");
    writeFileSync(yml, "all:\n  children:\n    web:\n      hosts:\n        w1:\n");
    assert.equal(yamlLoadedAfter(dir, `if (t.targetsFromSpecs(["root@node[1-3]"], {}).length !== 3) throw new Error("hostlist");`), false);
    assert.equal(
      yamlLoadedAfter(
        dir,
        `if (t.targetsFromInventory(await inv.loadInventory(${JSON.stringify(ini)}), "web", {}).length !== 1) throw new Error("ini");`,
      ),
      false,
    );
    assert.equal(
      yamlLoadedAfter(
        dir,
        `if (t.targetsFromInventory(await inv.loadInventory(${JSON.stringify(yml)}), "web", {}).length !== 1) throw new Error("yaml");`,
      ),
      true,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
