import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { sleep } from './poll.js';

/**
 * Fault injection for tests, the one way in: delays and failures put into a real DynamoDB client
 * through its middleware stack, never mocks of our code. Calls are chosen by what a call *is* (its
 * SDK command name and its request), not by which code sent it: a middleware at the front of the
 * client's stack sees every call, from the events adapter and from the Powertools idempotency
 * layer alike, so the tests that use these keep working however the code behind the HTTP surface
 * is arranged. The errors at the end are the ones DynamoDB Local itself never produces
 * (transaction conflicts, throttling).
 */

export interface SdkCall {
  /** The SDK command name, e.g. `BatchWriteItemCommand`, `UpdateItemCommand`. */
  readonly command: string;
  /** The request as the client is about to send it (document-client input already marshalled). */
  readonly input: unknown;
}

export type CallMatcher = (call: SdkCall) => boolean;

/** Matches calls whose command name starts with `prefix` (e.g. 'BatchWrite', 'UpdateItem'). */
export const commandIs =
  (prefix: string): CallMatcher =>
  (call) =>
    call.command.startsWith(prefix);

/** Matches calls whose request mentions `text` anywhere (a table name, an id, a title). */
export const inputMentions =
  (text: string): CallMatcher =>
  (call) =>
    JSON.stringify(call.input).includes(text);

/** Both matchers. */
export const both =
  (a: CallMatcher, b: CallMatcher): CallMatcher =>
  (call) =>
    a(call) && b(call);

let installed = 0;

function intercept(
  clients: DynamoClients,
  around: (call: SdkCall, go: () => Promise<unknown>) => Promise<unknown>,
): void {
  clients.client.middlewareStack.add(
    (next, context) => (args) =>
      around(
        { command: context.commandName ?? '', input: (args as { input?: unknown }).input },
        () => next(args),
      ) as ReturnType<typeof next>,
    { step: 'initialize', name: `rosterTestIntercept${++installed}` },
  );
}

export interface Gate {
  /** Lets every held call (and every later one) go on. */
  readonly open: () => void;
  readonly opened: Promise<void>;
}

/** A gate for `delayCalls`' `until`: closed until `open()`. */
export function gate(): Gate {
  let open: () => void = () => {};
  const opened = new Promise<void>((done) => {
    open = done;
  });
  return { open, opened };
}

export interface DelayPlan {
  readonly when: CallMatcher;
  /** Hold each matching call this long before it goes on. */
  readonly ms?: number;
  /** Or hold each matching call until this settles… */
  readonly until?: Promise<unknown>;
  /** …but never longer than this (so a test cannot hang on its own gate). Default 5 s. */
  readonly maxMs?: number;
}

export interface DelayedCalls {
  /** Matching calls seen so far. */
  readonly count: () => number;
  /** Resolves when the first matching call is being held. */
  readonly firstHeld: Promise<SdkCall>;
}

/** Holds matching calls for `ms`, or until `until` settles (at most `maxMs`), then lets them go. */
export function delayCalls(clients: DynamoClients, plan: DelayPlan): DelayedCalls {
  let count = 0;
  let held: (call: SdkCall) => void = () => {};
  const firstHeld = new Promise<SdkCall>((done) => {
    held = done;
  });
  intercept(clients, async (call, go) => {
    if (plan.when(call)) {
      count++;
      held(call);
      const waits: Promise<unknown>[] = [];
      if (plan.ms !== undefined) waits.push(sleep(plan.ms));
      if (plan.until !== undefined) {
        waits.push(Promise.race([plan.until, sleep(plan.maxMs ?? 5_000)]));
      }
      await Promise.all(waits);
    }
    return go();
  });
  return { count: () => count, firstHeld };
}

export interface FailPlan {
  readonly when: CallMatcher;
  /** How many matching calls fail before calls pass again. */
  readonly times: number;
  readonly error: () => Error;
}

/** Fails the first `times` matching calls before they reach DynamoDB. */
export function failCalls(
  clients: DynamoClients,
  plan: FailPlan,
): { readonly failed: () => number } {
  let failed = 0;
  intercept(clients, async (call, go) => {
    if (plan.when(call) && failed < plan.times) {
      failed++;
      throw plan.error();
    }
    return go();
  });
  return { failed: () => failed };
}

export interface FaultPlan {
  /** Which operations fail, by SDK command name prefix (e.g. 'TransactWrite'). */
  readonly command: string;
  /** How many of those calls fail before calls pass again (Infinity: all of them). */
  readonly times: number;
  readonly error: () => Error;
}

