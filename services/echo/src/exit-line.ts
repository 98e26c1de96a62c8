// Finds the session-ending command line (`exit` by default) in an echo stream without
// copying it or holding bytes back. The detector remembers only how much of the current
// line could still be the command, so a command split across chunks is found, and a
// line that merely starts or ends with it (`exit now`, `please exit`) is not.
const LF = 0x0a;
const CR = 0x0d;
/** The current line can no longer be the command: skip to the next line feed. */
const DEAD = -1;

export interface ExitLineDetector {
  /**
   * Feed the next chunk of the stream. Returns the index just past the line feed that
   * ends a command line (`exit\n` or `exit\r\n`), or -1 when the chunk holds none.
   * After a match the detector starts again at the next line.
   */
  scan(chunk: Uint8Array): number;
}

export function createExitLineDetector(command: string): ExitLineDetector {
  const expected = Buffer.from(command, 'utf8');
  if (expected.length === 0 || expected.includes(LF) || expected.includes(CR)) {
    throw new RangeError(`the exit command must be non-empty and on one line, got ${JSON.stringify(command)}`);
  }
  const length = expected.length;
  // 0..length: bytes of the command matched from the start of the current line;
  // length + 1: the whole command then CR; DEAD: this line is something else.
  let state = 0;

  function scan(chunk: Uint8Array): number {
    const end = chunk.length;
    let i = 0;
    while (i < end) {
      if (state === DEAD) {
        // Most lines die at their first byte: jump over the rest natively.
        const lineFeed = chunk.indexOf(LF, i);
        if (lineFeed === -1) return -1;
        state = 0;
        i = lineFeed + 1;
        continue;
      }
      const byte = chunk[i];
      if (byte === LF) {
        if (state >= length) {
          state = 0;
          return i + 1;
        }
        state = 0;
      } else if (state < length && byte === expected[state]) {
        state += 1;
      } else if (state === length && byte === CR) {
        state = length + 1;
      } else {
        state = DEAD;
      }
      i += 1;
    }
    return -1;
  }

  return { scan };
}
