// `suites:` into the model, reading each suite's task directories as Spread
// does: every direct subdirectory of the suite directory (symlinks followed)
// that holds a task.yaml is a task; a subdirectory without one is skipped.

import { readdirSync, statSync, type Dirent } from "node:fs";
import { join, relative } from "node:path";
import type { Suite, Task } from "../model/project.js";
import { checkSystemList } from "./build-backends.js";
import { loadTask } from "./build-task.js";
import { cascadingOf, emptyAt, entriesOf, fieldPositions, hooksOf, keyPosAt, scalarOrAbsent, validateAt, type FileCtx } from "./entity.js";
import { checkDeltaList } from "./lists.js";
import { VALID_SUITE } from "./names.js";
import { readInputSync } from "./read-input.js";
import { isTroupeError } from "../util/errors.js";
import { suiteSchema } from "./schema/project.js";

export interface SuiteContext {
  readonly ctx: FileCtx;
  /** The project directory (after reroot). */
  readonly projectDir: string;
  /** How to show a path in problems. */
  readonly show: (absolute: string) => string;
}

export async function buildSuites(sc: SuiteContext, suites: Record<string, unknown> | undefined): Promise<Suite[]> {
  const { ctx } = sc;
  const entries = entriesOf(suites);
  if (entries.length === 0) {
    // A `suites:` that is not a map is a type error, already reported.
    if (!emptyAt(ctx, ["suites"])) return [];
    ctx.problems.add(
      "E_PROJECT",
      suites === undefined ? { file: ctx.file, line: 1, col: 1 } : keyPosAt(ctx, ["suites"]),
      suites === undefined ? undefined : ["suites"],
      "the project has no suites; add one, e.g.\nsuites:\n  tests/:\n    summary: what these tests check",
    );
    return [];
  }
  const built = await Promise.all(entries.map(([name, value]) => buildSuite(sc, name, value)));
  return built.filter((s): s is Suite => s !== undefined).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

async function buildSuite(sc: SuiteContext, name: string, value: unknown): Promise<Suite | undefined> {
  const { ctx } = sc;
  const path = ["suites", name];
  const pos = keyPosAt(ctx, path);
  let ok = true;
  if (!name.endsWith("/")) {
    ok = false;
    ctx.problems.add("E_PROJECT", pos, path, `suite name must end with '/': write '${name}/:'`);
  } else if (!VALID_SUITE.test(name)) {
    ok = false;
    ctx.problems.add(
      "E_SCHEMA",
      pos,
      path,
      `invalid suite name '${name}'; a suite is a relative directory of lowercase names separated by '/', ending with '/' (e.g. tests/main/)`,
    );
  }
  const data = validateAt(ctx, suiteSchema, value ?? {}, path);
  if (!data) return undefined;
  if (!data.summary?.trim() && scalarOrAbsent(ctx, [...path, "summary"])) {
    ctx.problems.add("E_SCHEMA", pos, path, "missing summary:; describe the suite in one line");
  }
  checkSystemList(ctx, [...path, "systems"], data.systems);
  checkDeltaList("backends", data.backends, { file: ctx.file, root: ctx.root, path: [...path, "backends"] }, ctx.problems);
  const cascading = cascadingOf(ctx, path, data);
  const suiteName = name.replace(/^\/+|\/+$/g, "") + "/";
  const dir = join(sc.projectDir, suiteName.slice(0, -1));
  const tasks = ok ? loadTasks(sc, suiteName, dir, pos, path) : [];
  return {
    name: suiteName,
    dir,
    summary: data.summary?.trim(),
    systems: data.systems,
    backends: data.backends,
    ...hooksOf(data),
    ...cascading,
    pos,
    where: fieldPositions(ctx, path),
    tasks,
  };
}

function loadTasks(sc: SuiteContext, suite: string, dir: string, pos: Suite["pos"], path: readonly string[]): Task[] {
  const { ctx } = sc;
  let entries: Dirent[];
  try {
    const info = statSync(dir);
    if (!info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "does not exist" : code === "ENOTDIR" ? "is not a directory" : `cannot be read (${code ?? "error"})`;
    ctx.problems.add("E_PROJECT", pos, path, `suite directory ${sc.show(dir)} ${why}; create it or fix the suite's name`);
    return [];
  }
  // Synchronous on purpose: a suite of a thousand tasks is read in a few
  // milliseconds this way, where three awaited calls per task took a third of
  // a second. A directory entry's kind comes with it; symlinks are followed.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const tasks: Task[] = [];
  for (const entry of entries) {
    const taskDir = join(dir, entry.name);
    if (!entry.isDirectory() && !(entry.isSymbolicLink() && isDirectory(taskDir))) continue;
    const file = join(taskDir, "task.yaml");
    let text: string;
    try {
      text = readInputSync(file, sc.show(file));
    } catch (e) {
      if (isTroupeError(e)) {
        ctx.problems.addAll("E_YAML", e.problems);
        continue;
      }
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue; // a directory without task.yaml is not a task
      ctx.problems.add("E_PROJECT", { file: sc.show(file), line: 1, col: 1 }, undefined, `cannot read task.yaml: ${(e as Error).message}`);
      continue;
    }
    const task = loadTask({ suite, dirName: entry.name, dir: taskDir, file, shownFile: sc.show(file) }, text, ctx.flavour, ctx.problems);
    if (task) tasks.push(task);
  }
  return tasks;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function showPath(cwd: string, absolute: string): string {
  const rel = relative(cwd, absolute);
  return rel === "" || rel.startsWith("..") || rel.startsWith("/") ? absolute : rel;
}
