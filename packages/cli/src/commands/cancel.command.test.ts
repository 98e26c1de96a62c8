// `flagship cancel ID` against the fake API (fake-api.ts): DELETE, 202 with the status.
import { HttpContracts } from '@flagship/common';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';
import { CANCELLED, ID, PATHS, sendJson, sendProblem, useFakeApi, type FakeRoute } from '../fake-api.ts';
import { closedPort, fakeIO } from '../test-support.ts';

const startApi = useFakeApi();

async function api(
  route: FakeRoute = (_r, response) => sendJson(response, 202, HttpContracts.downloadStatus, CANCELLED),
) {
  return startApi({ [`DELETE ${PATHS.self}`]: route });
}

describe('flagship cancel', () => {
  it('sends DELETE /v1/downloads/<id> and prints the state it left, exit 0', async () => {
    const { url, requests } = await api();
    const io = fakeIO({ env: { FLAGSHIP_API_KEY: 'fk_1' } });
    expect(await runCli(['cancel', ID, '--api', url], io)).toBe(0);
    expect(requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([
      ['DELETE', PATHS.self, 'Bearer fk_1'],
    ]);
    expect(io.out().toString()).toBe(`cancelled ${ID}; it is cancelled: 1/2 done: 1 saved, 0 not found, 0 failed\n`);
  });

  it("prints the API's answer with --json", async () => {
    const { url } = await api();
    const io = fakeIO();
    expect(await runCli(['cancel', ID, '--api', url, '--json'], io)).toBe(0);
    expect(JSON.parse(io.out().toString())).toEqual(CANCELLED);
  });

  it.each([
    [409, 'Conflict', `download ${ID} has already completed`],
    [404, 'Not Found', `no download ${ID}`],
  ])('prints a %i problem with its detail, exit 3', async (code, title, detail) => {
    const { url } = await api((_request, response) => sendProblem(response, code, title, detail));
    const io = fakeIO();
    expect(await runCli(['cancel', ID, '--api', url], io)).toBe(3);
    expect(io.err()).toBe(`flagship cancel: ${title}: ${detail}\n`);
    expect(io.out().length).toBe(0);
  });

  it('says so when the API cannot be reached, exit 3', async () => {
    const port = await closedPort();
    const io = fakeIO();
    expect(await runCli(['cancel', ID, '--api', `http://127.0.0.1:${port}`], io)).toBe(3);
    expect(io.err()).toContain('ECONNREFUSED (is it running?)');
  });

  it.each([
    [[], /expected one download id, got 0/],
    [['latest'], /not a download id/],
    [[ID, '--cancel-on-exit'], /Unknown option/],
  ])('rejects %j with a usage error, exit 2', async (args, message) => {
    const io = fakeIO();
    expect(await runCli(['cancel', ...args], io)).toBe(2);
    expect(io.err()).toMatch(message);
    expect(io.err()).toContain('Usage: flagship cancel [options] ID');
  });
});
