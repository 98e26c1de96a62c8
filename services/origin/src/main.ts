// Composition root of the origin: read the configuration, make sure the data set
// exists (so `node services/origin/src/main.ts` works on a fresh clone), build the
// server, listen, and close gracefully on SIGTERM/SIGINT.
import { access } from 'node:fs/promises';
import closeWithGrace from 'close-with-grace';
import { createLogger, loadConfigOrReport } from '@flagship/runtime';
import { loadConfig } from './config.ts';
import { manifestPath } from './flag-data.ts';
import { generateFlags } from './generate-flags.ts';
import { createOriginServer } from './origin-server.ts';

const config = loadConfigOrReport('origin', () => loadConfig(process.env)) ?? process.exit(1);
const logger = createLogger({ name: 'origin', level: config.logLevel });

// Only when there is no manifest: a data set made elsewhere (the image build, a
// hand-made directory) is served as it is.
const hasDataSet = await access(manifestPath(config.dataDir)).then(
  () => true,
  () => false,
);
if (!hasDataSet) {
  logger.info({ dataDir: config.dataDir }, 'no data set yet: generating flags');
  const { count } = await generateFlags({ outDir: config.dataDir });
  logger.info({ dataDir: config.dataDir, flags: count }, 'data set generated');
}

const app = createOriginServer({ dataDir: config.dataDir, logger, ...config.faults });

closeWithGrace({ delay: 10_000, logger }, async ({ signal, err }) => {
  if (err !== undefined) logger.error({ err }, 'closing after an error');
  else logger.info({ signal }, 'closing');
  await app.close();
  logger.info('closed');
});

try {
  await app.listen({ port: config.port, host: config.host });
  logger.info({ faults: config.faults }, 'origin ready');
} catch (error) {
  logger.fatal({ err: error }, 'origin failed to start');
  process.exit(1);
}
