// Natural order of names: `node2` before `node10`. Runs of digits compare by
// value, everything else by code unit. Hand-written because ICU's numeric
// collator (Intl.Collator, localeCompare with `numeric`) costs 6 ms to set
// up, paid on the path of `troupe exec` before its first connection.

const RUNS = /\d+|\D+/g;

export function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  const x = a.match(RUNS) ?? [];
  const y = b.match(RUNS) ?? [];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    const pd = isDigits(p);
    const qd = isDigits(q);
    if (pd && qd) {
      // By value without overflow: drop leading zeros, then longer is larger.
      const ps = p.replace(/^0+(?=\d)/, "");
      const qs = q.replace(/^0+(?=\d)/, "");
      if (ps.length !== qs.length) return ps.length - qs.length;
      if (ps !== qs) return ps < qs ? -1 : 1;
      // Same value: fewer leading zeros first (node1 before node01).
      return p.length - q.length;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

function isDigits(s: string): boolean {
  const c = s.charCodeAt(0);
  return c >= 48 && c <= 57;
}
