// Group commit for Redis calls made one flag at a time: calls made while a batch is in
// flight wait for it and then go together as the next batch; calls made in the same
// tick (a chunk's flags all start in one) go as one batch. At most one batch is in
// flight, so under load a process sends a few commands per chunk instead of one per
// flag, and an idle one answers a lone call after a single round trip.

export function createBatcher<K, V>(run: (keys: K[]) => Promise<V[]>): (key: K) => Promise<V> {
  let waiting: Array<{ key: K; resolve: (value: V) => void; reject: (error: unknown) => void }> = [];
  let inFlight = false;

  async function flush(): Promise<void> {
    const batch = waiting;
    waiting = [];
    inFlight = true;
    try {
      const values = await run(batch.map((entry) => entry.key));
      batch.forEach((entry, index) => entry.resolve(values[index] as V));
    } catch (error) {
      for (const entry of batch) entry.reject(error);
    } finally {
      inFlight = false;
      if (waiting.length > 0) void flush();
    }
  }

  return (key) =>
    new Promise<V>((resolve, reject) => {
      waiting.push({ key, resolve, reject });
      // The first call of a tick schedules the batch; later ones of the tick join it.
      if (!inFlight && waiting.length === 1) queueMicrotask(() => void flush());
    });
}
