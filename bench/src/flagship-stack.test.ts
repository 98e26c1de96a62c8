import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { imageNodeArgs } from './flagship-stack.ts';

const DOCKERFILE = `ARG NODE_IMAGE=node:24
FROM \${NODE_IMAGE} AS deps
CMD ["node", "--wrong-stage", "x.ts"]

FROM deps AS worker
USER 1000:1000
CMD ["node", "--max-semi-space-size=8", "--max-old-space-size=128", "services/worker/src/main.ts", "--not-a-node-flag"]

FROM deps AS api
CMD ["node", "services/api/src/main.ts"]
`;

describe('imageNodeArgs', () => {
  it("reads the node flags of the stage's CMD, not the script's arguments", () => {
    expect(imageNodeArgs(DOCKERFILE, 'worker')).toEqual(['--max-semi-space-size=8', '--max-old-space-size=128']);
    expect(imageNodeArgs(DOCKERFILE, 'api')).toEqual([]);
  });

  it('reads the repository Dockerfile (the worker runs with production flags in the bench)', () => {
    const dockerfile = readFileSync(path.join(import.meta.dirname, '../../Dockerfile'), 'utf8');
    expect(imageNodeArgs(dockerfile, 'worker').length).toBeGreaterThan(0);
  });

  it.each([
    ['a missing stage', DOCKERFILE, 'echo'],
    ['a stage without CMD', 'FROM x AS worker\nUSER 1\n', 'worker'],
    ['a shell-form CMD', 'FROM x AS worker\nCMD node --flag main.ts\n', 'worker'],
    ['a CMD that is not JSON', 'FROM x AS worker\nCMD ["node", --flag]\n', 'worker'],
    ['a CMD that does not run node', 'FROM x AS worker\nCMD ["sh", "-c", "node main.ts"]\n', 'worker'],
    ['a stage whose name only starts the same', 'FROM x AS worker-debug\nCMD ["node", "--x", "m.ts"]\n', 'worker'],
  ])('refuses %s', (_, dockerfile, stage) => {
    expect(() => imageNodeArgs(dockerfile, stage)).toThrow(/Dockerfile/);
  });
});
