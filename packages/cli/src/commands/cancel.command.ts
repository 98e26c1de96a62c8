// `flagship cancel ID`: DELETE /v1/downloads/ID. Flags saved before stay saved.
import { ExitCodes } from '../cli-io.ts';
import { defineApiCommand, downloadIdArgument, printJson } from '../command-line.ts';
import { countsLine } from './download-report.ts';

export const cancelCommand = defineApiCommand({
  name: 'cancel',
  summary: 'cancel a download',
  synopsis: '[options] ID',
  description: `Cancel a download that has not ended: flags not started are not downloaded; those
saved stay. The API refuses (exit 3) a download that has already ended.`,
  options: {},
  optionsHelp: [],
  json: "the download's status as the API answered the cancel",
  positionals: true,
  examples: ['flagship cancel 3b241101-e2bb-4255-8caf-4136c566a962'],
  async run({ values, positionals, target, io }) {
    const id = downloadIdArgument(positionals);
    const status = await target.api.cancelDownload(id, io.signal);
    if (values.json === true) printJson(io, status);
    else io.stdout.write(`cancelled ${id}; it is ${status.state}: ${countsLine(status)}\n`);
    return ExitCodes.ok;
  },
});
