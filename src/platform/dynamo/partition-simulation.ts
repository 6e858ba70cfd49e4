import {
  type AttributeValue,
  type DynamoDBClient,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  type ThrottlingReason,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import type { TableDefinition } from './tables.js';

/**
 * DynamoDB's per-partition-key throughput, simulated on a DynamoDB client for local measurement:
 * DynamoDB Local has no throughput limits, so a benchmark against it says nothing about the
 * ceiling one hot key (one event's counter, one index partition) has on AWS. Installed on a
 * client (never by default; the bench turns it on), it charges every data-plane call the
 * capacity units DynamoDB documents, per partition key value of the table and of each global
 * index, against a token bucket per key, and refuses what DynamoDB would refuse, with the
 * exceptions DynamoDB raises; it also cancels the later of two transactions that overlap on an
 * item. What is modelled, what is estimated and what is not, with the pages each figure comes
 * from: docs/decisions/partition-simulation.md.
 */

/** DynamoDB's documented figures, at full scale. */
export const DYNAMODB_PARTITION_LIMITS = {
  /** Per partition key value, per second, reads and writes each on their own. */
  writeUnitsPerSecond: 1_000,
  readUnitsPerSecond: 3_000,
  /** One write unit writes up to 1 KB; one read unit reads up to 4 KB, strongly consistent. */
  writeUnitBytes: 1_024,
  readUnitBytes: 4_096,
  /** TransactWriteItems and TransactGetItems touch every item twice: prepare, then commit. */
  transactionFactor: 2,
  eventuallyConsistentFactor: 0.5,
  /** Burst capacity retains at most five minutes of unused capacity. */
  maxBurstSeconds: 300,
} as const;

/** The middleware's name in the client's stack (it sits right after the SDK's retry). */
export const PARTITION_SIMULATION = 'rosterPartitionSimulation';

export interface SimulatedTable {
  /** The physical table name the calls carry. */
  readonly name: string;
  /** Which attribute is the table's partition key, and each global index's. */
  readonly definition: TableDefinition;
}

export interface PartitionSimulationOptions {
  /** When false, calls pass untouched (the middleware is an identity) until `setEnabled(true)`. */
  readonly enabled: boolean;
  /**
   * Every ceiling is DynamoDB's multiplied by this, e.g. 1/20: 50 WCU/s and 150 RCU/s per key.
   * DynamoDB Local commits a few hundred transactions a second on a small machine, so one key's
   * full ceiling would be out of its reach and measure nothing. (0, 1].
   */
  readonly scale: number;
  /** Every table the client calls: a call to any other is refused (its keys can't be known). */
  readonly tables: readonly SimulatedTable[];
  /**
   * Unused capacity a key banks, in seconds of its ceiling, on top of the second it always has.
   * 0 by default: AWS documents that burst capacity cannot lift a key above its partition
   * ceiling. At most 300, DynamoDB's retention.
   */
  readonly burstSeconds?: number;
  /** Which exceptions a throttle raises: the app's tables are on-demand. */
  readonly mode?: 'on-demand' | 'provisioned';
  /** Milliseconds, monotonic. */
  readonly clock?: () => number;
  /**
   * How long, at full scale, a transaction holds its items from the moment it starts: the
   * simulation holds them `transactionHoldMs / scale`, or while the call is in flight at
   * DynamoDB Local if that is longer. 0 by default (only while in flight). AWS documents no such
   * figure; a bench that sets one says so.
   */
  readonly transactionHoldMs?: number;
}

export interface PartitionUsage {
  readonly table: string;
  /** The global index, for an index partition. */
  readonly index?: string;
  /** The partition key value (a string, a number's digits, or base64 for binary). */
  readonly key: string;
  readonly writeUnits: number;
  readonly readUnits: number;
  /** Requests refused because this key was out of write (read) capacity. */
  readonly writeThrottles: number;
  readonly readThrottles: number;
  /** Requests refused because an item under this key was in another transaction. */
  readonly conflicts: number;
}

export interface SimulationStats {
  /** Every partition key the calls touched, in the order first touched. */
  readonly partitions: readonly PartitionUsage[];
  /** Sums over the partitions. */
  readonly totals: {
    readonly writeUnits: number;
    readonly readUnits: number;
    readonly throttles: number;
    readonly conflicts: number;
  };
  readonly requests: {
    /** Calls let through to the database. */
    readonly admitted: number;
    readonly throttled: number;
    readonly conflicted: number;
    /** Data-plane calls the simulation does not model (Scan, PartiQL), let through uncharged. */
    readonly unmodelled: number;
  };
}

export interface PartitionSimulation {
  /** Whether calls are simulated now. */
  readonly enabled: boolean;
  /**
   * Turns the simulation off (calls pass untouched and uncounted) or back on: a bench seeds its
   * data unthrottled, then measures. Buckets and stats carry over.
   */
  setEnabled(enabled: boolean): void;
  readonly scale: number;
  /** One partition key's ceilings as simulated. */
  readonly ceilings: { readonly writeUnitsPerSecond: number; readonly readUnitsPerSecond: number };
  /** A per-key rate measured under the simulation, as the same rate on DynamoDB. */
  fullScale(perSecond: number): number;
  stats(): SimulationStats;
  /** Lines for a report: the factor, the ceilings, and how to read a figure at full scale. */
  describe(): string[];
}

/** Installs the simulation on `client` (and so on every document client built from it). */
export function simulatePartitions(
  client: DynamoDBClient,
  options: PartitionSimulationOptions,
): PartitionSimulation {
  const model = new PartitionModel(options);
  let enabled = options.enabled;
  // Below the SDK's retry, where DynamoDB's own answers arrive: a simulated throttle is retried
  // with the SDK's throttling backoff and retry quota exactly as a real one. The request is
  // already serialized here (nothing is rewritten, only refused or let through), and `input`
  // is still the marshalled request.
  const simulate =
    (next: Next, context: { readonly commandName?: string }) =>
    async (args: { readonly input: unknown }) => {
      if (!enabled) return next(args);
      const plan = model.plan(context.commandName ?? '', args.input as Record<string, unknown>);
      if (!plan) return next(args);
      const release = model.admit(plan);
      try {
        const result = await next(args);
        model.answered(plan, result.output as Record<string, unknown>);
        return result;
      } finally {
        release();
      }
    };
  client.middlewareStack.addRelativeTo(simulate as unknown as Middleware, {
    relation: 'after',
    toMiddleware: 'retryMiddleware',
    name: PARTITION_SIMULATION,
  });
  return {
    get enabled() {
      return enabled;
    },
    setEnabled: (on) => {
      enabled = on;
    },
    scale: options.scale,
    ceilings: model.ceilings,
    fullScale: (perSecond) => perSecond * model.factor,
    stats: () => model.stats(),
    describe: () =>
      enabled
        ? model.describe()
        : [
            'partition simulation: off — DynamoDB Local has no throughput limits, nothing is throttled',
          ],
  };
}

/** A finalize-step middleware's `next`, as much of it as the simulation uses. */
type Next = (args: { readonly input: unknown }) => Promise<{ readonly output: unknown }>;
type Middleware = Parameters<DynamoDBClient['middlewareStack']['addRelativeTo']>[0];

type Item = Record<string, AttributeValue>;
type Kind = 'write' | 'read';

interface Partition {
  readonly id: string;
  readonly table: string;
  readonly index?: string;
  readonly key: string;
}

interface Charge {
  readonly partition: Partition;
  readonly kind: Kind;
  readonly units: number;
  /** The request entry (TransactItems position) the charge belongs to. */
  readonly entry: number;
}

interface ItemRef {
  readonly id: string;
  readonly partition: Partition;
  readonly entry: number;
}

interface Plan {
  readonly operation: 'transact-write' | 'transact-get' | 'write' | 'batch-write' | 'read';
  readonly entries: number;
  readonly charges: Charge[];
  readonly items: ItemRef[];
  /** What to learn from (and charge for) the answer: sizes it reveals. */
  readonly answered: ((output: Record<string, unknown>) => void)[];
}

interface Usage {
  readonly partition: Partition;
  writeUnits: number;
  readUnits: number;
  writeThrottles: number;
  readThrottles: number;
  conflicts: number;
}

interface Hold {
  inFlight: number;
  until: number;
}

/** Tolerance for sums of fractional units (0.5 per eventually consistent read, scaled rates). */
const EPSILON = 1e-9;

const TABLE_HOT_KEY =
  'Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index so please try again shortly. If exceptions persist, check if you have a hot key: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html';
const INDEX_HOT_KEY =
  'Throughput exceeds the current capacity for one or more global secondary indexes. DynamoDB is automatically scaling your index so please try again shortly.';
const TABLE_PROVISIONED =
  'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.';
const INDEX_PROVISIONED =
  'The level of configured provisioned throughput for one or more global secondary indexes of the table was exceeded. Consider increasing your provisioning level for the under-provisioned global secondary indexes with the UpdateTable API.';
const ONGOING = 'Transaction is ongoing for the item';

/** A key's capacity: refilled continuously at its ceiling, holding at most `capacity`. */
class Bucket {
  constructor(
    private readonly rate: number,
    private readonly capacity: number,
    private tokens: number,
    private at: number,
  ) {}

  /**
   * Whether a request may go now: while the key has any capacity left, charged in full even if
   * that leaves the bucket in debt, which is paid back before anything else goes. DynamoDB admits
   * a query before it knows what the query will read, so its buckets cannot wait for a request's
   * whole cost; and a bucket that did would starve a 4-unit transaction behind a stream of
   * 1-unit updates on the same key, which DynamoDB does not do. Over time a key takes its
   * ceiling and no more (plus one request's overdraft).
   */
  holds(now: number): boolean {
    this.refill(now);
    return this.tokens > EPSILON;
  }

  take(units: number): void {
    this.tokens = Math.min(this.capacity, this.tokens - units);
  }

  private refill(now: number): void {
    if (now <= this.at) return;
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 1_000) * this.rate);
    this.at = now;
  }
}

