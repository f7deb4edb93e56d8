// From checked scenario data to the plan the runner follows. Pure: no I/O.
//
// Checked here, before any host is allocated (exit status 2): exactly one of
// run / copy / service (/ call) per job; services have names; host names and
// ranges; backends and systems; regular expressions; templates that cannot
// work (a syntax error, an unknown filter, a variable nobody sets, `res`
// outside vars_updates, `re[3]` with two groups, `hosts.x` with no host x);
// stages that select no host.

import { buildBackends } from "../config/build-backends.js";
import type { FileCtx } from "../config/entity.js";
import { Problems } from "../config/problems.js";
import { formatPath, type YamlPath } from "../config/yaml-positions.js";
import type { Backend } from "../model/project.js";
import type { SourcePos } from "../model/position.js";
import { TroupeError, isTroupeError, type Problem } from "../util/errors.js";
import { planHosts, type HostsEntry } from "./hosts.js";
import { planPrometheus } from "./prometheus-plan.js";
import { keyPosOf, posOf, sortProblems, textPlace, type ScenarioSource } from "./load.js";
import type { JobData, ScenarioData, StageData, VarUpdateData } from "./schema.js";
import { compilePattern, groupCount, PatternError, selectHosts } from "./select.js";
import { isTemplated, renderTemplate, templateProblem, templateVariables, TEMPLATE_ROOTS } from "./template.js";
import { argTemplates, planPluginArgs, pluginJobKey, type PluginJobs } from "./plugin-jobs.js";
import type {
  CallFunction,
  ItemPlan,
  ItemsPlan,
  JobBody,
  LogPolicy,
  PlannedJob,
  PlannedStage,
  ScenarioPlan,
  Template,
  Value,
  VarUpdatePlan,
} from "./types.js";

/** How long a service may take to become ready, by default. */
export const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** With log: summary, how many last lines are shown unless log_lines says. */
export const DEFAULT_SUMMARY_LINES = 20;

/** Which variables each kind of template may read. */
type Use = "hosts" | "items" | "body" | "updates";
const ROOTS: Readonly<Record<Use, readonly string[]>> = {
  hosts: ["vars", "hosts", "run", "scenario", "stage"],
  items: ["vars", "host", "agent", "hosts", "re", "run", "stage", "job", "scenario", "prometheus"],
  body: ["vars", "host", "agent", "hosts", "re", "item", "run", "stage", "job", "scenario", "prometheus"],
  updates: [...TEMPLATE_ROOTS],
};

/** The fields of the objects templates see (checked before running). */
export const SCOPE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  host: ["name", "addr", "backend", "system", "groups", "dir", "index"],
  agent: ["name"],
  run: ["id", "dir"],
  stage: ["name", "index", "hosts"],
  job: ["name"],
  scenario: ["name", "file", "dir"],
  prometheus: ["url", "dir"],
  res: ["status", "stdout", "stderr", "lines", "json", "value", "endpoint"],
};

interface TemplateUse {
  readonly tpl: Template;
  readonly use: Use;
  readonly stage?: PlannedStage | { readonly name: string; readonly withHosts: readonly Template[] };
  readonly job?: string;
  /** The template belongs to a plugin job: its `res` is what the plugin returns. */
  readonly plugin?: boolean;
}

export interface PlanOptions {
  /** Where relative orchestrator paths start when there is no file (the API). */
  readonly baseDir?: string;
  /** A name for a scenario without `name:` and without a file. */
  readonly defaultName?: string;
  /** Plugin jobs taken out of the jobs (`tezos.start_node: ...`). */
  readonly plugins?: PluginJobs;
  /** Backends made already (an Octogram recipe's agents). */
  readonly backends?: readonly Backend[];
}

