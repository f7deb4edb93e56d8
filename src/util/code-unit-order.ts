// Strings in code-unit order: Go's byte-wise string order (Spread's), which
// it equals for the ASCII names Spread allows, and the cheapest order for
// names people only need to find again (a report's rows, a tar's members).
// localeCompare collates: 5 ms for 1,000 names.

export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
