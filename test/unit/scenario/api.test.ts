// The TypeScript API: a scenario defined in code, with `call` jobs, run on
// local hosts (real processes), with results as the CLI gives them.

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkScenario, defineScenario, EventStream, play, type TroupeEvent } from "../../../src/index.js";

describe("scenarios from code", () => {
  it("run call jobs on the orchestrator, with exec, vars, captures and the sync service", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "troupe-api-"));
    const events = new EventStream();
    const seen: TroupeEvent[] = [];
    events.on((e) => seen.push(e));
    const scenario = defineScenario({
      hosts: [{ names: "n[1..2]", groups: "calc" }],
      vars: { total: 0 },
      stages: [
        {
          name: "double",
          with_hosts: "n(\\d)",
          jobs: [
            {
              name: "double",
              call: async (ctx) => Number((await ctx.exec(`echo $((${ctx.re[1]} * 2)) from $TROUPE_HOST`)).stdout.split(" ")[0]),
              vars_updates: { total: { value: "{{ vars.total + res.value }}", as: "int" } },
            },
          ],
        },
        {
          name: "meet",
          jobs: [{ name: "barrier", call: async (ctx) => (await ctx.sync.barrier("met"), ctx.host.name) }],
        },
        { name: "shell", jobs: [{ run: "echo total={{ vars.total }}" }] },
      ],
    });
    const r = await play({ scenario, cwd, out: null, events });
    assert.equal(r.exitCode, 0);
    assert.equal(r.status, "passed");
    assert.deepEqual(r.vars, { total: 6 });
    assert.deepEqual(
      r.results?.stages.map((s) => s.steps.map((x) => `${x.host}:${x.status}`).sort()),
      [
        ["n1:passed", "n2:passed"],
        ["n1:passed", "n2:passed"],
        ["n1:passed", "n2:passed"],
      ],
    );
    const lines = seen.flatMap((e) => (e.type === "output" ? [`${e.host}: ${e.line}`] : []));
    assert.ok(lines.includes("n1: 2 from n1") && lines.includes("n2: total=6"), lines.join("\n"));
    assert.ok(r.runDir.startsWith(join(cwd, ".troupe", "runs")));
  });

  it("check a scenario from code against the schema, by path", async () => {
    await assert.rejects(
      checkScenario({ scenario: { hosts: ["a"], stages: [{ name: "s", jobs: [{ run: "x", run_items: "parallel" as "sequential" }] }] } }),
      /stages\[0\]\.jobs\[0\]\.run_items: must be one of "sequential", "concurrent"/,
    );
  });
});
