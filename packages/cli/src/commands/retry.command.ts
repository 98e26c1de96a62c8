// `flagship retry ID`: a new download of the flags of ID that failed (and, with
// --include-not-found, of those not found), followed like `download`.
import { defineApiCommand, downloadIdArgument } from '../command-line.ts';
import { followAccepted, followOptions, submitAndFollowOptions } from './follow-download.ts';

export const retryCommand = defineApiCommand({
  name: 'retry',
  summary: 'download again the flags of a download that failed',
  synopsis: '[options] ID',
  description: `Download again the flags of download ID that failed (ERROR), as a new download that
names ID as its retryOf, and follow it like "flagship download". The API refuses (exit 3)
when there is nothing to retry. Ctrl-C stops following (or cancels, --cancel-on-exit).`,
  ...submitAndFollowOptions({ 'include-not-found': { type: 'boolean' } }, [
    ['--include-not-found', 'retry the flags that were NOT_FOUND too'],
  ]),
  positionals: true,
  examples: ['flagship retry --include-not-found 3b241101-e2bb-4255-8caf-4136c566a962'],
  async run({ values, positionals, target, io }) {
    const id = downloadIdArgument(positionals);
    const options = followOptions('retry', values, target);
    const includeNotFound = values['include-not-found'] === true;
    const accepted = await target.api.retryDownload(id, includeNotFound, values['idempotency-key']);
    const flags = accepted.total === 1 ? 'flag' : 'flags';
    io.stderr.write(`flagship retry: ${accepted.id} retries ${accepted.total} ${flags} of ${accepted.retryOf ?? id}\n`);
    return followAccepted(target.api, accepted, options, io);
  },
});
