// The docker backend's keys: checked with positions when the project loads,
// cascaded from backend to system, and turned into the create request.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadProject } from "../../../src/config/index.js";
import { formatProblem, isTroupeError } from "../../../src/util/errors.js";
import { containerName, createBody, dockerOptions, sizeBytes } from "../../../src/backends/docker/options.js";

function projectDir(yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-docker-opts-"));
  writeFileSync(join(dir, "troupe.yaml"), yaml);
  mkdirSync(join(dir, "t"));
  return dir;
}

const GOOD = `project: p
path: /srv/p
backends:
  docker:
    capabilities: [NET_ADMIN, cap_sys_ptrace]
    mounts: [/srv/cache:/cache:ro, /tmp/x:/x]
    memory: 512M
    container-env: {LANG: C.UTF-8, N: 3}
    systems:
      - debian-12:
      - web:
          image: nginx:1.27
          network: none
          cpus: 1.5
          memory: 1G
          capabilities: [SYS_ADMIN]
          init: image
          transport: ssh
suites:
  t/:
    summary: s
`;

test("keys cascade from the backend to its systems, the system's value winning", async () => {
  const project = await loadProject({ cwd: projectDir(GOOD) });
  const backend = project.backends[0]!;
  const [debian, web] = backend.systems;
  const d = dockerOptions(backend, debian!);
  assert.deepEqual(d, {
    image: "debian-12",
    transport: "exec",
    init: "docker",
    privileged: false,
    capabilities: ["NET_ADMIN", "cap_sys_ptrace"],
    mounts: ["/srv/cache:/cache:ro", "/tmp/x:/x"],
    memory: 512 * 1024 ** 2,
    env: { LANG: "C.UTF-8", N: "3" },
  });
  const w = dockerOptions(backend, web!);
  assert.equal(w.image, "nginx:1.27");
  assert.equal(w.transport, "ssh");
  assert.equal(w.init, "image");
  assert.equal(w.network, "none");
  assert.equal(w.cpus, 1.5);
  assert.equal(w.memory, 1024 ** 3);
  assert.deepEqual(w.capabilities, ["SYS_ADMIN"]);
});

test("the create request: labels, a small init running sleep, capabilities without CAP_, binds, limits", async () => {
  const project = await loadProject({ cwd: projectDir(GOOD) });
  const backend = project.backends[0]!;
  const body = createBody(dockerOptions(backend, backend.systems[0]!), "debian-12_1", { troupe: "1" }, "/srv/p");
  assert.deepEqual(body, {
    Image: "debian-12",
    WorkingDir: "/srv/p",
    Hostname: "debian-12-1",
    Labels: { troupe: "1" },
    Env: ["LANG=C.UTF-8", "N=3"],
    Entrypoint: ["sleep"],
    Cmd: ["infinity"],
    HostConfig: {
      Init: true,
      Privileged: false,
      CapAdd: ["NET_ADMIN", "SYS_PTRACE"],
      Binds: ["/srv/cache:/cache:ro", "/tmp/x:/x"],
      Memory: 512 * 1024 ** 2,
    },
  });
  const web = createBody(dockerOptions(backend, backend.systems[1]!), "web-1", {}, "/srv/p");
  assert.equal(web["Entrypoint"], undefined, "init: image keeps the image's own command");
  assert.equal(web["WorkingDir"], undefined, "... and its own working directory");
  assert.deepEqual(web["HostConfig"], {
    Init: false,
    Privileged: false,
    CapAdd: ["SYS_ADMIN"],
    Binds: ["/srv/cache:/cache:ro", "/tmp/x:/x"],
    NetworkMode: "none",
    Memory: 1024 ** 3,
    NanoCpus: 1_500_000_000,
  });
});

test("bad values are reported where they are written, all at once", async () => {
  const dir = projectDir(`project: p
backends:
  docker:
    privileged: maybe
    mounts: [relative:/x, /a:/b:rx]
    transport: telnet
    systems:
      - debian-12:
          cpus: 0
          capabilities: [net admin]
          container-env: {1BAD: x}
          init: systemd
suites:
  t/:
    summary: s
`);
  try {
    await loadProject({ cwd: dir });
    assert.fail("the project loaded");
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    assert.equal(e.code, "E_SCHEMA");
    const lines = e.problems.map(formatProblem);
    const at = lines.map((l) => /^troupe\.yaml:(\d+:\d+): (\S+):/.exec(l)?.slice(1, 3).join(" "));
    assert.deepEqual(
      at,
      [
        "4:17 backends.docker.privileged",
        "5:14 backends.docker.mounts[0]",
        "5:27 backends.docker.mounts[1]",
        "6:16 backends.docker.transport",
        "9:17 backends.docker.systems[0].cpus",
        "10:26 backends.docker.systems[0].capabilities[0]",
        "11:26 backends.docker.systems[0].container-env",
        "12:17 backends.docker.systems[0].init",
      ],
      lines.join("\n"),
    );
    assert.match(lines[1]!, /mounts look like \/host\/dir:\/container\/dir/);
  }
});

test("sizes and container names", () => {
  assert.equal(sizeBytes("2G"), 2 * 1024 ** 3);
  assert.equal(sizeBytes("100B"), 100);
  assert.equal(sizeBytes("preserve-size"), undefined);
  assert.equal(containerName("20261207-1", "web/1"), "troupe-20261207-1-web-1");
  assert.equal(containerName(undefined, "a"), "troupe-a");
});
