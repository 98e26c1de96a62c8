// A command line that cannot be run as written: printed with a hint, exit code 2.
import { FlagshipError } from '@flagship/runtime';

export class UsageError extends FlagshipError {
  constructor(message: string) {
    super('FLAGSHIP_USAGE', message);
    this.name = 'UsageError';
  }
}
