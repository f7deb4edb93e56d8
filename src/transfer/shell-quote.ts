// Quoting words for the POSIX shell on the far side of a transport.

/** One word, literally: `'it'"'"'s'`. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'"'"'`)}'`;
}

/**
 * One word where `*` stays a shell wildcard and everything else is literal,
 * as Spread quotes artifact paths for the host's shell.
 */
export function shellQuoteGlob(word: string): string {
  return shellQuote(word).replace(/\*/g, `'*'`);
}
