// Checks that a response is an RFC 9457 problem of a status, and returns its body.
import { expect } from 'vitest';

export function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
  status: number,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status, type: expect.any(String), title: expect.any(String), code: expect.any(String) });
  expect(body.detail).toEqual(expect.any(String));
  expect(body.instance).toEqual(expect.stringMatching(/^\//));
  return body;
}
