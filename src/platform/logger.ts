import { Logger } from '@aws-lambda-powertools/logger';

export type { Logger };

/** The levels LOG_LEVEL accepts (platform/config checks it against these). */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'critical', 'silent'] as const;

export type LogLevel = (typeof logLevels)[number];

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
