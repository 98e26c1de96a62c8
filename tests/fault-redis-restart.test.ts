// Fault test (issue 10): Redis (AOF on, a password, as in compose) restarted while four
// clients submit downloads in a loop, through an API with keys and a rate limit counted
// in that Redis. During the outage the API answers 503 problem+json within a bound,
// never hangs, and nothing else; once Redis is back, submits succeed again, and every
// download that was answered 202 (before, during or after) completes with all its flags
// saved. Prints the figures: outage, answers by status, slowest 503, completions.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { COUNTRY_CODES, HttpContracts } from '@flagship/common';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiKeys } from '@flagship/api';
import { originDataSet, startPipeline, type Pipeline } from './support/pipeline.ts';
import { readSse } from './support/sse.ts';

const PASSWORD = randomBytes(12).toString('hex');
const KEY = randomBytes(16).toString('hex');
const AUTH = { authorization: `Bearer ${KEY}` };
const REDIS_TIMEOUT_MS = 1_000;
/** A 503 must come within the Redis timeout and some slack for a loaded machine: never a hang. */
const ANSWER_BOUND_MS = REDIS_TIMEOUT_MS + 2_000;
const CLIENTS = 4;

let redis: StartedTestContainer;
let redisUrl: string;
let pipeline: Pipeline | undefined;

/** A free port on 127.0.0.1, so that Redis comes back on the same one after its restart. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

beforeAll(async () => {
  const port = await freePort();
  [redis] = await Promise.all([
    new GenericContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine')
      .withCommand([
        'redis-server',
        '--appendonly',
        'yes',
        '--maxmemory-policy',
        'noeviction',
        '--requirepass',
        PASSWORD,
      ])
      .withExposedPorts({ container: 6379, host: port })
      .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
      .start(),
    originDataSet(),
  ]);
  redisUrl = `redis://:${PASSWORD}@127.0.0.1:${port}`;
});

afterAll(async () => {
  await pipeline?.close();
  await redis?.stop();
});

interface Answer {
  status: number;
  ms: number;
  at: number;
  id?: string;
  problem?: boolean;
}

describe('Redis restarted while clients submit', () => {
  it('answers 503 (not a hang) during the outage, and every 202 completes', async () => {
    const p = (pipeline = await startPipeline({
      redisUrl,
      api: {
        apiKeys: parseApiKeys(`clients:${KEY}:read+submit`),
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
        redisTimeoutMs: REDIS_TIMEOUT_MS,
      },
    }));
    const answers: Answer[] = [];
    const answered = new EventEmitter();
    const until = (condition: () => boolean) => answersUntil(answered, condition);
    const started = performance.now();
    let stop = false;

    async function client(n: number): Promise<void> {
      for (let i = 0; !stop && i < 2_000; i++) {
        const codes = [COUNTRY_CODES[(n * 37 + i) % COUNTRY_CODES.length]!];
        const sent = performance.now();
        const response = await fetch(`${p.api}/v1/downloads`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...AUTH },
          body: JSON.stringify({ codes }),
          signal: AbortSignal.timeout(10_000),
        });
        const json: unknown = await response.json();
        const answer: Answer = { status: response.status, ms: performance.now() - sent, at: sent - started };
        if (response.status === 202) answer.id = HttpContracts.downloadAccepted.parse(json).id;
        else {
          answer.problem =
            HttpContracts.problem.check(json) &&
            (response.headers.get('content-type') ?? '').startsWith('application/problem+json');
          // Back off a little on a refusal, as a client honouring Retry-After would (bounded: 100 ms).
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        answers.push(answer);
        answered.emit('answer');
      }
    }

    const accepted = () => answers.filter((a) => a.status === 202).length;
    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await until(() => accepted() >= 20);

    const restartFrom = performance.now() - started;
    await redis.restart({ timeout: 10_000 });
    const restartTo = performance.now() - started;
    const acceptedBeforeRecovery = answers.length;
    await until(() => answers.slice(acceptedBeforeRecovery).filter((a) => a.status === 202).length >= 20);
    stop = true;
    await Promise.all(clients);

    const byStatus = Object.groupBy(answers, (a) => String(a.status));
    const refused = byStatus['503'] ?? [];
    const firstRefusal = refused[0]?.at ?? restartFrom;
    const lastRefusal = refused.at(-1)?.at ?? restartFrom;
    const slowest503 = Math.max(0, ...refused.map((a) => a.ms));
    expect(Object.keys(byStatus).sort()).toEqual(['202', '503']);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((a) => a.problem)).toBe(true);
    expect(slowest503).toBeLessThan(ANSWER_BOUND_MS);

    // Every download answered 202 completes, its flag saved.
    const ids = answers.flatMap((a) => (a.id === undefined ? [] : [a.id]));
    let completed = 0;
    for (const id of ids) {
      const events = await readSse(
        `${p.api}/v1/downloads/${id}/events`,
        (e) => ['completed', 'failed'].includes(e.event),
        {
          headers: AUTH,
          signal: AbortSignal.timeout(60_000),
        },
      );
      const last = events.at(-1);
      expect(last?.event, id).toBe('completed');
      const status = HttpContracts.downloadStatus.parse(JSON.parse(last?.data ?? 'null'));
      expect(status, id).toMatchObject({ state: 'completed', total: 1, saved: 1 });
      completed++;
    }
    console.info(
      `fault: Redis restarted at ${(restartFrom / 1000).toFixed(1)}s (restart call ${((restartTo - restartFrom) / 1000).toFixed(1)}s); ` +
        `503s from ${(firstRefusal / 1000).toFixed(1)}s to ${(lastRefusal / 1000).toFixed(1)}s ` +
        `(outage seen by clients ${((lastRefusal - firstRefusal) / 1000).toFixed(1)}s); ${CLIENTS} clients, ` +
        `${answers.length} answers: ${ids.length} × 202, ${refused.length} × 503 (slowest ${slowest503.toFixed(0)} ms, ` +
        `bound ${ANSWER_BOUND_MS} ms), nothing else; ${completed}/${ids.length} accepted downloads completed, ` +
        `${ids.length - completed} lost`,
    );
    expect(completed).toBe(ids.length);
  });
});

/** Resolves once `condition` holds, checked at each answer a client records (at most 60 s). */
function answersUntil(answered: EventEmitter, condition: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      answered.off('answer', check);
      reject(new Error('condition not reached within 60 s'));
    }, 60_000);
    function check() {
      if (!condition()) return;
      clearTimeout(timer);
      answered.off('answer', check);
      resolve();
    }
    answered.on('answer', check);
    check();
  });
}
