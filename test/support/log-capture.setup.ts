import { captureWorkerOutput } from './log-capture.js';

// Runs in every test worker before its test file: see log-capture.ts.
captureWorkerOutput();
