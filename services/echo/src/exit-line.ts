// Finds the session-ending command line (`exit` by default) in an echo stream without
// copying it or holding bytes back. The detector remembers only how much of the current
// line could still be the command, so a command split across chunks is found, and a
// line that merely starts or ends with it (`exit now`, `please exit`) is not. What the
// command is (and that an empty one means none) is decided here, not by the server.
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
  return new ExitLineScanner(encodeCommand(command));
}

/**
 * Detectors for one command, one per connection: the command is checked and encoded once.
 * The empty command switches the exit line off (pure RFC 862): no detector at all, so a
 * session does not even scan its chunks.
 */
export function exitLineDetectorFactory(command: string): (() => ExitLineDetector) | undefined {
  if (command === '') return undefined;
  const expected = encodeCommand(command);
  return () => new ExitLineScanner(expected);
}

function encodeCommand(command: string): Buffer {
  const expected = Buffer.from(command, 'utf8');
  if (expected.length === 0 || expected.includes(LF) || expected.includes(CR)) {
    throw new RangeError(`the exit command must be non-empty and on one line, got ${JSON.stringify(command)}`);
  }
  return expected;
}

// A class, not a closure: thousands of idle connections each hold one, so it should
// cost two fields, not a function object and a context apiece.
class ExitLineScanner implements ExitLineDetector {
  readonly #expected: Buffer;
  // 0..length: bytes of the command matched from the start of the current line;
  // length + 1: the whole command then CR; DEAD: this line is something else.
  #state = 0;

  constructor(expected: Buffer) {
    this.#expected = expected;
  }

  scan(chunk: Uint8Array): number {
    const expected = this.#expected;
    const length = expected.length;
    const end = chunk.length;
    let state = this.#state;
    let i = 0;
    while (i < end) {
      if (state === DEAD) {
        // Most lines die at their first byte: jump over the rest natively.
        const lineFeed = chunk.indexOf(LF, i);
        if (lineFeed === -1) break;
        state = 0;
        i = lineFeed + 1;
        continue;
      }
      const byte = chunk[i];
      if (byte === LF) {
        if (state >= length) {
          this.#state = 0;
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
    this.#state = state;
    return -1;
  }
}
