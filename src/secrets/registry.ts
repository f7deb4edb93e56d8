// The secrets of this process: every value troupe knows to be secret (a
// marked variable's value, a `$(HOST:...)` output assigned to one, a
// backend's password, the adhoc session password), added as soon as it is
// known and before anything can print it. Whatever troupe writes goes
// through them: the event stream (so the terminal, logs, run.json, JUnit,
// the HTML report and API listeners), the script runner's output (so a
// secret split across chunks is found) and the top-level error message.
//
// One registry per process rather than per run: a value secret in one run
// is worth hiding in another of the same process, and a value registered
// from deep inside a backend needs no path through every caller.

import { Redactor, RedactingStream } from "./redactor.js";

/** Shorter values are not hidden: masking every `ab` would garble the output and hide nothing. */
export const MIN_SECRET_LENGTH = 4;

const values = new Set<string>();
let current: Redactor | undefined;

/** Hide `value` from now on (trailing newlines and surrounding spaces are not part of it). */
export function addSecret(value: string | undefined): void {
  if (value === undefined) return;
  const v = value.trim();
  if (v.length < MIN_SECRET_LENGTH || values.has(v)) return;
  values.add(v);
  current = undefined;
}

/** How many values are hidden. */
export function secretCount(): number {
  return values.size;
}

/** The redactor of the secrets known now (rebuilt when one was added). */
export function redactor(): Redactor {
  current ??= new Redactor(values);
  return current;
}

/** `text` with the known secrets masked. */
export function redact(text: string): string {
  return values.size === 0 ? text : redactor().redact(text);
}

/** A stream redacting with the secrets known now, or undefined when there are none. */
export function redactingStream(): RedactingStream | undefined {
  return values.size === 0 ? undefined : new RedactingStream(redactor());
}

/**
 * `value` with every string in it redacted (plain data: objects, arrays);
 * the same object when nothing changed, so that events without secrets cost
 * no copy.
 */
export function redactDeep<T>(value: T): T {
  if (values.size === 0) return value;
  return deep(value, redactor()) as T;
}

function deep(value: unknown, r: Redactor): unknown {
  if (typeof value === "string") return r.redact(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = deep(value[i], r);
      if (v !== value[i]) (copy ??= value.slice())[i] = v;
    }
    return copy ?? value;
  }
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    let copy: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = deep(v, r);
      if (w !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = w;
    }
    return copy ?? value;
  }
  return value;
}

/** Forget every secret (tests). */
export function clearSecrets(): void {
  values.clear();
  current = undefined;
}
