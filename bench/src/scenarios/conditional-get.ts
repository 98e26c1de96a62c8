// Conditional GET: every country downloaded twice in a row against
// the bundled origin, as a user would (POST → `completed` over the API's event stream,
// one worker process with the production node flags), first with an empty downloads
// folder and no remembered validators, then again. Reports, median of several pairs:
// the time, the bytes the origin sent and received on the wire (headers included),
// the GIF body bytes and the GIF answers by status, and the Redis commands (the
// validators' share among them).
//
//   . ../shared/ci/env.sh && node bench/src/scenarios/conditional-get.ts [pairs]
//
// Runs on its own (not part of npm run bench). Starts a Redis container from
// $REDIS_IMAGE, the API and the worker as processes (flagship-stack.ts), and the
// origin in this process so that its sockets can be counted.
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QUEUE_PREFIX } from '@flagship/common';
import { silentLogger } from '@flagship/runtime';
import { DEFAULT_DATA_DIR, createOriginServer, generateFlags, loadFlagDataSet } from '@flagship/origin';
import { validatorsKey } from '@flagship/worker';
import { Redis } from 'ioredis';
import { createDownloadsClient } from '../downloads-client.ts';
import { emptyDir } from '../files.ts';
import { startFlagshipStack } from '../flagship-stack.ts';
import { startRedis } from '../redis.ts';
import { describe, pairedRatios } from '../stats.ts';

interface Sample {
  ms: number;
  /** Origin → worker and worker → origin, all sockets, headers included. */
  sentBytes: number;
  receivedBytes: number;
  gifBodyBytes: number;
  gif200: number;
  gif304: number;
  unchanged: number;
  /** Redis commands of the whole download (INFO commandstats, script-internal calls included). */
  redisCommands: number;
  /** HMGET and HSET calls, BullMQ's script-internal ones included: the validators' are among them. */
  hmget: number;
  hset: number;
}

const pairs = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 7);
const WARMUP_PAIRS = 1;

async function main(): Promise<void> {
  const redisImage = process.env.REDIS_IMAGE;
  if (redisImage === undefined || redisImage === '')
    throw new Error('REDIS_IMAGE is not set: source ../shared/ci/env.sh');
  const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
  const work = path.join(repoRoot, 'bench/.work/conditional-get');
  const downloadsDir = path.join(work, 'downloads');
  const logDir = path.join(work, 'logs');
  await rm(work, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  await mkdir(downloadsDir, { recursive: true });
  await generateFlags({ outDir: DEFAULT_DATA_DIR });
  const dataSet = await loadFlagDataSet(DEFAULT_DATA_DIR);

  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const redis = await startRedis(redisImage);
    cleanups.push(() => redis.close());
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', (error: Error) => console.error(`redis: ${error.message}`));
    cleanups.push(() => admin.quit());

    const origin = createOriginServer({ dataSet, logger: silentLogger() });
    const meter = meterOrigin(origin.server);
    await origin.listen({ port: 0, host: '127.0.0.1' });
    cleanups.push(() => origin.close());
    const originUrl = `http://127.0.0.1:${(origin.server.address() as AddressInfo).port}/data/flags`;

    const stack = await startFlagshipStack({ repoRoot, redisUrl: redis.url, downloadsDir, logDir });
    cleanups.push(() => stack.close());
    await stack.setWorkers(1, originUrl);
    const client = createDownloadsClient(stack.apiUrl);
    cleanups.push(() => client.close());

    async function measure(): Promise<Sample> {
      await redis.resetStats();
      const before = meter.read();
      const finished = await client.download({ all: true });
      const after = meter.read();
      const calls = await redis.commandCalls();
      const status = (await client.status(finished.id)) as { outcomes?: Array<{ unchanged?: boolean }> };
      return {
        ms: finished.seconds * 1000,
        sentBytes: after.sent - before.sent,
        receivedBytes: after.received - before.received,
        gifBodyBytes: after.gifBodyBytes - before.gifBodyBytes,
        gif200: after.gif200 - before.gif200,
        gif304: after.gif304 - before.gif304,
        unchanged: (status.outcomes ?? []).filter((outcome) => outcome.unchanged === true).length,
        redisCommands: [...calls.values()].reduce((sum, n) => sum + n, 0),
        hmget: calls.get('hmget') ?? 0,
        hset: calls.get('hset') ?? 0,
      };
    }

    const first: Sample[] = [];
    const repeat: Sample[] = [];
    for (let pair = 0; pair < WARMUP_PAIRS + pairs; pair++) {
      // A first run: no files, nothing remembered.
      await emptyDir(downloadsDir);
      await admin.del(validatorsKey(QUEUE_PREFIX));
      const a = await measure();
      const b = await measure();
      if (pair < WARMUP_PAIRS) continue;
      first.push(a);
      repeat.push(b);
      console.log(
        `pair ${pair}: first ${a.ms.toFixed(1)} ms, ${a.sentBytes} B sent; ` +
          `repeat ${b.ms.toFixed(1)} ms, ${b.sentBytes} B sent, ${b.unchanged} unchanged`,
      );
    }
    report(first, repeat, dataSet.codes.length);

    // One more pair, not timed, under MONITOR: the commands that touch the validators hash.
    const monitor = await admin.monitor();
    cleanups.push(async () => monitor.disconnect());
    let validatorCalls: string[] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = args[0]?.toUpperCase() ?? '?';
      if (args[1] === validatorsKey(QUEUE_PREFIX) && command !== 'DEL') validatorCalls.push(command); // DEL: ours
    });
    await emptyDir(downloadsDir);
    await admin.del(validatorsKey(QUEUE_PREFIX));
    const tally = () => Object.entries(Object.groupBy(validatorCalls, (c) => c)).map(([c, l]) => `${l?.length} ${c}`);
    await client.download({ all: true });
    const firstCalls = tally().join(', ');
    validatorCalls = [];
    await client.download({ all: true });
    console.log(`validators hash, commands per download: first ${firstCalls}; repeat ${tally().join(', ')}`);
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error(error));
  }
}