class PartitionModel {
  /** 1/scale, an integer when it is one (1/20 → 20), so scaled figures come out exact. */
  readonly factor: number;
  readonly ceilings: { readonly writeUnitsPerSecond: number; readonly readUnitsPerSecond: number };
  private readonly burstSeconds: number;
  private readonly holdMs: number;
  private readonly mode: 'on-demand' | 'provisioned';
  private readonly clock: () => number;
  private readonly started: number;
  private readonly tables: ReadonlyMap<string, TableDefinition>;
  private readonly buckets = new Map<string, Bucket>();
  private readonly usage = new Map<string, Usage>();
  /** Items of transactions in flight (or within their hold), for the conflict model. */
  private readonly transactionHolds = new Map<string, Hold>();
  /** Items a plain write in flight is writing (a TransactGetItems on them is cancelled). */
  private readonly writesInFlight = new Map<string, number>();
  /** The last size seen of each item (bytes), for the writes whose cost depends on it. */
  private readonly sizes = new Map<string, number>();
  private readonly requests = { admitted: 0, throttled: 0, conflicted: 0, unmodelled: 0 };

  constructor(options: PartitionSimulationOptions) {
    const { scale, burstSeconds = 0, transactionHoldMs = 0 } = options;
    if (!(scale > 0 && scale <= 1)) {
      throw new Error(`partition simulation: scale must be in (0, 1], got ${scale}`);
    }
    if (!(burstSeconds >= 0 && burstSeconds <= DYNAMODB_PARTITION_LIMITS.maxBurstSeconds)) {
      throw new Error(
        `partition simulation: burstSeconds must be in [0, 300], got ${burstSeconds}`,
      );
    }
    if (!(transactionHoldMs >= 0)) {
      throw new Error(
        `partition simulation: transactionHoldMs must be ≥ 0, got ${transactionHoldMs}`,
      );
    }
    const inverse = 1 / scale;
    this.factor = Math.abs(inverse - Math.round(inverse)) < 1e-9 ? Math.round(inverse) : inverse;
    this.ceilings = {
      writeUnitsPerSecond: DYNAMODB_PARTITION_LIMITS.writeUnitsPerSecond / this.factor,
      readUnitsPerSecond: DYNAMODB_PARTITION_LIMITS.readUnitsPerSecond / this.factor,
    };
    this.burstSeconds = burstSeconds;
    this.holdMs = transactionHoldMs * this.factor;
    this.mode = options.mode ?? 'on-demand';
    this.clock = options.clock ?? (() => performance.now());
    this.started = this.clock();
    this.tables = new Map(options.tables.map((table) => [table.name, table.definition]));
  }

