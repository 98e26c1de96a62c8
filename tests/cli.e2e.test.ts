// End to end: the `flagship` command, run as a user runs it (`node packages/cli/src/main.ts`,
// a subprocess), against the whole pipeline in this process (tests/support/pipeline.ts:
// the API, the worker and the origin on a Redis container). Every command, its --json,
// its exit codes, and Ctrl-C (SIGINT) while a download is followed. Written against the
// control plane's contract: GET /v1/downloads (list, newest first, cursor pages),
// DELETE /v1/downloads/:id (202; 409 once ended), POST /v1/downloads/:id/retry
// (202 with retryOf; 409 when nothing to retry), the `cancelled` state and event, and
// the Idempotency-Key of POST.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { HttpContracts, type DownloadStatus } from '@flagship/common';
import { RedisContainer, type StartedRedisContainer } from '@testcontainers/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { originDataSet, startPipeline, type Pipeline } from './support/pipeline.ts';

const CLI = path.resolve(import.meta.dirname, '../packages/cli/src/main.ts');

let redis: StartedRedisContainer;
/** BR always fails (ERROR after 2 attempts), DK is missing (NOT_FOUND), the rest is fast. */
let pipeline: Pipeline;
let api: string;

beforeAll(async () => {
  [redis] = await Promise.all([
    new RedisContainer(process.env.REDIS_IMAGE ?? 'redis:7.4-alpine').start(),
    originDataSet(),
  ]);
  pipeline = await startPipeline({
    redisUrl: redis.getConnectionUrl(),
    missingCodes: ['DK'],
    faults: { failCodes: ['BR'] },
    workerEnv: { FLAG_ATTEMPTS: '2' },
  });
  api = pipeline.api;
});

afterAll(async () => {
  await pipeline?.close();
  await redis?.stop();
});

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Resolves once stdout (or stderr) matches. */
  printed(pattern: RegExp, on?: 'stdout' | 'stderr'): Promise<void>;
  finished: Promise<Finished>;
}

const children = new Set<ChildProcessWithoutNullStreams>();
afterEach(() => {
  for (const child of children) child.kill('SIGKILL'); // only those a failed test left running
  children.clear();
});

/** Starts `flagship <args>` with no FLAGSHIP_API or FLAGSHIP_API_KEY from this environment. */
function start(args: string[]): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    stdio: 'pipe',
    env: { ...process.env, FLAGSHIP_API: '', FLAGSHIP_API_KEY: '' },
  });
  children.add(child);
  child.stdin.end();
  const text = { stdout: '', stderr: '' };
  const waiters: { pattern: RegExp; on: 'stdout' | 'stderr'; resolve: () => void }[] = [];
  for (const on of ['stdout', 'stderr'] as const) {
    child[on].on('data', (chunk: Buffer) => {
      text[on] += chunk.toString();
      for (const waiter of waiters.filter((w) => w.on === on && w.pattern.test(text[on]))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    });
  }
  const finished = once(child, 'close').then(([code]) => {
    children.delete(child);
    return { code: code as number | null, ...text };
  });
  return {
    child,
    finished,
    printed: (pattern, on = 'stdout') =>
      new Promise((resolve) => (pattern.test(text[on]) ? resolve() : waiters.push({ pattern, on, resolve }))),
  };
}

/** Runs `flagship <args> --api <the pipeline>` to the end. */
function flagship(...args: string[]): Promise<Finished> {
  return start([...args, '--api', api]).finished;
}

function status(run: Finished): DownloadStatus {
  return HttpContracts.downloadStatus.parse(JSON.parse(run.stdout));
}

/** A problem printed as `flagship <cmd>: <title>: <detail>`. */
function problemLine(command: string): RegExp {
  return new RegExp(`^flagship ${command}: [^:\\n]+: .+\\n$`);
}

/** The 409 of a route that exists, not the 404 of one that does not (yet). */
function expectConflict(run: Finished, command: string): void {
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(problemLine(command));
  expect(run.stderr).not.toMatch(/not found/i);
}

