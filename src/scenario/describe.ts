// A scenario plan in a few lines, for `troupe play --check`. Pure.

import { foldHostlist } from "../util/hostlist.js";
import { isTemplated } from "./template.js";
import { selectHosts } from "./select.js";
import type { PlannedJob, ScenarioPlan } from "./types.js";

export function describePlan(plan: ScenarioPlan): string {
  const lines: string[] = [];
  lines.push(`scenario ${plan.name}${plan.file ? ` (${plan.file}${plan.dialect === "octogram" ? ", an Octogram recipe" : ""})` : ""}`);
  const groups = new Map<string, string[]>();
  for (const h of plan.hosts) {
    const key = `${h.backend.name}:${h.system.name}${h.groups.length ? ` groups ${h.groups.join(",")}` : ""}`;
    groups.set(key, [...(groups.get(key) ?? []), h.name]);
  }
  lines.push(`hosts: ${plan.hosts.length}`);
  for (const [key, names] of groups) lines.push(`  ${foldHostlist(names)} (${key})`);
  const vars = Object.keys(plan.vars);
  if (vars.length) lines.push(`vars: ${vars.join(", ")}`);
  const prom = plan.prometheus;
  if (prom) {
    const own = prom.ownHost ? ` (a host of its own, ${prom.ownHost.backend.name}:${prom.ownHost.system.name})` : "";
    lines.push(
      `prometheus: on ${prom.host ? `${prom.host}${own}` : "the orchestrator"}${prom.scrapeInterval ? `, every ${prom.scrapeInterval}` : ""}`,
    );
  }
  for (const s of plan.stages) {
    const patterns = s.withHosts.map((t) => t.text);
    const fixed = s.withHosts.every((t) => !isTemplated(t.text));
    const on = fixed
      ? foldHostlist(selectHosts(plan.hosts, patterns, s.match).map((x) => x.host.name)) || "no host"
      : `hosts matching ${patterns.join(" or ")}`;
    const modes = `hosts ${s.runHosts === "concurrent" ? "at once" : "one after the other"}, jobs ${s.runJobs === "sequential" ? "one after the other" : "at once"}`;
    lines.push(`stage ${s.index + 1}: ${s.name}, on ${on} (${modes})${s.askConfirmation ? ", asks for confirmation" : ""}`);
    for (const j of s.jobs) lines.push(`  ${describeJob(j)}`);
  }
  return lines.join("\n") + "\n";
}

function describeJob(j: PlannedJob): string {
  const extras: string[] = [];
  if (j.items) extras.push(`with_items${j.runItems === "concurrent" ? " (at once)" : ""}`);
  if (j.varsUpdates.length) extras.push(`updates ${j.varsUpdates.map((u) => u.key.text).join(", ")}`);
  if (j.ignoreFailure) extras.push("ignore_failure");
  const kind = j.body.kind === "plugin" ? j.body.name : j.body.kind;
  return `${kind} ${j.name.text}${extras.length ? ` [${extras.join("; ")}]` : ""}`;
}