  /** What a call would charge and hold; undefined when it is not a modelled data-plane call. */
  plan(command: string, input: Record<string, unknown>): Plan | undefined {
    const plan = (operation: Plan['operation'], entries = 1): Plan => ({
      operation,
      entries,
      charges: [],
      items: [],
      answered: [],
    });
    const factor = DYNAMODB_PARTITION_LIMITS.transactionFactor;
    switch (command) {
      case 'PutItemCommand': {
        const write = plan('write');
        this.planPut(write, input as unknown as PutInput, 1, 0);
        return write;
      }
      case 'UpdateItemCommand': {
        const write = plan('write');
        this.planUpdate(write, input as unknown as UpdateInput, 1, 0);
        return write;
      }
      case 'DeleteItemCommand': {
        const write = plan('write');
        this.planDelete(write, input as unknown as DeleteInput, 1, 0);
        return write;
      }
      case 'GetItemCommand': {
        const read = plan('read');
        const get = input as unknown as KeyInput & { ConsistentRead?: boolean };
        this.planGet(read, get, get.ConsistentRead ? 1 : 0.5, 0);
        return read;
      }
      case 'QueryCommand': {
        const read = plan('read');
        this.planQuery(read, input as unknown as QueryInput);
        return read;
      }
      case 'BatchGetItemCommand': {
        const read = plan('read');
        this.planBatchGet(read, input as unknown as BatchGetInput);
        return read;
      }
      case 'BatchWriteItemCommand': {
        const write = plan('batch-write');
        this.planBatchWrite(write, input as unknown as BatchWriteInput);
        return write;
      }
      case 'TransactWriteItemsCommand': {
        const entries = (input as unknown as TransactWriteInput).TransactItems ?? [];
        const transaction = plan('transact-write', entries.length);
        entries.forEach((entry, i) => {
          if (entry.Put) this.planPut(transaction, entry.Put, factor, i);
          else if (entry.Update) this.planUpdate(transaction, entry.Update, factor, i);
          else if (entry.Delete) this.planDelete(transaction, entry.Delete, factor, i);
          else if (entry.ConditionCheck)
            this.planConditionCheck(transaction, entry.ConditionCheck, i);
        });
        return transaction;
      }
      case 'TransactGetItemsCommand': {
        const entries = (input as unknown as TransactGetInput).TransactItems ?? [];
        const transaction = plan('transact-get', entries.length);
        entries.forEach((entry, i) => {
          this.planGet(transaction, entry.Get, factor, i, 'Responses');
        });
        return transaction;
      }
      case 'ScanCommand':
      case 'ExecuteStatementCommand':
      case 'BatchExecuteStatementCommand':
      case 'ExecuteTransactionCommand':
        this.requests.unmodelled++;
        return undefined;
      default:
        // Control-plane calls (CreateTable, DescribeTable, …) have no partition.
        return undefined;
    }
  }

