// An Ansible inventory as troupe reads it: groups of hosts with variables.
// The INI and YAML readers both fill an InventoryBuilder; `build()` resolves
// membership through `children` and each host's variables with Ansible's
// precedence (group `all` < parent groups < child groups < the host's own; at
// the same depth, groups later in alphabetical order win, unless
// `ansible_group_priority` says otherwise).

import type { SourcePos } from "../../model/position.js";
import { TroupeError, type Problem } from "../../util/errors.js";

export type Vars = Readonly<Record<string, unknown>>;

export interface InventoryHost {
  readonly name: string;
  /** Effective variables: group variables merged by precedence, then the host's own. */
  readonly vars: Vars;
  /** Every group the host belongs to, directly or through `children`, `all` first. */
  readonly groups: readonly string[];
  /** Where the host was first declared. */
  readonly pos?: SourcePos;
}

export interface InventoryGroup {
  readonly name: string;
  /** Hosts declared directly in the group, in file order. */
  readonly hosts: readonly string[];
  readonly children: readonly string[];
  readonly vars: Vars;
  readonly pos?: SourcePos;
}

export interface Inventory {
  /** The file it was read from, or `<text>`. */
  readonly source: string;
  /** Every group, `all` and `ungrouped` included, in the order first seen. */
  readonly groups: ReadonlyMap<string, InventoryGroup>;
  /** Every host, in the order first seen. */
  readonly hosts: ReadonlyMap<string, InventoryHost>;
}

interface MutableGroup {
  name: string;
  hosts: string[];
  children: string[];
  vars: Record<string, unknown>;
  pos?: SourcePos;
}

interface MutableHost {
  name: string;
  vars: Record<string, unknown>;
  pos?: SourcePos;
}

export class InventoryBuilder {
  private readonly groups = new Map<string, MutableGroup>();
  private readonly hosts = new Map<string, MutableHost>();
  readonly problems: Problem[] = [];

  constructor(readonly source: string) {
    this.group("all");
    this.group("ungrouped");
  }

  group(name: string, pos?: SourcePos): MutableGroup {
    let g = this.groups.get(name);
    if (!g) {
      g = { name, hosts: [], children: [], vars: {} };
      if (pos) g.pos = pos;
      this.groups.set(name, g);
    } else if (!g.pos && pos) {
      g.pos = pos;
    }
    return g;
  }

  addHost(group: string, name: string, vars: Vars, pos?: SourcePos): void {
    let h = this.hosts.get(name);
    if (!h) {
      h = { name, vars: {} };
      if (pos) h.pos = pos;
      this.hosts.set(name, h);
    }
    Object.assign(h.vars, vars);
    const g = this.group(group);
    if (!g.hosts.includes(name)) g.hosts.push(name);
  }

  addChild(parent: string, child: string, pos?: SourcePos): void {
    const p = this.group(parent);
    this.group(child, pos);
    if (!p.children.includes(child)) p.children.push(child);
  }

  setGroupVars(group: string, vars: Vars): void {
    Object.assign(this.group(group).vars, vars);
  }

  problem(message: string, pos?: SourcePos, path?: string): void {
    const p: { message: string; pos?: SourcePos; path?: string } = { message };
    if (pos) p.pos = pos;
    if (path) p.path = path;
    this.problems.push(p);
  }

