// Quoting values for POSIX sh, and turning names into variable names.

/** `'...'`-quote a literal value so the shell takes it byte for byte. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A valid shell variable name from any text: `client-1` -> `CLIENT_1`. */
export function varName(text: string): string {
  const up = text.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
  return /^[0-9]/.test(up) ? `_${up}` : up;
}

/** Whether `name` can be exported as a shell variable. */
export function isVarName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