  /** Refuses the call as DynamoDB would, or takes its units and holds its items. */
  admit(plan: Plan): () => void {
    const now = this.clock();
    const conflicting = this.conflicting(plan, now);
    if (conflicting.length > 0) {
      this.requests.conflicted++;
      for (const item of conflicting) this.usageOf(item.partition).conflicts++;
      throw this.conflictError(plan, conflicting);
    }

    const needs = new Map<string, { partition: Partition; kind: Kind; units: number }>();
    for (const charge of plan.charges) {
      const id = `${charge.kind}\u0000${charge.partition.id}`;
      const need = needs.get(id) ?? { partition: charge.partition, kind: charge.kind, units: 0 };
      need.units += charge.units;
      needs.set(id, need);
    }
    const short = [...needs.values()].filter(
      (need) => need.units > 0 && !this.bucketOf(need.partition, need.kind).holds(now),
    );
    if (short.length > 0) {
      this.requests.throttled++;
      for (const need of short) {
        const usage = this.usageOf(need.partition);
        if (need.kind === 'write') usage.writeThrottles++;
        else usage.readThrottles++;
      }
      throw this.throttleError(plan, short);
    }

    for (const need of needs.values()) this.consume(need.partition, need.kind, need.units);
    this.requests.admitted++;
    return this.hold(plan, now);
  }

  /** Learns from a successful answer, and charges what the answer shows was under-estimated. */
  answered(plan: Plan, output: Record<string, unknown> | undefined): void {
    for (const learn of plan.answered) learn(output ?? {});
  }

  stats(): SimulationStats {
    const partitions = [...this.usage.values()].map(({ partition, ...counts }) => ({
      table: partition.table,
      ...(partition.index !== undefined ? { index: partition.index } : {}),
      key: partition.key,
      ...counts,
    }));
    const sum = (pick: (usage: PartitionUsage) => number) =>
      partitions.reduce((total, usage) => total + pick(usage), 0);
    return {
      partitions,
      totals: {
        writeUnits: sum((usage) => usage.writeUnits),
        readUnits: sum((usage) => usage.readUnits),
        throttles: sum((usage) => usage.writeThrottles + usage.readThrottles),
        conflicts: sum((usage) => usage.conflicts),
      },
      requests: { ...this.requests },
    };
  }

  describe(): string[] {
    const limits = DYNAMODB_PARTITION_LIMITS;
    const n = (value: number) => value.toLocaleString('en-US', { maximumFractionDigits: 3 });
    const ratio = Number.isInteger(this.factor) ? `1/${this.factor}` : n(1 / this.factor);
    const example = this.ceilings.writeUnitsPerSecond / 4;
    return [
      `partition simulation: scale ${ratio} — each partition key's ceilings are DynamoDB's divided by ${n(this.factor)}`,
      `  one partition key: ${n(this.ceilings.writeUnitsPerSecond)} WCU/s (DynamoDB: ${n(limits.writeUnitsPerSecond)} WCU/s), ${n(this.ceilings.readUnitsPerSecond)} RCU/s (DynamoDB: ${n(limits.readUnitsPerSecond)} RCU/s), reads and writes apart; each global index partition key the same`,
      '  costs as DynamoDB documents them: a write 1 WCU per KB, a read 1 RCU per 4 KB (0.5 eventually consistent), twice that per item in a transaction',
      `  a rate measured here on one key × ${n(this.factor)} = that rate on DynamoDB (e.g. ${n(example)}/s of 4-WCU transactions here = ${n(example * this.factor)}/s on DynamoDB)`,
      this.burstSeconds > 0
        ? `  burst: up to ${n(this.burstSeconds)} s of a key's unused capacity banked (more generous than DynamoDB at a hot key)`
        : '  burst: none — DynamoDB’s burst capacity does not lift a key above its partition ceiling',
      this.mode === 'on-demand'
        ? '  throttles as an on-demand table: ThrottlingException, and ThrottlingError in a cancelled transaction'
        : '  throttles as a provisioned table: ProvisionedThroughputExceededException, and ProvisionedThroughputExceeded in a cancelled transaction',
      this.holdMs > 0
        ? `  conflicts: a transaction holds its items for ${n(this.holdMs / this.factor)} ms at full scale (${n(this.holdMs)} ms here), or while in flight at DynamoDB Local if longer`
        : '  conflicts: a transaction holds its items while in flight at DynamoDB Local (its latency, not scaled)',
    ];
  }

