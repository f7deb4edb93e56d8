// Loading a project from disk into the Project model: the project file, then
// every suite's task.yaml files. Every problem found is reported at once, in
// one TroupeError, each with `file:line:col`, the path in the file, and what
// to do about it.
//
// Defaults troupe adds (Spread has none of these):
// - no `backends:` -> one backend `local` (type local) with one system
//   `localhost` (1 worker); a `local` backend without systems gets `localhost`;
// - troupe.yaml without `path:` -> `/tmp/troupe/<project name>` (spread.yaml
//   must give `path:`, as in Spread);
// - troupe.yaml accepts single-word system names (`localhost`).

import { dirname, join, resolve } from "node:path";
import type { Project } from "../model/project.js";
import { isTroupeError, TroupeError, type Problem } from "../util/errors.js";
import { buildBackends } from "./build-backends.js";
import { buildSuites, showPath } from "./build-suites.js";
import { cascadingOf, fieldPositions, hooksOf, posAt, scalarOrAbsent, validateAt, type FileCtx } from "./entity.js";
import { checkDuplicateKeys } from "./duplicates.js";
import { findProjectFile, flavourOf } from "./find.js";
import { NAME_HELP, VALID_NAME } from "./names.js";
import { Problems } from "./problems.js";
import { readInput } from "./read-input.js";
import { projectTopSchema } from "./schema/project.js";
import { parseYaml, toPlain } from "./yaml-positions.js";

export interface LoadOptions {
  /** Where to look for the project file (upwards), and what problem paths are shown relative to. */
  readonly cwd: string;
  /** An explicit project file (relative to cwd); skips the search. */
  readonly file?: string;
  /**
   * Told about what troupe accepts but the user likely did not mean, in file
   * order, before the project is returned (or the error thrown). Today: in a
   * spread.yaml, the unknown and duplicate keys that Spread silently ignores.
   */
  readonly onWarning?: (warning: Problem) => void;
}

export const DEFAULT_REMOTE_ROOT = "/tmp/troupe";

export async function loadProject(options: LoadOptions): Promise<Project> {
  const cwd = resolve(options.cwd);
  const file = options.file ? resolve(cwd, options.file) : await findProjectFile(cwd);
  const show = (absolute: string): string => showPath(cwd, absolute);
  const text = await readProjectFile(file, show(file));
  const problems = new Problems(show(file));
  const parsed = parseYaml(text, show(file));
  if (parsed.root === undefined && parsed.problems.length > 0) {
    problems.addAll("E_YAML", parsed.problems);
    problems.throwIfAny();
  }
  problems.addAll("E_SCHEMA", parsed.problems);
  const ctx: FileCtx = { file: show(file), root: parsed.root, flavour: flavourOf(file), problems };
  checkDuplicateKeys(ctx);
  const project = await buildProject(ctx, file, show);
  for (const warning of problems.warnings) options.onWarning?.(warning);
  problems.throwIfAny();
  if (!project) throw new TroupeError("E_PROJECT", { pos: { file: ctx.file, line: 1, col: 1 }, message: "cannot load the project" });
  return project;
}

async function readProjectFile(file: string, shown: string): Promise<string> {
  try {
    return await readInput(file, shown);
  } catch (e) {
    if (isTroupeError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new TroupeError("E_NOT_FOUND", `project file ${shown} does not exist`);
    throw new TroupeError("E_NOT_FOUND", `cannot read project file ${shown}: ${(e as Error).message}`);
  }
}

async function buildProject(ctx: FileCtx, file: string, show: (p: string) => string): Promise<Project | undefined> {
  const filePos = { file: ctx.file, line: 1, col: 1 };
  if (ctx.root === undefined) {
    ctx.problems.add("E_SCHEMA", filePos, undefined, "the project file is empty; it needs at least project: NAME and suites:");
    return undefined;
  }
  const plain = toPlain(ctx.root);
  const data = validateAt(ctx, projectTopSchema, plain, []);
  if (!isRecord(plain)) return undefined;
  // When the top level has problems, still check the backends and suites (each
  // is validated on its own) so that one run reports as much as possible.
  const project = data?.project ?? textOf(plain.project);
  const name = project?.trim() ?? "";
  // Missing: absent, empty or blank (a list or map there is a type error, already reported).
  if (project === undefined ? scalarOrAbsent(ctx, ["project"]) : name === "") {
    ctx.problems.add(
      "E_SCHEMA",
      posAt(ctx, ["project"]),
      ["project"],
      "missing project name; add one at the top, e.g. project: my-project",
    );
  } else if (project !== undefined && !VALID_NAME.test(name)) {
    ctx.problems.add("E_SCHEMA", posAt(ctx, ["project"]), ["project"], `invalid project name '${name}'; ${NAME_HELP}`);
  }
  const pathWritten = data?.path ?? textOf(plain.path);
  const remotePath = scalarOrAbsent(ctx, ["path"]) ? remotePathOf(ctx, pathWritten, name) : "";
  const reroot = (data?.reroot ?? textOf(plain.reroot))?.trim() ?? "";
  const dir = join(dirname(file), reroot);
  const backends = buildBackends(ctx, data?.backends ?? recordOf(plain.backends));
  const suites = await buildSuites({ ctx, projectDir: dir, show }, data?.suites ?? recordOf(plain.suites));
  const cascading = cascadingOf(ctx, [], data ?? {});
  if (!data) return undefined;

  return {
    name,
    file,
    dir,
    remotePath,
    flavour: ctx.flavour,
    shell: data.shell ?? "bash",
    repack: data.repack || undefined,
    reroot: reroot || undefined,
    include: data.include ?? [],
    exclude: data.exclude ?? [],
    rename: data.rename ?? [],
    ...hooksOf(data),
    ...cascading,
    pos: filePos,
    where: fieldPositions(ctx, []),
    backends,
    suites,
  };
}

function remotePathOf(ctx: FileCtx, written: string | undefined, name: string): string {
  const path = written?.trim() ?? "";
  if (path === "") {
    if (ctx.flavour === "troupe") return `${DEFAULT_REMOTE_ROOT}/${name}`;
    ctx.problems.add(
      "E_PROJECT",
      posAt(ctx, written === undefined ? [] : ["path"]),
      written === undefined ? undefined : ["path"],
      "missing path:, where the project is put on each host; add e.g. path: /home/test/project (Spread requires it)",
    );
    return "";
  }
  // Paths using $(HOST:...) or variables are checked once evaluated, when planning.
  if (!path.includes("$") && (!path.startsWith("/") || path.replace(/\/+$/, "") === "")) {
    ctx.problems.add("E_SCHEMA", posAt(ctx, ["path"]), ["path"], `path must be absolute and not '/', not '${path}'`);
  }
  return path;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function recordOf(v: unknown): Record<string, unknown> | undefined {
  return isRecord(v) ? v : undefined;
}

/** A scalar's text, as the schema's `text` would give it. */
function textOf(v: unknown): string | undefined {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}
