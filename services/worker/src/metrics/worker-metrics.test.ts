// The worker's metrics without Redis: origin requests seen through undici's diagnostics
// channels against a local server, and jobs through the processor wrapper with fake
// jobs. The whole worker's /metrics is tested in tests/observability.test.ts.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DOWNLOAD_CANCELLED_REASON, type FlagOutcome } from '@flagship/common';
import { metricSample as sample } from '@flagship/runtime/metrics';
import { UnrecoverableError, WaitingError, type Job } from 'bullmq';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DownloadCancelledError } from '../handlers/job-run.ts';
import { createWorkerMetrics, outcomeLabel, type WorkerMetrics } from './worker-metrics.ts';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function metricsFor(originUrl = 'http://127.0.0.1:1/data/flags'): WorkerMetrics {
  const metrics = createWorkerMetrics({ originUrl, processMetrics: false });
  closers.push(() => metrics.close());
  return metrics;
}

async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('origin requests', () => {
  it('are timed by status class, with their body bytes; other origins are not counted', async () => {
    const origin = await listen(
      createServer((req, res) => {
        if (req.url === '/data/flags/cn/cn.gif') res.end(Buffer.alloc(1000));
        else if (req.url === '/data/flags/reset') req.socket.destroy();
        else res.writeHead(404).end('nope');
      }),
    );
    const other = await listen(createServer((_req, res) => res.end('elsewhere')));
    const metrics = metricsFor(`${origin}/data/flags`);
    const dispatcher = new Agent();
    closers.push(() => dispatcher.close());
    const get = async (url: string) => {
      try {
        await (await request(url, { dispatcher })).body.text();
      } catch {
        // the reset
      }
    };
    await get(`${origin}/data/flags/cn/cn.gif`);
    await get(`${origin}/data/flags/zz/zz.gif`);
    await get(`${origin}/data/flags/reset`);
    await get(`${other}/anything`);

    const text = await metrics.registry.metrics();
    const count = (label: string) =>
      sample(text, `flagship_origin_request_duration_seconds_count{status_class="${label}"}`);
    expect(count('2xx')).toBe(1);
    expect(count('4xx')).toBe(1);
    expect(count('error')).toBe(1);
    expect(sample(text, 'flagship_downloaded_bytes_total')).toBe(1000 + 'nope'.length);
  });
});

const ok = (code: string, attempts = 1): FlagOutcome => ({
  code,
  status: 'OK',
  file: `${code}.gif`,
  bytes: 1,
  attempts,
});

function fakeJob(fields: { data: unknown; progress?: unknown; attemptsMade?: number; attempts?: number }): Job {
  return {
    id: 'job',
    data: fields.data,
    progress: fields.progress ?? 0,
    attemptsMade: fields.attemptsMade ?? 0,
    opts: { attempts: fields.attempts ?? 3 },
  } as unknown as Job;
}

