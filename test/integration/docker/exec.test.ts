// `troupe exec docker:...`: containers troupe did not make, by name or
// label, reached through exec and left running.

import { test } from "node:test";
import assert from "node:assert/strict";
import { removeContainer, inspectContainer } from "../../../src/backends/docker/containers.js";
import { troupe } from "../cli/helpers.js";
import { api } from "./helpers.js";
import { TEST_IMAGE, testImage } from "./image.js";

async function startContainer(name: string, label: string): Promise<string> {
  const { Id } = await api.json<{ Id: string }>("POST", "/containers/create", "create", {
    query: { name },
    json: {
      Image: TEST_IMAGE,
      Entrypoint: ["sleep"],
      Cmd: ["infinity"],
      Labels: { "troupe-exec-test": label },
      HostConfig: { Init: true },
    },
  });
  await api.json("POST", `/containers/${Id}/start`, "start");
  return Id;
}

test("exec on containers by name and by label: prefixed output, the worst status, containers left running", async () => {
  await testImage(api);
  const tag = `t${process.pid}`;
  const names = [`${tag}-a`, `${tag}-b`];
  const ids = await Promise.all(names.map((n) => startContainer(n, tag)));
  try {
    const r = troupe(["exec", `docker:${names.join(",")}`, "--", "hostname -s; echo $0"]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split("\n").sort();
    assert.deepEqual(
      lines.filter((l) => l.endsWith("sh")),
      [`${tag}-a: /bin/sh`, `${tag}-b: /bin/sh`],
    );

    const f = troupe([
      "exec",
      `docker:label=troupe-exec-test=${tag}`,
      "--",
      `test "$(hostname)" = ${ids[1]!.slice(0, 12)} && exit 5; cat; echo in`,
    ]);
    assert.equal(f.status, 5, f.stdout + f.stderr);
    assert.deepEqual(f.stdout.trim().split("\n"), [`${tag}-a: in`]);
    assert.match(f.stderr, new RegExp(`1 of 2 host\\(s\\) failed: ${tag}-b`));

    for (const id of ids) assert.equal((await inspectContainer(api, id))?.State.Running, true);
  } finally {
    await Promise.all(ids.map((id) => removeContainer(api, id)));
  }
});

test("exec on a container that does not exist says so, exit 2", () => {
  const r = troupe(["exec", "docker:troupe-no-such-container", "--", "true"]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no container named troupe-no-such-container at \S+ \(docker ps lists them\)/);
});
