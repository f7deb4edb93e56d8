// Building blocks shared by the schemas of troupe.yaml / spread.yaml and task.yaml.
//
// Scalars are accepted the way Spread's yaml.v2 accepts them: a text field
// also takes a number or a boolean (`summary: 1.0`), and gets its text.

import * as z from "zod";
import { DURATION_HELP, DURATION_TOO_LONG, isDurationTooLong, parseDuration } from "../duration.js";

/**
 * Strict objects report unknown keys. The error message of that issue carries
 * the keys the object knows (after this marker) so that the loader can suggest
 * the closest one; the loader always rewrites it into a sentence.
 */
export const KNOWN_KEYS_MARKER = "\u0000known-keys\u0000";

export function strict<S extends z.ZodRawShape>(shape: S): z.ZodObject<S, z.core.$strict> {
  const known = Object.keys(shape).join("\u0000");
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "unrecognized_keys" ? KNOWN_KEYS_MARKER + known : undefined),
  });
}

/** Text; numbers and booleans become their text, as yaml.v2 makes them. */
export const textInput = z.union([z.string(), z.number(), z.boolean()]);
export const text = textInput.transform((v) => String(v));

/** A script: trimmed text. */
export const script = text.transform((s) => s.trim()).describe("a shell script");

/** A list of names; `+x` adds to and `-x` removes from the inherited list. */
export const deltaList = z.array(text).describe("a list of names; +name adds to and -name removes from the inherited list");

export const textList = z.array(text);

/** troupe's `secrets:`: names of environment variables whose values are hidden in everything troupe writes. */
export const secrets = z
  .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "a secret is named by its environment variable: letters, digits and _" }))
  .describe("names of environment variables whose values troupe hides (***) in its output, logs and reports");

export const duration = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined) {
      if (isDurationTooLong(v)) {
        ctx.addIssue({ code: "custom", message: `${JSON.stringify(String(v))} is too long; ${DURATION_TOO_LONG}` });
        return z.NEVER;
      }
      const bare = /^\s*\d+(?:\.\d+)?\s*$/.test(String(v));
      const message = bare
        ? `${JSON.stringify(String(v))} has no unit; write ${String(v).trim()}s, ${String(v).trim()}m or ${String(v).trim()}h (-1 for no timeout)`
        : `${JSON.stringify(String(v))} is not a duration; ${DURATION_HELP}`;
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return ms;
  })
  .describe("a duration such as 30s, 10m, 1.5h or 1h30m; -1 for no timeout");

export const SIZE = /^(?:\d+[BKMG]|preserve-size)$/;

/** Spread's sizes (`memory`, `storage`): `512M`, `4G`, `preserve-size`; kept as written. */
export const size = text
  .refine((s) => SIZE.test(s), {
    message: "sizes look like 512M or 20G (a whole number and one of B, K, M, G), or preserve-size",
  })
  .describe("a size such as 512M or 20G");

export const integer = z.number().int();
export const priority = integer.describe("a higher priority runs earlier");
export const manual = z.boolean().describe("run only when a filter names it");

/** Values are checked here; keys and order by environment.ts, which reads the positioned tree. */
export const environment = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).optional())
  .describe("variables, in order; KEY/variant1,variant2 makes variants");

export const hookFields = {
  prepare: script.optional(),
  restore: script.optional(),
  debug: script.optional(),
  "prepare-each": script.optional(),
  "restore-each": script.optional(),
  "debug-each": script.optional(),
};

export const timeoutFields = {
  "warn-timeout": duration.optional(),
  "kill-timeout": duration.optional(),
  "deadlock-timeout": z
    .preprocess((v) => (v === false || v === "off" ? -1 : v), duration)
    .optional()
    .describe(
      "multi-host jobs: fail at once when every host waits in troupe-ctl and none can go on for this long (default 30s; off or -1: never)",
    ),
};
