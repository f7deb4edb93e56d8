// What a host prints, made safe to show on a terminal. A script's output is
// data, not instructions for the user's terminal: an ESC could start a CSI
// sequence that moves the cursor over troupe's status block or clears the
// screen, an OSC that sets the window title or writes the clipboard (OSC 52),
// a BEL that rings, a CR or backspace that hides what came before it on the
// line, a bidirectional override that makes text read differently than it
// runs. Every such character is replaced by a printable spelling, the way
// `cat -v` shows them:
//
//   C0 controls (but TAB)   ^@ ... ^_   (ESC is ^[, BEL ^G, BS ^H, CR ^M)
//   DEL                     ^?
//   C1 controls             M-^@ ... M-^_   (CSI, U+009B, is M-^[)
//   bidi controls           <U+202E> and the like
//
// so `\x1b]0;pwned\x07` is shown as `^[]0;pwned^G`: readable, and inert. A
// CR right before the end of a line (CRLF output) is dropped: it cannot hide
// anything there. One pass over the text: linear time whatever it holds.

// C0 but TAB and LF, DEL, C1, and the bidi embedding/override/isolate controls.
const UNSAFE = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

function spell(ch: string): string {
  const code = ch.charCodeAt(0);
  if (code < 0x20) return "^" + String.fromCharCode(code + 0x40);
  if (code === 0x7f) return "^?";
  if (code <= 0x9f) return "M-^" + String.fromCharCode(code - 0x80 + 0x40);
  return `<U+${code.toString(16).toUpperCase().padStart(4, "0")}>`;
}

/** `text` (one line, or several joined by `\n`) with every control character spelled out. */
export function neutralize(text: string): string {
  const trimmed = text.endsWith("\r") ? text.slice(0, -1) : text;
  return trimmed.replace(/\r\n/g, "\n").replace(UNSAFE, spell);
}
