// `flagship ls` against the fake API (fake-api.ts): GET /v1/downloads, a table, pages.
import { HttpContracts, type DownloadList } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import {
  ID,
  PATHS,
  RETRY_ID,
  list,
  listItem,
  sendJson,
  sendProblem,
  useFakeApi,
  type FakeApi,
  type FakeRoute,
} from '../fake-api.ts';
import { closedPort, fakeIO } from '../test-support.ts';

const startApi = useFakeApi();

const NEWER = listItem({
  id: RETRY_ID,
  state: 'running',
  total: 1,
  done: 0,
  saved: 0,
  notFound: 0,
  createdAt: '2026-01-01T11:00:00.000Z',
  finishedAt: undefined,
  retryOf: ID,
});
const OLDER = listItem();

/** Pages by cursor: no cursor → the first. */
async function api(pages: Record<string, DownloadList> | FakeRoute): Promise<FakeApi> {
  const route: FakeRoute =
    typeof pages === 'function'
      ? pages
      : (request, response) => {
          const page = pages[request.query.get('cursor') ?? ''];
          if (page === undefined) sendProblem(response, 400, 'Invalid request', 'unknown cursor');
          else sendJson(response, 200, HttpContracts.downloadList, page);
        };
  return startApi({ [`GET ${PATHS.downloads}`]: route });
}

describe('flagship ls', () => {
  it('prints a table of the downloads, newest first, exit 0', async () => {
    const { url, requests } = await api({ '': list([NEWER, OLDER]) });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url], io)).toBe(0);
    expect(requests[0]?.query.toString()).toBe('');
    expect(io.out().toString()).toBe(
      [
        'ID                                    STATE      DONE/TOTAL  SAVED  NOT FOUND  FAILED  CREATED               FINISHED',
        `${RETRY_ID}  running           0/1      0          0       0  2026-01-01 11:00:00Z  -`,
        `${ID}  completed       20/20     19          1       0  2026-01-01 10:00:00Z  2026-01-01 10:00:01Z`,
        '',
      ].join('\n'),
    );
    expect(io.err()).toBe('');
  });

  it('passes --state and --limit, and prints the command for the next page', async () => {
    const { url, requests } = await api({ '': list([OLDER], 'c2') });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--state', 'completed', '--limit', '1'], io)).toBe(0);
    expect(Object.fromEntries(requests[0]!.query)).toEqual({ state: 'completed', limit: '1' });
    expect(io.err()).toBe(`more: flagship ls --state completed --limit 1 --cursor c2 --api ${url}\n`);
  });

  it('reads the page of --cursor', async () => {
    const { url } = await api({ '': list([NEWER], 'c2'), c2: list([OLDER]) });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--cursor', 'c2'], io)).toBe(0);
    expect(io.out().toString()).toContain(ID);
    expect(io.out().toString()).not.toContain(RETRY_ID);
  });

  it('says so when there are none', async () => {
    const { url } = await api({ '': list([]) });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--state', 'failed'], io)).toBe(0);
    expect(io.out().toString()).toBe('no downloads failed\n');
  });

  it("prints the API's page with --json", async () => {
    const { url } = await api({ '': list([NEWER, OLDER], 'c2') });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out().toString())).toEqual(list([NEWER, OLDER], 'c2'));
    expect(io.err()).toBe('');
  });

  it('reads every page with --all-pages: --json is one document, nextCursor null', async () => {
    const { url, requests } = await api({ '': list([NEWER], 'c2'), c2: list([OLDER], 'c3'), c3: list([]) });
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--all-pages', '--json', '--limit', '1'], io)).toBe(0);
    expect(JSON.parse(io.out().toString())).toEqual(list([NEWER, OLDER]));
    expect(requests.map((r) => r.query.get('cursor'))).toEqual([null, 'c2', 'c3']);
    expect(requests.map((r) => r.query.get('limit'))).toEqual(['1', '1', '1']);
  });

  it("prints the API's problem, exit 3", async () => {
    const { url } = await api({});
    const io = fakeIO();
    expect(await runCli(['ls', '--api', url, '--cursor', 'stale'], io)).toBe(3);
    expect(io.err()).toBe('flagship ls: Invalid request: unknown cursor\n');
  });

  it('says so when the API cannot be reached, exit 3', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['ls', '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toContain('ECONNREFUSED');
  });

  it.each([
    [['--state', 'done'], /--state must be one of queued, running, completed, failed, cancelled, got "done"/],
    [['--limit', '0'], /--limit must be a whole number from 1 to 100/],
    [['--limit', '101'], /--limit must be a whole number from 1 to 100/],
    [['--limit', 'ten'], /--limit must be/],
    [['extra'], /Unexpected argument 'extra'/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['ls', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain('Usage: flagship ls [options]');
  });
});
