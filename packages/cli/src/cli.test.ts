import { describe, expect, it } from 'vitest';
import { runCli } from './cli.ts';
import { closedPort, fakeIO } from './test-support.ts';

describe('flagship', () => {
  it.each([['--help'], ['-h'], ['help']])('prints the commands for %s, exit 0', async (flag) => {
    const io = fakeIO();
    expect(await runCli([flag], io)).toBe(0);
    expect(io.out().toString()).toMatch(/Usage: flagship <command>[\s\S]*echo +interactive client/);
  });

  it('lists every command, the exit codes and the environment in --help', async () => {
    const io = fakeIO();
    expect(await runCli(['--help'], io)).toBe(0);
    const help = io.out().toString();
    for (const name of ['download', 'ls', 'status', 'watch', 'cancel', 'retry', 'echo']) {
      expect(help).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    expect(help).toMatch(/^ {2}3 +the API cannot be reached or answered an error/m);
    expect(help).toMatch(/^ {2}130 +interrupted/m);
    expect(help).toContain('FLAGSHIP_API_KEY');
  });

  it.each([['download'], ['ls'], ['status'], ['watch'], ['cancel'], ['retry']])(
    'prints the help of %s, with --json and the exit codes, exit 0',
    async (name) => {
      const io = fakeIO();
      expect(await runCli([name, '--help'], io)).toBe(0);
      const help = io.out().toString();
      expect(help).toContain(`Usage: flagship ${name} `);
      expect(help).toContain('--json');
      expect(help).toContain('Exit codes:');
    },
  );

  it('prints the usage on stderr without a command, exit 2', async () => {
    const io = fakeIO();
    expect(await runCli([], io)).toBe(2);
    expect(io.err()).toContain('Usage: flagship <command>');
  });

  it.each([['ech'], ['--echo'], ['rm -rf /'], ['\u0000']])('refuses the unknown command %j, exit 2', async (name) => {
    const io = fakeIO();
    expect(await runCli([name], io)).toBe(2);
    expect(io.err()).toContain(`unknown command "${name}"`);
  });

  it('prints the echo command help', async () => {
    const io = fakeIO();
    expect(await runCli(['echo', '--help'], io)).toBe(0);
    expect(io.out().toString()).toContain('Usage: flagship echo [options] [host[:port]]');
  });

  it.each([
    [['echo', 'a:1', 'b:2'], 'at most one host[:port]'],
    [['echo', '--nope'], "Unknown option '--nope'"],
    [['echo', 'host:99999'], 'from 1 to 65535'],
    [['echo', '--connect-timeout', 'soon'], '--connect-timeout'],
    [['echo', '--connect-timeout', '0'], '--connect-timeout'],
  ])('refuses %j with a clear message and exit 2', async (argv, message) => {
    const io = fakeIO();
    expect(await runCli(argv, io)).toBe(2);
    expect(io.err()).toContain(message);
    expect(io.err()).toContain('Usage: flagship echo');
  });

  it('says so and exits 1 when the echo server cannot be reached', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['echo', `127.0.0.1:${port}`], io)).toBe(1);
    expect(io.err()).toBe(
      `flagship echo: cannot connect to 127.0.0.1:${port}: connection refused (is the echo server running?)\n`,
    );
  });
});
