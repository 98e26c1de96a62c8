// Composition root of the echo service: read the configuration, build the echo server
// and its metrics endpoint, listen, and on SIGTERM/SIGINT stop accepting, give open
// sessions their deadline, close everything and exit 0.
import closeWithGrace from 'close-with-grace';
import { closeAll, createLogger, loadConfigOrReport } from '@flagship/runtime';
import { loadConfig } from './config.ts';
import { createEchoServer } from './echo-server.ts';
import { createEchoMetrics } from './metrics.ts';
import { createMetricsServer } from './metrics-server.ts';

const config = loadConfigOrReport('echo', () => loadConfig(process.env)) ?? process.exit(1);
const logger = createLogger({ name: 'echo', level: config.logLevel });

const echo = createEchoServer({ ...config.server, logger });
const metrics = createMetricsServer({
  registry: createEchoMetrics(echo.stats),
  isReady: () => echo.listening,
  port: config.metricsPort,
  host: config.server.host,
  logger,
});

// The sessions' deadline, then a little for the forced closes and the metrics server.
const graceMs = config.shutdownTimeoutMs + 3_000;
closeWithGrace({ delay: graceMs, logger }, async ({ signal, err }) => {
  if (err !== undefined) logger.error({ err }, 'closing after an error');
  else logger.info({ signal }, 'closing');
  await closeAll(
    [
      { name: 'echo server', close: () => echo.close(config.shutdownTimeoutMs) },
      { name: 'metrics server', close: () => metrics.close() },
    ],
    { timeoutMs: graceMs, onError: (name, error) => logger.error({ err: error }, `closing ${name} failed`) },
  );
});

try {
  await echo.listen();
  await metrics.listen();
  logger.info({ limits: config.server, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'echo ready');
} catch (error) {
  logger.fatal({ err: error }, 'echo failed to start');
  process.exit(1);
}
