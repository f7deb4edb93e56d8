// Ansible's host ranges in inventories: `web[01:20].example.com`,
// `db-[a:f].lan`, `n[1:10:2]`. Pure. Unlike pdsh hostlists (src/util/hostlist.ts)
// they use `:` between bounds, allow letters, and have no lists inside brackets.

/** Ranges wider than this are a typo, not an inventory. */
const MAX_RANGE = 100_000;

export class PatternError extends Error {}

/** Expand every `[a:b]` / `[a:b:step]` of a host pattern; the last bracket varies fastest. */
export function expandAnsiblePattern(pattern: string): string[] {
  let results = [""];
  let rest = pattern;
  for (;;) {
    const open = rest.indexOf("[");
    if (open < 0) break;
    const close = rest.indexOf("]", open);
    if (close < 0) throw new PatternError(`'${pattern}': '[' is never closed`);
    const body = rest.slice(open + 1, close);
    const values = expandRange(pattern, body);
    const literal = rest.slice(0, open);
    const next: string[] = [];
    for (const r of results) for (const v of values) next.push(r + literal + v);
    if (next.length > MAX_RANGE) throw new PatternError(`'${pattern}' names more than ${MAX_RANGE} hosts`);
    results = next;
    rest = rest.slice(close + 1);
  }
  if (rest.includes("]")) throw new PatternError(`'${pattern}': ']' without '['`);
  return results.map((r) => r + rest);
}

/**
 * Split an inventory host pattern into the pattern and its port, as Ansible
 * reads `host:2222`, `web[01:20].lan:2222`, `[2001:db8::1]:2222`. A bare IPv6
 * address (`2001:db8::1`) has no port. The IPv6 brackets are removed.
 */
export function splitHostPort(text: string): { pattern: string; port?: number } {
  const v6 = /^\[([0-9a-fA-F:.%]*:[0-9a-fA-F:.%]*:[0-9a-fA-F:.%]*)\](?::(\d+))?$/.exec(text);
  if (v6) return v6[2] === undefined ? { pattern: v6[1] ?? "" } : { pattern: v6[1] ?? "", port: Number(v6[2]) };
  const m = /^(.*):(\d+)$/.exec(text);
  if (m && !(m[1] ?? "").replace(/\[[^\]]*\]/g, "").includes(":")) return { pattern: m[1] ?? "", port: Number(m[2]) };
  return { pattern: text };
}

/** Whether a host pattern is a bare IPv6 address (which has colons but no range). */
export function isIPv6(pattern: string): boolean {
  return /^[0-9a-fA-F:.%]+$/.test(pattern) && (pattern.match(/:/g)?.length ?? 0) >= 2;
}

function expandRange(pattern: string, body: string): string[] {
  const parts = body.split(":");
  if (parts.length < 2 || parts.length > 3) {
    throw new PatternError(`'${pattern}': '[${body}]' is not a range like [01:20], [a:f] or [1:10:2]`);
  }
  const [lo = "", hi = "", stepText] = parts;
  const step = stepText === undefined || stepText === "" ? 1 : Number(stepText);
  if (!Number.isInteger(step) || step < 1) throw new PatternError(`'${pattern}': the step of '[${body}]' must be a positive integer`);
  if (/^\d+$/.test(lo) && /^\d+$/.test(hi)) {
    const from = Number(lo);
    const to = Number(hi);
    if (to < from) throw new PatternError(`'${pattern}': range '[${body}]' goes backwards`);
    if ((to - from) / step + 1 > MAX_RANGE) throw new PatternError(`'${pattern}' names more than ${MAX_RANGE} hosts`);
    const width = lo.length > 1 && lo.startsWith("0") ? lo.length : 0;
    const out: string[] = [];
    for (let n = from; n <= to; n += step) out.push(String(n).padStart(width, "0"));
    return out;
  }
  if (/^[a-zA-Z]$/.test(lo) && /^[a-zA-Z]$/.test(hi)) {
    const from = lo.charCodeAt(0);
    const to = hi.charCodeAt(0);
    if (to < from) throw new PatternError(`'${pattern}': range '[${body}]' goes backwards`);
    const out: string[] = [];
    for (let c = from; c <= to; c += step) out.push(String.fromCharCode(c));
    return out;
  }
  throw new PatternError(`'${pattern}': '[${body}]' mixes or misuses bounds; use numbers ([01:20]) or single letters ([a:f])`);
}
