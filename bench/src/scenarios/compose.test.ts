import { describe, expect, it } from 'vitest';
import { isNodeHealthcheck } from './compose.ts';

describe('isNodeHealthcheck', () => {
  it("recognizes the compose file's Node probes", () => {
    const probe =
      "fetch('http://127.0.0.1:3001/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";
    expect(isNodeHealthcheck(['node', '-e', probe])).toBe(true);
    expect(isNodeHealthcheck(['node', '-e', probe.replace('3001/healthz', '3000/readyz')])).toBe(true);
  });

  it('leaves the services themselves and other node -e scripts alone', () => {
    expect(isNodeHealthcheck(['node', '--max-semi-space-size=16', 'services/worker/src/main.ts'])).toBe(false);
    expect(isNodeHealthcheck(['node', '-e', 'console.log(1)'])).toBe(false);
    expect(isNodeHealthcheck([])).toBe(false);
  });
});
