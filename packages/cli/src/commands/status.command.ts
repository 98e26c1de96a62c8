// `flagship status ID`: a download's state, counts, failed flags with their reasons, and files.
import { defineApiCommand, downloadIdArgument, printJson } from '../command-line.ts';
import { downloadExitCode, statusReport } from './download-report.ts';

export const statusCommand = defineApiCommand({
  name: 'status',
  summary: "a download's state, counts, failures and files",
  synopsis: '[options] ID',
  description: `A download's state, counts, timing, failed flags with their reasons, flags not found,
and saved files. Exits 1 when the download failed, was cancelled or has failed flags
(so a script can test it), 0 otherwise, running ones too.`,
  options: {},
  optionsHelp: [],
  json: "GET /v1/downloads/<id>'s document",
  positionals: true,
  examples: ['flagship status 3b241101-e2bb-4255-8caf-4136c566a962'],
  async run({ values, positionals, target, io }) {
    const status = await target.api.getDownload(downloadIdArgument(positionals), io.signal);
    if (values.json === true) printJson(io, status);
    else io.stdout.write(statusReport(status));
    return downloadExitCode(status);
  },
});
