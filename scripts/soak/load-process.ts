import { text } from 'node:stream/consumers';
import { type LoadOptions, runLoad } from './load.js';

// The soak's load generator as a process of its own: options as JSON on standard input (not in
// the arguments, where the key and token would show in the process list), progress and then the
// result as JSON lines on stdout (see load.ts).
const options = JSON.parse(await text(process.stdin)) as LoadOptions;
runLoad(options).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`soak load: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
