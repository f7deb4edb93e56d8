// Plugin jobs in a scenario: a job whose key is a dotted name
// (`tezos.start_node: {...}`, `builtins.prefetch: URI`) is a plugin's job
// kind. Before the file's schema reads the jobs, those keys are taken out
// (`takePluginJobs`); planning checks the kind is known and its arguments
// against the plugin's schema, with positions (`planPluginArgs`); running
// renders every text of the arguments (`renderArgs`) and reads them again.

import { validate } from "../config/issues.js";
import { formatPath, locate, type LNode, type YamlPath } from "../config/yaml-positions.js";
import type { Problem } from "../util/errors.js";
import { findJobKind, isPluginKey, unknownKindMessage } from "../plugins/registry.js";
import { renderTemplate, type RenderWhere } from "./template.js";
import type { ArgNode, Template, Value } from "./types.js";

export interface PluginJob {
  /** The job kind, `tezos.start_node`. */
  readonly kind: string;
  /** Its arguments, as written. */
  readonly args: unknown;
  readonly path: YamlPath;
}

/** `stageIndex/jobIndex` -> the plugin job written there. */
export type PluginJobs = ReadonlyMap<string, PluginJob>;

export function pluginJobKey(stage: number, job: number): string {
  return `${stage}/${job}`;
}

/**
 * Take the dotted keys out of every job of `plain` (changed in place).
 * Problems: a job with two kinds.
 */
export function takePluginJobs(plain: unknown, problems: Problem[], posOf: (path: YamlPath) => Problem["pos"]): Map<string, PluginJob> {
  const out = new Map<string, PluginJob>();
  const stages = (plain as { stages?: unknown } | null)?.stages;
  if (!Array.isArray(stages)) return out;
  stages.forEach((stage, si) => {
    const jobs = (stage as { jobs?: unknown } | null)?.jobs;
    if (!Array.isArray(jobs)) return;
    jobs.forEach((job, ji) => {
      if (job === null || typeof job !== "object" || Array.isArray(job)) return;
      const obj = job as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!isPluginKey(key)) continue;
        const path = ["stages", si, "jobs", ji, key];
        const earlier = out.get(pluginJobKey(si, ji));
        if (earlier) {
          const pos = posOf(path);
          problems.push({
            ...(pos ? { pos } : {}),
            path: `stages[${si}].jobs[${ji}]`,
            message: `a job has one kind: ${earlier.kind} and ${key} are two; make them two jobs`,
          });
        } else out.set(pluginJobKey(si, ji), { kind: key, args: obj[key], path });
        delete obj[key];
      }
    });
  });
  return out;
}

/**
 * The arguments of a plugin job as templates, checked: the kind is known
 * and the arguments fit its schema (texts standing for what they will
 * render to). Problems are positioned.
 */
export function planPluginArgs(
  job: PluginJob,
  tpl: (text: string, path: YamlPath) => Template,
  place: { readonly file: string; readonly root: LNode | undefined },
  problems: Problem[],
): ArgNode {
  const kind = findJobKind(job.kind);
  if (!kind) {
    const at = locate(place.root, job.path, place.file);
    const pos = place.root ? (at.keyPos ?? at.pos) : undefined;
    problems.push({ ...(pos ? { pos } : {}), path: formatPath(job.path), message: unknownKindMessage(job.kind) });
  } else {
    const found: Problem[] = [];
    validate(kind.args, structuredClone(job.args ?? null), { file: place.file, root: place.root, path: job.path }, found);
    // A scenario from code has no file: its problems have paths, not positions.
    problems.push(...(place.root ? found : found.map(({ pos: _pos, ...p }) => p)));
  }
  return argNode(job.args, job.path, tpl);
}

function argNode(v: unknown, path: YamlPath, tpl: (text: string, path: YamlPath) => Template): ArgNode {
  if (typeof v === "string") return { kind: "text", template: tpl(v, path) };
  if (Array.isArray(v)) return { kind: "list", items: v.map((x, i) => argNode(x, [...path, i], tpl)) };
  if (v !== null && typeof v === "object")
    return {
      kind: "map",
      entries: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, argNode(x, [...path, k], tpl)] as const),
    };
  return { kind: "value", value: (v ?? null) as Value };
}

/** Every template of a plugin job's arguments (for the plan's checks). */
export function argTemplates(node: ArgNode): Template[] {
  switch (node.kind) {
    case "text":
      return [node.template];
    case "value":
      return [];
    case "list":
      return node.items.flatMap(argTemplates);
    case "map":
      return node.entries.flatMap(([, n]) => argTemplates(n));
  }
}

/** The arguments with every text rendered. */
export function renderArgs(node: ArgNode, scope: object, where: RenderWhere): unknown {
  switch (node.kind) {
    case "text":
      return renderTemplate(node.template, scope, where);
    case "value":
      return node.value;
    case "list":
      return node.items.map((n) => renderArgs(n, scope, where));
    case "map":
      return Object.fromEntries(node.entries.map(([k, n]) => [k, renderArgs(n, scope, where)]));
  }
}
