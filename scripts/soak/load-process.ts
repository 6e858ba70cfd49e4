import { type LoadOptions, runLoad } from './load.js';

// The soak's load generator as a process of its own: options as JSON in the first argument,
// progress and then the result as JSON lines on stdout (see load.ts).
const options = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
runLoad(options).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    process.stderr.write(`soak load: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
