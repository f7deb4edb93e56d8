// Shared by the docker tests: the engine, the example project on the test
// image, and what a troupe process left on the engine.

import type { ChildProcess } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerApi } from "../../../src/backends/docker/engine-api.js";
import { listContainers } from "../../../src/backends/docker/containers.js";
import { LABEL_PROCESS } from "../../../src/gc/owner.js";
import { REPO } from "../cli/helpers.js";
import { TEST_IMAGE, testImage } from "./image.js";

export const api = new DockerApi();

/** examples/docker in a temporary directory, its system on the test image, `edit` applied to its troupe.yaml. */
export async function exampleProject(edit: (yaml: string) => string = (y) => y): Promise<string> {
  await testImage(api);
  const dir = mkdtempSync(join(tmpdir(), "troupe-docker-"));
  cpSync(join(REPO, "examples/docker"), dir, { recursive: true });
  const file = join(dir, "troupe.yaml");
  const yaml = readFileSync(file, "utf8").replace("      - debian-12:\n", `      - debian-12:\n          image: ${TEST_IMAGE}\n`);
  writeFileSync(file, edit(yaml));
  return dir;
}

/** Containers (running or not) that troupe process `pid` made, by name. */
export async function containersOf(pid: number): Promise<string[]> {
  const all = await listContainers(api, ["troupe=1"]);
  return all.filter((c) => c.Labels?.[LABEL_PROCESS]?.startsWith(`${pid}_`)).map((c) => c.Names[0] ?? c.Id);
}

/** Resolves once the child's output (stdout and stderr) matches `re`; rejects if it exits first. */
export function outputMatches(child: ChildProcess, re: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const on = (c: Buffer): void => {
      text += c.toString();
      if (re.test(text)) resolve(text);
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    child.once("exit", (code) => reject(new Error(`troupe exited (${code}) before printing ${re}:\n${text}`)));
  });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}