describe('flagship against the real pipeline', () => {
  let completedId: string;
  let partialId: string;

  it('download: prints each country and the report line, exit 0', async () => {
    const run = await flagship('download', 'cn', 'in', 'us');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(0, 3).sort()).toEqual(['China', 'India', 'United States']);
    expect(run.stdout).toMatch(/\n\n3 flags downloaded in \d+\.\d\ds\n$/);
  });

  it('download --json: the final status; exit 1 with the reasons when a flag failed', async () => {
    const ok = await flagship('download', '--json', 'fr', 'jp');
    expect(ok.code).toBe(0);
    completedId = status(ok).id;
    expect(status(ok)).toMatchObject({ state: 'completed', total: 2, saved: 2 });

    const partial = await flagship('download', '--json', 'cn', 'br', 'dk');
    expect(partial.code).toBe(1);
    partialId = status(partial).id;
    expect(status(partial)).toMatchObject({ state: 'completed', total: 3, saved: 1, notFound: 1, failed: 1 });
    expect(partial.stderr).toMatch(/^ {2}BR: .*500/m);
  });

  it('download --ndjson: each event a JSON line, status first and completed last', async () => {
    const run = await flagship('download', '--ndjson', 'se', 'no');
    expect(run.code).toBe(0);
    const events = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; id?: string; data: unknown });
    for (const { event, data } of events) expect(HttpContracts.downloadEvent.check({ event, data })).toBe(true);
    expect(events[0]?.event).toBe('status');
    expect(events.at(-1)?.event).toBe('completed');
    expect(events.every((e) => typeof e.id === 'string' && e.id !== '')).toBe(true);
  });

  it('download --idempotency-key: the same key and codes give the same download, replayed', async () => {
    const key = `e2e-${randomUUID()}`;
    const first = await flagship('download', '--no-follow', '--json', '--idempotency-key', key, 'ee');
    const again = await flagship('download', '--no-follow', '--json', '--idempotency-key', key, 'ee');
    expect([first.code, again.code]).toEqual([0, 0]);
    const [a, b] = [first, again].map((run) => HttpContracts.downloadAccepted.parse(JSON.parse(run.stdout)));
    expect(b?.id).toBe(a?.id);
    expect(b?.replayed).toBe(true);
    expect(again.stderr).toContain('the API knew this Idempotency-Key');
  });

  it('status: state, counts, failed flags with reasons, not found and files; exit 1 when a flag failed', async () => {
    const partial = await flagship('status', partialId);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toContain('state     completed\n');
    expect(partial.stdout).toContain('flags     3/3 done: 1 saved, 1 not found, 1 failed\n');
    expect(partial.stdout).toMatch(/failed flags \(1\):\n {2}BR: .*500/);
    expect(partial.stdout).toContain('not found (1):\n  DK\n');
    expect(partial.stdout).toContain('files (1):\n  CN_China.gif\n');

    const ok = await flagship('status', '--json', completedId);
    expect(ok.code).toBe(0);
    expect(status(ok)).toMatchObject({ id: completedId, state: 'completed', saved: 2 });
  });

  it('status: an unknown download is a 404 problem, exit 3', async () => {
    const run = await flagship('status', randomUUID());
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(problemLine('status'));
  });

  it('ls: newest first, in pages, filtered by state; a table or the API document', async () => {
    const all = await flagship('ls', '--all-pages', '--json', '--limit', '2');
    expect(all.code).toBe(0);
    const list = HttpContracts.downloadList.parse(JSON.parse(all.stdout));
    expect(list.nextCursor).toBeNull();
    const ids = list.items.map((item) => item.id);
    expect(ids).toContain(completedId);
    expect(ids.indexOf(partialId)).toBeLessThan(ids.indexOf(completedId)); // newer first
    expect(new Set(ids).size).toBe(ids.length);

    const page = HttpContracts.downloadList.parse(JSON.parse((await flagship('ls', '--json', '--limit', '1')).stdout));
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));

    const completed = await flagship('ls', '--json', '--state', 'completed', '--limit', '100');
    const states = HttpContracts.downloadList.parse(JSON.parse(completed.stdout)).items.map((item) => item.state);
    expect(new Set(states)).toEqual(new Set(['completed']));

    const table = await flagship('ls', '--limit', '100');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID +STATE +DONE\/TOTAL +SAVED +NOT FOUND +FAILED +CREATED +FINISHED\n/);
    expect(table.stdout).toMatch(new RegExp(`^${partialId} +completed +3/3 +1 +1 +1 `, 'm'));
  });

  it('retry: a new download of the failed flags, its retryOf the old one; NOT_FOUND ones too on request', async () => {
    const failedOnly = await flagship('retry', '--json', partialId);
    expect(failedOnly.code).toBe(1); // BR fails again
    expect(status(failedOnly)).toMatchObject({ state: 'completed', total: 1, failed: 1, retryOf: partialId });
    expect(failedOnly.stderr).toContain(`retries 1 flag of ${partialId}`);

    const withNotFound = await flagship('retry', '--json', '--include-not-found', partialId);
    expect(withNotFound.code).toBe(1);
    expect(status(withNotFound)).toMatchObject({ total: 2, notFound: 1, failed: 1, retryOf: partialId });

    const accepted = await flagship('retry', '--no-follow', '--json', partialId);
    expect(accepted.code).toBe(0);
    expect(HttpContracts.downloadAccepted.parse(JSON.parse(accepted.stdout))).toMatchObject({ retryOf: partialId });
  });

  it('retry: nothing to retry is a 409 problem, exit 3', async () => {
    expectConflict(await flagship('retry', completedId), 'retry');
  });

  it('watch: a download that has ended is reported at once', async () => {
    const text = await flagship('watch', completedId);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/\n2 flags downloaded in \d+\.\d\ds\n$/);
    const json = await flagship('watch', '--json', partialId);
    expect(json.code).toBe(1);
    expect(status(json)).toMatchObject({ id: partialId, failed: 1 });
  });

  it('cancel: a download that has ended is a 409 problem, exit 3', async () => {
    expectConflict(await flagship('cancel', completedId), 'cancel');
  });

  it('exits 3 when the API cannot be reached, 2 on a wrong command line', async () => {
    const unreachable = await start(['ls', '--api', 'http://127.0.0.1:9']).finished;
    expect(unreachable.code).toBe(3);
    expect(unreachable.stderr).toContain('cannot reach the API at http://127.0.0.1:9');
    const usage = await flagship('status', 'not-an-id');
    expect(usage.code).toBe(2);
  });
});

