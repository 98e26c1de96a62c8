// POST → completed latency against a running Flagship API (by default the compose
// stack's published port), as a user sees it: POST a download, follow its event stream
// until `completed`. Two warm-up and 11 measured runs each for the reference's 20 codes
// and for every country; prints median, min and max.
//   docker compose up -d --wait && node bench/src/compose-latency.ts [http://127.0.0.1:3000]
import { readSse } from '@flagship/cli';
import type { DownloadAccepted, DownloadStatus } from '@flagship/common';

const api = process.argv[2] ?? 'http://127.0.0.1:3000';
const WARMUPS = 2;
const RUNS = 11;

async function postToCompleted(body: object): Promise<{ ms: number; message: string }> {
  const started = performance.now();
  const response = await fetch(`${api}/v1/downloads`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 202) throw new Error(`POST /v1/downloads answered ${response.status}`);
  const { id } = (await response.json()) as DownloadAccepted;
  const events = await readSse(`${api}/v1/downloads/${id}/events`, (e) => ['completed', 'failed'].includes(e.event));
  const last = events.at(-1);
  if (last?.event !== 'completed') throw new Error(`download ${id} ended with ${last?.event ?? 'no event'}`);
  const { message = '' } = JSON.parse(last.data) as DownloadStatus;
  return { ms: performance.now() - started, message };
}

for (const [name, body] of [
  ["reference's 20 codes", {}],
  ['all countries', { all: true }],
] as const) {
  const samples: number[] = [];
  let message = '';
  for (let run = 0; run < WARMUPS + RUNS; run++) {
    const result = await postToCompleted(body);
    if (run >= WARMUPS) samples.push(result.ms);
    message = result.message;
  }
  samples.sort((a, b) => a - b);
  const median = samples[Math.floor(samples.length / 2)] ?? Number.NaN;
  console.log(
    `${name}: median ${median.toFixed(1)} ms, min ${samples[0]?.toFixed(1)}, max ${samples.at(-1)?.toFixed(1)} (${RUNS} runs; last: ${message})`,
  );
}
