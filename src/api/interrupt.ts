// Ctrl-C handling, Spread's way: the first interrupt stops scheduling, kills
// running scripts, runs restore scripts and discards hosts; a second one skips
// the restores but still discards. SIGTERM counts as a second interrupt.

export interface Interrupt {
  /** Aborted on the first Ctrl-C (or when the caller's signal aborts). */
  readonly soft: AbortSignal;
  /** Aborted on the second Ctrl-C, or SIGTERM. */
  readonly hard: AbortSignal;
  dispose(): void;
}

/** What the first and the second Ctrl-C say on stderr, right away. */
export interface InterruptWords {
  readonly first: string;
  readonly second: string;
}

export const RUN_WORDS: InterruptWords = {
  first: "stopping, restoring and discarding hosts (Ctrl-C again to skip restores)",
  second: "skipping restores, discarding hosts",
};

export function onInterrupt(external?: AbortSignal, words: InterruptWords = RUN_WORDS): Interrupt {
  const soft = new AbortController();
  const hard = new AbortController();
  const onSigint = (): void => {
    if (!soft.signal.aborted) {
      process.stderr.write(`\ntroupe: interrupted: ${words.first}\n`);
      soft.abort(new Error("interrupted"));
    } else if (!hard.signal.aborted) {
      process.stderr.write(`\ntroupe: interrupted again: ${words.second}\n`);
      hard.abort(new Error("interrupted twice"));
    }
  };
  const onSigterm = (): void => {
    soft.abort(new Error("terminated"));
    hard.abort(new Error("terminated"));
  };
  const onExternal = (): void => onSigint();
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigterm);
  external?.addEventListener("abort", onExternal, { once: true });
  return {
    soft: soft.signal,
    hard: hard.signal,
    dispose(): void {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      external?.removeEventListener("abort", onExternal);
    },
  };
}
