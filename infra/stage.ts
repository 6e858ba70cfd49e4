/** The stages whose data is kept by default (tables retained and deletion protected, …). */
export const PRODUCTION_STAGES: readonly string[] = ['prod', 'production'];

/** What `-c key=value` on the CDK command line sets for one stage. */
export interface StageParameters {
  readonly stage: string;
  /** Allowed CORS origins; `*` (any) when absent. */
  readonly corsOrigins: readonly string[] | undefined;
  readonly alarmEmail: string | undefined;
  /** Module schedules enabled. */
  readonly schedules: boolean;
  /** Keep data when the stack goes: on for a production stage, off otherwise, unless given. */
  readonly retainData: boolean;
  /** Deploy the web console with the stack. */
  readonly console: boolean;
}

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * Reads and checks the stage's parameters from CDK context (`-c key=value` or cdk.json):
 * `stage` (default `dev`), `corsOrigins` (comma-separated origins), `alarmEmail`, `schedules`
 * (`on`/`off`), `retainData` (`true`/`false`), `console` (`true`/`false`). A wrong value stops
 * synthesis with every problem listed, before anything is built.
 */
export function stageParameters(context: (key: string) => unknown): StageParameters {
  const problems: string[] = [];
  const text = (key: string): string | undefined => {
    const value = context(key);
    if (value === undefined || value === null) return undefined;
    const trimmed = String(value).trim();
    return trimmed === '' ? undefined : trimmed;
  };
  const flag = (key: string, on: string, off: string, fallback: boolean): boolean => {
    const value = text(key)?.toLowerCase();
    if (value === undefined) return fallback;
    if (value === on || value === 'true') return true;
    if (value === off || value === 'false') return false;
    problems.push(`${key} must be ${on} or ${off}, got "${value}"`);
    return fallback;
  };

  const stage = text('stage') ?? 'dev';
  const corsOrigins = text('corsOrigins')
    ?.split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of corsOrigins ?? []) {
    if (origin !== '*' && !ORIGIN.test(origin)) {
      problems.push(`corsOrigins: "${origin}" is not an origin (https://host[:port]) or *`);
    }
  }
  if (corsOrigins?.includes('*') && corsOrigins.length > 1) {
    problems.push('corsOrigins: * allows any origin; list origins or give * alone');
  }
  const alarmEmail = text('alarmEmail');
  if (alarmEmail && !EMAIL.test(alarmEmail)) {
    problems.push(`alarmEmail: "${alarmEmail}" is not an e-mail address`);
  }
  const parameters: StageParameters = {
    stage,
    corsOrigins,
    alarmEmail,
    schedules: flag('schedules', 'on', 'off', true),
    retainData: flag('retainData', 'true', 'false', PRODUCTION_STAGES.includes(stage)),
    console: flag('console', 'true', 'false', true),
  };
  if (problems.length > 0) throw new Error(`Invalid stage parameters: ${problems.join('; ')}`);
  return parameters;
}