  private planPut(plan: Plan, put: PutInput, factor: number, entry: number): void {
    const table = this.table(put.TableName);
    const ref = this.itemRef(put.TableName, table, put.Item, entry);
    const size = itemSize(put.Item);
    // A put that replaces an item is charged the larger of the two.
    const units = writeUnits(Math.max(size, this.sizes.get(ref.id) ?? 0));
    plan.charges.push({ partition: ref.partition, kind: 'write', units: units * factor, entry });
    plan.items.push(ref);
    // The index entry is written after the commit, as a plain write (projection ALL: its size is
    // the item's).
    for (const index of table.globalIndexes ?? []) {
      const value = put.Item[index.partitionKey.name];
      if (value) this.chargeIndex(plan, put.TableName, index.indexName, value, size, entry);
    }
    plan.answered.push(() => this.sizes.set(ref.id, size));
  }

  private planUpdate(plan: Plan, update: UpdateInput, factor: number, entry: number): void {
    const table = this.table(update.TableName);
    const ref = this.itemRef(update.TableName, table, update.Key, entry);
    const before = this.sizes.get(ref.id);
    // The item after the update is not known before it runs: the item as last seen, or for one
    // never seen, its key and the values the update sets.
    const values = Object.values(update.ExpressionAttributeValues ?? {});
    const estimate = Math.max(
      before ?? 0,
      itemSize(update.Key) + values.reduce((sum, value) => sum + attributeSize(value), 0),
    );
    const units = writeUnits(estimate) * factor;
    plan.charges.push({ partition: ref.partition, kind: 'write', units, entry });
    plan.items.push(ref);
    const assigned = assignments(update.UpdateExpression ?? '', update.ExpressionAttributeNames);
    for (const index of table.globalIndexes ?? []) {
      const valueRef = assigned.get(index.partitionKey.name);
      const value = valueRef ? update.ExpressionAttributeValues?.[valueRef] : undefined;
      if (value) this.chargeIndex(plan, update.TableName, index.indexName, value, estimate, entry);
    }
    plan.answered.push((output) => {
      const after = output.Attributes as Item | undefined;
      if (!after || update.ReturnValues !== 'ALL_NEW') return;
      const size = itemSize(after);
      this.consume(
        ref.partition,
        'write',
        writeUnits(Math.max(before ?? 0, size)) * factor - units,
      );
      this.sizes.set(ref.id, size);
    });
  }

  private planDelete(plan: Plan, del: DeleteInput, factor: number, entry: number): void {
    const table = this.table(del.TableName);
    const ref = this.itemRef(del.TableName, table, del.Key, entry);
    // The deleted item's size, as last seen; one unit for an item never seen.
    const units = writeUnits(this.sizes.get(ref.id) ?? 0) * factor;
    plan.charges.push({ partition: ref.partition, kind: 'write', units, entry });
    plan.items.push(ref);
    plan.answered.push((output) => {
      const old = output.Attributes as Item | undefined;
      if (old && del.ReturnValues === 'ALL_OLD') {
        this.consume(ref.partition, 'write', writeUnits(itemSize(old)) * factor - units);
      }
      this.sizes.delete(ref.id);
    });
  }

  /** AWS does not say what a ConditionCheck costs: charged as a transactional write of the item. */
  private planConditionCheck(plan: Plan, check: KeyInput, entry: number): void {
    const table = this.table(check.TableName);
    const ref = this.itemRef(check.TableName, table, check.Key, entry);
    const units =
      writeUnits(this.sizes.get(ref.id) ?? 0) * DYNAMODB_PARTITION_LIMITS.transactionFactor;
    plan.charges.push({ partition: ref.partition, kind: 'write', units, entry });
    plan.items.push(ref);
  }

  /**
   * A read is let in for the item as last seen (one 4-KB unit if never seen), then charged what
   * the item that came back costs: DynamoDB too only knows after reading.
   */
  private planGet(
    plan: Plan,
    get: KeyInput,
    factor: number,
    entry: number,
    from: 'Item' | 'Responses' = 'Item',
  ): void {
    const table = this.table(get.TableName);
    const ref = this.itemRef(get.TableName, table, get.Key, entry);
    const reserved = readUnits(this.sizes.get(ref.id) ?? 0) * factor;
    plan.charges.push({ partition: ref.partition, kind: 'read', units: reserved, entry });
    plan.items.push(ref);
    plan.answered.push((output) => {
      const item =
        from === 'Item'
          ? (output.Item as Item | undefined)
          : (output.Responses as { Item?: Item }[] | undefined)?.[entry]?.Item;
      // A read of an item that isn't there still costs one unit.
      const size = item ? itemSize(item) : 0;
      this.consume(ref.partition, 'read', readUnits(size) * factor - reserved);
      if (item) this.sizes.set(ref.id, size);
      else this.sizes.delete(ref.id);
    });
  }

