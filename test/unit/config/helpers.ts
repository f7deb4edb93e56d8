// Shared by the config tests: where the fixtures are, and loading a fixture
// project into its problems.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadProject } from "../../../src/config/index.js";
import type { Project } from "../../../src/model/project.js";
import { formatProblem, isTroupeError, type Problem } from "../../../src/util/errors.js";

/** test/fixtures/config, found upwards so that the compiled tests (dist/test/...) find it too. */
export function fixturesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "test", "fixtures", "config");
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("test/fixtures/config not found");
    dir = parent;
  }
}

export function fixture(...parts: string[]): string {
  return join(fixturesDir(), ...parts);
}

export interface Loaded {
  readonly project: Project;
  readonly warnings: string[];
}

export async function load(...parts: string[]): Promise<Loaded> {
  const warnings: string[] = [];
  const project = await loadProject({ cwd: fixture(...parts), onWarning: (w) => warnings.push(formatProblem(w)) });
  return { project, warnings };
}

export interface Failure {
  readonly code: string;
  /** Each problem as printed: `file:line:col: path: message`. */
  readonly lines: string[];
  readonly problems: readonly Problem[];
}

/** Load a project that must fail; its error, as the CLI would print it. */
export async function failure(...parts: string[]): Promise<Failure> {
  try {
    await loadProject({ cwd: fixture(...parts) });
  } catch (e) {
    if (!isTroupeError(e)) throw e;
    return { code: e.code, lines: e.problems.map(formatProblem), problems: e.problems };
  }
  throw new Error(`${parts.join("/")} loaded, but it should not have`);
}

/** The `file:line:col` of each problem. */
export function positions(f: Failure): string[] {
  return f.problems.map((p) => (p.pos ? `${p.pos.file}:${p.pos.line}:${p.pos.col}` : ""));
}

/**
 * A "billion laughs" file: each level is nine aliases of the one before, so
 * `a7` would expand to 9^8 values. Its first alias past 100000 added values
 * is the first `*a4`, at 7:10 (path `a5[0]`).
 */
export const ALIAS_BOMB = [
  "project: bomb",
  "a0: &a0 [x,x,x,x,x,x,x,x,x]",
  ...[1, 2, 3, 4, 5, 6, 7].map((i) => `a${i}: &a${i} [${Array.from({ length: 9 }, () => `*a${i - 1}`).join(",")}]`),
  "",
].join("\n");
