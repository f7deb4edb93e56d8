// Which troupe-ctl requests are waits on other hosts, for the `sync-wait`
// events that show them on the report's timeline.

const WAITING = new Set(["barrier", "wait", "sync", "lock"]);

/** `barrier ready` for a request that waits (barrier, wait, sync, lock, kv get --wait); undefined for the others. */
export function syncWaitOf(argv: readonly string[]): string | undefined {
  const [verb, ...rest] = argv;
  if (verb === "kv") return rest[0] === "get" && rest.includes("--wait") ? `kv get ${rest[1] ?? ""} --wait` : undefined;
  if (verb === undefined || !WAITING.has(verb)) return undefined;
  // Its name and what it waits for; not its timeout or count.
  const words: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--timeout" || a === "--count") i++;
    else if (!a.startsWith("--timeout=") && !a.startsWith("--count=")) words.push(a);
  }
  return [verb, ...words].join(" ");
}
