// Two projects: `unit` (next to the code, no Docker) and `docker` (tests/, real Redis
// containers and the compose stack through testcontainers). `npm test` runs both.
import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './tests/support/summary-reporter.ts';

export default defineConfig({
  test: {
    reporters: ['default', new SummaryReporter()],
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'services/*/scripts/**/*.test.ts',
            'bench/**/*.test.ts',
            'deploy/**/*.test.ts',
          ],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'docker',
          include: ['tests/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Containers are costly on 2 cores: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
