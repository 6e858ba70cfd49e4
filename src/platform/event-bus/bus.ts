/**
 * The event bus port: EventBridge on AWS (eventbridge.ts), an in-process bus locally
 * (src/runtime/local/event-bus.ts) matching the same rule patterns. A module declares its rules
 * (`ModuleDefinition.eventRules`): on AWS they become EventBridge rules, locally the bus delivers
 * matching events to the same targets in-process.
 */
import type { WorkflowDefinition } from '../workflow/workflow.js';

export interface BusEvent {
  /** e.g. `customer.api` */
  readonly source: string;
  /** e.g. `CustomerCreated` */
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface EventBus {
  /**
   * Publishes the events (delivery to rules is asynchronous, at least once). Resolves when every
   * event was accepted; throws EventPublishError when some were not (none is silently dropped).
   */
  publish(events: readonly BusEvent[]): Promise<void>;
}

export class EventPublishError extends Error {
  override name = 'EventPublishError';
  constructor(
    message: string,
    /** The events that were not accepted. */
    readonly failed: readonly BusEvent[],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * An EventBridge event pattern (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html),
 * the subset both buses honour: each field lists the values it accepts (any of them), or nests a
 * pattern for an object field (`detail`); a value is a literal or `{ prefix }` / `{ exists }`.
 */
export type EventPattern = { readonly [field: string]: PatternValues | EventPattern };
export type PatternValues = readonly PatternValue[];
export type PatternValue =
  | string
  | number
  | boolean
  | null
  | { readonly prefix: string }
  | { readonly exists: boolean };

/** A rule: events matching `pattern` start `target.workflow` with the event at `inputPath`. */
export interface EventRule {
  /** kebab-case, unique in the module. */
  readonly name: string;
  readonly description: string;
  readonly pattern: EventPattern;
  readonly target: {
    readonly workflow: WorkflowDefinition;
    /** A JSONPath of the form `$.a.b` into the event (`$.detail`). @default the whole event */
    readonly inputPath?: string;
  };
}

/** Whether an event (EventBridge's envelope: `source`, `detail-type`, `detail`, …) matches. */
export function matches(pattern: EventPattern, event: Readonly<Record<string, unknown>>): boolean {
  return Object.entries(pattern).every(([field, expected]) => {
    const actual = event[field];
    if (Array.isArray(expected)) return matchesValues(expected as PatternValues, actual);
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return matches(expected as EventPattern, actual as Record<string, unknown>);
  });
}

function matchesValues(expected: PatternValues, actual: unknown): boolean {
  return expected.some((value) => {
    if (value !== null && typeof value === 'object') {
      if ('exists' in value) return value.exists === (actual !== undefined);
      if (actual === undefined) return false;
      const candidates = Array.isArray(actual) ? actual : [actual];
      return candidates.some((c) => typeof c === 'string' && c.startsWith(value.prefix));
    }
    // An array in the event matches when any of its elements does.
    const candidates = Array.isArray(actual) ? actual : [actual];
    return candidates.some((c) => c === value);
  });
}

/** The value at a JSONPath of the form `$` or `$.a.b` (what an EventBridge target's InputPath takes). */
export function atPath(path: string, value: unknown): unknown {
  if (!/^\$(\.[A-Za-z0-9_-]+)*$/.test(path)) throw new Error(`unsupported input path "${path}"`);
  let current = value;
  for (const key of path.split('.').slice(1)) {
    current =
      current !== null && typeof current === 'object'
        ? (current as Record<string, unknown>)[key]
        : undefined;
  }
  return current;
}
