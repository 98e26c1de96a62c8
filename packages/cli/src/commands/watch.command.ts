// `flagship watch ID`: follow a download that is already there, as `download` does after submitting.
import { defineApiCommand, downloadIdArgument } from '../command-line.ts';
import {
  FOLLOW_JSON_HELP,
  FOLLOW_OPTIONS,
  FOLLOW_OPTIONS_HELP,
  followDownload,
  followOptions,
} from './follow-download.ts';

export const watchCommand = defineApiCommand({
  name: 'watch',
  summary: 'follow a download to its end',
  synopsis: '[options] ID',
  description: `Follow a download to its end, as "flagship download" does after submitting: each
country as it is saved (a progress bar on a terminal), then the report line. A
download that has ended is reported at once. Ctrl-C stops following and leaves the
download running (or cancels it, --cancel-on-exit).`,
  options: FOLLOW_OPTIONS,
  optionsHelp: FOLLOW_OPTIONS_HELP,
  json: FOLLOW_JSON_HELP,
  positionals: true,
  examples: ['flagship watch 3b241101-e2bb-4255-8caf-4136c566a962'],
  run({ values, positionals, target, io }) {
    const id = downloadIdArgument(positionals);
    const download = { id, links: { self: `/v1/downloads/${id}`, events: `/v1/downloads/${id}/events` } };
    return followDownload(target.api, download, followOptions('watch', values, target), io);
  },
});
