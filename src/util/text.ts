// Turning values of unknown type into text for messages, once.

/** A value as plain text: strings as they are, numbers and booleans printed, lists and maps as JSON, nothing as "". */
export function plainText(v: unknown): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
    case "boolean":
    case "bigint":
      return String(v);
    case "symbol":
      return v.description ?? "";
    case "undefined":
    case "function":
      return "";
    case "object":
      if (v === null) return "";
      if (v instanceof Error) return v.message;
      return JSON.stringify(v) ?? "";
  }
}

/** What went wrong, in one line: an Error's message, or the thrown value as text. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : plainText(err);
}
