import { Logger } from '@aws-lambda-powertools/logger';
import type { LogLevel } from './config.js';

export type { Logger };

/**
 * Structured JSON logs (Powertools Logger) on both runtimes. Log lines carry ids, routes, status
 * codes and durations — never request bodies, keys, tokens or personal data.
 */
export function createLogger(level: LogLevel, serviceName = 'roster'): Logger {
  return new Logger({
    serviceName,
    logLevel: level.toUpperCase() as Uppercase<LogLevel>,
  });
}