describe('observeJobs', () => {
  it('counts the flags a chunk decided by outcome, their retries, the job and its duration', async () => {
    const metrics = metricsFor();
    let activeDuring: number | undefined;
    const outcomes: FlagOutcome[] = [
      ok('CN'),
      ok('IN', 3),
      { ...ok('US'), unchanged: true },
      { code: 'ZZ', status: 'NOT_FOUND', reason: '404', attempts: 1 },
      { code: 'BR', status: 'ERROR', reason: '500', attempts: 2 },
    ];
    const processor = metrics.observeJobs('flags', async (_job, _token, _signal) => {
      activeDuring = sample(await metrics.registry.metrics(), 'flagship_jobs_active{queue="flags"}');
      return { downloadId: 'd', chunk: 0, outcomes };
    });
    expect(processor.length).toBe(3); // bullmq passes the abort signal only then
    await processor(fakeJob({ data: { downloadId: 'd', chunk: 0, codes: ['CN'] } }), 'token', undefined);

    const text = await metrics.registry.metrics();
    expect(activeDuring).toBe(1);
    expect(sample(text, 'flagship_jobs_active{queue="flags"}')).toBe(0);
    expect(sample(text, 'flagship_flags_total{outcome="OK"}')).toBe(2);
    expect(sample(text, 'flagship_flags_total{outcome="UNCHANGED"}')).toBe(1);
    expect(sample(text, 'flagship_flags_total{outcome="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'flagship_flags_total{outcome="ERROR"}')).toBe(1);
    expect(sample(text, 'flagship_flag_retries_total')).toBe(3);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="chunk",result="completed"}')).toBe(1);
  });

  it("counts a single-job download's flags, not a flow parent's (its chunks counted them)", async () => {
    const metrics = metricsFor();
    const summary = { outcomes: [ok('CN'), ok('IN')] };
    const processor = metrics.observeJobs('downloads', async (_job, _token, _signal) => summary);
    await processor(fakeJob({ data: { codes: ['CN', 'IN'], inline: true } }), 'token', undefined);
    await processor(fakeJob({ data: { codes: ['CN', 'IN'] } }), 'token', undefined);
    const text = await metrics.registry.metrics();
    expect(sample(text, 'flagship_flags_total{outcome="OK"}')).toBe(2);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="single",result="completed"}')).toBe(1);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="parent",result="completed"}')).toBe(1);
  });

  it('counts a chunk that failed for good as its parent reports it, and nothing for one that will be retried', async () => {
    const metrics = metricsFor();
    const progress = { downloadId: 'd', chunk: 0, total: 2, outcomes: [ok('CN')] };
    const data = { downloadId: 'd', chunk: 0, codes: ['CN', 'IN'] };
    const fails = metrics.observeJobs('flags', async (_job, _token, _signal) => {
      throw new Error('ENOSPC');
    });
    await expect(fails(fakeJob({ data, progress, attemptsMade: 0 }), 'token', undefined)).rejects.toThrow('ENOSPC');
    expect(sample(await metrics.registry.metrics(), 'flagship_flags_total{outcome="OK"}')).toBe(0);
    await expect(fails(fakeJob({ data, progress, attemptsMade: 2 }), 'token', undefined)).rejects.toThrow('ENOSPC');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'flagship_flags_total{outcome="OK"}')).toBe(1);
    expect(sample(text, 'flagship_flags_total{outcome="ERROR"}')).toBe(1);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="chunk",result="failed"}')).toBe(2);
  });

  it('records a hand-back (shutdown) without counting flags, and bad job data as failed', async () => {
    const metrics = metricsFor();
    const data = { downloadId: 'd', chunk: 0, codes: ['CN'] };
    const handedBack = metrics.observeJobs('flags', async (_job, _token, _signal) => {
      throw new WaitingError();
    });
    await expect(handedBack(fakeJob({ data, attemptsMade: 2 }), 'token', undefined)).rejects.toThrow();
    const poisoned = metrics.observeJobs('flags', async (_job, _token, _signal) => {
      throw new UnrecoverableError('bad data');
    });
    await expect(poisoned(fakeJob({ data: { codes: 'nope' } }), 'token', undefined)).rejects.toThrow('bad data');
    const text = await metrics.registry.metrics();
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="chunk",result="handed_back"}')).toBe(1);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="chunk",result="failed"}')).toBe(1);
    expect(sample(text, 'flagship_flags_total{outcome="ERROR"}')).toBe(0);
    expect(sample(text, 'flagship_jobs_active{queue="flags"}')).toBe(0);
  });
});

describe('observeJobs of a cancelled download', () => {
  const cancelledSignal = () => {
    const controller = new AbortController();
    controller.abort(DOWNLOAD_CANCELLED_REASON);
    return controller.signal;
  };

  it('counts the flags a chunk, or a single-job download, decided before the cancel', async () => {
    const metrics = metricsFor();
    const chunk = metrics.observeJobs('flags', async (_job, _token, _signal) => ({
      downloadId: 'd',
      chunk: 0,
      outcomes: [ok('CN')], // the chunk handler returns what it decided
    }));
    await chunk(fakeJob({ data: { downloadId: 'd', chunk: 0, codes: ['CN', 'IN'] } }), 'token', cancelledSignal());
    const single = metrics.observeJobs('downloads', async (_job, _token, _signal) => {
      throw new DownloadCancelledError([ok('BR'), { code: 'ZZ', status: 'NOT_FOUND', attempts: 1 }]);
    });
    const singleJob = fakeJob({ data: { codes: ['BR', 'ZZ', 'US'], inline: true } });
    await expect(single(singleJob, 'token', cancelledSignal())).rejects.toThrow(DOWNLOAD_CANCELLED_REASON);
    const parent = metrics.observeJobs('downloads', async (_job, _token, _signal) => {
      throw new UnrecoverableError(DOWNLOAD_CANCELLED_REASON);
    });
    await expect(parent(fakeJob({ data: { codes: ['CN', 'IN'] } }), 'token', undefined)).rejects.toThrow();

    const text = await metrics.registry.metrics();
    expect(sample(text, 'flagship_flags_total{outcome="OK"}')).toBe(2);
    expect(sample(text, 'flagship_flags_total{outcome="NOT_FOUND"}')).toBe(1);
    expect(sample(text, 'flagship_flags_total{outcome="ERROR"}')).toBe(0); // undecided flags are no outcome
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="chunk",result="cancelled"}')).toBe(1);
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="single",result="cancelled"}')).toBe(1);
    // A flow's parent gives up by the mark in Redis, its signal untouched.
    expect(sample(text, 'flagship_job_duration_seconds_count{kind="parent",result="cancelled"}')).toBe(1);
  });
});

describe('outcomeLabel', () => {
  it('is the status, or UNCHANGED for an OK the origin did not modify', () => {
    expect(outcomeLabel(ok('CN'))).toBe('OK');
    expect(outcomeLabel({ ...ok('CN'), unchanged: true })).toBe('UNCHANGED');
    expect(outcomeLabel({ code: 'ZZ', status: 'NOT_FOUND', attempts: 1 })).toBe('NOT_FOUND');
  });
});
