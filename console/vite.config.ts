import { gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, loadEnv, type Plugin } from 'vite';

/**
 * The console's JavaScript budget: everything it ships, gzipped — every route and worker, which
 * is more than any one browser downloads since routes load on demand (docs/benchmarks.md, "Web
 * console bundle": the organiser's console ~118 kB, the attendee page ~77 kB). 200 kB (issue
 * #12) until the door screen's QR-decoding worker (46 kB, fetched only when a camera starts
 * without the browser's BarcodeDetector) was counted too: 225 kB.
 */
export const JS_BUDGET_BYTES = 225_000;

/** Reports the JS shipped (gzip) after each build and fails the build over the budget. */
function jsBudget(): Plugin {
  return {
    name: 'roster-js-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      let total = 0;
      for (const file of Object.values(bundle)) {
        if (file.type === 'chunk') total += gzipSync(file.code).length;
        // A worker is emitted as an asset, not a chunk: still JavaScript a browser downloads.
        else if (file.fileName.endsWith('.js')) total += gzipSync(file.source).length;
      }
      const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
      const line = `console: JavaScript shipped ${kb(total)} gzip (budget ${kb(JS_BUDGET_BYTES)})`;
      if (total > JS_BUDGET_BYTES) this.error(line);
      this.info(line);
    },
  };
}

/** `npm run dev:console` serves this config.json: the API of `npm start` (or ROSTER_API_URL). */
function devConfig(): Plugin {
  return {
    name: 'roster-dev-config',
    apply: 'serve',
    configureServer(server) {
      const env = loadEnv(server.config.mode, server.config.root, 'ROSTER_');
      const apiUrl = env.ROSTER_API_URL ?? 'http://localhost:3000';
      server.middlewares.use('/console/config.json', (_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ apiUrl }));
      });
    },
  };
}

export default defineConfig({
  root: import.meta.dirname,
  // The local runtime serves the console at /console, and so does CloudFront (infra/constructs/console.ts).
  base: '/console/',
  plugins: [react(), jsBudget(), devConfig()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // A strict CSP forbids inline scripts, and data: URLs for assets: every asset is a file.
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: { port: 5173, strictPort: true },
});