  /**
   * A query is charged to its partition (the index's, for an index query, always eventually
   * consistent) for the items it returned, summed then rounded up to 4 KB. Items a filter
   * dropped are not in the answer and are not charged, though DynamoDB charges them.
   */
  private planQuery(plan: Plan, query: QueryInput): void {
    const table = this.table(query.TableName);
    const index = query.IndexName
      ? table.globalIndexes?.find((candidate) => candidate.indexName === query.IndexName)
      : undefined;
    const attribute = index ? index.partitionKey.name : table.partitionKey.name;
    const value = keyConditionValue(query, attribute);
    if (!value) {
      throw new Error(
        `partition simulation: no "${attribute} = :value" in the KeyConditionExpression of a query of table "${query.TableName}"`,
      );
    }
    // A local index shares the table's partition; only a global index has its own.
    const partition = this.partitionOf(query.TableName, index?.indexName, value);
    const factor = index || !query.ConsistentRead ? 0.5 : 1;
    const reserved = readUnits(0) * factor;
    plan.charges.push({ partition, kind: 'read', units: reserved, entry: 0 });
    plan.answered.push((output) => {
      const items = (output.Items as Item[] | undefined) ?? [];
      const size = items.reduce((sum, item) => sum + itemSize(item), 0);
      this.consume(partition, 'read', readUnits(size) * factor - reserved);
      for (const item of items) this.remember(query.TableName, table, item);
    });
  }

  /** Each key as a GetItem; the sizes that came back are learnt for next time. */
  private planBatchGet(plan: Plan, batch: BatchGetInput): void {
    for (const [tableName, request] of Object.entries(batch.RequestItems ?? {})) {
      const table = this.table(tableName);
      for (const key of request.Keys ?? []) {
        const ref = this.itemRef(tableName, table, key, 0);
        const units = readUnits(this.sizes.get(ref.id) ?? 0) * (request.ConsistentRead ? 1 : 0.5);
        plan.charges.push({ partition: ref.partition, kind: 'read', units, entry: 0 });
      }
    }
    plan.answered.push((output) => {
      const responses = (output.Responses as Record<string, Item[]> | undefined) ?? {};
      for (const [tableName, items] of Object.entries(responses)) {
        for (const item of items) this.remember(tableName, this.table(tableName), item);
      }
    });
  }

  /**
   * Each entry as a PutItem or DeleteItem. DynamoDB would return the entries of a key out of
   * capacity as UnprocessedItems; here the request is already serialized, so the whole batch is
   * throttled instead (stricter, and retried by the SDK and then by our batch retry alike).
   */
  private planBatchWrite(plan: Plan, batch: BatchWriteInput): void {
    for (const [tableName, requests] of Object.entries(batch.RequestItems ?? {})) {
      for (const request of requests) {
        if (request.PutRequest) {
          this.planPut(plan, { TableName: tableName, Item: request.PutRequest.Item }, 1, 0);
        } else if (request.DeleteRequest) {
          this.planDelete(plan, { TableName: tableName, Key: request.DeleteRequest.Key }, 1, 0);
        }
      }
    }
  }

  private chargeIndex(
    plan: Plan,
    tableName: string,
    index: string,
    value: AttributeValue,
    size: number,
    entry: number,
  ): void {
    const partition = this.partitionOf(tableName, index, value);
    plan.charges.push({ partition, kind: 'write', units: writeUnits(size), entry });
  }

  /**
   * DynamoDB's conflicts (transaction-apis, "Transaction conflict handling"): a transaction
   * whose item is in another transaction in flight; a plain write to an item of a transaction
   * in flight; a TransactGetItems whose item is being written. A GetItem never conflicts, and a
   * batch write is not modelled.
   */
  private conflicting(plan: Plan, now: number): ItemRef[] {
    switch (plan.operation) {
      case 'transact-write':
      case 'write':
        return plan.items.filter((item) => this.inTransaction(item.id, now));
      case 'transact-get':
        return plan.items.filter(
          (item) => this.inTransaction(item.id, now) || this.writesInFlight.has(item.id),
        );
      default:
        return [];
    }
  }

  private inTransaction(id: string, now: number): boolean {
    const hold = this.transactionHolds.get(id);
    if (!hold) return false;
    if (hold.inFlight > 0 || now < hold.until) return true;
    this.transactionHolds.delete(id);
    return false;
  }

