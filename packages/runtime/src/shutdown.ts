// Closing a service in order, under a deadline. Every closer runs even when an
// earlier one failed or hung (bullmq's Worker.close does the same), and the first
// failure is reported after all have had their turn.
import { withTimeout } from './timeout.ts';

export interface Closer {
  /** What is being closed, for the log. */
  name: string;
  close: () => Promise<unknown> | unknown;
}

export interface CloseAllOptions {
  /** Give up waiting for one closer after this many ms (it keeps running). Default 10 s. */
  timeoutMs?: number;
  onError?: (name: string, error: unknown) => void;
}

export async function closeAll(closers: readonly Closer[], options: CloseAllOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let firstError: unknown;
  for (const closer of closers) {
    try {
      await withTimeout(Promise.resolve().then(closer.close), timeoutMs, () => {
        throw new Error(`closing ${closer.name} took longer than ${timeoutMs} ms`);
      });
    } catch (error) {
      firstError ??= error;
      options.onError?.(closer.name, error);
    }
  }
  if (firstError !== undefined) throw firstError;
}

/** Make a close function idempotent: the second call returns the first call's promise. */
export function once<T>(close: () => Promise<T>): () => Promise<T> {
  let closing: Promise<T> | undefined;
  return () => (closing ??= close());
}
