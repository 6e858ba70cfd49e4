// Runs in every test worker before its test file: every module's code, loaded as the local
// runtime loads it (src/modules/index.ts), so that a test importing one module's definition finds
// its services and routers at hand (docs/decisions/lazy-modules.md).
import '../../src/modules/index.js';
