// Stopping a run, Spread's way: the first interrupt stops scheduling, kills
// running scripts, runs restore scripts and discards hosts; a second one
// skips the restores but still discards. SIGINT (Ctrl-C), SIGTERM (a CI
// runner's timeout, `kill`) and SIGHUP (the terminal went away) count alike;
// the command then exits 130.
//
// Library callers pass their own signals (`signal`, `forceSignal`) and then
// troupe installs no process-wide handler; without them, handlers are
// installed for the length of the call so that a signal still cleans up.

/** The signals troupe treats as an interrupt. */
export const INTERRUPT_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export interface Interrupt {
  /** Aborted on the first interrupt (or when the caller's `signal` aborts). */
  readonly soft: AbortSignal;
  /** Aborted on the second interrupt (or when the caller's `forceSignal` aborts). */
  readonly hard: AbortSignal;
  /** The signal of the first interrupt, when it was one (not the caller's `signal`). */
  readonly by: NodeJS.Signals | undefined;
  dispose(): void;
}

/** What the first and the second interrupt say on stderr, right away. */
export interface InterruptWords {
  readonly first: string;
  readonly second: string;
}

export const RUN_WORDS: InterruptWords = {
  first: "stopping, restoring and discarding hosts (Ctrl-C again to skip restores)",
  second: "skipping restores, discarding hosts",
};

export interface InterruptOptions {
  /** The caller's signal: aborting it is a first interrupt. */
  readonly signal?: AbortSignal | undefined;
  /** The caller's second signal: aborting it is a second interrupt. */
  readonly forceSignal?: AbortSignal | undefined;
  readonly words?: InterruptWords;
  /** Where the words go (default process.stderr); null for nowhere. `second`: it is the second interrupt. */
  readonly say?: ((text: string, second: boolean) => void) | null;
}

export function onInterrupt(options: InterruptOptions = {}): Interrupt {
  const soft = new AbortController();
  const hard = new AbortController();
  const words = options.words ?? RUN_WORDS;
  const say = options.say === undefined ? (t: string) => void process.stderr.write(t) : options.say;
  const interrupt = (): void => {
    if (!soft.signal.aborted) {
      say?.(`\ntroupe: interrupted: ${words.first}\n`, false);
      soft.abort(new Error("interrupted"));
    } else if (!hard.signal.aborted) {
      say?.(`\ntroupe: interrupted again: ${words.second}\n`, true);
      hard.abort(new Error("interrupted twice"));
    }
  };
  const force = (): void => {
    if (!soft.signal.aborted) soft.abort(new Error("interrupted"));
    if (!hard.signal.aborted) hard.abort(new Error("interrupted twice"));
  };

  const disposers: (() => void)[] = [];
  let by: NodeJS.Signals | undefined;
  const listen = (s: AbortSignal | undefined, fn: () => void): void => {
    if (!s) return;
    if (s.aborted) fn();
    else {
      s.addEventListener("abort", fn, { once: true });
      disposers.push(() => s.removeEventListener("abort", fn));
    }
  };
  if (options.signal || options.forceSignal) {
    listen(options.signal, interrupt);
    listen(options.forceSignal, force);
  } else {
    const onSignal = (sig: NodeJS.Signals): void => {
      // The terminal is gone: writing to it must not crash troupe before it cleans up.
      if (sig === "SIGHUP") quietStdio();
      if (!soft.signal.aborted) by = sig;
      interrupt();
    };
    for (const sig of INTERRUPT_SIGNALS) {
      process.on(sig, onSignal);
      disposers.push(() => process.off(sig, onSignal));
    }
  }
  return {
    soft: soft.signal,
    hard: hard.signal,
    get by(): NodeJS.Signals | undefined {
      return by;
    },
    dispose(): void {
      for (const d of disposers.splice(0)) d();
    },
  };
}

/**
 * Ignore write errors on stdout and stderr (EIO, EPIPE once the terminal has
 * hung up), for library callers whose process has no handler of its own (the
 * CLI's, in bin/troupe.js, ignores them already).
 */
export function quietStdio(): void {
  const ignore = (): void => undefined;
  for (const s of [process.stdout, process.stderr]) if (s.listenerCount("error") === 0) s.on("error", ignore);
}
