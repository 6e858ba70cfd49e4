import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  ScanCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { Page, PageRequest } from '../page.js';
import { BatchRefusedError, sendInBatches } from '../retry.js';
import { type CursorCodec, invalidCursor, type Key } from './cursor.js';
import { compile, type Fragment } from './expressions.js';
import {
  retryingConflicts,
  TransactionContentionError,
  type TransactOutcome,
  transactWrite,
} from './transactions.js';

export type { Key };
export type Item = Record<string, NativeAttributeValue>;
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A query on the table or one of its indexes. */
export interface QuerySpec {
  readonly index?: string;
  /** Key condition, e.g. x`PK = ${pk} AND begins_with(SK, ${'REG#'})`. */
  readonly key: Fragment;
  readonly filter?: Fragment;
  /** Newest (highest sort key) first when false. @default true */
  readonly forward?: boolean;
  /** Strongly consistent (table and LSIs only). @default false */
  readonly consistent?: boolean;
  readonly attributes?: readonly string[];
}

/** What one partition's query read for a merged page, from where the partition stood. */
export interface PartitionRead {
  readonly partition: string;
  /** Where its query started, exclusively: undefined from the partition's start. */
  readonly after: string | undefined;
  readonly items: readonly Item[];
  /** Whether the partition has items past these (the query returned a LastEvaluatedKey). */
  readonly more: boolean;
}

/**
 * A merged page taken from the partitions' reads: its items in order, and where each partition
 * stands after it — the sort key of the last item taken from it, or where its query started
 * (`''`: its start); a partition left out is exhausted.
 */
export interface MergedRead {
  readonly items: readonly Item[];
  readonly positions: Readonly<Record<string, string>>;
}

/** How a merged page is taken from what each partition read: at most `limit` items. */
export type MergeRule = (reads: readonly PartitionRead[], limit: number) => MergedRead;

/** A failed single-item condition, with the item as it is now (undefined if absent). */
export interface ConditionFailed {
  readonly ok: false;
  readonly current: Item | undefined;
}

/**
 * One DynamoDB table as an adapter sees it: the generic operations every module needs (get,
 * put-if-absent, conditional update and delete, paged queries with signed cursors, batch get and
 * delete with retries of unprocessed keys, transactions with contention retried), so that a
 * module's adapter is mostly key design and the conditions that guard its decisions.
 *
 * Failed conditions come back as data, with the item as it stands (ReturnValuesOnConditionCheck-
 * Failure), so a caller can decide again without another read.
 */
export class DynamoTable {
  /** The cursor codec, once its key is there (the master secret may be fetched on first use). */
  private readonly codec: () => Promise<CursorCodec>;

  constructor(
    readonly name: string,
    private readonly doc: DynamoDBDocumentClient,
    cursors: CursorCodec | (() => Promise<CursorCodec>),
  ) {
    this.codec = typeof cursors === 'function' ? cursors : async () => cursors;
  }

