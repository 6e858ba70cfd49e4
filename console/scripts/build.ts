import { buildConsole, ensureConsoleBuilt } from './console-build.js';

/**
 * `npm run console:build` (also run by `npm install`, as `prepare`): builds the console.
 * With `--if-stale` (before `npm start`) it builds only when a source is newer than the build.
 */
if (process.argv.includes('--if-stale')) {
  if ((await ensureConsoleBuilt()) === 'built') {
    process.stderr.write('roster: the console was out of date and has been rebuilt.\n');
  }
} else {
  await buildConsole();
}
