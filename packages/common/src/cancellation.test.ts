// The names a cancel travels under: both under the queue prefix's hash tag, so the API's
// script touches one Redis Cluster slot, and distinct per download.
import { describe, expect, it } from 'vitest';
import { cancelChannel, cancelledKey } from './cancellation.ts';
import { QUEUE_PREFIX } from './queues.ts';

describe('cancellation names', () => {
  it('keeps the mark and the channel under the prefix', () => {
    expect(cancelledKey(QUEUE_PREFIX, 'd1')).toBe('{flagship}:cancelled:d1');
    expect(cancelChannel(QUEUE_PREFIX)).toBe('{flagship}:cancel');
    expect(cancelledKey('{test-1}', 'd1')).not.toBe(cancelledKey('{test-1}', 'd2'));
  });
});