  build(): Inventory {
    this.checkCycles();
    if (this.problems.length > 0) throw new TroupeError("E_SCHEMA", this.problems);
    const groups = this.groups;
    // Every top-level group is a child of `all`; hosts in no group but `all` are `ungrouped`.
    const all = groups.get("all");
    const ungrouped = groups.get("ungrouped");
    if (!all || !ungrouped) throw new Error("internal: all/ungrouped missing");
    const hasParent = new Set<string>();
    for (const g of groups.values()) for (const c of g.children) hasParent.add(c);
    for (const g of groups.values()) {
      if (g.name !== "all" && !hasParent.has(g.name) && !all.children.includes(g.name)) all.children.push(g.name);
    }
    const inGroup = new Set<string>();
    for (const g of groups.values()) if (g.name !== "all" && g.name !== "ungrouped") for (const h of g.hosts) inGroup.add(h);
    for (const h of all.hosts) if (!inGroup.has(h) && !ungrouped.hosts.includes(h)) ungrouped.hosts.push(h);
    all.hosts.length = 0;
    ungrouped.hosts.splice(0, ungrouped.hosts.length, ...ungrouped.hosts.filter((h) => !inGroup.has(h)));

    const depth = groupDepths(groups);
    const parents = new Map<string, string[]>();
    for (const g of groups.values()) for (const c of g.children) parents.set(c, [...(parents.get(c) ?? []), g.name]);

    const hosts = new Map<string, InventoryHost>();
    for (const h of this.hosts.values()) {
      const member = new Set<string>();
      const visit = (name: string): void => {
        if (member.has(name)) return;
        member.add(name);
        for (const p of parents.get(name) ?? []) visit(p);
      };
      for (const g of groups.values()) if (g.hosts.includes(h.name)) visit(g.name);
      member.add("all");
      const ordered = [...member].sort((a, b) => {
        const da = depth.get(a) ?? 0;
        const db = depth.get(b) ?? 0;
        if (da !== db) return da - db;
        const pa = priority(groups.get(a));
        const pb = priority(groups.get(b));
        if (pa !== pb) return pa - pb;
        return a < b ? -1 : a > b ? 1 : 0;
      });
      const vars: Record<string, unknown> = {};
      for (const name of ordered) Object.assign(vars, groups.get(name)?.vars);
      Object.assign(vars, h.vars);
      const host: { name: string; vars: Vars; groups: string[]; pos?: SourcePos } = { name: h.name, vars, groups: ordered };
      if (h.pos) host.pos = h.pos;
      hosts.set(h.name, host);
    }

    const frozen = new Map<string, InventoryGroup>();
    for (const g of groups.values()) frozen.set(g.name, { ...g, hosts: [...g.hosts], children: [...g.children] });
    return { source: this.source, groups: frozen, hosts };
  }

  private checkCycles(): void {
    const state = new Map<string, "visiting" | "done">();
    const visit = (name: string, path: string[]): void => {
      const s = state.get(name);
      if (s === "done") return;
      if (s === "visiting") {
        const g = this.groups.get(name);
        this.problem(`group '${name}' is its own descendant: ${[...path, name].join(" -> ")}`, g?.pos);
        return;
      }
      state.set(name, "visiting");
      for (const c of this.groups.get(name)?.children ?? []) visit(c, [...path, name]);
      state.set(name, "done");
    };
    for (const name of this.groups.keys()) visit(name, []);
  }
}

function priority(g: MutableGroup | undefined): number {
  const p = g?.vars["ansible_group_priority"];
  const n = typeof p === "number" ? p : typeof p === "string" ? Number(p) : 1;
  return Number.isFinite(n) ? n : 1;
}

/** Distance from `all`: 0 for `all`, 1 for top-level groups, parent + 1 below. */
function groupDepths(groups: ReadonlyMap<string, MutableGroup>): Map<string, number> {
  const depth = new Map<string, number>([["all", 0]]);
  const walk = (name: string, d: number): void => {
    if ((depth.get(name) ?? -1) >= d && name !== "all") return;
    if (name !== "all") depth.set(name, d);
    for (const c of groups.get(name)?.children ?? []) walk(c, d + 1);
  };
  walk("all", 0);
  return depth;
}

/**
 * Hosts of a group and of all its descendants, in declaration order, without
 * repeats. `all` gives every host. Unknown group: undefined.
 */
export function groupHosts(inv: Inventory, group: string): InventoryHost[] | undefined {
  if (group === "all") return [...inv.hosts.values()];
  if (!inv.groups.has(group)) return undefined;
  const names: string[] = [];
  const seenGroups = new Set<string>();
  const walk = (name: string): void => {
    if (seenGroups.has(name)) return;
    seenGroups.add(name);
    const g = inv.groups.get(name);
    if (!g) return;
    for (const h of g.hosts) if (!names.includes(h)) names.push(h);
    for (const c of g.children) walk(c);
  };
  walk(group);
  return names.map((n) => inv.hosts.get(n)).filter((h): h is InventoryHost => h !== undefined);
}