/** Make the plan; throws one TroupeError (E_SCHEMA / E_SCENARIO) holding every problem found. */
export function planScenario(data: ScenarioData, source: ScenarioSource | undefined, options: PlanOptions = {}): ScenarioPlan {
  const problems: Problem[] = [];
  /** A problem of shape (a key or value the schema refuses) rather than of meaning: E_SCHEMA. */
  let shape = false;
  const add = (path: YamlPath, message: string, pos?: SourcePos): void => {
    const at = pos ?? posOf(source, path);
    problems.push({ ...(at ? { pos: at } : {}), ...(path.length ? { path: formatPath(path) } : {}), message });
  };
  const tpl = (text: string, path: YamlPath): Template => {
    const at = textPlace(source, path);
    return { text, path, ...(at ? { at } : {}) };
  };

  // Backends, read as troupe.yaml reads them.
  const backends: Backend[] = [...(options.backends ?? [])];
  const dialect = source?.dialect ?? "troupe";
  const match = dialect === "octogram" ? ("partial" as const) : ("whole" as const);
  if (data.backends && Object.keys(data.backends).length > 0) {
    const ctx: FileCtx = { file: source?.file ?? "scenario", root: source?.root, flavour: "troupe", problems: new Problems(source?.file) };
    backends.push(...buildBackends(ctx, data.backends));
    try {
      ctx.problems.throwIfAny();
    } catch (e) {
      if (!isTroupeError(e)) throw e;
      shape ||= e.code === "E_SCHEMA";
      problems.push(...e.problems.map((p) => (source ? p : { ...(p.path ? { path: p.path } : {}), message: p.message })));
    }
  }

  const vars: Record<string, Value> = {};
  for (const [k, v] of Object.entries(data.vars ?? {})) vars[k] = (v ?? null) as Value;

  // Hosts. Names may come from vars (`node-[1..{{ vars.n }}]`), so that `--var n=3` shrinks a scenario.
  const hostNames = (names: readonly string[], path: YamlPath): string[] =>
    names.map((n, i) => {
      if (!isTemplated(n)) return n;
      const at = typeof data.hosts[path[1] as number] === "string" ? path : [...path, "names", ...(names.length > 1 ? [i] : [])];
      try {
        return renderTemplate(tpl(n, at), { vars });
      } catch (e) {
        if (!isTroupeError(e)) throw e;
        problems.push(...e.problems);
        return "";
      }
    });
  const entries: HostsEntry[] = data.hosts.map((h, i) => {
    const path = ["hosts", i];
    if (typeof h === "string")
      return { names: hostNames([h], path), groups: [], path, ...pos("pos", posOf(source, path)), ...pos("namesPos", posOf(source, path)) };
    const names = hostNames(typeof h.names === "string" ? [h.names] : h.names, path);
    const groups = h.groups === undefined ? [] : typeof h.groups === "string" ? [h.groups] : h.groups;
    return {
      names,
      groups,
      path,
      ...(h.backend !== undefined ? { backend: h.backend } : {}),
      ...(h.system !== undefined ? { system: h.system } : {}),
      ...(h.image !== undefined ? { image: h.image } : {}),
      ...pos("imagePos", posOf(source, [...path, "image"])),
      ...pos("pos", posOf(source, path)),
      ...pos("namesPos", posOf(source, [...path, "names"])),
      ...pos("backendPos", posOf(source, [...path, "backend"])),
      ...pos("systemPos", posOf(source, [...path, "system"])),
    };
  });
  const { hosts, problems: hostProblems } = planHosts(entries, backends);
  for (const p of hostProblems) add(p.path, p.message, p.pos);
  if (data.hosts.length === 0) add(["hosts"], "no hosts: list at least one, e.g. - names: node-[1..3]", keyPosOf(source, ["hosts"]));
  const prometheus = data.prometheus ? planPrometheus(data.prometheus, hosts, backends, (path) => posOf(source, path)) : undefined;
  for (const p of prometheus?.problems ?? []) add(p.path, p.message, p.pos);

  // Stages and jobs.
  const uses: TemplateUse[] = [];
  const scenarioLog = logOf(data, { mode: "stream", lines: DEFAULT_SUMMARY_LINES }, []);
  const stages: PlannedStage[] = data.stages.map((s, si) => planStage(s, si));
  if (data.stages.length === 0) add(["stages"], "no stages: add at least one, with jobs:", keyPosOf(source, ["stages"]));

  function planStage(s: StageData, si: number): PlannedStage {
    const path = ["stages", si];
    const patterns = s.with_hosts === undefined ? [".*"] : typeof s.with_hosts === "string" ? [s.with_hosts] : s.with_hosts;
    const withHosts = patterns.map((p, i) =>
      tpl(
        p,
        s.with_hosts === undefined
          ? [...path, "with_hosts"]
          : typeof s.with_hosts === "string"
            ? [...path, "with_hosts"]
            : [...path, "with_hosts", i],
      ),
    );
    const stageRef = { name: s.name, withHosts };
    for (const t of withHosts) uses.push({ tpl: t, use: "hosts", stage: stageRef });
    // Patterns without templates are checked now: valid, and selecting some host.
    const fixed = withHosts.filter((t) => !isTemplated(t.text));
    for (const t of fixed) {
      try {
        compilePattern(t.text, match);
      } catch (e) {
        if (e instanceof PatternError) add(t.path, e.message);
        else throw e;
      }
    }
    if (fixed.length === withHosts.length && hosts.length > 0 && s.with_hosts !== undefined) {
      try {
        if (selectHosts(hosts, patterns, match).length === 0) {
          add(
            [...path, "with_hosts"],
            `stage "${s.name}" selects no host: no host name matches ${patterns.map((p) => `'${p}'`).join(" or ")}` +
              (match === "whole" ? " (the whole name must match)" : ""),
          );
        }
      } catch {
        // reported above
      }
    }
    if (s.jobs.length === 0) add([...path, "jobs"], `stage "${s.name}" has no jobs`, keyPosOf(source, [...path, "jobs"]));
    const stageLog = logOf(s, scenarioLog, path);
    const jobs = s.jobs.map((j, ji) => planJob(j as JobData, [...path, "jobs", ji], ji, stageRef, si, stageLog));
    return {
      index: si,
      name: s.name,
      withHosts,
      runHosts: s.run_hosts ?? "concurrent",
      runJobs: s.run_jobs ?? "sequential",
      match,
      askConfirmation: s.ask_confirmation ?? false,
      jobs,
      path,
      ...pos("pos", posOf(source, path)),
    };
  }

  /** The log policy a scenario, stage or job says, over the one around it. */
  function logOf(x: { log?: LogPolicy["mode"]; log_lines?: number }, outer: LogPolicy, path: YamlPath): LogPolicy {
    if (x.log_lines !== undefined && x.log !== undefined && x.log !== "summary") {
      add(
        [...path, "log_lines"],
        `log_lines: only means something with log: summary (here log: ${x.log})`,
        keyPosOf(source, [...path, "log_lines"]),
      );
    }
    return { mode: x.log ?? outer.mode, lines: x.log_lines ?? outer.lines };
  }

  function planJob(
    j: JobData,
    path: YamlPath,
    index: number,
    stage: TemplateUse["stage"] & {},
    si: number,
    stageLog: LogPolicy,
  ): PlannedJob {
    const plugin = options.plugins?.get(pluginJobKey(si, index));
    const kinds = [...(["run", "copy", "service", "call"] as const).filter((k) => j[k] !== undefined), ...(plugin ? [plugin.kind] : [])];
    const jobLabel = j.name ?? `#${index + 1}`;
    const choices =
      dialect === "octogram" ? "copy: or a job kind such as tezos.start_node:" : "run:, copy:, service: or a plugin's job kind";
    if (kinds.length !== 1) {
      add(
        path,
        kinds.length === 0
          ? `job ${jobLabel} does nothing: give it one of ${choices}`
          : `job ${jobLabel} has ${kinds.join(" and ")}: give each job one of ${choices}`,
      );
    }
    const kind = plugin && kinds.length === 1 ? "plugin" : ((kinds[0] as "run" | "copy" | "service" | "call" | undefined) ?? "run");
    let body: JobBody;
    let defaultName: string;
    const serviceOnly = ["endpoint", "ready", "ready_timeout", "metrics"] as const;
    if (kind !== "service") {
      for (const k of serviceOnly)
        if (j[k] !== undefined) add([...path, k], `${k}: only means something for a service: job`, keyPosOf(source, [...path, k]));
    }
    if ((kind === "copy" || kind === "call") && j.log !== undefined) {
      add(
        [...path, "log"],
        `log: only means something for run: and service: jobs and plugins' jobs (a ${kind}: job prints one line)`,
        keyPosOf(source, [...path, "log"]),
      );
    }
    switch (kind) {
      case "run":
        body = { kind, script: tpl(j.run ?? "", [...path, "run"]) };
        defaultName = (j.run ?? "").trim().split("\n")[0] || "run";
        break;
      case "copy":
        body = { kind, from: tpl(j.copy!.from, [...path, "copy", "from"]), to: tpl(j.copy!.to, [...path, "copy", "to"]) };
        defaultName = `copy ${j.copy!.from} -> ${j.copy!.to}`;
        break;
      case "service":
        if (j.name === undefined) add(path, "a service needs a name: (other hosts reach it as HOST://NAME)");
        else if (!isTemplated(j.name) && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(j.name)) {
          add(
            [...path, "name"],
            `service name '${j.name}' must be letters, digits, '.', '_' and '-' (it is used in HOST://${j.name} URIs)`,
          );
        }
        body = {
          kind,
          command: tpl(j.service!, [...path, "service"]),
          ...(j.endpoint !== undefined ? { endpoint: tpl(j.endpoint, [...path, "endpoint"]) } : {}),
          ...(j.ready !== undefined ? { ready: tpl(j.ready, [...path, "ready"]) } : {}),
          readyTimeoutMs: j.ready_timeout === undefined || j.ready_timeout <= 0 ? DEFAULT_READY_TIMEOUT_MS : j.ready_timeout,
          ...(j.metrics !== undefined ? { metrics: tpl(j.metrics, [...path, "metrics"]) } : {}),
        };
        defaultName = "service";
        break;
      case "call":
        body = { kind, fn: j.call as CallFunction };
        defaultName = "call";
        break;
      case "plugin":
        body = {
          kind,
          name: plugin!.kind,
          args: planPluginArgs(plugin!, tpl, { file: source?.file ?? "scenario", root: source?.root }, problems),
        };
        defaultName = plugin!.kind;
        break;
    }
    const name = tpl(j.name ?? defaultName, j.name !== undefined ? [...path, "name"] : path);
    const jobName = j.name ?? (defaultName.length > 40 ? `${defaultName.slice(0, 37)}...` : defaultName);
    const items = j.with_items === undefined ? undefined : planItems(j.with_items, [...path, "with_items"]);
    const varsUpdates = Object.entries(j.vars_updates ?? {}).map(([key, u]) => planUpdate(key, u, [...path, "vars_updates", key]));
    const env = Object.entries(j.env ?? {}).flatMap(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
        add(
          [...path, "env", k],
          `'${k}' is not a variable name (letters, digits and _, not starting with a digit)`,
          keyPosOf(source, [...path, "env", k]),
        );
        return [];
      }
      return [[k, tpl(String(v ?? ""), [...path, "env", k])] as const];
    });

    const isPlugin = body.kind === "plugin";
    if (j.name !== undefined) uses.push({ tpl: name, use: "body", stage, job: jobName });
    if (body.kind === "plugin") for (const t of argTemplates(body.args)) uses.push({ tpl: t, use: "body", stage, job: jobName });
    for (const t of bodyTemplates(body)) uses.push({ tpl: t, use: "body", stage, job: jobName });
    for (const [, t] of env) uses.push({ tpl: t, use: "body", stage, job: jobName });
    for (const u of varsUpdates) {
      uses.push({ tpl: u.key, use: "updates", stage, job: jobName, plugin: isPlugin });
      if (u.value) uses.push({ tpl: u.value, use: "updates", stage, job: jobName, plugin: isPlugin });
    }
    if (items) {
      const lists = items.kind === "list" ? [items.items] : items.lists;
      for (const l of lists)
        for (const it of l) if (it.kind === "template") uses.push({ tpl: it.template, use: "items", stage, job: jobName });
    }
    const log = logOf(j, stageLog, path);
    if (log.mode !== "stream" && kind !== "plugin") {
      // The output went to the host's file: a step's res.stdout and res.stderr are empty.
      const reads = varsUpdates.find((u) => u.value && /\bres\.(stdout|stderr)\b/.test(u.value.text));
      if (reads?.value) {
        add(
          reads.value.path,
          `vars_updates reads res.stdout or res.stderr, which are empty with log: ${log.mode} (the output stays on the host); give this job log: stream`,
        );
      }
    }
    return {
      index,
      name,
      autoName: j.name === undefined,
      body,
      ...(items ? { items } : {}),
      runItems: j.run_items ?? "sequential",
      varsUpdates,
      ignoreFailure: j.ignore_failure ?? false,
      env,
      ...(j.timeout !== undefined && j.timeout > 0 ? { timeoutMs: j.timeout } : {}),
      log,
      path,
      ...pos("pos", posOf(source, path)),
    };
  }

  function planItems(w: unknown, path: YamlPath): ItemsPlan {
    const one = (v: unknown, p: YamlPath): ItemPlan =>
      typeof v === "string" ? { kind: "template", template: tpl(v, p) } : { kind: "value", value: (v ?? null) as Value };
    const list = (v: unknown, p: YamlPath): ItemPlan[] => (Array.isArray(v) ? v.map((x, i) => one(x, [...p, i])) : [one(v, p)]);
    if (w !== null && typeof w === "object" && !Array.isArray(w) && "product" in w) {
      const lists = (w as { product: unknown[] }).product.map((l, i) => list(l, [...path, "product", i]));
      if (lists.length === 0) add([...path, "product"], "product: needs at least one list of items");
      return { kind: "product", lists };
    }
    return { kind: "list", items: list(w, path) };
  }

  function planUpdate(key: string, u: VarUpdateData | undefined, path: YamlPath): VarUpdatePlan {
    const keyTpl: Template = { text: key, path, ...(source ? { at: { ...keyPosOf(source, path)!, style: "plain" as const } } : {}) };
    if (u === undefined || u === null) return { key: keyTpl, as: "string" };
    if (typeof u === "object") return { key: keyTpl, value: tpl(String(u.value), [...path, "value"]), as: u.as ?? "string" };
    // A number or boolean written as such keeps its type.
    return { key: keyTpl, value: tpl(String(u), path), as: typeof u === "string" ? "string" : "json" };
  }

  // Templates: syntax, filters, and variables that cannot be there.
  const updatable = new Set(Object.keys(vars));
  let keysKnown = true;
  for (const st of stages) {
    for (const job of st.jobs) {
      for (const u of job.varsUpdates) {
        if (isTemplated(u.key.text)) keysKnown = false;
        else updatable.add(u.key.text);
      }
    }
  }
  const knownHosts = new Set(hosts.map((h) => h.name));
  for (const use of uses) {
    const where = { ...(use.stage ? { stage: use.stage.name } : {}), ...(use.job !== undefined ? { job: use.job } : {}) };
    let refs;
    try {
      refs = templateVariables(use.tpl, where);
    } catch (e) {
      if (isTroupeError(e)) problems.push(...e.problems);
      else throw e;
      continue;
    }
    for (const ref of refs) {
      const [root, field, sub] = ref.segments;
      const bad = (message: string): void => {
        problems.push(templateProblem(use.tpl, message, where, ref.row, ref.col));
      };
      const shown = showRef(ref.segments);
      if (typeof root !== "string" || !ROOTS[use.use].includes(root)) {
        if (root === "res") bad(`res is only set in vars_updates (it is the result of the step that just ended)`);
        else if (typeof root === "string" && (TEMPLATE_ROOTS as readonly string[]).includes(root))
          bad(`${root} is not known here (here: ${ROOTS[use.use].join(", ")})`);
        else bad(`undefined variable ${shown} (templates see ${ROOTS[use.use].join(", ")}; scenario variables are vars.NAME)`);
        continue;
      }
      if (root === "prometheus" && !data.prometheus) {
        bad(`${shown} needs a prometheus: section (the server it names)`);
      } else if (root === "vars" && typeof field === "string" && keysKnown && !updatable.has(field) && !ref.guarded) {
        bad(`undefined variable ${shown}; declare it under vars: (null if it has no value yet) or set it with vars_updates`);
      } else if (root === "hosts" && typeof field === "string" && !knownHosts.has(field)) {
        bad(`no host '${field}' (${shown})`);
      } else if (root === "hosts" && typeof sub === "string" && !SCOPE_FIELDS["host"]!.includes(sub)) {
        bad(`undefined variable ${shown} (a host has ${SCOPE_FIELDS["host"]!.join(", ")})`);
      } else if (
        SCOPE_FIELDS[root] &&
        field !== undefined &&
        !SCOPE_FIELDS[root].includes(String(field)) &&
        !(root === "res" && field === "json") &&
        !(root === "res" && use.plugin)
      ) {
        bad(`undefined variable ${shown} (${root} has ${SCOPE_FIELDS[root].join(", ")})`);
      } else if (root === "re" && typeof field === "number" && use.stage && match === "whole") {
        const patterns = use.stage.withHosts;
        if (patterns.every((p) => !isTemplated(p.text))) {
          let most = 0;
          try {
            for (const p of patterns) most = Math.max(most, groupCount(p.text));
          } catch {
            continue;
          }
          if (field > most)
            bad(
              `${shown}: the stage's with_hosts ${most === 0 ? "has no capture group" : `has ${most} capture group${most > 1 ? "s" : ""}`}`,
            );
        }
      }
    }
  }

  if (problems.length > 0) {
    throw new TroupeError(shape ? "E_SCHEMA" : "E_SCENARIO", sortProblems(dedupe(problems)));
  }
  return {
    dialect,
    name: data.name ?? (source ? source.file.replace(/^.*\//, "").replace(/\.(ya?ml|json)$/, "") : (options.defaultName ?? "scenario")),
    ...(source ? { file: source.file } : {}),
    baseDir: source?.baseDir ?? options.baseDir ?? process.cwd(),
    hosts,
    vars,
    stages,
    ...(prometheus ? { prometheus: prometheus.plan } : {}),
  };
}

/** The names of the services declared by any job (template-free ones), for URI checks. */
export function declaredServices(plan: ScenarioPlan): Set<string> {
  const out = new Set<string>();
  for (const s of plan.stages) for (const j of s.jobs) if (j.body.kind === "service" && !isTemplated(j.name.text)) out.add(j.name.text);
  return out;
}

function bodyTemplates(body: JobBody): Template[] {
  switch (body.kind) {
    case "run":
      return [body.script];
    case "copy":
      return [body.from, body.to];
    case "service":
      return [
        body.command,
        ...(body.endpoint ? [body.endpoint] : []),
        ...(body.ready ? [body.ready] : []),
        ...(body.metrics ? [body.metrics] : []),
      ];
    case "call":
      return [];
    case "plugin":
      return [];
  }
}

function showRef(segments: readonly (string | number)[]): string {
  return segments
    .map((s, i) => (typeof s === "number" ? `[${s}]` : i === 0 ? s : /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? `.${s}` : `['${s}']`))
    .join("");
}

function pos<K extends string>(key: K, p: SourcePos | undefined): { [k in K]?: SourcePos } {
  return (p ? { [key]: p } : {}) as { [k in K]?: SourcePos };
}

function dedupe(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = `${p.pos?.line}:${p.pos?.col}:${p.path}:${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