  /** A strongly consistent read unless told otherwise. */
  async get(key: Key, options: { consistent?: boolean } = {}): Promise<Item | undefined> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.name,
        Key: key,
        ConsistentRead: options.consistent ?? true,
      }),
    );
    return result.Item;
  }

  /**
   * Writes `item` unless an item with its key exists (`keyAttribute` names the partition key).
   * When one exists, nothing is written and the existing item is returned.
   */
  async putIfAbsent(
    item: Item,
    keyAttribute = 'PK',
  ): Promise<{ created: true } | { created: false; existing: Item | undefined }> {
    try {
      await retryingConflicts(() =>
        this.doc.send(
          new PutCommand({
            TableName: this.name,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#k)',
            ExpressionAttributeNames: { '#k': keyAttribute },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return { created: true };
    } catch (error) {
      const failed = conditionFailed(error);
      if (failed) return { created: false, existing: failed.current };
      throw error;
    }
  }

  /** UpdateItem; returns the item as written, or the item as it is when the condition fails. */
  async update(
    key: Key,
    expressions: { update: Fragment; condition?: Fragment },
  ): Promise<{ ok: true; item: Item } | ConditionFailed> {
    try {
      const result = await retryingConflicts(() =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.name,
            Key: key,
            ...compile({
              UpdateExpression: expressions.update,
              ConditionExpression: expressions.condition,
            }),
            ReturnValues: 'ALL_NEW',
            ...failedItem(expressions.condition),
          }),
        ),
      );
      return { ok: true, item: result.Attributes ?? {} };
    } catch (error) {
      const failed = conditionFailed(error);
      if (failed) return failed;
      throw error;
    }
  }

  /** DeleteItem; returns the deleted item, or the item as it is when the condition fails. */
  async delete(
    key: Key,
    condition?: Fragment,
  ): Promise<{ ok: true; item: Item | undefined } | ConditionFailed> {
    try {
      const result = await retryingConflicts(() =>
        this.doc.send(
          new DeleteCommand({
            TableName: this.name,
            Key: key,
            ...compile({ ConditionExpression: condition }),
            ReturnValues: 'ALL_OLD',
            ...failedItem(condition),
          }),
        ),
      );
      return { ok: true, item: result.Attributes };
    } catch (error) {
      const failed = conditionFailed(error);
      if (failed) return failed;
      throw error;
    }
  }

  /** Every page of a query, following LastEvaluatedKey. */
  async *queryPages(spec: QuerySpec, pageSize?: number): AsyncGenerator<Item[]> {
    let start: Key | undefined;
    do {
      const output = await this.doc.send(
        new QueryCommand({ ...this.queryInput(spec), Limit: pageSize, ExclusiveStartKey: start }),
      );
      yield output.Items ?? [];
      start = output.LastEvaluatedKey;
    } while (start);
  }

  /**
   * Every page of a Scan of the whole table, `pageSize` items read per call, those matching
   * `filter` kept. For migrations and other background work only: no request path scans.
   */
  async *scanPages(options: { filter?: Fragment; pageSize?: number } = {}): AsyncGenerator<Item[]> {
    let start: Key | undefined;
    do {
      const output = await this.doc.send(
        new ScanCommand({
          TableName: this.name,
          ...compile({ FilterExpression: options.filter }),
          Limit: options.pageSize,
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      yield output.Items ?? [];
      start = output.LastEvaluatedKey;
    } while (start);
  }

  /** How many items a query matches (Select COUNT, every page). */
  async count(spec: QuerySpec): Promise<number> {
    let total = 0;
    let start: Key | undefined;
    do {
      const output = await this.doc.send(
        new QueryCommand({ ...this.queryInput(spec), Select: 'COUNT', ExclusiveStartKey: start }),
      );
      total += output.Count ?? 0;
      start = output.LastEvaluatedKey;
    } while (start);
    return total;
  }

  /**
   * One page of a query for a list route. The cursor is signed and bound to `scope` (name the
   * list and its parameters: a cursor of one list is refused by another).
   */
  async queryPage<T>(
    scope: string,
    spec: QuerySpec,
    page: PageRequest,
    map: (item: Item) => T,
  ): Promise<Page<T>> {
    const start = page.cursor ? (await this.codec()).decode(scope, page.cursor).key : undefined;
    let output: QueryCommandOutput;
    try {
      output = await this.doc.send(
        new QueryCommand({ ...this.queryInput(spec), Limit: page.limit, ExclusiveStartKey: start }),
      );
    } catch (error) {
      // A signed cursor can't be forged, but one from an older key design can reach here.
      if (start && (error as Error).name === 'ValidationException') throw invalidCursor();
      throw error;
    }
    const items = (output.Items ?? []).map(map);
    const last = output.LastEvaluatedKey;
    return { items, nextCursor: last ? (await this.codec()).encode(scope, last) : undefined };
  }

  /**
   * One page of several queries merged newest first (highest sort key first), for a list that a
   * few partitions serve together (one per status, …). Each query reads one partition in
   * descending `sortKey` order, starting strictly below the bound it is given (undefined: from
   * the top); sort key values are unique across the partitions. See `queryMerged`.
   */
  queryMergedPage<T>(
    scope: string,
    partitions: Readonly<Record<string, (before: string | undefined) => QuerySpec>>,
    sortKey: string,
    page: PageRequest,
    map: (item: Item) => T,
  ): Promise<Page<T>> {
    return this.queryMerged(scope, partitions, page, newestFirst(sortKey), map);
  }

  /**
   * One page of several queries merged by `merge`, for a list that a few partitions serve
   * together. Each partition is read for at most `limit` items, from strictly past the position
   * it is given (undefined: its start), and the signed cursor holds where each one stands after
   * the page (a partition missing from it is exhausted), so a page costs at most one Query per
   * partition.
   */
  async queryMerged<T>(
    scope: string,
    partitions: Readonly<Record<string, (after: string | undefined) => QuerySpec>>,
    page: PageRequest,
    merge: MergeRule,
    map: (item: Item) => T,
  ): Promise<Page<T>> {
    const names = Object.keys(partitions);
    let positions: Record<string, string | undefined> = Object.fromEntries(
      names.map((partition) => [partition, undefined]),
    );
    if (page.cursor) {
      const { key } = (await this.codec()).decode(scope, page.cursor);
      if (!Object.entries(key).every(([k, v]) => names.includes(k) && typeof v === 'string')) {
        throw invalidCursor();
      }
      // '' stands for a partition still at its start.
      positions = Object.fromEntries(
        Object.entries(key).map(([k, v]) => [k, v === '' ? undefined : String(v)]),
      );
    }
    const reads = await Promise.all(
      Object.entries(positions).map(async ([partition, after]): Promise<PartitionRead> => {
        const spec = partitions[partition]?.(after);
        if (!spec) throw invalidCursor();
        const output = await this.doc.send(
          new QueryCommand({ ...this.queryInput(spec), Limit: page.limit }),
        );
        const items = output.Items ?? [];
        return { partition, after, items, more: output.LastEvaluatedKey !== undefined };
      }),
    );
    const merged = merge(reads, page.limit);
    return {
      items: merged.items.map(map),
      nextCursor:
        Object.keys(merged.positions).length > 0
          ? (await this.codec()).encode(scope, { ...merged.positions })
          : undefined,
    };
  }

  /**
   * Strongly consistent BatchGetItem in chunks of 100; unprocessed keys are sent again, and a
   * BatchRefusedError (503) ends it when DynamoDB keeps leaving some out.
   */
  async batchGet(keys: readonly Key[]): Promise<Item[]> {
    const unique = [...new Map(keys.map((key) => [keyId(key), key])).values()];
    const items: Item[] = [];
    const refused = await sendInBatches(unique, {
      ...BATCHES,
      size: 100,
      send: async (chunk) => {
        const result = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: chunk, ConsistentRead: true } },
          }),
        );
        items.push(...(result.Responses?.[this.name] ?? []));
        return (result.UnprocessedKeys?.[this.name]?.Keys ?? []) as Key[];
      },
    });
    if (refused.length > 0) throw new BatchRefusedError('DynamoDB', refused.length);
    return items;
  }

  /** BatchWriteItem deletes in chunks of 25; unprocessed items are sent again (as batchGet). */
  async batchDelete(keys: readonly Key[]): Promise<void> {
    const refused = await sendInBatches(
      keys.map((key) => ({ DeleteRequest: { Key: key } })),
      {
        ...BATCHES,
        size: 25,
        send: async (chunk) => {
          const result = await this.doc.send(
            new BatchWriteCommand({ RequestItems: { [this.name]: chunk } }),
          );
          return (result.UnprocessedItems?.[this.name] ?? []) as typeof chunk;
        },
      },
    );
    if (refused.length > 0) throw new BatchRefusedError('DynamoDB', refused.length);
  }

  /**
   * TransactWriteItems built from `put`/`updateItem`/`deleteItem`/`check`. A failed condition
   * comes back as `{ ok: false, reasons }` with each failed item as it stands; contention is
   * retried, then thrown as TransactionContentionError (see transactions.ts), or as the error
   * `onContention` makes of it (a module's own "busy" problem).
   */
  async transact(
    items: readonly TransactItem[],
    options: { readonly onContention?: (cause: TransactionContentionError) => Error } = {},
  ): Promise<TransactOutcome> {
    try {
      return await transactWrite(this.doc, { TransactItems: [...items] });
    } catch (error) {
      if (options.onContention && error instanceof TransactionContentionError) {
        throw options.onContention(error);
      }
      throw error;
    }
  }

  /** A transaction item: put, optionally conditioned. */
  put(item: Item, condition?: Fragment): TransactItem {
    return {
      Put: {
        TableName: this.name,
        Item: item,
        ...compile({ ConditionExpression: condition }),
        ...failedItem(condition),
      },
    };
  }

  /** A transaction item: update, optionally conditioned. */
  updateItem(key: Key, expressions: { update: Fragment; condition?: Fragment }): TransactItem {
    const compiled = compile({
      UpdateExpression: expressions.update,
      ConditionExpression: expressions.condition,
    });
    return {
      Update: {
        TableName: this.name,
        Key: key,
        ...compiled,
        UpdateExpression: compiled.UpdateExpression ?? '',
        ...failedItem(expressions.condition),
      },
    };
  }

  /** A transaction item: delete, optionally conditioned. */
  deleteItem(key: Key, condition?: Fragment): TransactItem {
    return {
      Delete: {
        TableName: this.name,
        Key: key,
        ...compile({ ConditionExpression: condition }),
        ...failedItem(condition),
      },
    };
  }

  /** A transaction item: a condition on an item the transaction does not write. */
  check(key: Key, condition: Fragment): TransactItem {
    const compiled = compile({ ConditionExpression: condition });
    return {
      ConditionCheck: {
        TableName: this.name,
        Key: key,
        ...compiled,
        ConditionExpression: compiled.ConditionExpression ?? '',
        ...failedItem(condition),
      },
    };
  }

  private queryInput(spec: QuerySpec): QueryCommandInput {
    const compiled = compile({ KeyConditionExpression: spec.key, FilterExpression: spec.filter });
    const projection = spec.attributes?.map((attribute, i) => [`#p${i}`, attribute] as const);
    return {
      TableName: this.name,
      ...(spec.index ? { IndexName: spec.index } : {}),
      ...compiled,
      ...(projection
        ? {
            ProjectionExpression: projection.map(([alias]) => alias).join(', '),
            ExpressionAttributeNames: {
              ...compiled.ExpressionAttributeNames,
              ...Object.fromEntries(projection),
            },
          }
        : {}),
      ...(spec.forward === false ? { ScanIndexForward: false } : {}),
      ...(spec.consistent ? { ConsistentRead: true } : {}),
    };
  }
}

