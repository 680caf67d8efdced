/**
 * The agent's command line: `claim …` exchanges a claim code for credentials (claim.ts); no command (or
 * `run`) runs the agent (main.ts).
 */
import { claimCli } from './claim.js';

const [command, ...rest] = process.argv.slice(2);
const USAGE = `Usage: loaxa-agent [run | claim --help | rollback-check --root DIR]
  run             run the agent (the default)
  claim           exchange a one-time claim code for this box's credentials
  rollback-check  self-update watchdog: roll back a release that has not reported healthy in time
`;

if (command === 'claim') {
  const io = { env: process.env, out: (s: string) => process.stdout.write(s), err: (s: string) => process.stderr.write(s) };
  process.exit(await claimCli(rest, io));
} else if (command === 'rollback-check') {
  const { rollbackCheckCli } = await import('./update/watchdog.js');
  process.exit(await rollbackCheckCli(rest, { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }));
} else if (command === undefined || command === 'run') {
  await import('./main.js');
} else if (command === '-h' || command === '--help' || command === 'help') {
  process.stdout.write(USAGE);
} else {
  process.stderr.write(`unknown command '${command}'\n${USAGE}`);
  process.exit(2);
}
