import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { commandIs, failCalls } from './interceptors.js';

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

/**
 * Fault injection through the real client: the first `times` calls of a command fail before they
 * reach DynamoDB Local, which itself never produces these errors (see interceptors.ts).
 */
export function injectFaults(clients: DynamoClients, plan: FaultPlan): InjectedFaults {
  const { failed } = failCalls(clients, {
    when: commandIs(plan.command),
    times: plan.times,
    error: plan.error,
  });
  return { injected: failed };
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