  private hold(plan: Plan, now: number): () => void {
    if (plan.operation === 'transact-write') {
      for (const item of plan.items) {
        const hold = this.transactionHolds.get(item.id) ?? { inFlight: 0, until: 0 };
        hold.inFlight++;
        hold.until = Math.max(hold.until, now + this.holdMs);
        this.transactionHolds.set(item.id, hold);
      }
      return () => {
        const answeredAt = this.clock();
        for (const item of plan.items) {
          const hold = this.transactionHolds.get(item.id);
          if (!hold) continue;
          hold.inFlight--;
          if (hold.inFlight === 0 && hold.until <= answeredAt)
            this.transactionHolds.delete(item.id);
        }
      };
    }
    if (plan.operation === 'write' || plan.operation === 'batch-write') {
      for (const item of plan.items) {
        this.writesInFlight.set(item.id, (this.writesInFlight.get(item.id) ?? 0) + 1);
      }
      return () => {
        for (const item of plan.items) {
          const count = (this.writesInFlight.get(item.id) ?? 1) - 1;
          if (count > 0) this.writesInFlight.set(item.id, count);
          else this.writesInFlight.delete(item.id);
        }
      };
    }
    return () => {};
  }

  private conflictError(plan: Plan, conflicting: ItemRef[]): Error {
    const $metadata = { httpStatusCode: 400 };
    if (plan.operation === 'write') {
      return new TransactionConflictException({ message: ONGOING, $metadata });
    }
    const entries = new Set(conflicting.map((item) => item.entry));
    return cancelled(plan.entries, (entry) =>
      entries.has(entry) ? { Code: 'TransactionConflict', Message: ONGOING } : undefined,
    );
  }

  private throttleError(plan: Plan, short: readonly { partition: Partition; kind: Kind }[]): Error {
    const onIndex = short.every((need) => need.partition.index !== undefined);
    const message =
      this.mode === 'on-demand'
        ? onIndex
          ? INDEX_HOT_KEY
          : TABLE_HOT_KEY
        : onIndex
          ? INDEX_PROVISIONED
          : TABLE_PROVISIONED;
    if (plan.operation === 'transact-write' || plan.operation === 'transact-get') {
      const ids = new Set(short.map((need) => need.partition.id));
      const entries = new Set(
        plan.charges.filter((charge) => ids.has(charge.partition.id)).map((charge) => charge.entry),
      );
      const Code = this.mode === 'on-demand' ? 'ThrottlingError' : 'ProvisionedThroughputExceeded';
      return cancelled(plan.entries, (entry) =>
        entries.has(entry) ? { Code, Message: message } : undefined,
      );
    }
    const reasons: ThrottlingReason[] = short.map(({ partition, kind }) => ({
      reason: `${partition.index ? 'Index' : 'Table'}${kind === 'write' ? 'Write' : 'Read'}KeyRangeThroughputExceeded`,
      resource: `arn:aws:dynamodb:ddblocal:000000000000:table/${partition.table}${partition.index ? `/index/${partition.index}` : ''}`,
    }));
    const unique = [...new Map(reasons.map((r) => [`${r.reason} ${r.resource}`, r])).values()];
    const $metadata = { httpStatusCode: 400 };
    return this.mode === 'on-demand'
      ? new ThrottlingException({ message, $metadata, throttlingReasons: unique })
      : new ProvisionedThroughputExceededException({
          message,
          $metadata,
          ThrottlingReasons: unique,
        });
  }

  private consume(partition: Partition, kind: Kind, units: number): void {
    if (units === 0) return;
    this.bucketOf(partition, kind).take(units);
    const usage = this.usageOf(partition);
    if (kind === 'write') usage.writeUnits += units;
    else usage.readUnits += units;
  }

  private bucketOf(partition: Partition, kind: Kind): Bucket {
    const id = `${kind}\u0000${partition.id}`;
    let bucket = this.buckets.get(id);
    if (!bucket) {
      const rate =
        kind === 'write' ? this.ceilings.writeUnitsPerSecond : this.ceilings.readUnitsPerSecond;
      // One second of the ceiling at the simulation's start; unused capacity banks from there,
      // up to burstSeconds more.
      bucket = new Bucket(rate, rate * (1 + this.burstSeconds), rate, this.started);
      this.buckets.set(id, bucket);
    }
    return bucket;
  }

  private usageOf(partition: Partition): Usage {
    let usage = this.usage.get(partition.id);
    if (!usage) {
      usage = {
        partition,
        writeUnits: 0,
        readUnits: 0,
        writeThrottles: 0,
        readThrottles: 0,
        conflicts: 0,
      };
      this.usage.set(partition.id, usage);
    }
    return usage;
  }

  private table(name: string): TableDefinition {
    const table = this.tables.get(name);
    if (!table) {
      throw new Error(
        `partition simulation: table "${name}" is not among the tables it was given, so its keys are unknown`,
      );
    }
    return table;
  }

