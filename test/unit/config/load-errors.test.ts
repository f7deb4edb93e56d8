// Every mistake is reported with `file:line:col`, the path in the file and
// what to do; all of a project's mistakes come in one error.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readdir } from "node:fs/promises";
import { loadProject } from "../../../src/config/index.js";
import { formatProblem, isTroupeError } from "../../../src/util/errors.js";
import { failure, fixture, positions } from "./helpers.js";

const DURATION_HELP =
  "write a number with a unit (ns, us, ms, s, m, h) such as 30s, 10m, 1.5h or 1h30m; 0 for the default, -1 for no timeout";
const VARNAME_HELP =
  "names are letters, digits and '_', not starting with a digit, optionally followed by /variant1,variant2 (e.g. SUBJECT/foo,bar)";

describe("loadProject: positioned problems", () => {
  it("bad YAML: E_YAML at the parser's position", async () => {
    const f = await failure("errors", "bad-yaml");
    assert.equal(f.code, "E_YAML");
    assert.deepEqual(positions(f), ["troupe.yaml:5:3"]);
    assert.match(f.lines[0] ?? "", /^troupe\.yaml:5:3: invalid YAML: flow sequence .* end with a \]/);
  });

  it("unknown keys, with the closest known key, at project, backend, system, suite and task level", async () => {
    const f = await failure("errors", "unknown-keys");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "troupe.yaml:2:1: preapre: unknown key 'preapre'; did you mean 'prepare'?",
      "troupe.yaml:5:5: backends.lab.halt-timout: unknown key 'halt-timout'; did you mean 'halt-timeout'?",
      "troupe.yaml:8:11: backends.lab.systems[0].imgae: unknown key 'imgae'; did you mean 'image'?",
      "troupe.yaml:12:5: suites.tests/.prepare_each: unknown key 'prepare_each'; did you mean 'prepare-each'?",
      "tests/one/task.yaml:2:1: exectue: unknown key 'exectue'; did you mean 'execute'?",
    ]);
  });

  it("wrong types: what was expected and what was written", async () => {
    const f = await failure("errors", "wrong-type");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      `troupe.yaml:2:10: include: must be a list (items starting with '- '), not the text "src"`,
      `troupe.yaml:5:13: backends.lab.manual: must be true or false, not the text "yes please"`,
      `troupe.yaml:8:20: backends.lab.systems[0].workers: must be a number, not the text "two"`,
      `troupe.yaml:12:15: suites.tests/.priority: must be a number, not the text "high"`,
    ]);
  });

  it("bad durations, in the project file and in a task", async () => {
    const f = await failure("errors", "bad-duration");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      `troupe.yaml:2:15: kill-timeout: "10 minutes" is not a duration; ${DURATION_HELP}`,
      `tests/one/task.yaml:2:15: warn-timeout: "5" has no unit; write 5s, 5m or 5h (-1 for no timeout)`,
    ]);
  });

  it("a suite directory that does not exist", async () => {
    const f = await failure("errors", "missing-suite-dir");
    assert.equal(f.code, "E_PROJECT");
    assert.deepEqual(f.lines, [
      "troupe.yaml:5:3: suites.nowhere/: suite directory nowhere does not exist; create it or fix the suite's name",
    ]);
  });

  it("a suite name without its trailing slash", async () => {
    const f = await failure("errors", "suite-no-slash");
    assert.equal(f.code, "E_PROJECT");
    assert.deepEqual(f.lines, ["troupe.yaml:3:3: suites.tests: suite name must end with '/': write 'tests/:'"]);
  });

  it("a list in both plain and delta form (variants in a suite, systems in a task)", async () => {
    const f = await failure("errors", "mixed-variants");
    assert.equal(f.code, "E_PROJECT");
    assert.deepEqual(positions(f), ["troupe.yaml:5:23", "tests/one/task.yaml:4:5"]);
    assert.equal(
      f.lines[0],
      "troupe.yaml:5:23: suites.tests/.variants[1]: variants mixes plain names with +/- changes; " +
        "write either a list that replaces the inherited one (a, b) or only changes to it (+a, -b)",
    );
    assert.match(f.lines[1] ?? "", /^tests\/one\/task\.yaml:4:5: systems\[1\]: systems mixes plain names with \+\/- changes/);
  });

  it("an environment key defined twice", async () => {
    const f = await failure("errors", "duplicate-env");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, ["troupe.yaml:5:3: environment.FOO: variable 'FOO' is defined twice (first at line 3); keep only one"]);
  });

  it("invalid variable names, each of them", async () => {
    const f = await failure("errors", "invalid-var-name");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      `troupe.yaml:7:7: suites.tests/.environment.BAD-NAME: invalid variable name 'BAD-NAME'; ${VARNAME_HELP}`,
      `troupe.yaml:8:7: suites.tests/.environment.1ST: invalid variable name '1ST'; ${VARNAME_HELP}`,
      `troupe.yaml:10:7: suites.tests/.environment.NOPE/: invalid variable name 'NOPE/'; ${VARNAME_HELP}`,
    ]);
  });

  it("an invalid project name", async () => {
    const f = await failure("errors", "invalid-project-name");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "troupe.yaml:1:10: project: invalid project name 'My Project'; " +
        "use lowercase letters and digits, separated by single '-', '.' or '_' (e.g. my-project)",
    ]);
  });

  it("a missing project name, whether the key is empty or absent", async () => {
    for (const name of ["no-project-name", "absent-project-name"]) {
      const f = await failure("errors", name);
      assert.equal(f.code, "E_SCHEMA");
      assert.deepEqual(f.lines, ["troupe.yaml:2:1: project: missing project name; add one at the top, e.g. project: my-project"], name);
    }
  });

  it("a spread.yaml without path:", async () => {
    const f = await failure("errors", "spread-missing-path");
    assert.equal(f.code, "E_PROJECT");
    assert.deepEqual(f.lines, [
      "spread.yaml:1:1: missing path:, where the project is put on each host; add e.g. path: /home/test/project (Spread requires it)",
    ]);
  });

  it("a task.yaml that is not valid YAML, the other tasks being fine", async () => {
    const f = await failure("errors", "bad-task-yaml");
    assert.equal(f.code, "E_YAML");
    assert.deepEqual(positions(f), ["tests/broken/task.yaml:4:1"]);
    assert.match(f.lines[0] ?? "", /^tests\/broken\/task\.yaml:4:1: invalid YAML: /);
  });

  it("negative workers", async () => {
    const f = await failure("errors", "negative-workers");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "troupe.yaml:6:20: backends.lab.systems[0].workers: workers must not be negative; " +
        "write how many hosts of this system may run at once (default 1)",
    ]);
  });

  it("role scripts for roles that hosts: does not list, and a bad role count", async () => {
    const f = await failure("errors", "role-script");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "tests/pair/task.yaml:5:12: hosts.client.count: count must be 1 or more: how many hosts play this role",
      "tests/pair/task.yaml:7:1: execute/clinet: 'execute/clinet' is a script for role 'clinet', but hosts: lists server, client; " +
        "add clinet to hosts: or fix the key",
      "tests/single/task.yaml:2:1: execute/server: 'execute/server' is a script for role 'server', but this task has no hosts: section; " +
        "add server to hosts: or fix the key",
    ]);
  });

  it("ports: names, duplicates, roles and hosts that do not exist, shapes, and a misspelt key", async () => {
    const f = await failure("errors", "ports");
    assert.equal(f.code, "E_SCHEMA");
    const shape =
      "write a list of port names (ports: [http], free on every host of the job) " +
      "or a map of role or host to port names (ports: {server: [http, admin]})";
    assert.deepEqual(f.lines, [
      "tests/list/task.yaml:2:15: ports[1]: invalid port name 'Admin'; port names are lowercase words such as http, admin or db-primary",
      "tests/list/task.yaml:2:22: ports[2]: port 'http' is listed twice; give each port of the job its own name",
      "tests/list/task.yaml:2:37: ports[4]: ports 'db-main' and 'db_main' would both be TROUPE_PORT_DB_MAIN; give each port of the job its own name",
      "tests/list/task.yaml:3:1: port: unknown key 'port'; did you mean 'ports'?",
      "tests/roles/task.yaml:6:3: ports.sever: 'sever' is not a role or host of this task " +
        "(roles: server, client; hosts: server, client-1, client-2); did you mean 'server'?",
      "tests/roles/task.yaml:7:3: ports.client-3: 'client-3' is not a role or host of this task " +
        "(roles: server, client; hosts: server, client-1, client-2); did you mean 'client-1'?",
      `tests/roles/task.yaml:8:18: ports.client-2[1]: expected a port name such as http here; ${shape}`,
      `tests/shape/task.yaml:2:8: ports: expected a list or a map; ${shape}`,
      "tests/single/task.yaml:2:1: ports: a map of roles to port names, but this task has no hosts: section; list the names instead, e.g. ports: [http]",
    ]);
  });

  it("several mistakes of different kinds, across files, in one error", async () => {
    const f = await failure("errors", "several");
    // A YAML error is the most specific kind, so it gives the error its code.
    assert.equal(f.code, "E_YAML");
    assert.deepEqual(positions(f), [
      "troupe.yaml:2:15", // bad duration
      "troupe.yaml:5:3", // duplicate environment key
      "troupe.yaml:10:20", // negative workers
      "troupe.yaml:11:11", // unknown key in a system
      "troupe.yaml:15:19", // mixed variants
      "troupe.yaml:16:3", // missing suite directory
      "tests/one/task.yaml:2:1", // unknown key in a task
      "tests/two/task.yaml:2:1", // bad YAML in a task
    ]);
    assert.match(f.lines[3] ?? "", /unknown key 'imgae'; did you mean 'image'\?$/);
  });

  it("task rules: directory names, missing summaries, improper artifact paths", async () => {
    const f = await failure("errors", "task-rules");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(positions(f), [
      "tests/Bad_Name/task.yaml:1:1",
      "tests/empty/task.yaml:1:1",
      "tests/nosummary/task.yaml:1:1",
      "tests/nosummary/task.yaml:4:5",
      "tests/nosummary/task.yaml:5:5",
      "tests/nosummary/task.yaml:6:5",
    ]);
    assert.match(f.lines[0] ?? "", /invalid task name 'tests\/Bad_Name' \(from its directory's name\)/);
    assert.match(f.lines[1] ?? "", /missing summary:/);
    assert.match(f.lines[3] ?? "", /artifacts\[1\]: improper artifact path '\/etc\/passwd'/);
    assert.match(f.lines[5] ?? "", /artifacts\[3\]: improper artifact path 'dir\/'/);
  });

  it("project rules: path, backend and system names, adhoc scripts, systems, duplicate keys, suite names and lists", async () => {
    const f = await failure("errors", "project-rules");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "troupe.yaml:2:7: path: path must be absolute and not '/', not 'relative/path'",
      "troupe.yaml:4:3: backends.Bad_Backend: invalid backend name 'Bad_Backend'; " +
        "use lowercase letters and digits, separated by single '-', '.' or '_' (e.g. my-project)",
      "troupe.yaml:6:3: backends.ah: backend 'ah' has type adhoc and needs an allocate: script that allocates a host and runs ADDRESS <address>",
      "troupe.yaml:10:5: backends.lxd.discard: only adhoc backends use allocate: and discard:; remove it or set type: adhoc",
      "troupe.yaml:11:15: backends.lxd.systems[0]: invalid system name 'Ubuntu'; " +
        "use lowercase letters and digits separated by '-', '.' or '_' (e.g. ubuntu-24.04, localhost; '*' in patterns)",
      "troupe.yaml:12:3: backends.empty: backend 'empty' lists no systems; add systems: with at least one, e.g. systems: [ubuntu-24.04]",
      "troupe.yaml:17:3: suites.tests/: key 'tests/' is given twice (first at line 15); keep one",
      "troupe.yaml:19:3: suites.Tests/Upper/: invalid suite name 'Tests/Upper/'; " +
        "a suite is a relative directory of lowercase names separated by '/', ending with '/' (e.g. tests/main/)",
      "troupe.yaml:21:15: suites.Tests/Upper/.systems[0]: invalid system name 'Bad-System'; " +
        "use lowercase letters and digits separated by '-', '.' or '_' (e.g. ubuntu-24.04, localhost; '*' in patterns)",
      "troupe.yaml:21:28: suites.Tests/Upper/.systems[1]: systems mixes plain names with +/- changes; " +
        "write either a list that replaces the inherited one (a, b) or only changes to it (+a, -b)",
    ]);
  });

  it("a spread.yaml keeps Spread's system-name rule and its type checks; unknown keys only warn", async () => {
    const warnings: string[] = [];
    const f = await failure("errors", "spread-rules");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, [
      "spread.yaml:6:9: backends.lxd.systems[0]: invalid system name 'localhost'; " +
        "Spread system names look like ubuntu-24.04 or fedora-40 (lowercase, with a '-'; '*' in patterns)",
      `spread.yaml:8:20: backends.lxd.systems[1].workers: must be a number, not the text "many"`,
    ]);
    await loadProject({ cwd: fixture("errors", "spread-rules"), onWarning: (w) => warnings.push(formatProblem(w)) }).catch(() => undefined);
    assert.deepEqual(warnings, ["tests/one/task.yaml:2:1: unknown-thing: unknown key 'unknown-thing' is ignored, as Spread ignores it"]);
  });

  it("an empty project file", async () => {
    const f = await failure("errors", "empty-file");
    assert.equal(f.code, "E_SCHEMA");
    assert.deepEqual(f.lines, ["troupe.yaml:1:1: the project file is empty; it needs at least project: NAME and suites:"]);
  });

  it("an explicit project file that does not exist: E_NOT_FOUND", async () => {
    await assert.rejects(loadProject({ cwd: fixture("errors"), file: "nope.yaml" }), (e: unknown) => {
      assert.ok(isTroupeError(e));
      assert.equal(e.code, "E_NOT_FOUND");
      assert.equal(e.message, "project file nope.yaml does not exist");
      return true;
    });
  });

  it("never throws anything but a TroupeError for a user's mistake", async () => {
    for (const name of await readdir(fixture("errors"))) {
      await loadProject({ cwd: fixture("errors", name) }).then(
        () => assert.fail(`${name} loaded`),
        (e: unknown) => assert.ok(isTroupeError(e), `${name}: ${String(e)}`),
      );
    }
  });
});
