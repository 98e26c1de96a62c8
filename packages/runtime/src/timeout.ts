// A deadline on a promise: the one timeout helper of every Flagship process. Closing a
// service in order (shutdown.ts), a Redis operation inside an HTTP request (the API
// answers 503 rather than hang) and a worker's shutdown grace period all wait for
// something that may never settle, and must go on without it.

/**
 * `promise`'s value, or what `onTimeout()` gives once `ms` have passed first: a
 * fallback value, or the error it throws (the returned promise rejects with it).
 * Nothing can cancel `promise`: it keeps running after the deadline, and its late
 * failure is not reported. The timer is cleared as soon as `promise` settles and never
 * keeps the process alive by itself.
 */
export async function withTimeout<T, F = never>(
  promise: PromiseLike<T>,
  ms: number,
  onTimeout: () => F,
): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  }).then(onTimeout);
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