describe('flagship with a slow download: cancel, watch and Ctrl-C', () => {
  // Every flag response held 150-250 ms, two flags at a time, one chunk at a time: a
  // download of every country runs for about a minute, long enough to interrupt.
  let slow: Pipeline;
  let slowApi: string;

  beforeAll(async () => {
    slow = await startPipeline({
      redisUrl: redis.getConnectionUrl(),
      faults: { delayMs: [150, 250], seed: 3 },
      workerEnv: { FLAG_CONCURRENCY: '2', WORKER_CONCURRENCY: '1' },
    });
    slowApi = slow.api;
  });

  afterAll(async () => {
    await slow?.close();
  });

  const run = (...args: string[]) => start([...args, '--api', slowApi]).finished;

  /** The id in `... flagship cancel <id> ...` or `cancelled <id>;`. */
  function idIn(text: string): string {
    const id = /(?:flagship cancel |cancelled )([0-9a-f-]{36})/.exec(text)?.[1];
    expect(id, text).toBeDefined();
    return id!;
  }

  it('Ctrl-C during download leaves it running and prints the cancel command; cancel, then watch sees it cancelled', async () => {
    const download = start(['download', '--all', '--api', slowApi]);
    await download.printed(/^\S.*\n/); // a first country saved
    download.child.kill('SIGINT');
    const interrupted = await download.finished;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(/the download goes on\. To cancel it: flagship cancel [0-9a-f-]{36} --api /);
    const id = idIn(interrupted.stderr);

    const running = await run('status', '--json', id);
    expect(running.code).toBe(0);
    expect(['queued', 'running']).toContain(status(running).state);

    const cancel = await run('cancel', id);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^cancelled ${id}; it is (running|cancelled): \\d+/250 done`));

    const watched = await run('watch', '--json', id);
    expect(watched.code).toBe(1);
    expect(status(watched)).toMatchObject({ id, state: 'cancelled' });
    expect(status(watched).done).toBeLessThan(250);
    expect(watched.stderr).toContain(`the download ${id} was cancelled`);

    const after = await run('status', id);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('state     cancelled\n');

    // DELETE is idempotent: cancelling again answers the same cancelled status.
    const again = await run('cancel', id);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^cancelled ${id}; it is cancelled: \\d+/250 done`));
  });

  it('Ctrl-C during watch with --cancel-on-exit cancels the download (DELETE)', async () => {
    const submitted = await run('download', '--all', '--no-follow');
    expect(submitted.code).toBe(0);
    const id = submitted.stdout.trim();

    const plain = start(['watch', id, '--api', slowApi]);
    await plain.printed(/^\S.*\n/);
    plain.child.kill('SIGINT');
    expect((await plain.finished).code).toBe(130);
    expect(['queued', 'running']).toContain(status(await run('status', '--json', id)).state);

    const watch = start(['watch', id, '--cancel-on-exit', '--api', slowApi]);
    await watch.printed(/^\S.*\n/);
    watch.child.kill('SIGINT');
    const interrupted = await watch.finished;
    expect(interrupted.code).toBe(130);
    expect(interrupted.stderr).toMatch(new RegExp(`flagship watch: cancelled ${id}; it is (running|cancelled)`));

    const watched = await run('watch', '--json', id);
    expect(status(watched)).toMatchObject({ id, state: 'cancelled' });
  });

  it('Ctrl-C during download --cancel-on-exit --ndjson cancels it, once its events flow', async () => {
    const download = start(['download', '--all', '--cancel-on-exit', '--ndjson', '--api', slowApi]);
    await download.printed(/^\{"event":"status".*\n/);
    download.child.kill('SIGINT');
    const interrupted = await download.finished;
    expect(interrupted.code).toBe(130);
    const id = idIn(interrupted.stderr);
    const watched = await run('watch', '--json', id);
    expect(status(watched)).toMatchObject({ id, state: 'cancelled' });
  });
});