export interface InjectedFaults {
  /** How many calls were failed so far. */
  readonly injected: () => number;
}

/** `failCalls` for the common case: the first `times` calls of one command fail. */
export function injectFaults(clients: DynamoClients, plan: FaultPlan): InjectedFaults {
  const { failed } = failCalls(clients, {
    when: commandIs(plan.command),
    times: plan.times,
    error: plan.error,
  });
  return { injected: failed };
}

/**
 * The first `times` BatchGetItem / BatchWriteItem calls reach DynamoDB with only the first half of
 * their entries (rounded down); the rest come back as UnprocessedKeys / UnprocessedItems, as when
 * DynamoDB is throttling (DynamoDB Local never does this).
 */
export function processHalfOfBatches(
  clients: DynamoClients,
  times: number,
): { readonly halved: () => number } {
  let halved = 0;
  intercept(clients, async (call, go) => {
    const kind = call.command.startsWith('BatchGet')
      ? 'get'
      : call.command.startsWith('BatchWrite')
        ? 'write'
        : undefined;
    const requestItems = (call.input as { RequestItems?: Record<string, unknown> }).RequestItems;
    if (!kind || !requestItems || halved >= times) return go();
    halved++;
    const left: Record<string, unknown> = {};
    let sent = 0;
    for (const [table, request] of Object.entries(requestItems)) {
      const entries =
        kind === 'get' ? (request as { Keys: unknown[] }).Keys : (request as unknown[]);
      const kept = entries.slice(0, Math.floor(entries.length / 2));
      const dropped = entries.slice(kept.length);
      sent += kept.length;
      if (kind === 'get') {
        requestItems[table] = { ...(request as object), Keys: kept };
        if (dropped.length > 0) left[table] = { ...(request as object), Keys: dropped };
      } else {
        requestItems[table] = kept;
        if (dropped.length > 0) left[table] = dropped;
      }
    }
    const unprocessed = kind === 'get' ? 'UnprocessedKeys' : 'UnprocessedItems';
    // A batch of one: nothing goes through (DynamoDB refuses an empty batch, so none is sent).
    if (sent === 0) return { output: { [unprocessed]: left, $metadata: {} }, response: {} };
    const result = (await go()) as { output: Record<string, unknown> };
    result.output[unprocessed] = left;
    return result;
  });
  return { halved: () => halved };
}

/** A transaction cancelled for `code` on its first item (the others 'None'). */
const cancelledFor = (code: string, message: string, items: number) => () =>
  new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${code}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: Array.from({ length: items }, (_, i) =>
      i === 0 ? { Code: code, Message: message } : { Code: 'None' },
    ),
  });

/** What DynamoDB answers when two transactions touch the same item at the same moment. */
export const transactionConflict = (items = 3) =>
  cancelledFor('TransactionConflict', 'Transaction is ongoing for the item', items);

/** A transaction cancelled because an item's partition was over its throughput. */
export const transactionThrottled = (items = 3) =>
  cancelledFor('ProvisionedThroughputExceeded', 'Throughput exceeds the current capacity', items);

/** A transaction DynamoDB refused as malformed (not an answer about the data). */
export const transactionInvalid = (items = 3) =>
  cancelledFor('ValidationError', 'Item size has exceeded the maximum allowed size', items);

export const throttled = () => () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });

/**
 * A fault that fails a transaction through its outbox item: while armed, every TransactWriteItems
 * holding a put into the platform's `domain-events` table gets a condition that put cannot meet,
 * so DynamoDB Local itself cancels the whole transaction — proving the change and its domain
 * event commit together or not at all.
 */
export function outboxPutFails() {
  let cancelled = 0;
  const fault = {
    armed: false,
    cancelled: () => cancelled,
    install: (clients: DynamoClients): DynamoClients => {
      clients.client.middlewareStack.add(
        (next, context) => (args) => {
          const input = (args as { input: { TransactItems?: OutboxTransactItem[] } }).input;
          if (fault.armed && context.commandName === 'TransactWriteItemsCommand') {
            for (const item of input.TransactItems ?? []) {
              if (item.Put?.TableName.endsWith('-domain-events')) {
                item.Put.ConditionExpression = 'attribute_exists(PK)';
                cancelled++;
              }
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'outboxPutFails' },
      );
      return clients;
    },
  };
  return fault;
}

interface OutboxTransactItem {
  Put?: { TableName: string; ConditionExpression?: string };
}
