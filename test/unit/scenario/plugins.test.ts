// Job plugins from the TypeScript API: a plugin registered in code, its job
// run on local hosts (real processes) through the script runner, its result
// into vars; wrong arguments refused before anything runs.

import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as z from "zod";
import { checkScenario, defineScenario, isTroupeError, jobKind, loadedPlugins, play, registerPlugin } from "../../../src/index.js";

registerPlugin({
  name: "demo",
  summary: "a plugin of the tests",
  jobs: {
    "demo.count": jobKind({
      summary: "count the words of a text on the host",
      args: z.strictObject({ text: z.string(), times: z.number().int().optional() }),
      async run(ctx, args) {
        const { stdout } = await ctx.sh(`printf '%s\\n' ${JSON.stringify(args.text)} | wc -w`);
        return { words: Number(stdout.trim()) * (args.times ?? 1), host: ctx.host.name };
      },
    }),
  },
});

describe("job plugins", () => {
  it("run a plugin's job on each host; its texts are templates; what it returns is res", async () => {
    const cwd = mkdtempSync(join(tmpdir(), "troupe-plugin-"));
    const scenario = defineScenario({
      hosts: [{ names: "p[1..2]" }],
      vars: { total: 0, text: "one two three" },
      stages: [
        {
          name: "count",
          run_hosts: "sequential",
          jobs: [
            {
              name: "count",
              "demo.count": { text: "{{ vars.text }} on {{ host.name }}", times: 2 },
              vars_updates: { total: { value: "{{ vars.total + res.words }}", as: "int" }, last: "{{ res.host }}" },
            },
          ],
        },
      ],
    });
    const r = await play({ scenario, cwd, out: null });
    assert.equal(r.exitCode, 0, JSON.stringify(r.results?.failure));
    assert.deepEqual(r.vars, { total: 20, text: "one two three", last: "p2" });
  });

  it("refuse wrong arguments and unknown kinds before anything runs, naming the plugins loaded", async () => {
    assert.ok(loadedPlugins().some((p) => p.name === "demo"));
    const bad = defineScenario({
      hosts: ["h"],
      stages: [
        {
          name: "s",
          jobs: [
            { name: "j", "demo.count": { text: 3 } },
            { name: "k", "demo.nothing": {} },
          ],
        },
      ],
    });
    await assert.rejects(checkScenario({ scenario: bad }), (e: unknown) => {
      assert.ok(isTroupeError(e));
      assert.match(e.message, /^stages\[0\]\.jobs\[0\]\.demo\.count\.text: must be text/m);
      assert.match(
        e.message,
        /unknown job kind demo\.nothing: no plugin provides it; plugins loaded: builtins \(.*\); tezos \(.*\); demo \(demo\.count\)/,
      );
      return true;
    });
  });
});