  private itemRef(tableName: string, table: TableDefinition, item: Item, entry: number): ItemRef {
    const pk = item[table.partitionKey.name];
    if (!pk) {
      throw new Error(
        `partition simulation: an item of table "${tableName}" without its partition key ${table.partitionKey.name}`,
      );
    }
    const sk = table.sortKey ? item[table.sortKey.name] : undefined;
    return {
      id: `${tableName}\u0000${canonical(pk)}\u0000${sk ? canonical(sk) : ''}`,
      partition: this.partitionOf(tableName, undefined, pk),
      entry,
    };
  }

  private partitionOf(table: string, index: string | undefined, value: AttributeValue): Partition {
    return {
      id: `${table}\u0000${index ?? ''}\u0000${canonical(value)}`,
      table,
      ...(index !== undefined ? { index } : {}),
      key: display(value),
    };
  }

  private remember(tableName: string, table: TableDefinition, item: Item): void {
    if (!item[table.partitionKey.name]) return;
    this.sizes.set(this.itemRef(tableName, table, item, 0).id, itemSize(item));
  }
}

function cancelled(
  entries: number,
  reason: (entry: number) => { Code: string; Message: string } | undefined,
): TransactionCanceledException {
  const reasons = Array.from({ length: entries }, (_, entry) => reason(entry) ?? { Code: 'None' });
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: reasons,
  });
}

const writeUnits = (bytes: number) =>
  Math.max(1, Math.ceil(bytes / DYNAMODB_PARTITION_LIMITS.writeUnitBytes));
const readUnits = (bytes: number) =>
  Math.max(1, Math.ceil(bytes / DYNAMODB_PARTITION_LIMITS.readUnitBytes));

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** An item's size as DynamoDB documents it ("Item sizes and formats"). */
function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + attributeSize(value);
  return size;
}

function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + numberSize(n), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.byteLength, 0);
  // A list or map: 3 bytes, and 1 more per element.
  if (value.L !== undefined) return value.L.reduce((sum, v) => sum + 1 + attributeSize(v), 3);
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + utf8(k) + attributeSize(v), 3);
  }
  return 0;
}

/** About 1 byte per two significant digits, plus 1. */
function numberSize(number: string): number {
  const digits = number
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

function canonical(value: AttributeValue): string {
  if (value.S !== undefined) return `S${value.S}`;
  if (value.N !== undefined) return `N${value.N}`;
  if (value.B !== undefined) return `B${Buffer.from(value.B).toString('base64')}`;
  return JSON.stringify(value);
}

function display(value: AttributeValue): string {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.B !== undefined) return Buffer.from(value.B).toString('base64');
  return JSON.stringify(value);
}

/** `name = :value` pairs of an expression, by attribute name (placeholders resolved). */
function assignments(
  expression: string,
  names: Record<string, string> | undefined,
): Map<string, string> {
  const found = new Map<string, string>();
  for (const [, left, right] of expression.matchAll(/([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)/g)) {
    if (!left || !right) continue;
    if (right.startsWith(':') && !left.startsWith(':')) found.set(names?.[left] ?? left, right);
    else if (left.startsWith(':') && !right.startsWith(':'))
      found.set(names?.[right] ?? right, left);
  }
  return found;
}

function keyConditionValue(query: QueryInput, attribute: string): AttributeValue | undefined {
  const valueRef = assignments(
    query.KeyConditionExpression ?? '',
    query.ExpressionAttributeNames,
  ).get(attribute);
  return valueRef ? query.ExpressionAttributeValues?.[valueRef] : undefined;
}

interface KeyInput {
  readonly TableName: string;
  readonly Key: Item;
}

interface PutInput {
  readonly TableName: string;
  readonly Item: Item;
}

interface DeleteInput extends KeyInput {
  readonly ReturnValues?: string;
}

interface UpdateInput extends KeyInput {
  readonly UpdateExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
  readonly ReturnValues?: string;
}

interface QueryInput {
  readonly TableName: string;
  readonly IndexName?: string;
  readonly KeyConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Item;
  readonly ConsistentRead?: boolean;
}

interface BatchGetInput {
  readonly RequestItems?: Record<
    string,
    { readonly Keys?: Item[]; readonly ConsistentRead?: boolean }
  >;
}

interface BatchWriteInput {
  readonly RequestItems?: Record<
    string,
    {
      readonly PutRequest?: { readonly Item: Item };
      readonly DeleteRequest?: { readonly Key: Item };
    }[]
  >;
}

interface TransactWriteInput {
  readonly TransactItems?: {
    readonly Put?: PutInput;
    readonly Update?: UpdateInput;
    readonly Delete?: DeleteInput;
    readonly ConditionCheck?: KeyInput;
  }[];
}

interface TransactGetInput {
  readonly TransactItems?: { readonly Get: KeyInput }[];
}
