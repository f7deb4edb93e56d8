// Quoting for POSIX sh, written once: values and words put into shell text
// (scripts, ssh command lines, boot scripts), and names made variable names.

/** `'...'`-quote a literal value so the shell takes it byte for byte: `it's` -> `'it'\''s'`. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * A word for a command line people read (ssh's, a host's `ps`): left bare
 * when it holds only characters no shell treats specially, else shQuote'd.
 */
export function shWord(text: string): string {
  if (text !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return shQuote(text);
}

/** A word where `*` stays a shell wildcard and everything else is literal, as Spread quotes artifact paths. */
export function shQuoteGlob(word: string): string {
  return shQuote(word).replace(/\*/g, `'*'`);
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
