// The origin's HTTP server: flupy.org's layout (`/data/flags/{cc}/{cc}.gif` and
// `/data/flags/{cc}/metadata.json`) served from memory, with strong ETags for
// conditional GETs and optional injected faults. Built, never started: main.ts
// listens, tests use inject().
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { silentLogger, type Logger } from '@flagship/runtime';
import { createFaultPlan, type FaultOptions, type FaultPlan } from './faults.ts';
import {
  FlagDataError,
  METADATA_FILE,
  gifFileName,
  loadFlagDataSet,
  type FlagDataSet,
  type ServedFile,
} from './flag-data.ts';

export interface OriginServerOptions extends FaultOptions {
  /** Data directory to load at start (`{dataDir}/flags/index.json` and the files it lists). */
  dataDir?: string;
  /** An already loaded data set, instead of `dataDir` (lets tests share one load). */
  dataSet?: FlagDataSet;
  /** Root logger; default silent. Requests are not logged one by one (the origin is a benchmark row). */
  logger?: Logger;
  /** Told of each flag file request as it arrives, before any delay (tests and benchmarks count them). */
  onFlagRequest?: (request: FlagRequest) => void;
}

/** One request for a flag file, as it reached the origin. */
export interface FlagRequest {
  /** The code as requested (lower case at flupy). */
  cc: string;
  /** `{cc}.gif` or `metadata.json`. */
  file: string;
  /** performance.now() when it arrived. */
  at: number;
}

interface FlagParams {
  cc: string;
  file: string;
}

export function createOriginServer(options: OriginServerOptions): FastifyInstance {
  if ((options.dataDir === undefined) === (options.dataSet === undefined)) {
    throw new FlagDataError('createOriginServer needs exactly one of dataDir and dataSet');
  }
  // Validates the fault options now, so a bad rate fails here and not on the first request.
  const faults = createFaultPlan(options);
  // Typed as Fastify's base logger so the instance has Fastify's default type.
  const loggerInstance: FastifyBaseLogger = options.logger ?? silentLogger();
  const app = Fastify({
    loggerInstance,
    logController: new LogController({ disableRequestLogging: true }),
  });

  let data = options.dataSet;
  const { dataDir } = options;
  if (data === undefined && dataDir !== undefined) {
    app.register(async function loadDataSet(instance) {
      data = await loadFlagDataSet(dataDir);
      instance.log.info({ dataDir, flags: data.codes.length }, 'flag data set loaded');
    });
  }
  const dataSet = (): FlagDataSet => data as FlagDataSet;

  app.get('/healthz', async () => ({ status: 'ok', flags: dataSet().codes.length }));
  app.get('/data/flags/index.json', async (request, reply) => sendFile(request, reply, dataSet().manifest));
  const { onFlagRequest } = options;
  app.get<{ Params: FlagParams }>('/data/flags/:cc/:file', async (request, reply) => {
    onFlagRequest?.({ cc: request.params.cc, file: request.params.file, at: performance.now() });
    return serveFlagFile(request, reply, dataSet(), faults);
  });
  return app;
}

async function serveFlagFile(
  request: FastifyRequest<{ Params: FlagParams }>,
  reply: FastifyReply,
  data: FlagDataSet,
  faults: FaultPlan,
) {
  const { cc, file } = request.params;
  if (faults.active) {
    const fault = faults.decide(cc);
    if (fault.delayMs > 0) await delay(fault.delayMs);
    if (fault.status !== 0) return sendFault(reply, fault.status);
  }
  const served = findFile(data, cc, file);
  if (served === undefined) return reply.callNotFound();
  return sendFile(request, reply, served);
}

/** Only `{cc}.gif` and `metadata.json` of a listed code; any case (flupy uses lower case). */
function findFile(data: FlagDataSet, cc: string, file: string): ServedFile | undefined {
  const entry = data.get(cc);
  if (entry === undefined) return undefined;
  const name = file.toLowerCase();
  if (name === gifFileName(cc)) return entry.gif;
  if (name === METADATA_FILE) return entry.metadata;
  return undefined;
}

function sendFile(request: FastifyRequest, reply: FastifyReply, served: ServedFile) {
  reply.header('etag', served.etag).header('cache-control', 'no-cache');
  if (matchesIfNoneMatch(request.headers['if-none-match'], served.etag)) return reply.code(304).send();
  return reply.type(served.contentType).send(served.body);
}

function sendFault(reply: FastifyReply, status: 500 | 503) {
  const error = status === 503 ? 'Service Unavailable' : 'Internal Server Error';
  return reply.code(status).send({ statusCode: status, error, message: 'injected fault' });
}

/** RFC 9110 §13.1.2: `*` or any listed tag, compared weakly (a `W/` prefix is ignored). */
export function matchesIfNoneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
}