const failedItem = (condition: Fragment | undefined) =>
  condition ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {};

/** A ConditionalCheckFailedException as data, with the item as it is now. */
function conditionFailed(error: unknown): ConditionFailed | undefined {
  if ((error as Error)?.name !== 'ConditionalCheckFailedException') return undefined;
  const item = (error as { Item?: Record<string, AttributeValue> }).Item;
  return { ok: false, current: item ? unmarshall(item) : undefined };
}

/** Highest `sortKey` first; each partition's query reads in descending order. */
function newestFirst(sortKey: string): MergeRule {
  return (reads, limit) => {
    const merged = reads
      .flatMap(({ partition, items }) => items.map((item) => ({ partition, item })))
      .sort((a, b) => compareDescending(a.item[sortKey], b.item[sortKey]))
      .slice(0, limit);
    const positions: Record<string, string> = {};
    for (const { partition, after, items, more } of reads) {
      const taken = merged.filter((entry) => entry.partition === partition);
      if (!more && taken.length === items.length) continue; // exhausted
      const last = taken.at(-1)?.item[sortKey];
      positions[partition] = last === undefined ? (after ?? '') : String(last);
    }
    return { items: merged.map(({ item }) => item), positions };
  };
}

/** Highest first; sort keys compared as DynamoDB orders strings (by code unit, for ASCII keys). */
function compareDescending(a: unknown, b: unknown): number {
  const [x, y] = [String(a), String(b)];
  return x < y ? 1 : x > y ? -1 : 0;
}

function keyId(key: Key): string {
  return JSON.stringify(Object.entries(key).sort(([a], [b]) => a.localeCompare(b)));
}

/** Unprocessed keys and items: sent again up to 8 calls per chunk, waits up to 1 s apart. */
const BATCHES = { attempts: 8, baseMs: 25, capMs: 1000 } as const;
