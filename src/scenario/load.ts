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
}

export interface LoadedScenario {
  readonly data: ScenarioData;
  readonly source: ScenarioSource;
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
  const parsed = parseYaml(text, file);
  if (parsed.root === undefined && parsed.problems.length > 0) throw new TroupeError("E_YAML", parsed.problems);
  const source: ScenarioSource = { file, absFile, baseDir: dirname(absFile), root: parsed.root, lines: text.split("\n") };
  if (parsed.root === undefined) {
    throw new TroupeError("E_SCHEMA", { pos: { file, line: 1, col: 1 }, message: "the scenario is empty; it needs hosts: and stages:" });
  }
  const problems: Problem[] = [...parsed.problems];
  const data = validate(scenarioSchema(), toPlain(parsed.root), { file, root: parsed.root, path: [] }, problems);
  if (problems.length > 0 || !data) throw new TroupeError("E_SCHEMA", sortProblems(problems));
  return { data, source };
}

export function sortProblems(problems: readonly Problem[]): Problem[] {
  return [...problems].sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
}

/** Where `path` was written (its key when the value is empty), if the scenario came from a file. */
export function posOf(source: ScenarioSource | undefined, path: YamlPath): SourcePos | undefined {
  if (!source) return undefined;
  return locate(source.root, path, source.file).pos;
}

/** Where the key ending `path` was written. */
export function keyPosOf(source: ScenarioSource | undefined, path: YamlPath): SourcePos | undefined {
  if (!source) return undefined;
  const at = locate(source.root, path, source.file);
  return at.keyPos ?? at.pos;
}

/** Where the text of the scalar at `path` starts, and how it was written (for template positions). */
export function textPlace(source: ScenarioSource | undefined, path: YamlPath): TextPlace | undefined {
  if (!source) return undefined;
  const at = locate(source.root, path, source.file);
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
