// `flagship download [CC ...]`: submit a download to the API and follow it (follow-download.ts).
import { isCountryCode, type DownloadRequest } from '@flagship/common';
import { defineApiCommand } from '../command-line.ts';
import { UsageError } from '../usage-error.ts';
import { followAccepted, followOptions, submitAndFollowOptions } from './follow-download.ts';

export const downloadCommand = defineApiCommand({
  name: 'download',
  summary: 'download flags through the API and follow the progress',
  synopsis: '[options] [CC ...]',
  description: `Download country flags through the Flagship API and follow the download to the end:
each country as it is saved (a progress bar on a terminal), then the report line.
With no codes: the original program's 20 (CN IN US DK BR ...).
Ctrl-C stops following and leaves the download running (or cancels it, --cancel-on-exit).`,
  ...submitAndFollowOptions({ all: { type: 'boolean' } }, [['--all', 'every country']]),
  positionals: true,
  examples: ['flagship download', 'flagship download cn in us', 'flagship download --all --api http://localhost:3000'],
  async run({ values, positionals, target, io }) {
    const unknown = positionals.filter((code) => !isCountryCode(code) || code.length !== 2);
    if (unknown.length > 0) throw new UsageError(`not ISO 3166-1 alpha-2 country codes: ${unknown.join(', ')}`);
    if (values.all === true && positionals.length > 0) throw new UsageError('give either --all or codes, not both');
    const options = followOptions('download', values, target);
    const request: DownloadRequest =
      values.all === true ? { all: true } : positionals.length > 0 ? { codes: positionals } : {};
    const accepted = await target.api.submitDownload(request, values['idempotency-key']);
    if (accepted.replayed === true) {
      io.stderr.write(
        `flagship download: the API knew this Idempotency-Key: ${accepted.id} is the download it made then\n`,
      );
    }
    return followAccepted(target.api, accepted, options, io);
  },
});
