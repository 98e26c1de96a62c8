// The exit-line detector over every chunking of its input, and the factory the server uses
// (one detector per connection; none at all when the command is empty).
import { describe, expect, it } from 'vitest';
import { createExitLineDetector, exitLineDetectorFactory } from './exit-line.ts';

/** Feed `chunks` in order; the absolute offset just past the exit line, or -1. */
function scanAll(command: string, chunks: (string | Buffer)[]): number {
  const detector = createExitLineDetector(command);
  let offset = 0;
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    const end = detector.scan(bytes);
    if (end !== -1) return offset + end;
    offset += bytes.length;
  }
  return -1;
}

/** Every way of cutting `text`'s bytes into two chunks gives the same answer as one chunk. */
function everySplit(command: string, text: string): number[] {
  const bytes = Buffer.from(text, 'utf8');
  const answers = new Set<number>();
  for (let cut = 0; cut <= bytes.length; cut += 1) {
    answers.add(scanAll(command, [bytes.subarray(0, cut), bytes.subarray(cut)]));
  }
  return [...answers];
}

describe('createExitLineDetector', () => {
  it.each([
    ['exit\n', 5],
    ['exit\r\n', 6],
    ['hello\nexit\n', 11],
    ['hello\r\nexit\r\nmore', 13],
    ['\n\nexit\n', 7],
  ])('finds the exit line in %j at every chunk boundary', (text, end) => {
    expect(everySplit('exit', text)).toEqual([end]);
  });

  it.each([
    'exit',
    'exit now\n',
    'please exit\n',
    ' exit\n',
    'exit \n',
    'EXIT\n',
    'exi\n',
    'exit\r\r\n',
    'exit\rx\n',
    'e\nxit\n',
    'exitexit\n',
    '\rexit\n',
  ])('does not take %j for the exit line', (text) => {
    expect(everySplit('exit', text)).toEqual([-1]);
  });

  it('finds the line when every byte is its own chunk', () => {
    expect(scanAll('exit', [...'ab\nexi', 't', '\r', '\n'])).toBe(9);
  });

  it('starts again after a match, for the next line', () => {
    const detector = createExitLineDetector('exit');
    expect(detector.scan(Buffer.from('exit\nexit\n'))).toBe(5);
    expect(detector.scan(Buffer.from('exit\n'))).toBe(5);
  });

  it('ignores NUL bytes, invalid UTF-8 and lines that look like the command in binary', () => {
    const poison = Buffer.from([
      0x00, 0x65, 0x78, 0x69, 0x74, 0x0a, 0xff, 0xfe, 0x0a, 0x65, 0x78, 0x69, 0x74, 0x00, 0x0a,
    ]);
    expect(scanAll('exit', [poison])).toBe(-1);
    expect(scanAll('exit', [poison, Buffer.from('exit\n')])).toBe(poison.length + 5);
  });

  it('takes any one-line command, in UTF-8', () => {
    expect(everySplit('quit', 'exit\nquit\r\n')).toEqual([11]);
    expect(everySplit('süß', 'süß\n')).toEqual([Buffer.byteLength('süß\n')]);
  });

  it.each(['', 'ex\nit', 'exit\r'])('refuses the command %j', (command) => {
    expect(() => createExitLineDetector(command)).toThrow(RangeError);
  });

  it('scans 1 MiB of random bytes without a false match when no line is exactly the command', () => {
    const random = Buffer.alloc(1 << 20);
    for (let i = 0; i < random.length; i += 1) random[i] = (i * 2654435761) >>> 24;
    const text = random.toString('latin1');
    expect(text.includes('\nexit\n')).toBe(false);
    expect(scanAll('exit', [random])).toBe(-1);
  });
});

describe('exitLineDetectorFactory', () => {
  it('makes no detector for the empty command: the exit line is off and nothing is scanned', () => {
    expect(exitLineDetectorFactory('')).toBeUndefined();
  });

  it('makes detectors that each keep their own place in their own stream', () => {
    const newDetector = exitLineDetectorFactory('exit')!;
    const first = newDetector();
    const second = newDetector();
    expect(first.scan(Buffer.from('ex'))).toBe(-1);
    expect(second.scan(Buffer.from('it\n'))).toBe(-1);
    expect(first.scan(Buffer.from('it\n'))).toBe(3);
  });

  it.each(['ex\nit', 'exit\r'])('refuses the command %j when the factory is made', (command) => {
    expect(() => exitLineDetectorFactory(command)).toThrow(RangeError);
  });
});
