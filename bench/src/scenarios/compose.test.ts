import { describe, expect, it } from 'vitest';
import { isHealthcheckProbe } from './compose.ts';

describe('isHealthcheckProbe', () => {
  it("recognizes the compose file's bash probes", () => {
    const script = 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET $2 HTTP/1.0\\r\\n\\r\\n" >&3';
    expect(isHealthcheckProbe(['bash', '-c', script, 'http-ok', '3001', '/healthz'])).toBe(true);
    expect(isHealthcheckProbe(['bash', '-c', script, 'http-ok', '3000', '/readyz'])).toBe(true);
  });

  it('recognizes the Node probes of earlier compose files', () => {
    const probe =
      "fetch('http://127.0.0.1:3001/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
    expect(isHealthcheckProbe(['node', '-e', probe])).toBe(true);
    expect(isHealthcheckProbe(['node', '-e', probe.replace('3001/healthz', '3000/readyz')])).toBe(true);
  });

  it('leaves the services themselves and other scripts alone', () => {
    expect(isHealthcheckProbe(['node', '--max-semi-space-size=16', 'services/worker/src/main.ts'])).toBe(false);
    expect(isHealthcheckProbe(['node', '-e', 'console.log(1)'])).toBe(false);
    expect(isHealthcheckProbe(['bash', '-c', 'echo hi'])).toBe(false);
    expect(isHealthcheckProbe([])).toBe(false);
  });
});
