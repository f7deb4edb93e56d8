// Reading a scenario file (YAML, or JSON, which YAML reads too) into checked
// data that remembers where everything was written. Problems are reported
// all at once, each as `file:line:col: path: what is wrong`.

import { dirname, resolve } from "node:path";
import { showPath } from "../config/build-suites.js";
import { readInput } from "../config/read-input.js";
import { validate } from "../config/issues.js";
import { locate, parseYaml, toPlain, type LNode, type YamlPath } from "../config/yaml-positions.js";
import type { SourcePos } from "../model/position.js";
import { isTroupeError, TroupeError, type Problem } from "../util/errors.js";
import type { Backend } from "../model/project.js";
import { detectDialect, octogramScalar, type Dialect } from "./dialect.js";
import { convertOctogram, octogramPath, octogramSchema } from "./octogram.js";
import { takePluginJobs, type PluginJobs } from "./plugin-jobs.js";
import { scenarioSchema, type ScenarioData } from "./schema.js";
import type { TextPlace } from "./types.js";

/** Where a scenario came from: its file, its tree with positions, its text. */
export interface ScenarioSource {
  /** The file as shown in messages (relative to the current directory when inside it). */
  readonly file: string;
  readonly absFile: string;
  readonly baseDir: string;
  readonly root: LNode | undefined;
  readonly lines: readonly string[];
  /** A troupe scenario, or an Octogram recipe (its data converted; `mapPath` leads troupe's paths back to the recipe's keys). */
  readonly dialect: Dialect;
  readonly mapPath?: (path: YamlPath) => YamlPath;
}

export interface LoadedScenario {
  readonly data: ScenarioData;
  readonly source: ScenarioSource;
  /** The plugin jobs (`tezos.start_node: ...`), taken out of the jobs. */
  readonly plugins: PluginJobs;
  /** An Octogram recipe's agents, as an ssh backend. */
  readonly backends?: readonly Backend[];
}

export async function loadScenarioFile(path: string, cwd: string = process.cwd()): Promise<LoadedScenario> {
  const absFile = resolve(cwd, path);
  const file = showPath(cwd, absFile);
  let text: string;
  try {
    text = await readInput(absFile, file);
  } catch (e) {
    if (isTroupeError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new TroupeError(
      "E_NOT_FOUND",
      code === "ENOENT" ? `scenario file ${file} does not exist` : `cannot read scenario file ${file}: ${(e as Error).message}`,
    );
  }
  return parseScenarioText(text, file, absFile);
}

export function parseScenarioText(text: string, file: string, absFile: string = resolve(file)): LoadedScenario {
  // troupe's scenarios read YAML 1.2's core schema (`y`, `on` stay text); an Octogram
  // recipe is read again as Octogram's own YAML reader reads it.
  let parsed = parseYaml(text, file, {}, { version: "1.2" });
  if (parsed.root === undefined && parsed.problems.length > 0) throw new TroupeError("E_YAML", parsed.problems);
  const { dialect, problems: mixed } = detectDialect(parsed.root);
  if (mixed.length > 0) throw new TroupeError("E_SCHEMA", sortProblems(mixed));
  if (dialect === "octogram") parsed = parseYaml(text, file, {}, { plain: octogramScalar });
  const lines = text.split("\n");
  const base = { file, absFile, baseDir: dirname(absFile), root: parsed.root, lines };
  if (parsed.root === undefined) {
    throw new TroupeError("E_SCHEMA", { pos: { file, line: 1, col: 1 }, message: "the scenario is empty; it needs hosts: and stages:" });
  }
  const problems: Problem[] = [...parsed.problems];
  const plain = toPlain(parsed.root);
  const plugins = takePluginJobs(plain, problems, (path) => locate(parsed.root, path, file).pos);
  if (dialect === "troupe") {
    const source: ScenarioSource = { ...base, dialect };
    const data = validate(scenarioSchema(), plain, { file, root: parsed.root, path: [] }, problems);
    if (problems.length > 0 || !data) throw new TroupeError("E_SCHEMA", sortProblems(problems));
    return { data, source, plugins };
  }
  // An Octogram recipe: `local_path` is relative to the current directory, as Octogram runs.
  const source: ScenarioSource = { ...base, baseDir: process.cwd(), dialect, mapPath: octogramPath };
  const recipe = validate(octogramSchema(), plain, { file, root: parsed.root, path: [] }, problems);
  if (problems.length > 0 || !recipe) throw new TroupeError("E_SCHEMA", sortProblems(problems));
  const { data, backend } = convertOctogram(recipe, (path) => locate(parsed.root, path, file).pos, file);
  return { data, source, plugins, backends: [backend] };
}

export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
}

/** Where `path` was written (its key when the value is empty), if the scenario came from a file. */
export function posOf(source: ScenarioSource | undefined, path: YamlPath): SourcePos | undefined {
  if (!source) return undefined;
  return locate(source.root, source.mapPath ? source.mapPath(path) : path, source.file).pos;
}

/** Where the key ending `path` was written. */
export function keyPosOf(source: ScenarioSource | undefined, path: YamlPath): SourcePos | undefined {
  if (!source) return undefined;
  const at = locate(source.root, source.mapPath ? source.mapPath(path) : path, source.file);
  return at.keyPos ?? at.pos;
}

/** Where the text of the scalar at `path` starts, and how it was written (for template positions). */
export function textPlace(source: ScenarioSource | undefined, path: YamlPath): TextPlace | undefined {
  if (!source) return undefined;
  const at = locate(source.root, source.mapPath ? source.mapPath(path) : path, source.file);
  if (!at.node || at.node.kind !== "scalar") return undefined;
  const { line, col } = at.node.pos;
  const lineText = source.lines[line - 1] ?? "";
  const c = lineText[col - 1];
  if (c === "|" || c === ">") {
    let indent = 1;
    for (let i = line; i < source.lines.length; i++) {
      const l = source.lines[i] ?? "";
      if (l.trim() === "") continue;
      indent = l.length - l.trimStart().length + 1;
      break;
    }
    return { file: source.file, line, col, style: "block", indent };
  }
  return { file: source.file, line, col, style: c === '"' || c === "'" ? "quoted" : "plain" };
}
