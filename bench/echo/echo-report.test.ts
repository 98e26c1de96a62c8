import { describe, expect, it } from 'vitest';
import { median, pairedRatio, summarize, type RunSample } from './echo-report.ts';

function sample(server: 'baseline' | 'flagship', run: number, mibps: number, rtps: number, rssMiB = 100): RunSample {
  return {
    server,
    run,
    throughput: { bytesPerSecond: mibps * 2 ** 20, errors: 0, serverCpuMsPerMiB: 1 + run / 10 },
    roundTrips: { roundTripsPerSecond: rtps, errors: 0, serverCpuMsPer1k: 5 + run },
    idle: { connected: 10_000, errors: 0, alive: 200, serverRssBytes: rssMiB * 2 ** 20, connectMs: 500 },
    exitCode: 0,
  };
}

describe('echo bench report', () => {
  it('takes medians, odd and even', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('pairs flagship with the baseline of the same run', () => {
    const samples = [
      sample('baseline', 1, 100, 0),
      sample('flagship', 1, 90, 0),
      sample('baseline', 2, 400, 0), // a quiet moment for both
      sample('flagship', 2, 420, 0),
      sample('baseline', 3, 200, 0),
      sample('flagship', 3, 196, 0),
    ];
    expect(pairedRatio(samples, (s) => s.throughput.bytesPerSecond)).toBeCloseTo(0.98);
  });

  it('takes the median server CPU per MiB and per 1000 round trips, NaN when not measured', () => {
    const samples = [1, 2, 3].flatMap((run) => [sample('baseline', run, 1, 1), sample('flagship', run, 1, 1)]);
    expect(summarize(samples).throughputCpuMsPerMiB.flagship).toBeCloseTo(1.2);
    expect(summarize(samples).roundTripCpuMsPer1k.baseline).toBe(7);
    const unmeasured = sample('flagship', 1, 1, 1);
    delete unmeasured.throughput.serverCpuMsPerMiB;
    expect(summarize([sample('baseline', 1, 1, 1), unmeasured]).throughputCpuMsPerMiB.flagship).toBeNaN();
  });

  it('fails the idle target on errors or memory, passes it otherwise', () => {
    const good = [sample('baseline', 1, 1, 1), sample('flagship', 1, 1, 1, 140)];
    expect(summarize(good).passed.idle).toBe(true);
    expect(summarize([sample('baseline', 1, 1, 1), sample('flagship', 1, 1, 1, 151)]).passed.idle).toBe(false);
    const broken = sample('flagship', 1, 1, 1);
    broken.idle.errors = 1;
    expect(summarize([sample('baseline', 1, 1, 1), broken]).passed.idle).toBe(false);
  });
});
