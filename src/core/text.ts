// Text that reaches a terminal. Group names, scenario and sweep names, file names and values
// come from input files; printed raw, an ESC sequence in one could recolour, move the cursor,
// retitle the window or hide what follows. Runs anywhere (no `node:` imports).

// C0 controls (tab and newline included: they would break a table's columns), DEL, C1
// controls (U+0080-U+009F: 8-bit CSI and friends) and the bidirectional overrides and isolates
// (U+202A-U+202E, U+2066-U+2069), which reorder what a terminal shows.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character shown as a visible escape (ESC becomes "\x1b"), safe to print. */
export function sanitizeForTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}