/** Counts what the origin's sockets carry and how it answers GIF requests. */
function meterOrigin(server: import('node:http').Server) {
  const sockets = new Set<Socket>();
  const closed = { sent: 0, received: 0 };
  const gifs = { gifBodyBytes: 0, gif200: 0, gif304: 0 };
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      closed.sent += socket.bytesWritten;
      closed.received += socket.bytesRead;
      sockets.delete(socket);
    });
  });
  // First in line: Fastify answers within its own 'request' listener.
  server.prependListener('request', (req, res) => {
    if (!req.url?.endsWith('.gif')) return;
    const end = res.end.bind(res);
    res.end = ((chunk?: unknown, ...rest: never[]) => {
      if (chunk instanceof Uint8Array) gifs.gifBodyBytes += chunk.byteLength;
      return end(chunk as never, ...rest);
    }) as typeof res.end;
    res.on('finish', () => {
      if (res.statusCode === 200) gifs.gif200 += 1;
      else if (res.statusCode === 304) gifs.gif304 += 1;
    });
  });
  return {
    read() {
      let sent = closed.sent;
      let received = closed.received;
      for (const socket of sockets) {
        sent += socket.bytesWritten;
        received += socket.bytesRead;
      }
      return { sent, received, ...gifs };
    },
  };
}

function report(first: Sample[], repeat: Sample[], flags: number): void {
  const rows: Array<[string, (s: Sample) => number, string]> = [
    ['POST → completed', (s) => s.ms, 'ms'],
    ['bytes origin → worker (wire)', (s) => s.sentBytes, 'B'],
    ['bytes worker → origin (wire)', (s) => s.receivedBytes, 'B'],
    ['GIF body bytes', (s) => s.gifBodyBytes, 'B'],
    ['GIF answers 200', (s) => s.gif200, ''],
    ['GIF answers 304', (s) => s.gif304, ''],
    ['outcomes unchanged', (s) => s.unchanged, ''],
    ['Redis commands', (s) => s.redisCommands, ''],
    ['of which HMGET (validators read + BullMQ)', (s) => s.hmget, ''],
    ['of which HSET (validators written + BullMQ)', (s) => s.hset, ''],
  ];
  console.log(`\nall countries (${flags} flags), 1 worker, median of ${first.length} pairs (min–max)\n`);
  console.log('| measure | first run | repeat | repeat ÷ first |');
  console.log('| --- | --- | --- | --- |');
  for (const [name, pick, unit] of rows) {
    const a = describe(first.map(pick));
    const b = describe(repeat.map(pick));
    const ratio = a.median === 0 ? '–' : `${(b.median / a.median).toFixed(3)}×`;
    const cell = (s: ReturnType<typeof describe>) =>
      `${format(s.median)}${unit ? ` ${unit}` : ''} (${format(s.min)}–${format(s.max)})`;
    console.log(`| ${name} | ${cell(a)} | ${cell(b)} | ${ratio} |`);
  }
  // Pair by pair: each repeat against the first run just before it, so load that drifts
  // over the minutes of the benchmark cancels out.
  const ratios = describe(
    pairedRatios(
      repeat.map((s) => s.ms),
      first.map((s) => s.ms),
    ),
  );
  console.log(
    `\nrepeat ÷ first, POST → completed, pair by pair: median ${ratios.median.toFixed(3)}× ` +
      `(${ratios.min.toFixed(3)}–${ratios.max.toFixed(3)}); load average ${os.loadavg()[0]?.toFixed(1)}`,
  );
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

await main();
