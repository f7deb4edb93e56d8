// Two kinds of scenario file: troupe's own, and Octogram's recipes (from
// the Tezos repository), read unchanged. They are told apart by their keys:
// `agents:`, `octogram_binary:`, `prometheus_agent:`, `with_agents:`,
// `run_agents:` and `copy: {local_path, remote_path}` are Octogram's;
// `hosts:`, `backends:`, `name:`, `summary:`, `prometheus:`, `with_hosts:`,
// `run_hosts:`, `run:`, `service:` and `copy: {from, to}` are troupe's.
// A file with keys of both is an error at the first key of the other kind.
// Pure.

import type { LNode } from "../config/yaml-positions.js";
import type { SourcePos } from "../model/position.js";
import type { Problem } from "../util/errors.js";

export type Dialect = "troupe" | "octogram";

interface Marker {
  readonly key: string;
  readonly dialect: Dialect;
  readonly path: string;
  readonly pos: SourcePos;
}

const TOP: Readonly<Record<string, Dialect>> = {
  agents: "octogram",
  octogram_binary: "octogram",
  prometheus_agent: "octogram",
  hosts: "troupe",
  backends: "troupe",
  name: "troupe",
  summary: "troupe",
  prometheus: "troupe",
};
const STAGE: Readonly<Record<string, Dialect>> = {
  with_agents: "octogram",
  run_agents: "octogram",
  with_hosts: "troupe",
  run_hosts: "troupe",
};
const JOB: Readonly<Record<string, Dialect>> = {
  run: "troupe",
  service: "troupe",
  endpoint: "troupe",
  ready: "troupe",
  env: "troupe",
  timeout: "troupe",
  ignore_failure: "troupe",
};
const COPY: Readonly<Record<string, Dialect>> = { local_path: "octogram", remote_path: "octogram", from: "troupe", to: "troupe" };

/** The same key in the other kind of file, for the message. */
const COUNTERPART: Readonly<Record<string, string>> = {
  agents: "hosts",
  hosts: "agents",
  with_agents: "with_hosts",
  with_hosts: "with_agents",
  run_agents: "run_hosts",
  run_hosts: "run_agents",
  local_path: "from",
  remote_path: "to",
  from: "local_path",
  to: "remote_path",
  prometheus: "prometheus_agent",
  prometheus_agent: "prometheus",
};

function entries(node: LNode | undefined): { key: string; keyPos: SourcePos; value: LNode }[] {
  return node?.kind === "map" ? [...node.entries] : [];
}

function markers(root: LNode): Marker[] {
  const out: Marker[] = [];
  const add = (table: Readonly<Record<string, Dialect>>, node: LNode | undefined, path: string): void => {
    for (const e of entries(node)) {
      const d = table[e.key];
      if (d) out.push({ key: e.key, dialect: d, path: path ? `${path}.${e.key}` : e.key, pos: e.keyPos });
    }
  };
  add(TOP, root, "");
  const stages = entries(root).find((e) => e.key === "stages")?.value;
  if (stages?.kind !== "seq") return out;
  stages.items.forEach((stage, si) => {
    add(STAGE, stage, `stages[${si}]`);
    const jobs = entries(stage).find((e) => e.key === "jobs")?.value;
    if (jobs?.kind !== "seq") return;
    jobs.items.forEach((job, ji) => {
      add(JOB, job, `stages[${si}].jobs[${ji}]`);
      const copy = entries(job).find((e) => e.key === "copy")?.value;
      add(COPY, copy, `stages[${si}].jobs[${ji}].copy`);
    });
  });
  return out;
}

/**
 * Which kind of file this is, from the first telling key (in the file's
 * order); problems for keys of the other kind.
 */
export function detectDialect(root: LNode | undefined): { dialect: Dialect; problems: Problem[] } {
  if (!root) return { dialect: "troupe", problems: [] };
  const found = markers(root).sort((a, b) => a.pos.line - b.pos.line || a.pos.col - b.pos.col);
  const first = found[0];
  if (!first) return { dialect: "troupe", problems: [] };
  const problems: Problem[] = [];
  for (const m of found) {
    if (m.dialect === first.dialect) continue;
    const other = COUNTERPART[m.key];
    const kind = first.dialect === "octogram" ? "an Octogram recipe" : "a troupe scenario";
    problems.push({
      pos: m.pos,
      path: m.path,
      message:
        `'${m.key}' is ${m.dialect === "octogram" ? "Octogram's" : "troupe's"} key, but this file is ${kind} ` +
        `('${first.key}' at line ${first.pos.line}); keys of the two cannot be mixed` +
        (other ? `: write '${other}' here, or write the whole file the other way` : ": write the whole file one way"),
    });
  }
  return { dialect: first.dialect, problems };
}

/**
 * A plain scalar as Octogram's YAML reader (the OCaml `yaml` package)
 * reads it: YAML 1.1's null and boolean words (`~`, `y`, `yes`, `on`, `n`,
 * `no`, `off`, ...), then anything OCaml's `float_of_string` takes
 * (`1_000`, `0x1f`, `1e3`, and `0755` as 755); the rest is text.
 */
export function octogramScalar(source: string): string | number | boolean | null {
  switch (source) {
    case "":
    case "~":
    case "null":
    case "Null":
    case "NULL":
      return null;
    case "y":
    case "Y":
    case "yes":
    case "Yes":
    case "YES":
    case "true":
    case "True":
    case "TRUE":
    case "on":
    case "On":
    case "ON":
      return true;
    case "n":
    case "N":
    case "no":
    case "No":
    case "NO":
    case "false":
    case "False":
    case "FALSE":
    case "off":
    case "Off":
    case "OFF":
      return false;
  }
  const s = source.replace(/_/g, "");
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(s)) return (s.startsWith("-") ? -1 : 1) * Number.parseInt(s.replace(/^[+-]?0[xX]/, ""), 16);
  return source;
}
