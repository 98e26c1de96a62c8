// @flagship/api: the HTTP API built in process, for the Docker-backed tests (tests/).
// Exported on purpose, each name by hand: only what is used outside this package
// (main.ts and the unit tests import the modules themselves). Something newly needed
// outside is added here deliberately, not by exporting everything.
export { buildApp, type AppConfig } from './app.ts';
export { parseApiKeys } from './auth/api-keys.ts';
export { createBullmqDownloadQueues } from './queues/bullmq-download-queues.ts';
